"""Task scores: lm-eval's accuracy and stderr, a seeded bootstrap interval, ECE, subjects, bits."""

from __future__ import annotations

import math
import random

import pytest

from runner.evaluation import calibration, metrics
from runner.evaluation.tasks import TASK_NAMES
from runner.results_schema import decode_bits


def random_run(n: int, seed: int) -> tuple[list[list[float]], list[int]]:
    rng = random.Random(seed)
    logprobs = [[rng.uniform(-12.0, -0.5) for _ in range(4)] for _ in range(n)]
    golds = [rng.randrange(4) for _ in range(n)]
    return logprobs, golds


def test_accuracy_and_stderr_are_lm_eval_s():
    from lm_eval.api.metrics import mean, mean_stderr

    logprobs, golds = random_run(250, seed=1)
    scores = metrics.task_metrics(logprobs, golds, [None] * 250)
    correct = [int(p == g) for p, g in zip(metrics.argmax_choices(logprobs), golds, strict=True)]
    assert scores.acc == pytest.approx(mean(correct), abs=1e-12)
    assert scores.stderr == pytest.approx(mean_stderr(correct), abs=1e-12)


def test_ties_go_to_the_first_choice_like_numpy_argmax():
    assert metrics.argmax_choices([[-1.0, -0.5, -0.5], [-2.0, -2.0]]) == [1, 0]


def test_ece_is_zero_when_confidence_matches_accuracy_and_large_when_overconfident():
    half = math.log(0.5)
    # Confidence 0.5 on every item, right half of the time: perfectly calibrated.
    calibrated = calibration.expected_calibration_error([[half, half]] * 4, [0, 1, 0, 1])
    assert calibrated == pytest.approx(0.0, abs=1e-12)
    # Confidence ~1.0 and always wrong: ECE ~1.
    wrong = calibration.expected_calibration_error([[0.0, -50.0]] * 5, [1] * 5)
    assert wrong == pytest.approx(1.0, abs=1e-6)


def test_ece_weights_each_bin_by_its_share_of_items():
    p = 0.9
    confident = [math.log(p), math.log(1 - p)]  # confidence 0.9 (bin 9)
    unsure = [math.log(0.55), math.log(0.45)]  # confidence 0.55 (bin 5)
    logprobs = [confident] * 3 + [unsure]
    golds = [0, 0, 1, 0]  # bin 9: 2/3 right; bin 5: 1/1 right
    expected = 3 / 4 * abs(2 / 3 - 0.9) + 1 / 4 * abs(1.0 - 0.55)
    assert calibration.expected_calibration_error(logprobs, golds) == pytest.approx(expected)


def test_subject_accuracy_groups_items_and_skips_items_without_subject():
    correct = [True, False, True, True, False]
    subjects = ["Anatomy", "Anatomy", None, "Surgery", "Surgery"]
    by_subject = metrics.subject_accuracy(correct, subjects)
    assert by_subject == {
        "Anatomy": metrics.SubjectAccuracy(n=2, acc=0.5),
        "Surgery": metrics.SubjectAccuracy(n=2, acc=0.5),
    }
    assert metrics.subject_accuracy(correct, [None] * 5) == {}


def test_correctness_bits_decode_to_the_per_item_outcomes():
    logprobs, golds = random_run(37, seed=2)
    scores = metrics.task_metrics(logprobs, golds, [None] * 37)
    expected = [p == g for p, g in zip(metrics.argmax_choices(logprobs), golds, strict=True)]
    assert decode_bits(scores.correct_bits, 37) == expected


def test_leaderboard_average_needs_all_nine_tasks_in_full():
    accs = {name: (i + 1) / 10 for i, name in enumerate(TASK_NAMES)}
    assert metrics.leaderboard_average(accs, complete=True) == pytest.approx(0.5)
    assert metrics.leaderboard_average(accs, complete=False) is None
    eight = {name: acc for name, acc in accs.items() if name != "pubmedqa"}
    assert metrics.leaderboard_average(eight, complete=True) is None
