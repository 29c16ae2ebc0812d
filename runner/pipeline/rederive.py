"""Every number of a result recomputed from its predictions files, checked against the pinned
data (ARCHITECTURE.md, "Trust boundary"): what `medlb results publish` publishes.

The GPU job's `results.json` is an artifact of a self-hosted machine: a compromised job could
write any accuracy into it. So publish keeps from it only what it cannot recompute (the model's
identity, which the submission then checks; timings and token counts; the environment) and
rebuilds each task's entry with the functions `medlb evaluate` itself uses
(`runner.evaluation.task_results`): the task's rows are read again (the Hub at the pinned
revision, or `--data-dir`), and a predictions file counts only if it has one row per item, in
order, with the item's doc id, gold and number of choices (`predictions.parse_matching`).
The `cot` track is rebuilt the same way (`_rederive_cot`): its rows must be one per item with the
pinned golds, each row's answer must be what extraction reads in its generation (and `correct`
what that answer says), and its scores, subjects and agreement with the `loglik` track come from
`runner.evaluation.cot.scoring`, the functions `medlb evaluate` uses.

The same pinned rows give the question texts publish stages beside the details
(`runner.evaluation.question_texts`): from the rows read here, never from the artifact.
"""

from __future__ import annotations

import functools
from pathlib import Path

from runner.errors import UserError
from runner.evaluation.metrics import leaderboard_average
from runner.evaluation.predictions import parse_matching, predictions_path, sha256
from runner.evaluation.question_texts import QuestionTexts, texts_of_rows
from runner.evaluation.run_manifest import TaskRecord
from runner.evaluation.task_data import TaskRows, load_task_rows, rows_source
from runner.evaluation.task_results import result_averages, task_result
from runner.evaluation.tasks import TASK_NAMES, TASKS, build_items
from runner.results_schema import CotTaskResult, CotTrack, EvaluationResult, RunInfo, TaskResult

_LINK_SCHEME = "https://"


def https_url(value: str | None, what: str) -> str | None:
    """`value` if it is an https URL (or None); anything else (`javascript:`, `http:`) refused."""
    if value is None:
        return None
    if not value.startswith(_LINK_SCHEME) or any(ch.isspace() for ch in value):
        raise UserError(f"{what}: not an https URL; a published result links only https pages")
    return value


def rederive_result(
    run_dir: Path, claimed: EvaluationResult, *, data_dir: Path | None, run_url: str | None
) -> tuple[EvaluationResult, list[QuestionTexts]]:
    """`claimed` with every score recomputed from `run_dir/predictions/` and the pinned rows,
    and `run.ci_run_url` set to `run_url` (the run publish was told it is part of); and the
    question texts of those rows, one per task of the loglik track."""
    pinned = functools.cache(lambda name: load_task_rows(TASKS[name], data_dir))  # once a task
    tasks: dict[str, TaskResult] = {}
    rows_by_task = {}
    for name, task in claimed.tasks.items():
        if name not in TASKS:
            raise UserError(f"results: unknown task {name!a}")
        tasks[name], rows_by_task[name] = _rederive_task(run_dir, name, task, claimed, pinned)
    ordered = {name: tasks[name] for name in TASK_NAMES if name in tasks}
    complete = all(t.n == t.n_total for t in ordered.values())
    run = claimed.run
    cot = None
    if claimed.cot is not None:
        cot = _rederive_cot(run_dir, claimed.cot, pinned, rows_by_task)
    names = [*claimed.tasks, *(t for t in (cot.tasks if cot else {}) if t not in claimed.tasks)]
    texts = [texts_of_rows(name, pinned(name)) for name in names]
    rederived = claimed.model_copy(
        update={
            "cot": cot,
            "tasks": ordered,
            "average": leaderboard_average(
                {name: t.acc for name, t in ordered.items()}, complete=complete
            ),
            **result_averages(
                ordered, rows_by_task, complete=complete, rotations=claimed.rotations
            ),
            "run": RunInfo(
                started_at=run.started_at,
                finished_at=run.finished_at,
                seconds=run.seconds,
                batch_size=run.batch_size,
                limit=None,
                ci_run_url=https_url(run_url, "--run-url"),
            ),
        }
    )
    return rederived, texts


def _read_predictions(path: Path) -> bytes:
    try:
        return path.read_bytes()
    except OSError as err:
        raise UserError(f"{path}: cannot read it ({err.strerror})") from None


def _check_data_sha256(field: str, claimed: str, task_rows: TaskRows) -> None:
    if claimed != task_rows.sha256:
        raise UserError(
            f"results: {field}.data_sha256 is not the sha256 of the rows {task_rows.source} "
            "holds; nothing is published"
        )


