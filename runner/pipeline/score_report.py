"""The markdown a maintainer and a submitter read: the PR comment and the job summary.

Built only from validated records (`EvaluationResult`, `EvaluationFailure`); a failure reason,
which may quote a log line from an untrusted model's run, is shown inside a code block with
backticks removed, so it cannot turn into links, mentions or markup.
"""

from __future__ import annotations

from pathlib import Path

from runner.evaluation.summary import score_table
from runner.results_schema import EvaluationFailure, EvaluationResult

HEADING = "Open Medical-LLM Leaderboard"


def result_markdown(result: EvaluationResult, published_as: Path, run_url: str | None) -> str:
    model = result.model
    run = f" ([run]({run_url}))" if run_url else ""
    return (
        f"### {HEADING}: `{model.id}` @ `{(model.revision or 'local')[:12]}`\n\n"
        f"{score_table(result)}\n\n"
        f"Precision {model.precision}, {result.environment.device}, "
        f"{result.run.seconds / 60:.1f} min{run}. Published as `{published_as.as_posix()}`.\n"
    )


def failure_markdown(failure: EvaluationFailure, recorded_as: Path | None) -> str:
    """The PR comment for a failure; `recorded_as` None: nothing was committed (an invalid PR)."""
    reason = failure.reason.replace("`", "'")
    run = f" ([run]({failure.ci_run_url}))" if failure.ci_run_url else ""
    if recorded_as is None:
        after = "Fix the submission and push: every push is validated again.\n"
    else:
        after = (
            f"Recorded as `{recorded_as.as_posix()}`, listed on the site's queue page. Fix the "
            "submission and push, or ask a maintainer to re-run the failed jobs (a re-run "
            "resumes).\n"
        )
    return (
        f"### {HEADING}: evaluation of `{failure.model}` failed at {failure.stage}{run}\n\n"
        f"```text\n{reason}\n```\n\n{after}"
    )
