"""The markdown a maintainer and a submitter read: the PR comment and the job summary.

Built only from validated records (`EvaluationResult`, `EvaluationFailure`), and still every
string that came from outside (model ids, paths, a failure reason that may quote a log line from an
untrusted model's run) goes through `runner.untrusted_text.escape_markdown`, so that none can turn
into a link, a mention, HTML or a table cell of its own.
"""

from __future__ import annotations

from pathlib import Path

from runner.evaluation.summary import score_table
from runner.pipeline.failure_reasons import COULD_NOT_CHECK, JOBS_UNKNOWN, NOT_STARTED
from runner.results_schema import EvaluationFailure, EvaluationResult
from runner.untrusted_text import escape_markdown

HEADING = "Open Medical-LLM Leaderboard"
# Merging is the acceptance step (ARCHITECTURE.md, "Results and ranking"): the leaderboard ranks
# the revision the default branch's submission file names.
MERGE_REQUEST = (
    "**Merge this pull request to rank these scores**: the leaderboard shows, for each model, "
    "the revision its submission file on the default branch names; until then this result is on "
    'the queue page, and on the model page as "evaluated, not the submitted revision".'
)


def result_markdown(result: EvaluationResult, published_as: Path, run_url: str | None) -> str:
    model = result.model
    run = f" ([run]({run_url}))" if run_url else ""
    revision = escape_markdown((model.revision or "local")[:12])
    return (
        f"### {HEADING}: {escape_markdown(model.id)} at {revision}\n\n"
        f"{score_table(result)}\n\n"
        f"Precision {model.precision}, {escape_markdown(result.environment.device)}, "
        f"{result.run.seconds / 60:.1f} min{run}. "
        f"Published as {escape_markdown(published_as.as_posix())}.\n\n"
        f"{MERGE_REQUEST}\n"
    )


def failure_markdown(failure: EvaluationFailure, recorded_as: Path | None) -> str:
    """The PR comment for a failure; `recorded_as` None: nothing was committed (a PR that did not
    validate, or a run that no GPU job ever started)."""
    run = f" ([run]({failure.ci_run_url}))" if failure.ci_run_url else ""
    if recorded_as is not None:
        after = (
            f"Recorded as {escape_markdown(recorded_as.as_posix())}, listed on the site's queue "
            "page. If the reason above is the model's, fix it and push; otherwise a maintainer "
            "can re-run the failed jobs (they start their parts again).\n"
        )
    elif failure.reason in (NOT_STARTED, JOBS_UNKNOWN, COULD_NOT_CHECK):
        # not a verdict on the submission: nothing for the submitter to fix
        after = "Nothing was recorded on the default branch.\n"
    else:
        after = "Fix the submission and push: every push is validated again.\n"
    return (
        f"### {HEADING}: evaluation of {escape_markdown(failure.model)} failed at "
        f"{failure.stage}{run}\n\n> {escape_markdown(failure.reason)}\n\n{after}"
    )


def landing_failure_markdown(model: str, revision: str, reason: str, run_url: str | None) -> str:
    """The PR comment when results (or a failure record) could not be committed."""
    run = f" ([run]({run_url}))" if run_url else ""
    return (
        f"### {HEADING}: {escape_markdown(model)} at {escape_markdown(revision[:12])} was not "
        f"published{run}\n\n> {escape_markdown(reason)}\n\n"
        "Nothing was changed on the default branch. A maintainer can re-run the publish job.\n"
    )
