"""Parity of the reasoning track with lm-evaluation-harness: the same generated text and the same
extracted answer for every item of the nine tasks.

For each tiny chat model, lm-eval 0.4.13 runs its own `generate_until` (`--model hf
--apply_chat_template`, greedy, `max_gen_toks` 48, a `regex` filter with §10's pattern and
`group_select: -1`) on the bundled sample rows through task files that tests/cot_reference.py
writes with §10's prompt, and `medlb evaluate --track cot --max-new-tokens 48` runs through the
real CLI. The models (runner.evaluation.tiny_models):
- `BOS_CHAT_SPEC`: a Llama whose tokenizer adds BOS and whose template writes the BOS text
  itself, so the prompt must be encoded without a second BOS;
- `SYSTEM_CHAT_SPEC`: a GPT-2 whose template adds a default system prompt, whose
  generation_config.json adds an end-of-turn EOS, and whose 320-token window makes PubMedQA's
  prompts longer than `max_length - 48`, so they are left-truncated.
Random weights: the generations are gibberish, but every token of them must be lm-eval's. A third
model, the BOS-template Llama taught for seconds to answer "…\nFinal Answer: X" and stop
(runner.evaluation.taught_model), makes the extracted answers and the stops at EOS real.
"""

from __future__ import annotations

import json
import time
from pathlib import Path

import pytest
from cot_reference import run_lm_eval_cot

from runner.cli import main
from runner.evaluation.cot.chat import encode_prompts, render_chat
from runner.evaluation.cot.prompts import build_cot_items
from runner.evaluation.task_data import SAMPLE_DATA_DIR, load_task_rows
from runner.evaluation.tasks import TASK_NAMES, TASKS
from runner.evaluation.tiny_models import BOS_CHAT_SPEC, SYSTEM_CHAT_SPEC, build_tiny_model

MAX_NEW_TOKENS = 48
LIMIT = 6  # rows per task: all nine tasks, two lm-eval runs well under a minute
PARITY_MODELS = {
    "bos-template": BOS_CHAT_SPEC,
    "system-prompt-truncated": SYSTEM_CHAT_SPEC,
    "taught-answers": BOS_CHAT_SPEC,  # then taught to end with "Final Answer: X" and EOS
}


def run_medlb_cot(model_dir: Path, output: Path) -> float:
    argv = ["evaluate", "--model", str(model_dir), "--data-dir", str(SAMPLE_DATA_DIR)]
    argv += ["--track", "cot", "--max-new-tokens", str(MAX_NEW_TOKENS), "--limit", str(LIMIT)]
    clock = time.perf_counter()
    assert main([*argv, "--device", "cpu", "--no-progress", "--output", str(output)]) == 0
    return time.perf_counter() - clock


def read_cot_predictions(output: Path, task: str) -> list[dict]:
    path = output / "predictions" / "cot" / f"{task}.jsonl"
    return [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines()]


def prompt_ids(model_dir: Path, task: str) -> tuple[list[list[int]], object]:
    """The task's untruncated prompt ids under the model's tokenizer, and the tokenizer."""
    from transformers import AutoTokenizer

    tokenizer = AutoTokenizer.from_pretrained(model_dir)
    rows = load_task_rows(TASKS[task], SAMPLE_DATA_DIR).rows[:LIMIT]
    texts = [render_chat(tokenizer, item.message) for item in build_cot_items(TASKS[task], rows)]
    return encode_prompts(tokenizer, texts, 10**9), tokenizer


def truncated_prompts(model_dir: Path, task: str) -> int:
    """How many of the task's prompts are longer than the window left for them."""
    from transformers import AutoConfig

    window = AutoConfig.from_pretrained(model_dir).n_positions - MAX_NEW_TOKENS
    return sum(len(ids) > window for ids in prompt_ids(model_dir, task)[0])


def single_bos(model_dir: Path) -> bool:
    """Every prompt starts with exactly one BOS although the template writes it and the
    tokenizer adds one by default."""
    prompts, tokenizer = prompt_ids(model_dir, "medqa_4options")
    bos = tokenizer.bos_token_id
    assert tokenizer("x")["input_ids"][0] == bos  # the tokenizer would add one
    return all(ids[0] == bos and ids[1] != bos for ids in prompts)


@pytest.mark.slow
@pytest.mark.parametrize("name", PARITY_MODELS)
def test_generations_and_answers_equal_lm_eval(name, tmp_path, record_property):
    model_dir = build_tiny_model(tmp_path / "model", PARITY_MODELS[name])
    if name == "taught-answers":
        from runner.evaluation.taught_model import teach_answer_format

        teach_answer_format(model_dir, SAMPLE_DATA_DIR)
    if name == "system-prompt-truncated":  # the case must really truncate PubMedQA's prompts
        assert truncated_prompts(model_dir, "pubmedqa") >= 1
    else:
        assert single_bos(model_dir)
    clock = time.perf_counter()
    reference = run_lm_eval_cot(
        model_dir,
        SAMPLE_DATA_DIR,
        tmp_path / "yamls",
        TASK_NAMES,
        max_gen_toks=MAX_NEW_TOKENS,
        limit=LIMIT,
        batch_size=len(TASK_NAMES) * LIMIT,  # one batch: lm-eval groups every task together
    )
    lm_eval_seconds = time.perf_counter() - clock
    medlb_seconds = run_medlb_cot(model_dir, tmp_path / "out")

    per_task, items, equal_generations, equal_answers = [], 0, 0, 0
    for task in TASK_NAMES:
        ours = read_cot_predictions(tmp_path / "out", task)
        assert [row["doc_id"] for row in ours] == [doc.doc_id for doc in reference[task]]
        equal = 0
        for row, doc in zip(ours, reference[task], strict=True):
            expected = None if doc.answer is None else doc.answer
            if task == "pubmedqa" and expected is not None:
                expected = expected.lower()
            same_text = row["generation"] == doc.response
            equal_generations += same_text
            equal_answers += row["answer"] == expected
            equal += same_text and row["answer"] == expected
            items += 1
        per_task.append(f"{task} {equal}/{len(ours)}")
    line = (
        f"{name:<24} {items} items: equal generations {equal_generations}/{items}, "
        f"equal answers {equal_answers}/{items} (lm-eval {lm_eval_seconds:.0f}s, "
        f"medlb {medlb_seconds:.0f}s); " + ", ".join(per_task)
    )
    record_property("cot_lm_eval_parity", line)
    print("\n" + line)
    assert equal_generations == items
    assert equal_answers == items
    if name == "taught-answers":  # real answers and early stops were compared, not only None
        rows = [row for task in TASK_NAMES for row in read_cot_predictions(tmp_path / "out", task)]
        assert sum(row["answer"] is not None for row in rows) >= items // 2
        assert sum(not row["truncated"] for row in rows) >= items // 2
