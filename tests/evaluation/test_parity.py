"""Parity with lm-evaluation-harness: same log-likelihoods (|Δ| ≤ 1e-4) and the same predictions.

For each tiny model, lm-eval 0.4.13 (`simple_evaluate(model="hf", log_samples=True)`, float32, CPU)
scores the nine tasks on the bundled sample files through its own task code
(tests/lmeval_reference.py), and `medlb evaluate` scores them through the real CLI. The models:
- a Llama whose tokenizer adds BOS to every encoding (like Llama 2),
- a GPT-2 whose tokenizer adds nothing,
- a Llama with a 320-token BPE vocabulary, so that some continuations (" yes", " maybe", " A")
  are several tokens and others (" no", " C") one: the engine's exact-continuation fallback path.
The max |Δ| and the count of equal predictions are printed in the terminal summary.
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
from lmeval_reference import run_lm_eval

from runner.evaluation.task_data import SAMPLE_DATA_DIR, load_task_rows
from runner.evaluation.tasks import TASK_NAMES, TASKS, Item, build_items
from runner.evaluation.tiny_models import TinyModelSpec, build_tiny_model

TOLERANCE = 1e-4

PARITY_MODELS = {
    "llama-bos": TinyModelSpec(arch="llama", seed=11),
    "gpt2-no-bos": TinyModelSpec(arch="gpt2", seed=12),
    "llama-multi-token": TinyModelSpec(arch="llama", seed=13, vocab_size=320),
}


def run_medlb_evaluate(model_dir: Path, output: Path) -> None:
    command = [sys.executable, "-m", "runner", "evaluate", "--model", str(model_dir)]
    command += ["--data-dir", str(SAMPLE_DATA_DIR), "--device", "cpu", "--dtype", "float32"]
    command += ["--output", str(output)]
    finished = subprocess.run(command, capture_output=True, text=True, timeout=600)
    assert finished.returncode == 0, finished.stderr[-2000:]


def read_predictions(output: Path, task: str) -> list[dict]:
    lines = (output / "predictions" / f"{task}.jsonl").read_text(encoding="utf-8").splitlines()
    return [json.loads(line) for line in lines]


def sample_items(task: str) -> list[Item]:
    return build_items(TASKS[task], load_task_rows(TASKS[task], SAMPLE_DATA_DIR).rows)


def continuation_lengths(model_dir: Path) -> set[int]:
    """Token counts of the answer continuations (" A", " maybe", ...) under a model's tokenizer."""
    from transformers import AutoTokenizer

    tokenizer = AutoTokenizer.from_pretrained(model_dir)
    continuations = {c for task in TASK_NAMES for c in sample_items(task)[0].continuations}
    return {len(tokenizer.encode(c, add_special_tokens=False)) for c in continuations}


@pytest.mark.slow
@pytest.mark.parametrize("name", PARITY_MODELS)
def test_choice_loglikelihoods_and_predictions_equal_lm_eval(
    name, lmeval_task_manager, tmp_path, record_property
):
    model_dir = build_tiny_model(tmp_path / "model", PARITY_MODELS[name])
    if name == "llama-multi-token":  # the case must really mix one- and several-token choices
        assert {1, 2} <= continuation_lengths(model_dir)
    reference = run_lm_eval(model_dir, lmeval_task_manager)
    run_medlb_evaluate(model_dir, tmp_path / "out")

    deltas, equal_predictions, equal_correctness, items = [], 0, 0, 0
    for task in TASK_NAMES:
        ours = read_predictions(tmp_path / "out", task)
        assert [row["doc_id"] for row in ours] == [doc.doc_id for doc in reference[task]]
        for row, doc, item in zip(ours, reference[task], sample_items(task), strict=True):
            # lm-eval's requests are exactly the items medlb scored (context, " " + choice).
            assert doc.requests == [(item.context, c) for c in item.continuations]
            assert len(row["choice_logprobs"]) == len(doc.loglikelihoods)
            deltas += [
                abs(a - b) for a, b in zip(row["choice_logprobs"], doc.loglikelihoods, strict=True)
            ]
            equal_predictions += row["pred"] == int(np.argmax(doc.loglikelihoods))
            equal_correctness += (row["pred"] == row["gold"]) == doc.correct
            items += 1

    max_delta = max(deltas)
    record_property(
        "lm_eval_parity",
        f"{name:<18} {len(TASK_NAMES)} tasks, {items} items, {len(deltas)} choices: "
        f"max |Δ| = {max_delta:.2e}, equal predictions {equal_predictions}/{items}",
    )
    print(f"\n{name}: max |Δ| = {max_delta:.2e}, equal predictions {equal_predictions}/{items}")
    assert max_delta <= TOLERANCE
    assert equal_predictions == items
    assert equal_correctness == items  # and lm-eval's own acc agrees with medlb's gold
