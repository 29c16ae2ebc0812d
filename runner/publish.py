"""Put an evaluation's outcome where the site reads it: `results/<org>/<model>.json` or, for a run
that failed, `results/<org>/<model>.failure.json` (the queue page lists those).

Only a complete run is published: the model and revision the submission names, at its precision,
every planned task present, no `--limit`. A result replaces an earlier failure record of the same
model. Files are written atomically, and the `Publication` lists exactly what changed, so that the
workflow commits those files together or not at all.
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path

from runner.atomic_io import write_json_atomic
from runner.errors import UserError
from runner.failure_reasons import FailureReport
from runner.results import EvaluationFailure, EvaluationResult, save
from runner.submission import Submission

RESULT_SUFFIX = ".json"
FAILURE_SUFFIX = ".failure.json"


@dataclass(frozen=True)
class ChangedFile:
    path: Path
    deleted: bool = False


@dataclass(frozen=True)
class Publication:
    """What a publish step changed under the results directory, and the commit message."""

    message: str
    files: list[ChangedFile] = field(default_factory=list)


def result_path(results_dir: Path, model_id: str) -> Path:
    org, name = model_id.split("/")
    return Path(results_dir) / org / f"{name}{RESULT_SUFFIX}"


def failure_path(results_dir: Path, model_id: str) -> Path:
    org, name = model_id.split("/")
    return Path(results_dir) / org / f"{name}{FAILURE_SUFFIX}"


def bind_to_submission(result: EvaluationResult, submission: Submission) -> EvaluationResult:
    """Check that `result` is a run of `submission`; a local run takes the submission's name.

    A Hub run must be of the submitted model at the submitted revision. A run of a local
    directory (the demo, a rehearsal, a maintainer's pre-downloaded copy) cannot be checked
    against the Hub; it is published under the submission's id and revision and keeps
    `source: local`, so the site can say so.
    """
    model = result.model
    if model.source == "hub" and (model.id, model.revision) != (
        submission.model,
        submission.revision,
    ):
        raise UserError(
            f"results: run of {model.id}@{model.revision} does not match the submission "
            f"{submission.model}@{submission.revision}"
        )
    if model.precision != submission.precision:
        raise UserError(
            f"results: run in {model.precision}, the submission asks for {submission.precision}"
        )
    bound = model.model_copy(update={"id": submission.model, "revision": submission.revision})
    return result.model_copy(update={"model": bound})


def publish_result(
    result: EvaluationResult,
    submission: Submission,
    results_dir: Path,
    *,
    planned_tasks: list[str],
) -> tuple[Publication, EvaluationResult]:
    """Write `results/<org>/<model>.json` for a complete run and drop a stale failure record.

    Returns what changed and the record as published (bound to the submission).
    """
    missing = [task for task in planned_tasks if task not in result.tasks]
    if missing:
        shown = ", ".join(missing[:3]) + (", …" if len(missing) > 3 else "")
        raise UserError(
            f"results: incomplete run, {len(missing)} of {len(planned_tasks)} planned tasks "
            f"missing ({shown})"
        )
    if result.run.limit is not None:
        raise UserError(
            f"results: run used --limit {result.run.limit}; partial runs are not ranked"
        )
    bound = bind_to_submission(result, submission)
    target = result_path(results_dir, submission.model)
    save(target, bound)
    files = [ChangedFile(target)]
    stale = failure_path(results_dir, submission.model)
    if stale.exists():
        stale.unlink()
        files.append(ChangedFile(stale, deleted=True))
    short = submission.revision[:7]
    return Publication(f"results: {submission.model}@{short}", files), bound


def failure_record(
    model_id: str, revision: str, report: FailureReport, *, run_url: str | None = None
) -> EvaluationFailure:
    return EvaluationFailure(
        model=model_id,
        revision=revision,
        stage=report.stage,
        reason=report.reason,
        failed_at=datetime.now(UTC).replace(microsecond=0),
        ci_run_url=run_url,
    )


def publish_failure(failure: EvaluationFailure, results_dir: Path) -> Publication:
    """Write `results/<org>/<model>.failure.json` (the queue page's entry for a failed run)."""
    target = failure_path(results_dir, failure.model)
    save(target, failure)
    message = f"results: {failure.model}@{failure.revision[:7]} failed ({failure.stage})"
    return Publication(message, [ChangedFile(target)])


def write_changes(publication: Publication, path: Path) -> None:
    """`changes.json` for the workflow's commit step: paths relative to the working directory."""
    cwd = Path.cwd()
    files = []
    for changed in publication.files:
        relative = Path(os.path.relpath(changed.path.resolve(), cwd))
        if relative.parts and relative.parts[0] == "..":
            raise UserError(f"{changed.path}: outside the repository checkout {cwd}")
        files.append({"path": relative.as_posix(), "deleted": changed.deleted})
    write_json_atomic(path, {"message": publication.message, "files": files})
