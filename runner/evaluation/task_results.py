"""Scores as a results file carries them, computed from predictions files as written.

`medlb evaluate` (`runner.evaluation.run`) builds each task's `TaskResult` and the result's
averages here, and `medlb results merge` (`runner.pipeline.merge`) recomputes the averages of a
split run here, from the same rows: a resumed run, a merged run and an uninterrupted one report
the same numbers, byte for byte.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
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
    options = len(logprobs[0])
    low, high = metrics.ci95
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
        ece=metrics.ece,
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
        reliability=calibration.reliability_bins(logprobs, golds),
        letter_bias=letter_bias(LetterOutcomes.of(logprobs, golds))
        if spec.letter_choices
        else None,
        robustness=_robustness(rows, record) if spec.letter_choices else None,
        rows_source=rows_source,
    )


def _robustness(rows: Sequence[PredictionRow], record: TaskRecord) -> TaskRobustness | None:
    if rows[0].rotation_logprobs is None:
        return None
    outcomes = _rotation_outcomes(rows)
    return TaskRobustness(
        **dict(rotation_scores([outcomes])),
        consistent_correct=encode_bits([bool(x) for x in outcomes.consistent]),
        seconds=record.rotation_seconds or 0.0,
        prompt_tokens=record.rotation_model_tokens or 0,
    )


def _rotation_outcomes(rows: Sequence[PredictionRow]) -> RotationOutcomes:
    return RotationOutcomes.of(
        [row.choice_logprobs for row in rows],
        [row.rotation_logprobs for row in rows],  # type: ignore[misc]
        [row.gold for row in rows],
    )


def _letter_outcomes(rows: Sequence[PredictionRow]) -> LetterOutcomes:
    return LetterOutcomes.of([row.choice_logprobs for row in rows], [row.gold for row in rows])


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
        chance = 1.0 / tasks[name].options  # type: ignore[operator]
        hits = np.array([row.pred == row.gold for row in rows_by_task[name]], dtype=np.float64)
        samples.append((hits - chance) / (1.0 - chance))
    value = float(np.mean([tasks[name].chance_normalized.value for name in TASK_NAMES]))  # type: ignore[union-attr]
    bootstrap = Bootstrap.of_sizes([len(s) for s in samples])
    return Estimate(value=value, ci95=bootstrap.mean_ci95(samples))


def _letter_tasks_average(
    rows_by_task: Mapping[str, Sequence[PredictionRow]], rotations: bool
) -> LetterTasksAverage:
    rows = [rows_by_task[name] for name in LETTER_TASK_NAMES]
    return LetterTasksAverage(
        rstd=rstd_estimate([_letter_outcomes(r) for r in rows]),
        rotations=rotation_scores([_rotation_outcomes(r) for r in rows]) if rotations else None,
    )
