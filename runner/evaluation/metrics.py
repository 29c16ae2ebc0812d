"""Scores of one task from its per-choice log-likelihoods: accuracy and what qualifies it.

Accuracy and its standard error are lm-eval's (`acc`: argmax of the summed log-likelihoods, ties to
the first choice as `np.argmax`; `acc_stderr`: sample standard deviation over sqrt(n)). The rest is
what a leaderboard reader needs to judge a difference: a seeded percentile-bootstrap interval,
per-subject accuracy, and the per-item correctness bits that let any two models be compared with a
paired test. Calibration is `runner.evaluation.calibration`'s (ARCHITECTURE.md, "Calibration").
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass

import numpy as np

from runner.evaluation.tasks import TASK_NAMES
from runner.results_schema import encode_bits
from runner.stats import accuracy, bootstrap_ci95, mean_stderr


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
    subjects: dict[str, SubjectAccuracy]
    correct_bits: str  # results.encode_bits of [pred == gold] in item order


def argmax_choices(choice_logprobs: Sequence[Sequence[float]]) -> list[int]:
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
    correct = [p == g for p, g in zip(argmax_choices(choice_logprobs), golds, strict=True)]
    return TaskMetrics(
        n=len(correct),
        acc=accuracy(correct),
        stderr=mean_stderr(correct),
        ci95=bootstrap_ci95(correct),
        subjects=subject_accuracy(correct, subjects),
        correct_bits=encode_bits(correct),
    )


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
