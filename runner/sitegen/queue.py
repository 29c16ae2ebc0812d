"""The queue page's rows: submissions not yet evaluated at their revision, and failed runs.

Neither a submission file nor a failure record knows its pull request, so each row links
GitHub's pull-request search for the model id (the publish job's comment on the pull request
names it) and, for a failure, the CI run that failed. A pending row's date is the last commit of
its submission file when the build runs in a git checkout with history (`git_dates`).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

from runner.sitegen.inputs import SiteInputs
from runner.sitegen.repository import Repository


@dataclass(frozen=True)
class QueueRow:
    model: str
    revision: str
    status: str  # "pending" or "failed"
    model_type: str | None = None
    stage: str | None = None  # failed: where it failed
    reason: str | None = None
    failed_at: datetime | None = None
    ci_run_url: str | None = None
    submitted_at: datetime | None = None  # pending: last commit of the submission file
    pull_search_url: str | None = None  # GitHub's pull-request search for the model id


def queue_rows(
    inputs: SiteInputs,
    repository: Repository | None = None,
    submitted_at: Mapping[Path, datetime] | None = None,
) -> list[QueueRow]:
    """Failed runs first (newest first), then pending submissions by model id.

    A submission is pending while no result and no failure exists for its model *and* revision,
    so resubmitting a newer commit puts a model back in the queue.
    """
    evaluated = {(f.result.model.id, f.result.model.revision) for f in inputs.results}
    evaluated |= {(f.key, f.result.model.revision) for f in inputs.results}
    failed = {(f.failure.model, f.failure.revision) for f in inputs.failures}
    handled = evaluated | failed
    failures = [
        QueueRow(
            model=f.failure.model,
            revision=f.failure.revision,
            status="failed",
            stage=f.failure.stage,
            reason=f.failure.reason,
            failed_at=f.failure.failed_at,
            ci_run_url=f.failure.ci_run_url,
            pull_search_url=repository.pull_search_url(f.failure.model) if repository else None,
        )
        for f in inputs.failures
        if (f.failure.model, f.failure.revision) not in evaluated
    ]
    failures.sort(key=lambda row: row.failed_at, reverse=True)
    pending = [
        QueueRow(
            model=s.submission.model,
            revision=s.submission.revision,
            status="pending",
            model_type=s.submission.model_type,
            submitted_at=(submitted_at or {}).get(s.path.resolve()),
            pull_search_url=repository.pull_search_url(s.submission.model) if repository else None,
        )
        for s in sorted(inputs.submissions, key=lambda s: s.submission.model.lower())
        if (s.submission.model, s.submission.revision) not in handled
    ]
    return failures + pending
