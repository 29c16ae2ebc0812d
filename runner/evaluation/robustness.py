"""Letter bias and option-order robustness of the letter tasks, per task and averaged.

Definitions, formulas and references: ARCHITECTURE.md, "Option-order robustness". In short, for
items i with gold g_i and chosen original option c_i^r under rotation r = 0..n-1:

- accuracy under rotation r: mean_i [c_i^r = g_i];
- consistent accuracy: mean_i [c_i^r = g_i for every r];
- answer-flip rate: mean_i [c_i^r differs between some two rotations];
- debiased accuracy: accuracy of argmax_k of the probabilities averaged over the rotations;
- per-letter recall (rotation 0) and RStd, the population standard deviation of the recalls of the
  letters that are some item's gold (Zheng et al. 2023).

Every score carries a seeded percentile-bootstrap 95% interval (`runner.stats.Bootstrap`); an
average over tasks is the unweighted mean of the task scores, its interval from resampling every
task's items within the task. RStd's interval is bias-corrected (`Bootstrap.centred_ci95`):
resampling inflates a standard deviation of noisy recalls, and a plain percentile interval of a
model with no letter preference can lie wholly above its RStd.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from runner.evaluation.rotations import (
    all_rotations,
    averaged_probability_choices,
    chosen_options,
)
from runner.results_schema import Estimate, LetterBias, RotationScores
from runner.stats import Bootstrap


@dataclass(frozen=True)
class LetterOutcomes:
    """Rotation 0 of one letter task: per item the gold letter and the chosen one."""

    golds: np.ndarray
    preds: np.ndarray
    options: int

    @classmethod
    def of(cls, choice_logprobs: Sequence[Sequence[float]], golds: Sequence[int]) -> LetterOutcomes:
        scores = np.asarray(choice_logprobs, dtype=np.float64)
        return cls(np.asarray(golds), np.argmax(scores, axis=-1), scores.shape[-1])


@dataclass(frozen=True)
class RotationOutcomes:
    """Per item of one letter task scored under all n rotations."""

    correct: np.ndarray  # [items, n]: right under rotation r
    consistent: np.ndarray  # right under every rotation
    flipped: np.ndarray  # not the same original option under every rotation
    debiased_correct: np.ndarray  # the rotation-averaged probabilities pick the gold

    @classmethod
    def of(
        cls,
        choice_logprobs: Sequence[Sequence[float]],
        rotation_logprobs: Sequence[Sequence[Sequence[float]]],
        golds: Sequence[int],
    ) -> RotationOutcomes:
        scores = all_rotations(choice_logprobs, rotation_logprobs)
        chosen = chosen_options(scores)
        gold = np.asarray(golds)
        correct = chosen == gold[:, None]
        return cls(
            correct=correct,
            consistent=correct.all(axis=1),
            flipped=(chosen != chosen[:, :1]).any(axis=1),
            debiased_correct=averaged_probability_choices(scores) == gold,
        )


def letter_recall(golds: np.ndarray, preds: np.ndarray, options: int) -> np.ndarray:
    """`[..., options]`: per letter, the share of the items with that gold letter that were
    answered with it; NaN for a letter no item has as gold. Leading axes are resamples."""
    recalls = []
    for letter in range(options):
        gold_is = golds == letter
        count = gold_is.sum(axis=-1)
        hits = (gold_is & (preds == letter)).sum(axis=-1)
        recall = np.divide(hits, count, out=np.full(count.shape, np.nan), where=count > 0)
        recalls.append(recall)
    return np.stack(recalls, axis=-1)


def recall_std(golds: np.ndarray, preds: np.ndarray, options: int) -> np.ndarray:
    """RStd: the population standard deviation of the defined per-letter recalls."""
    return np.nanstd(letter_recall(golds, preds, options), axis=-1)


def letter_bias(outcomes: LetterOutcomes) -> LetterBias:
    """Per-letter recall with percentile intervals (None for a letter no item has as gold), and
    RStd with its bias-corrected interval, on the same resamples of the items."""
    recall = letter_recall(outcomes.golds, outcomes.preds, outcomes.options)
    bootstrap = Bootstrap.of_sizes([len(outcomes.golds)])
    drawn = bootstrap.indices[0]
    resampled = letter_recall(outcomes.golds[drawn], outcomes.preds[drawn], outcomes.options)
    intervals: list[tuple[float, float] | None] = []
    for letter, value in enumerate(recall):
        if np.isnan(value):
            intervals.append(None)
            continue
        drawn_recalls = resampled[:, letter]
        drawn_recalls = drawn_recalls[~np.isnan(drawn_recalls)]  # resamples without the letter
        if not drawn_recalls.size:
            intervals.append((float(value), float(value)))
            continue
        low, high = np.percentile(drawn_recalls, [2.5, 97.5])
        intervals.append((float(low), float(high)))
    return LetterBias(
        recall=[None if np.isnan(r) else float(r) for r in recall],
        rstd=rstd_estimate([outcomes]),
        recall_ci95=intervals,
    )


def rstd_estimate(tasks: Sequence[LetterOutcomes]) -> Estimate:
    """RStd of one task, or the unweighted mean of several tasks' RStd, with its interval."""
    value = float(np.mean([recall_std(t.golds, t.preds, t.options) for t in tasks]))
    bootstrap = Bootstrap.of_sizes([len(t.golds) for t in tasks])

    def resampled(indices: list[np.ndarray]) -> np.ndarray:
        stds = [
            recall_std(t.golds[i], t.preds[i], t.options)
            for t, i in zip(tasks, indices, strict=True)
        ]
        return np.mean(stds, axis=0)

    return Estimate(value=value, ci95=bootstrap.centred_ci95(resampled, value))


def rotation_scores(tasks: Sequence[RotationOutcomes]) -> RotationScores:
    """The robustness scores of one task, or their unweighted means over several tasks."""
    options = {t.correct.shape[1] for t in tasks}
    if len(options) != 1:
        raise ValueError(f"tasks with different numbers of options: {sorted(options)}")
    bootstrap = Bootstrap.of_sizes([len(t.consistent) for t in tasks])

    def estimate(samples: list[np.ndarray]) -> Estimate:
        value = float(np.mean([s.mean() for s in samples]))
        return Estimate(value=value, ci95=bootstrap.mean_ci95(samples))

    return RotationScores(
        acc_by_rotation=[estimate([t.correct[:, r] for t in tasks]) for r in range(options.pop())],
        consistent=estimate([t.consistent for t in tasks]),
        flip_rate=estimate([t.flipped for t in tasks]),
        debiased=estimate([t.debiased_correct for t in tasks]),
    )
