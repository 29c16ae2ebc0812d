"""Put an evaluation's outcome where the site reads it: `results/<org>/<model>/<revision>.json`
or, for a run that failed, `results/<org>/<model>/<revision>.failure.json`
(`runner.results_layout`).

Only a complete run is published: the model and revision the submission names, at its precision,
every planned task present, no `--limit`, every number recomputed from the predictions files
(`runner.pipeline.rederive`). A result replaces an earlier failure record of the same revision and
never touches another revision's files; a result already published for the same revision is
replaced only when a maintainer's dispatch asked for it (`replace`). Files are written
atomically, and the `Publication` says what to commit: the files to write (together or not at
all), the ones to delete if the branch still has them, and what the default branch's submission
file may name for the commit to go ahead. `runner.pipeline.landing` makes those decisions against
the live branch, not this checkout (ARCHITECTURE.md, "Trust boundary"). A failure record is
planned only when a GPU job started: a run that was never approved is answered on the PR only.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Literal

from pydantic import BaseModel, ConfigDict, ValidationError

from runner.atomic_io import write_atomic
from runner.errors import UsageError, UserError, describe_validation_error
from runner.pipeline.capped_files import read_capped
from runner.pipeline.failure_reasons import FailureReport
from runner.results_layout import failure_path, result_path
from runner.results_schema import EvaluationFailure, EvaluationResult, save
from runner.submissions.schema import Submission

PLAN_FILE = "changes.json"
COMMENT_FILE = "comment.md"
MAX_PLAN_BYTES = 16 * 1024
REPLACE_REASON = "a maintainer's workflow_dispatch with replace: true"


class Publication(BaseModel):
    """`changes.json`: one commit to the default branch, as the publish job planned it."""

    model_config = ConfigDict(extra="forbid", frozen=True, strict=True)

    kind: Literal["result", "failure"]
    message: str
    model: str
    revision: str  # what this commit publishes
    submission: str  # the model's submission file: which revision the live branch names
    base_revision: str | None  # what that file named when the request was taken in
    # Files committed with this checkout's bytes, and files removed if the live branch has them;
    # in changes.json, relative to the checkout.
    write: list[str]
    delete_if_present: list[str] = []
    # A maintainer's dispatch asked to replace this revision's published result (otherwise a
    # result file the live branch already has with other bytes stops the commit).
    replace: bool = False
    # The per-item details, committed first on the details branch (runner.pipeline.details):
    # `details` are paths on that branch, and the files under `details_dir` (in changes.json,
    # relative to the checkout) hold their bytes.
    details_dir: str | None = None
    details: list[str] = []
    # The question texts of the published tasks' rows (runner.evaluation.question_texts), also
    # under `details_dir`: each added to the details branch only when absent or identical there.
    questions: list[str] = []

    @property
    def paths(self) -> list[str]:
        return [*self.write, *self.delete_if_present]


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
    base_revision: str | None = None,
    replace: bool = False,
) -> tuple[Publication, EvaluationResult]:
    """Write `results/<org>/<model>/<revision>.json` for a complete run and drop that revision's
    failure record (never another revision's file).

    Returns the commit plan and the record as published (bound to the submission).
    """
    check_complete(result, planned_tasks)
    bound = bind_to_submission(result, submission)
    target = result_path(results_dir, submission.model, submission.revision)
    save(target, bound)
    stale = failure_path(results_dir, submission.model, submission.revision)
    stale.unlink(missing_ok=True)  # this checkout; the commit decides on the live branch
    message = f"results: {submission.model}@{submission.revision[:7]}"
    if replace:
        message += f"\n\nReplaces the published result of this revision: {REPLACE_REASON}."
    publication = Publication(
        kind="result",
        message=message,
        model=submission.model,
        revision=submission.revision,
        submission=submission.expected_path.as_posix(),
        base_revision=base_revision,
        write=[target.as_posix()],
        delete_if_present=[stale.as_posix()],
        replace=replace,
    )
    return publication, bound


def check_complete(result: EvaluationResult, planned_tasks: list[str]) -> None:
    """Every planned task present and no `--limit`: only a complete run is published."""
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


def publish_failure(
    failure: EvaluationFailure, results_dir: Path, *, submission: str, base_revision: str | None
) -> Publication:
    """Write `results/<org>/<model>/<revision>.failure.json` (the queue page's entry for a failed
    run)."""
    target = failure_path(results_dir, failure.model, failure.revision)
    save(target, failure)
    return Publication(
        kind="failure",
        message=f"results: {failure.model}@{failure.revision[:7]} failed ({failure.stage})",
        model=failure.model,
        revision=failure.revision,
        submission=submission,
        base_revision=base_revision,
        write=[target.as_posix()],
    )


def _repository_path(path: Path) -> str:
    """`path` relative to the working directory, the checkout the commit is made from."""
    cwd = Path.cwd()
    relative = Path(os.path.relpath(Path(path).resolve(), cwd))
    if relative.parts and relative.parts[0] == "..":
        raise UserError(f"{path}: outside the repository checkout {cwd}")
    return relative.as_posix()


def write_plan(publication: Publication, path: Path) -> None:
    """`changes.json`, its paths relative to the checkout the commit is made from."""
    details_dir = publication.details_dir
    relative = publication.model_copy(
        update={
            "write": [_repository_path(Path(p)) for p in publication.write],
            "delete_if_present": [_repository_path(Path(p)) for p in publication.delete_if_present],
            "details_dir": None if details_dir is None else _repository_path(Path(details_dir)),
        }
    )
    write_atomic(path, relative.model_dump_json(indent=2) + "\n")


def load_plan(path: Path) -> Publication:
    raw = read_capped(path, MAX_PLAN_BYTES, str(path))
    try:
        return Publication.model_validate_json(raw)
    except ValidationError as err:
        raise UserError(f"{path}: {describe_validation_error(err)}") from None


# ---- the workflow steps: `medlb results publish` and `medlb results fail` ----------------------


def publish_run(
    run_dir: Path,
    *,
    request_dir: Path | None,
    submission_file: Path | None,
    results_dir: Path,
    out_dir: Path | None,
    run_url: str | None,
    details_dir: Path | None = None,
    data_dir: Path | None = None,
) -> EvaluationResult:
    """Check a finished run against its request (or a submission file: every task planned) and
    publish it; print the score table, and write the PR comment to `out_dir` with the commit
    plan. With `details_dir`, the run's predictions files are copied there at their
    details-branch paths (runner.pipeline.details), with the question texts of the pinned rows
    read again (`questions/<task>/<data_sha256>.json`), and the plan commits them first.

    Every score is recomputed from the predictions files against the task rows (the Hub at the
    pinned revision, or `data_dir`): the artifact's numbers are never copied
    (`runner.pipeline.rederive`), and `run.ci_run_url` is `run_url`."""
    from runner.evaluation.summary import score_lines, score_title
    from runner.evaluation.tasks import TASK_NAMES
    from runner.pipeline.merge import load_part
    from runner.pipeline.rederive import rederive_result
    from runner.pipeline.request import load_request
    from runner.pipeline.score_report import result_markdown
    from runner.submissions.schema import load_submission

    pr, replace = None, False
    if request_dir is not None:
        request = load_request(request_dir)
        submission_file, planned = request.submission_file(request_dir), request.tasks
        submission = load_submission(submission_file, check_path=True)
        base_revision, pr, replace = request.base_revision, request.pr, request.replace
    elif submission_file is not None:
        planned = list(TASK_NAMES)
        submission = load_submission(submission_file, check_path=True)
        base_revision = submission.revision  # a file of the branch itself
    else:
        raise UsageError("give --request DIR or --submission FILE")
    claimed = load_part(run_dir)
    if pr is not None and claimed.model.source != "hub":
        raise UserError(
            f"results: a run of a local directory (source: local) is not published for PR #{pr}; "
            "only a run of the Hub repository at the submitted revision is"
        )
    check_complete(claimed, planned)
    result, texts = rederive_result(run_dir, claimed, data_dir=data_dir, run_url=run_url)
    publication, published = publish_result(
        result,
        submission,
        results_dir,
        planned_tasks=planned,
        base_revision=base_revision,
        replace=replace,
    )
    if details_dir is not None:
        from runner.evaluation.question_texts import stage_texts
        from runner.pipeline.details import stage_details

        staged = stage_details(run_dir, published, details_dir)
        questions = [stage_texts(details_dir, t) for t in texts]
        update = {"details_dir": str(details_dir), "details": staged, "questions": questions}
        publication = publication.model_copy(update=update)
    target = result_path(results_dir, submission.model, submission.revision)
    markdown = result_markdown(published, target, published.run.ci_run_url)
    _write_outputs(out_dir, publication, markdown)
    # The terminal gets text: the comment's Markdown escapes (backslashes) are for GitHub only.
    print(f"published {target}: {score_title(published)}\n{score_lines(published)}")
    return published


@dataclass(frozen=True)
class JobOutcomes:
    """How the evaluate workflow's jobs ended (success, failure, cancelled, skipped), where their
    logs are, and the run's jobs as GitHub lists them: what `record_failure` reads."""

    prepare: str
    evaluate: str
    publish: str = "skipped"
    evaluate_logs: Path | None = None  # a directory of the failed GPU jobs' *.log files
    publish_log: Path | None = None
    jobs: Path | None = None  # GET /repos/{o}/{r}/actions/runs/{id}/jobs (runner.pipeline.run_jobs)

    @property
    def jobs_known(self) -> bool:
        from runner.pipeline.run_jobs import jobs_listed

        return jobs_listed(self.jobs)

    @property
    def gpu_started(self) -> bool:
        from runner.pipeline.run_jobs import gpu_job_started

        return self.evaluate == "success" or gpu_job_started(self.jobs)


def record_failure(
    request_dir: Path,
    outcomes: JobOutcomes,
    *,
    results_dir: Path,
    out_dir: Path | None,
    run_url: str | None,
) -> EvaluationFailure:
    """Explain why a request published nothing: an ::error:: line, the PR comment and (once a GPU
    job started) the failure record the queue page lists."""
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
    started = outcomes.gpu_started
    report = explain_failure(
        prepare=outcomes.prepare,
        evaluate=outcomes.evaluate,
        pr_validation=request.pr_validation,
        validation_log=Path(request_dir) / VALIDATION_LOG,
        evaluate_logs=logs,
        publish=outcomes.publish,
        publish_log=outcomes.publish_log,
        gpu_started=started,
        jobs_known=outcomes.jobs_known,
    )
    failure = failure_record(model_id, revision, report, run_url=run_url)
    # A pull request anyone can open never commits to the default branch: what did not validate,
    # and what a maintainer did not approve (rejected, or the approval expired), is answered on
    # the PR only. A failure record is committed once a GPU job started, and for a maintainer's
    # own dispatch of a file that does not validate.
    # A Hub that did not answer is no verdict: nothing is recorded against the submission.
    recorded = started or (
        report.stage == "validation" and request.pr is None and not report.could_not_check
    )
    publication = (
        publish_failure(
            failure,
            results_dir,
            submission=request.submission,
            base_revision=request.base_revision,
        )
        if recorded
        else None
    )
    recorded_as = failure_path(results_dir, model_id, revision) if recorded else None
    _write_outputs(out_dir, publication, failure_markdown(failure, recorded_as))
    print(github_actions.error_line(f"{model_id}: {report.reason}", title=report.stage))
    return failure


def _write_outputs(out_dir: Path | None, publication: Publication | None, markdown: str) -> None:
    """comment.md, and changes.json when there is something to commit, when `out_dir` is given.
    The job summary is written when the commit landed (or did not): `runner.pipeline.landing`."""
    if out_dir is not None:
        if publication is not None:
            write_plan(publication, out_dir / PLAN_FILE)
        write_atomic(out_dir / COMMENT_FILE, markdown)
