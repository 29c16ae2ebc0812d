"""Parity with lm-evaluation-harness under option rotations: `rotation_logprobs` equal lm-eval's
log-likelihoods on rows rotated in their Hub columns (|Δ| ≤ 1e-4, same choices, same gold).

The rotated rows come from tests/lmeval_reference.py, which rotates the bundled sample rows
straight from the definition (original option (j + r) mod n at position j, gold (gold - r) mod n),
without medlb's rotation code, and lm-eval scores them through its own task files. medlb scores
the same questions with `medlb evaluate --rotations`. For rotation r, original option k carries
letter (k - r) mod n, so `rotation_logprobs[r - 1][k]` must equal lm-eval's log-likelihood of
choice (k - r) mod n on the rotated row. The models are the plain parity test's kinds: a Llama
whose tokenizer adds BOS, a GPT-2 that adds none, and a Llama whose 320-token vocabulary makes
some letters several tokens. The figures are printed in the terminal summary beside the plain
parity test's.
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
from lmeval_reference import OPTIONS, ROTATED_TASKS, rotation_prefix, run_lm_eval_tasks

from runner.cli import main
from runner.evaluation.rotations import all_rotations, chosen_options
from runner.evaluation.task_data import SAMPLE_DATA_DIR, load_task_rows
from runner.evaluation.tasks import LETTER_TASK_NAMES, TASKS, build_rotated_items
from runner.evaluation.tiny_models import TinyModelSpec, build_tiny_model
from runner.results_schema import load_result

TOLERANCE = 1e-4

ROTATION_MODELS = {
    "llama-bos": TinyModelSpec(arch="llama", seed=41),
    "gpt2-no-bos": TinyModelSpec(arch="gpt2", seed=42),
    "llama-multi-token": TinyModelSpec(arch="llama", seed=43, vocab_size=320),
}


def read_predictions(output: Path, task: str) -> list[dict]:
    lines = (output / "predictions" / f"{task}.jsonl").read_text(encoding="utf-8").splitlines()
    return [json.loads(line) for line in lines]


def test_the_reference_rotates_the_letter_tasks_medlb_rotates():
    assert ROTATED_TASKS == LETTER_TASK_NAMES


@pytest.mark.slow
@pytest.mark.parametrize("name", ROTATION_MODELS)
def test_rotation_logprobs_equal_lm_eval_on_rotated_rows(
    name, lmeval_task_manager, tmp_path, record_property
):
    model_dir = build_tiny_model(tmp_path / "model", ROTATION_MODELS[name])
    names = [rotation_prefix(r) + task for r in range(1, OPTIONS) for task in ROTATED_TASKS]
    reference = run_lm_eval_tasks(model_dir, lmeval_task_manager, names)
    out = tmp_path / "out"
    argv = ["evaluate", "--model", str(model_dir), "--data-dir", str(SAMPLE_DATA_DIR)]
    argv += ["--tasks", ",".join(LETTER_TASK_NAMES), "--rotations", "--device", "cpu"]
    assert main([*argv, "--dtype", "float32", "--no-progress", "--output", str(out)]) == 0
    result = load_result(out / "results.json")

    deltas, equal_choices, equal_correctness, items = [], 0, 0, 0
    for task in LETTER_TASK_NAMES:
        rows = read_predictions(out, task)
        rotated_items = build_rotated_items(
            TASKS[task], load_task_rows(TASKS[task], SAMPLE_DATA_DIR).rows
        )
        scores = all_rotations(
            [row["choice_logprobs"] for row in rows], [row["rotation_logprobs"] for row in rows]
        )
        chosen = chosen_options(scores)
        for r in range(1, OPTIONS):
            docs = reference[rotation_prefix(r) + task]
            assert [doc.doc_id for doc in docs] == [row["doc_id"] for row in rows]
            for i, (row, doc) in enumerate(zip(rows, docs, strict=True)):
                # medlb's rotated prompt is lm-eval's prompt of the independently rotated row.
                item = rotated_items[i * (OPTIONS - 1) + (r - 1)]
                assert doc.requests == [(item.context, c) for c in item.continuations]
                ours = row["rotation_logprobs"][r - 1]
                theirs = [doc.loglikelihoods[(k - r) % OPTIONS] for k in range(OPTIONS)]
                deltas += [abs(a - b) for a, b in zip(ours, theirs, strict=True)]
                # Same choice: lm-eval's argmax letter labels the option medlb says was chosen.
                equal_choices += (int(np.argmax(doc.loglikelihoods)) + r) % OPTIONS == chosen[i, r]
                # Same gold: lm-eval's acc on the rotated row is medlb's "right under r".
                equal_correctness += doc.correct == (chosen[i, r] == row["gold"])
                items += 1
            lm_eval_acc = sum(doc.correct for doc in docs) / len(docs)
            robustness = result.tasks[task].robustness
            assert robustness.acc_by_rotation[r].value == pytest.approx(lm_eval_acc)

    max_delta = max(deltas)
    record_property(
        "lm_eval_parity",
        f"{name:<18} {len(LETTER_TASK_NAMES)} tasks x {OPTIONS - 1} rotations, "
        f"{items} items, {len(deltas)} choices: max |Δ| = {max_delta:.2e}, "
        f"equal choices {equal_choices}/{items}, equal correctness {equal_correctness}/{items}",
    )
    print(f"\n{name} rotations: max |Δ| = {max_delta:.2e}, equal choices {equal_choices}/{items}")
    assert max_delta <= TOLERANCE
    assert equal_choices == items
    assert equal_correctness == items
