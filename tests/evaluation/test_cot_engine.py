"""The reasoning track's engines: the transformers engine's batching never changes the ids, rows
stop at the generation_config EOS and report truncation, and `select_engine` picks transformers
without importing vLLM on a machine without it (as every test machine is)."""

from __future__ import annotations

import dataclasses
import sys
from pathlib import Path

import pytest

from runner.errors import UsageError
from runner.evaluation.cot.chat import stop_token_ids
from runner.evaluation.cot.engine import (
    GenerationRequest,
    ModelFiles,
    resolve_engine_name,
    select_engine,
    vllm_importable,
)
from runner.evaluation.cot.generation import prompt_requests
from runner.evaluation.cot.hf_engine import HfEngine
from runner.evaluation.cot.prompts import build_cot_items
from runner.evaluation.task_data import SAMPLE_DATA_DIR, load_task_rows
from runner.evaluation.tasks import TASKS
from runner.evaluation.tiny_models import SYSTEM_CHAT_SPEC, build_tiny_model

SMALL = {"vocab_size": 400, "hidden_size": 32, "layers": 1, "heads": 2, "intermediate_size": 64}


@pytest.fixture(scope="module")
def system_chat_model(tmp_path_factory) -> Path:
    spec = dataclasses.replace(SYSTEM_CHAT_SPEC, seed=41, **SMALL)
    return build_tiny_model(tmp_path_factory.mktemp("cot-engine-model"), spec)


def files(directory: Path) -> ModelFiles:
    return ModelFiles(directory=directory, dtype="float32", max_length=320)


def requests_for(engine: HfEngine, task: str, n: int) -> list[GenerationRequest]:
    rows = load_task_rows(TASKS[task], SAMPLE_DATA_DIR).rows[:n]
    return prompt_requests(engine.lm.tokenizer, build_cot_items(TASKS[task], rows), 320 - 24)


def test_batching_does_not_change_the_generated_ids(system_chat_model):
    batched = select_engine("hf", "cpu", files(system_chat_model))
    one_by_one = HfEngine(files(system_chat_model), batch_size=1, loaded=batched.lm)
    requests = requests_for(batched, "medmcqa", 8) + requests_for(batched, "pubmedqa", 4)
    stops = stop_token_ids(batched.lm.tokenizer, system_chat_model)
    first = {
        o.doc_id: o for o in batched.generate(requests[:8], max_new_tokens=24, stop_token_ids=stops)
    }
    again = {
        o.doc_id: o
        for o in one_by_one.generate(requests[:8], max_new_tokens=24, stop_token_ids=stops)
    }
    assert first == again
    assert batched.info.name == "hf"


def test_rows_stop_at_every_stop_id_and_say_when_they_hit_the_limit(system_chat_model):
    engine = select_engine("hf", "cpu", files(system_chat_model))
    tokenizer = engine.lm.tokenizer
    stops = stop_token_ids(tokenizer, system_chat_model)
    end_of_turn = tokenizer.convert_tokens_to_ids("<|im_end|>")
    assert stops == [tokenizer.eos_token_id, end_of_turn]  # generation_config.json's second EOS
    requests = requests_for(engine, "mmlu_anatomy", 6)
    free = list(engine.generate(requests, max_new_tokens=12, stop_token_ids=stops))
    assert all(
        len(o.output_ids) == 12 and o.truncated for o in free if not set(o.output_ids) & set(stops)
    )
    # Make the first token a model would emit for one prompt a stop id: the row ends there, empty.
    first_token = next(o for o in free if o.doc_id == requests[0].doc_id).output_ids[0]
    stopped = next(
        iter(engine.generate(requests[:1], max_new_tokens=12, stop_token_ids=[first_token]))
    )
    assert stopped.output_ids == [] and not stopped.truncated


def test_auto_is_transformers_on_cpu_and_vllm_is_refused_there(monkeypatch):
    # Other tests import the adapter (with a fake vllm); what counts is that these calls don't.
    monkeypatch.delitem(sys.modules, "runner.evaluation.cot.vllm_engine", raising=False)
    assert resolve_engine_name("auto", "cpu") == "hf"
    with pytest.raises(UsageError, match="--engine vllm: vLLM runs on CUDA only"):
        resolve_engine_name("vllm", "cpu")
    if not vllm_importable():
        assert resolve_engine_name("auto", "cuda") == "hf"
    assert "runner.evaluation.cot.vllm_engine" not in sys.modules