def _rederive_task(
    run_dir: Path, name: str, claimed_task: TaskResult, claimed: EvaluationResult, pinned
) -> tuple[TaskResult, list]:
    spec = TASKS[name]
    task_rows = pinned(name)
    items = build_items(spec, task_rows.rows, source=task_rows.source)
    path = predictions_path(run_dir, name)
    data = _read_predictions(path)
    rotations = claimed.rotations and spec.letter_choices
    rows = parse_matching(data, items, rotations=rotations)
    if rows is None:
        raise UserError(
            f"{path}: not one row per item of {name} ({len(items)} rows of "
            f"{task_rows.source}) with their doc ids, golds and choices; nothing is published"
        )
    _check_data_sha256(f"tasks.{name}", claimed_task.data_sha256, task_rows)
    record = TaskRecord(
        data_sha256=task_rows.sha256,
        n=len(rows),
        seconds=claimed_task.seconds,
        model_tokens=claimed_task.prompt_tokens,
        multi_token_items=claimed_task.multi_token_items,
        predictions_sha256=sha256(data),
        rotation_seconds=claimed_task.robustness.seconds if claimed_task.robustness else None,
        rotation_model_tokens=(
            claimed_task.robustness.prompt_tokens if claimed_task.robustness else None
        ),
    )
    derived = task_result(
        spec,
        rows,
        [item.subject for item in items],
        data_sha256=task_rows.sha256,
        n_total=len(task_rows.rows),
        record=record,
        rows_source=rows_source(spec, task_rows),
    )
    return derived, rows


def _rederive_cot(run_dir: Path, claimed: CotTrack, pinned, loglik_rows_by_task: dict) -> CotTrack:
    """The cot track rebuilt from `run_dir/predictions/cot/` and the pinned rows; the settings
    (engine, max_new_tokens, the template's sha256) and what the run measured (seconds, prompt
    tokens, energy) are kept, every score is recomputed."""
    from runner.evaluation.cot.scoring import cot_track

    tasks: dict[str, CotTaskResult] = {}
    rows_by_task = {}
    for name, claimed_task in claimed.tasks.items():
        if name not in TASKS:
            raise UserError(f"results: cot.tasks: unknown task {name!a}")
        tasks[name], rows_by_task[name] = _rederive_cot_task(
            run_dir, name, claimed_task, pinned, loglik_rows_by_task.get(name)
        )
    ordered = {name: tasks[name] for name in TASK_NAMES if name in tasks}
    output_tokens = sum(t.output_tokens for t in ordered.values())
    return cot_track(
        ordered,
        rows_by_task,
        engine=claimed.engine,
        max_new_tokens=claimed.max_new_tokens,
        chat_template_sha256=claimed.chat_template_sha256,
        cost=claimed.cost.model_copy(update={"output_tokens": output_tokens}),
        complete=all(t.n == t.n_total for t in ordered.values()),
    )


def _rederive_cot_task(
    run_dir: Path, name: str, claimed: CotTaskResult, pinned, loglik_rows
) -> tuple[CotTaskResult, list]:
    from runner.evaluation.cot.extraction import extract_answer
    from runner.evaluation.cot.prompts import build_cot_items
    from runner.evaluation.cot.records import cot_predictions_path
    from runner.evaluation.cot.records import parse_matching as parse_cot_matching
    from runner.evaluation.cot.scoring import CotTaskFacts, cot_task_result

    spec = TASKS[name]
    task_rows = pinned(name)
    items = build_cot_items(spec, task_rows.rows, source=task_rows.source)
    path = cot_predictions_path(run_dir, name)
    data = _read_predictions(path)
    rows = parse_cot_matching(data, items)
    if rows is None:
        raise UserError(
            f"{path}: not one row per item of {name} ({len(items)} rows of "
            f"{task_rows.source}) with their doc ids and golds; nothing is published"
        )
    for row in rows:
        answer = extract_answer(row.generation, letters=spec.letter_choices)
        if row.answer != answer or row.correct != (answer == row.gold):
            raise UserError(
                f"{path}: doc_id {row.doc_id}: its answer or correctness is not what its "
                "generation says; nothing is published"
            )
    _check_data_sha256(f"cot.tasks.{name}", claimed.data_sha256, task_rows)
    facts = CotTaskFacts(
        data_sha256=task_rows.sha256,
        n_total=len(task_rows.rows),
        prompt_tokens=claimed.prompt_tokens,
        seconds=claimed.seconds,
        rows_source=rows_source(spec, task_rows),
    )
    derived = cot_task_result(
        spec,
        rows,
        [item.subject for item in items],
        facts=facts,
        predictions_sha256=sha256(data),
        loglik_rows=loglik_rows,
    )
    return derived, rows
