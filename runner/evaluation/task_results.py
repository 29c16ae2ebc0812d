"""Scores as a results file carries them, computed from predictions files as written.

`medlb evaluate` (`runner.evaluation.run`) builds each task's `TaskResult` and the result's
averages here, and `medlb results merge` (`runner.pipeline.merge`) recomputes the averages of a
split run here, from the same rows: a resumed run, a merged run and an uninterrupted one report
the same numbers, byte for byte.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from runner.evaluation import calibration
from runner.evaluation.metrics import task_metrics
from runner.evaluation.predictions import PredictionRow
from runner.evaluation.robustness import (
    LetterOutcomes,
    RotationOutcomes,
    letter_bias,
    rotation_scores,
    rstd_estimate,
)
from runner.evaluation.run_manifest import TaskRecord
from runner.evaluation.tasks import LETTER_TASK_NAMES, TASK_NAMES, TaskSpec
from runner.results_schema import (
    Estimate,
    LetterTasksAverage,
    RowsSource,
    SubjectScore,
    TaskResult,
    TaskRobustness,
    encode_bits,
)
from runner.stats import Bootstrap


@dataclass(frozen=True)
class LetterTaskOutcomes:
    """A letter task's per-item outcomes from its predictions rows: what its letter bias and
    robustness, and the averages over the letter tasks, are computed from."""

    letter: LetterOutcomes  # rotation 0
    rotation: RotationOutcomes | None  # None when the rows carry no rotation scores

    @classmethod
    def of(cls, rows: Sequence[PredictionRow]) -> LetterTaskOutcomes:
        logprobs = [row.choice_logprobs for row in rows]
        golds = [row.gold for row in rows]
        rotated = [row.rotation_logprobs for row in rows]
        rotation = None
        if rotated[0] is not None:
            rotation = RotationOutcomes.of(logprobs, rotated, golds)  # type: ignore[arg-type]
        return cls(letter=LetterOutcomes.of(logprobs, golds), rotation=rotation)


def task_result(
    spec: TaskSpec,
    rows: Sequence[PredictionRow],
    subjects: Sequence[str | None],
    *,
    data_sha256: str,
    n_total: int,
    record: TaskRecord,
    rows_source: RowsSource | None = None,
) -> TaskResult:
    """One task's entry: accuracy and what qualifies it, calibration, letter bias, robustness.

    `dataset_revision` is the pinned one only for rows read from the Hub, or from a local file
    whose sha256 is the one the registry knows for that revision (`rows_source`)."""
    logprobs = [row.choice_logprobs for row in rows]
    golds = [row.gold for row in rows]
    metrics = task_metrics(logprobs, golds, subjects)
    ece_ci95, brier_ci95 = calibration.calibration_intervals(
        logprobs, golds, Bootstrap.of_sizes([len(golds)])
    )
    reliability = calibration.reliability_bins(logprobs, golds)
    options = len(logprobs[0])
    low, high = metrics.ci95
    letters = LetterTaskOutcomes.of(rows) if spec.letter_choices else None
    pinned = rows_source is None or rows_source.kind == "hub" or rows_source.sha256_known is True
    return TaskResult(
        task=spec.name,
        dataset=spec.dataset,
        dataset_config=spec.config,
        dataset_revision=spec.revision if pinned else None,
        split=spec.split,
        data_sha256=data_sha256,
        n=metrics.n,
        n_total=n_total,
        acc=metrics.acc,
        stderr=metrics.stderr,
        ci95=metrics.ci95,
        ece=calibration.ece_of_bins(reliability),
        subjects={name: SubjectScore(n=s.n, acc=s.acc) for name, s in metrics.subjects.items()},
        correct=metrics.correct_bits,
        predictions_sha256=record.predictions_sha256,
        multi_token_items=record.multi_token_items,
        prompt_tokens=record.model_tokens,
        seconds=record.seconds,
        options=options,
        chance_normalized=Estimate(
            value=calibration.chance_normalized(metrics.acc, options),
            ci95=(
                calibration.chance_normalized(low, options),
                calibration.chance_normalized(high, options),
            ),
        ),
        majority_class_rate=calibration.majority_class_rate(golds),
        brier=calibration.brier_score(logprobs, golds),
        reliability=reliability,
        ece_ci95=ece_ci95,
        brier_ci95=brier_ci95,
        letter_bias=None if letters is None else letter_bias(letters.letter),
        robustness=None if letters is None else _robustness(letters.rotation, record),
        rows_source=rows_source,
    )


def _robustness(outcomes: RotationOutcomes | None, record: TaskRecord) -> TaskRobustness | None:
    if outcomes is None:
        return None
    return TaskRobustness(
        **dict(rotation_scores([outcomes])),
        consistent_correct=encode_bits([bool(x) for x in outcomes.consistent]),
        seconds=record.rotation_seconds or 0.0,
        prompt_tokens=record.rotation_model_tokens or 0,
    )


def result_averages(
    tasks: Mapping[str, TaskResult],
    rows_by_task: Mapping[str, Sequence[PredictionRow]],
    *,
    complete: bool,
    rotations: bool,
) -> dict[str, Any]:
    """The result-level fields of schema version 2 (keyword arguments of `EvaluationResult`).

    Averages over tasks follow the leaderboard average's rule: only over complete runs of all
    the tasks they average (nine for chance-normalised accuracy, the eight letter tasks for RStd
    and robustness). The pooled reliability bins cover whatever tasks the result holds.
    """
    ordered = [name for name in TASK_NAMES if name in tasks]
    return {
        "rotations": rotations,
        "chance_normalized_average": (
            _chance_normalized_average(tasks, rows_by_task)
            if complete and ordered == list(TASK_NAMES)
            else None
        ),
        "letter_tasks_average": (
            _letter_tasks_average(rows_by_task, rotations)
            if complete and set(LETTER_TASK_NAMES) <= set(ordered)
            else None
        ),
        "reliability_pooled": calibration.pooled_reliability(
            {name: tasks[name].reliability for name in ordered}  # type: ignore[misc]
        ),
    }


def _chance_normalized_average(
    tasks: Mapping[str, TaskResult], rows_by_task: Mapping[str, Sequence[PredictionRow]]
) -> Estimate:
    """Mean of the nine chance-normalised accuracies; each item scores (hit - c) / (1 - c)."""
    samples = []
    for name in TASK_NAMES:
        hits = np.array([row.pred == row.gold for row in rows_by_task[name]], dtype=np.float64)
        samples.append(calibration.chance_normalized(hits, tasks[name].options))  # type: ignore[arg-type]
    value = float(np.mean([tasks[name].chance_normalized.value for name in TASK_NAMES]))  # type: ignore[union-attr]
    bootstrap = Bootstrap.of_sizes([len(s) for s in samples])
    return Estimate(value=value, ci95=bootstrap.mean_ci95(samples))


def _letter_tasks_average(
    rows_by_task: Mapping[str, Sequence[PredictionRow]],
    rotations: bool,
) -> LetterTasksAverage:
    outcomes = [LetterTaskOutcomes.of(rows_by_task[name]) for name in LETTER_TASK_NAMES]
    return LetterTasksAverage(
        rstd=rstd_estimate([o.letter for o in outcomes]),
        rotations=rotation_scores([o.rotation for o in outcomes]) if rotations else None,  # type: ignore[misc]
    )
