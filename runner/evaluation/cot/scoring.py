"""The reasoning track's scores, computed from `predictions/cot/<task>.jsonl` rows as written.

`medlb evaluate` builds each `CotTaskResult` and the `CotTrack` here, and merge/publish recompute
them here from the same rows (`recompute_cot_track`), so a resumed, a merged and an uninterrupted
run report the same numbers. The agreement with the `loglik` track pairs each item's `cot` answer
with the `loglik` choice on the same row (a 2x2 table and the exact McNemar p).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

from runner.evaluation.cot.records import CotRow, cot_predictions_path, parse_rows
from runner.evaluation.metrics import leaderboard_average, subject_accuracy
from runner.evaluation.predictions import PredictionRow, sha256
from runner.evaluation.tasks import LETTERS, PUBMEDQA_CHOICES, TASK_NAMES, TaskSpec
from runner.results_schema import (
    CotAgreement,
    CotTaskResult,
    CotTrack,
    EngineInfo,
    RowsSource,
    SubjectScore,
    TrackCost,
    encode_bits,
)
from runner.stats import Bootstrap, accuracy, bootstrap_ci95, mcnemar_exact_p, mean_stderr


@dataclass(frozen=True)
class CotTaskFacts:
    """What a task's run measured besides its rows (the run manifest keeps it for resume)."""

    data_sha256: str
    n_total: int
    prompt_tokens: int
    seconds: float
    rows_source: RowsSource | None


def cot_task_result(
    spec: TaskSpec,
    rows: Sequence[CotRow],
    subjects: Sequence[str | None],
    *,
    facts: CotTaskFacts,
    predictions_sha256: str,
    loglik_rows: Sequence[PredictionRow] | None,
) -> CotTaskResult:
    if not rows:
        raise ValueError(f"{spec.name}: no cot rows to score")
    correct = [row.correct for row in rows]
    output_tokens = sum(row.output_tokens for row in rows)
    return CotTaskResult(
        task=spec.name,
        dataset=spec.dataset,
        dataset_config=spec.config,
        dataset_revision=spec.revision,
        split=spec.split,
        data_sha256=facts.data_sha256,
        rows_source=facts.rows_source,
        n=len(rows),
        n_total=facts.n_total,
        acc=accuracy(correct),
        stderr=mean_stderr(correct),
        ci95=bootstrap_ci95(correct),
        no_answer_rate=sum(row.answer is None for row in rows) / len(rows),
        truncation_rate=sum(row.truncated for row in rows) / len(rows),
        mean_output_tokens=output_tokens / len(rows),
        output_tokens=output_tokens,
        subjects={
            name: SubjectScore(n=s.n, acc=s.acc)
            for name, s in subject_accuracy(correct, subjects).items()
        },
        correct=encode_bits(correct),
        predictions_sha256=predictions_sha256,
        agreement=None if loglik_rows is None else agreement(spec, rows, loglik_rows),
        prompt_tokens=facts.prompt_tokens,
        seconds=facts.seconds,
    )


def agreement(
    spec: TaskSpec, rows: Sequence[CotRow], loglik_rows: Sequence[PredictionRow]
) -> CotAgreement | None:
    """The paired table of `cot` against `loglik` on the same items; None unless both tracks
    scored exactly the same rows."""
    if [r.doc_id for r in rows] != [r.doc_id for r in loglik_rows]:
        return None
    labels = LETTERS if spec.letter_choices else PUBMEDQA_CHOICES
    cells = {(True, True): 0, (False, True): 0, (True, False): 0, (False, False): 0}
    same = 0
    for cot, loglik in zip(rows, loglik_rows, strict=True):
        cells[(loglik.pred == loglik.gold, cot.correct)] += 1
        same += cot.answer == labels[loglik.pred]
    fixes, breaks = cells[(False, True)], cells[(True, False)]
    return CotAgreement(
        both_right=cells[(True, True)],
        cot_fixes=fixes,
        cot_breaks=breaks,
        both_wrong=cells[(False, False)],
        same_answer=same,
        mcnemar_p=mcnemar_exact_p(fixes, breaks),
    )


def cot_track(
    tasks: Mapping[str, CotTaskResult],
    rows_by_task: Mapping[str, Sequence[CotRow]],
    *,
    engine: EngineInfo,
    max_new_tokens: int,
    chat_template_sha256: str,
    cost: TrackCost,
    complete: bool,
) -> CotTrack:
    """The track from its tasks; the average (and its stratified bootstrap interval) only over a
    complete run of all nine tasks, as the `loglik` average."""
    every = [row for name in tasks for row in rows_by_task[name]]
    average = leaderboard_average({n: t.acc for n, t in tasks.items()}, complete=complete)
    interval = None
    if average is not None:
        samples = [[row.correct for row in rows_by_task[name]] for name in TASK_NAMES]
        interval = Bootstrap.of_sizes([len(s) for s in samples]).mean_ci95(samples)
    return CotTrack(
        engine=engine,
        max_new_tokens=max_new_tokens,
        chat_template_sha256=chat_template_sha256,
        tasks=dict(tasks),
        average=average,
        average_ci95=interval,
        no_answer_rate=sum(row.answer is None for row in every) / len(every),
        truncation_rate=sum(row.truncated for row in every) / len(every),
        mean_output_tokens=sum(row.output_tokens for row in every) / len(every),
        cost=cost,
    )


def read_cot_rows(output_dir: Path, task: CotTaskResult) -> list[CotRow]:
    """A task's rows from `output_dir`, checked against the sha256 its result pins."""
    path = cot_predictions_path(output_dir, task.task)
    try:
        data = path.read_bytes()
    except OSError as err:
        raise ValueError(f"{path}: cannot read ({err.strerror})") from None
    if sha256(data) != task.predictions_sha256:
        raise ValueError(f"{path}: not the file tasks.{task.task}.predictions_sha256 pins")
    try:
        return parse_rows(data)
    except ValueError as err:
        raise ValueError(f"{path}: {err}") from None


def recompute_cot_track(
    track: CotTrack,
    output_dir: Path,
    loglik_rows_by_task: Mapping[str, Sequence[PredictionRow]],
    *,
    complete: bool,
) -> CotTrack:
    """A track's scores recomputed from the predictions files it pins, for merge and publish:
    accuracy, intervals, rates, tokens and agreement derived again from the rows; the settings,
    what the run measured (prompt tokens, seconds, energy) and the per-subject scores (their
    subjects are the data's, not the predictions') are kept."""
    from runner.evaluation.tasks import TASKS

    rows_by_task = {name: read_cot_rows(output_dir, task) for name, task in track.tasks.items()}
    tasks = {}
    for name, task in track.tasks.items():
        facts = CotTaskFacts(
            data_sha256=task.data_sha256,
            n_total=task.n_total,
            prompt_tokens=task.prompt_tokens,
            seconds=task.seconds,
            rows_source=task.rows_source,
        )
        rows = rows_by_task[name]
        result = cot_task_result(
            TASKS[name],
            rows,
            [None] * len(rows),
            facts=facts,
            predictions_sha256=task.predictions_sha256,
            loglik_rows=loglik_rows_by_task.get(name),
        )
        tasks[name] = result.model_copy(update={"subjects": task.subjects})
    output_tokens = sum(t.output_tokens for t in tasks.values())
    return cot_track(
        tasks,
        rows_by_task,
        engine=track.engine,
        max_new_tokens=track.max_new_tokens,
        chat_template_sha256=track.chat_template_sha256,
        cost=track.cost.model_copy(update={"output_tokens": output_tokens}),
        complete=complete,
    )
