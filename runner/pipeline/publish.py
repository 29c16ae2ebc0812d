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
from runner.errors import UsageError, UserError
from runner.pipeline.failure_reasons import FailureReport
from runner.results_schema import EvaluationFailure, EvaluationResult, save
from runner.submissions.schema import Submission

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


# ---- the workflow steps: `medlb results publish` and `medlb results fail` ----------------------


def publish_run(
    run_dir: Path,
    *,
    request_dir: Path | None,
    submission_file: Path | None,
    results_dir: Path,
    out_dir: Path | None,
    run_url: str | None,
) -> EvaluationResult:
    """Check a finished run against its request (or a submission file: every task planned) and
    publish it; print the PR comment, which also goes to the job summary and `out_dir`."""
    from runner.evaluation.tasks import TASK_NAMES
    from runner.pipeline.merge import load_part
    from runner.pipeline.request import load_request
    from runner.pipeline.score_report import result_markdown
    from runner.submissions.schema import load_submission

    if request_dir is not None:
        request = load_request(request_dir)
        submission_file, planned = request.submission_file(request_dir), request.tasks
    elif submission_file is not None:
        planned = list(TASK_NAMES)
    else:
        raise UsageError("give --request DIR or --submission FILE")
    submission = load_submission(submission_file, check_path=True)
    result = load_part(run_dir)
    publication, published = publish_result(result, submission, results_dir, planned_tasks=planned)
    target = result_path(results_dir, submission.model)
    markdown = result_markdown(published, target, run_url or result.run.ci_run_url)
    _write_outputs(out_dir, publication, markdown)
    print(markdown)
    return published


@dataclass(frozen=True)
class JobOutcomes:
    """How the evaluate workflow's jobs ended (success, failure, cancelled, skipped) and where
    their logs are: what `explain_failure` reads."""

    prepare: str
    evaluate: str
    publish: str = "skipped"
    evaluate_logs: Path | None = None  # a directory of the failed GPU jobs' *.log files
    publish_log: Path | None = None


def record_failure(
    request_dir: Path,
    outcomes: JobOutcomes,
    *,
    results_dir: Path,
    out_dir: Path | None,
    run_url: str | None,
) -> EvaluationFailure:
    """Explain why a request published nothing: an ::error:: line, the PR comment and (after a
    maintainer's approval only) the failure record the queue page lists."""
    from runner import github_actions
    from runner.pipeline.failure_reasons import explain_failure
    from runner.pipeline.request import VALIDATION_LOG, load_request
    from runner.pipeline.score_report import failure_markdown
    from runner.submissions.schema import load_submission

    request = load_request(request_dir)
    org_name = Path(request.submission).parent.name + "/" + Path(request.submission).stem
    try:
        submission = load_submission(request.submission_file(request_dir), check_path=True)
        model_id, revision = submission.model, submission.revision
    except UserError:
        model_id, revision = org_name, "unknown"  # an invalid file: the path is all we trust
    logs_dir = outcomes.evaluate_logs
    logs = sorted(logs_dir.glob("*.log")) if logs_dir and logs_dir.is_dir() else []
    report = explain_failure(
        prepare=outcomes.prepare,
        evaluate=outcomes.evaluate,
        pr_validation=request.pr_validation,
        validation_log=Path(request_dir) / VALIDATION_LOG,
        evaluate_logs=logs,
        publish=outcomes.publish,
        publish_log=outcomes.publish_log,
    )
    failure = failure_record(model_id, revision, report, run_url=run_url)
    # A pull request that does not validate is answered on the PR only (annotations and the
    # comment), never with a commit to the default branch: anyone can open such a PR, as often as
    # they like. Failures after a maintainer's approval are recorded for the queue page.
    recorded = not (report.stage == "validation" and request.pr is not None)
    publication = publish_failure(failure, results_dir) if recorded else None
    recorded_as = failure_path(results_dir, model_id) if recorded else None
    _write_outputs(out_dir, publication, failure_markdown(failure, recorded_as))
    print(github_actions.error_line(f"{model_id}: {report.reason}", title=report.stage))
    return failure


def _write_outputs(out_dir: Path | None, publication: Publication | None, markdown: str) -> None:
    """The job summary always (in Actions); comment.md, and changes.json when there is something
    to commit, when `out_dir` is given."""
    from runner import github_actions
    from runner.atomic_io import write_atomic

    github_actions.append_summary(markdown)
    if out_dir is not None:
        if publication is not None:
            write_changes(publication, out_dir / "changes.json")
        write_atomic(out_dir / "comment.md", markdown)
