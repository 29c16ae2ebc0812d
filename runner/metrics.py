"""Scores of one task from its per-choice log-likelihoods: accuracy and what qualifies it.

Accuracy and its standard error are lm-eval's (`acc`: argmax of the summed log-likelihoods, ties to
the first choice as `np.argmax`; `acc_stderr`: sample standard deviation over sqrt(n)). The rest is
what a leaderboard reader needs to judge a difference: a seeded percentile-bootstrap interval,
per-subject accuracy, calibration (expected calibration error of the softmax over the choices), and
the per-item correctness bits that let any two models be compared with a paired test.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

import numpy as np

from runner.results import encode_bits
from runner.tasks import TASK_NAMES

BOOTSTRAP_RESAMPLES = 1000
BOOTSTRAP_SEED = 1234
ECE_BINS = 10


@dataclass(frozen=True)
class SubjectAccuracy:
    n: int
    acc: float


@dataclass(frozen=True)
class TaskMetrics:
    n: int
    acc: float
    stderr: float
    ci95: tuple[float, float]
    ece: float
    subjects: dict[str, SubjectAccuracy]
    correct_bits: str  # results.encode_bits of [pred == gold] in item order


def predictions(choice_logprobs: Sequence[Sequence[float]]) -> list[int]:
    """The chosen answer per item: the first choice with the highest log-likelihood."""
    return [int(np.argmax(row)) for row in choice_logprobs]


def task_metrics(
    choice_logprobs: Sequence[Sequence[float]],
    golds: Sequence[int],
    subjects: Sequence[str | None],
) -> TaskMetrics:
    """Every score of one task; items are in split order (doc_id 0..n-1)."""
    if not choice_logprobs:
        raise ValueError("no items to score")
    correct = [p == g for p, g in zip(predictions(choice_logprobs), golds, strict=True)]
    return TaskMetrics(
        n=len(correct),
        acc=accuracy(correct),
        stderr=mean_stderr(correct),
        ci95=bootstrap_ci95(correct),
        ece=expected_calibration_error(choice_logprobs, golds),
        subjects=subject_accuracy(correct, subjects),
        correct_bits=encode_bits(correct),
    )


def accuracy(correct: Sequence[bool]) -> float:
    return sum(correct) / len(correct)


def mean_stderr(correct: Sequence[bool]) -> float:
    """lm-eval's `mean_stderr`: sample std (n - 1) / sqrt(n); 0.0 for one item (undefined)."""
    n = len(correct)
    if n < 2:
        return 0.0
    mean = accuracy(correct)
    variance = sum((float(c) - mean) ** 2 for c in correct) / (n - 1)
    return math.sqrt(variance) / math.sqrt(n)


def bootstrap_ci95(
    correct: Sequence[bool], *, resamples: int = BOOTSTRAP_RESAMPLES, seed: int = BOOTSTRAP_SEED
) -> tuple[float, float]:
    """95% percentile-bootstrap interval of the accuracy; seeded, so a rerun gives the same one."""
    values = np.asarray(correct, dtype=np.float64)
    rng = np.random.default_rng(seed)
    means = values[rng.integers(0, len(values), size=(resamples, len(values)))].mean(axis=1)
    low, high = np.percentile(means, [2.5, 97.5])
    return float(low), float(high)


def choice_probabilities(choice_logprobs: Sequence[Sequence[float]]) -> list[np.ndarray]:
    """Softmax over each item's choices (items may have different numbers of choices)."""
    out = []
    for row in choice_logprobs:
        logits = np.asarray(row, dtype=np.float64)
        weights = np.exp(logits - logits.max())
        out.append(weights / weights.sum())
    return out


def expected_calibration_error(
    choice_logprobs: Sequence[Sequence[float]], golds: Sequence[int], *, bins: int = ECE_BINS
) -> float:
    """ECE of the normalised choice probabilities: confidence = the top choice's probability,
    `bins` equal-width bins on [0, 1], sum of |accuracy - mean confidence| weighted by bin size."""
    probs = choice_probabilities(choice_logprobs)
    confidence = np.array([p.max() for p in probs])
    hit = np.array([int(p.argmax()) == g for p, g in zip(probs, golds, strict=True)], dtype=float)
    which = np.minimum((confidence * bins).astype(int), bins - 1)
    total = 0.0
    for b in range(bins):
        members = which == b
        if members.any():
            gap = abs(hit[members].mean() - confidence[members].mean())
            total += gap * members.sum() / len(confidence)
    return float(min(1.0, total))


def subject_accuracy(
    correct: Sequence[bool], subjects: Sequence[str | None]
) -> dict[str, SubjectAccuracy]:
    """Accuracy per subject (MedMCQA's subject_name, an MMLU subset's name); items without one
    are left out, so a task without subjects gives {}."""
    groups: dict[str, list[bool]] = {}
    for hit, subject in zip(correct, subjects, strict=True):
        if subject is not None:
            groups.setdefault(subject, []).append(hit)
    return {s: SubjectAccuracy(n=len(g), acc=accuracy(g)) for s, g in sorted(groups.items())}


def leaderboard_average(accuracies: Mapping[str, float], *, complete: bool) -> float | None:
    """Unweighted mean of the nine task accuracies; None unless all nine ran on all their rows."""
    if not complete or set(accuracies) != set(TASK_NAMES):
        return None
    return sum(accuracies[name] for name in TASK_NAMES) / len(TASK_NAMES)
