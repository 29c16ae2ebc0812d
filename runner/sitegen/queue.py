"""The queue page's rows: submissions not yet evaluated at their revision, failed runs, and
results awaiting the merge of their pull request (ARCHITECTURE.md, "Results and ranking").

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


def https_only(url: str | None) -> str | None:
    """A link the site may render: https only (a `javascript:` URL in a file is never a link)."""
    return url if url is not None and url.startswith("https://") else None


@dataclass(frozen=True)
class QueueRow:
    model: str
    revision: str
    status: str  # "pending", "failed" or "evaluated" (a result awaiting its PR's merge)
    model_type: str | None = None
    stage: str | None = None  # failed: where it failed
    reason: str | None = None
    failed_at: datetime | None = None
    ci_run_url: str | None = None
    submitted_at: datetime | None = None  # pending: last commit of the submission file
    pull_search_url: str | None = None  # GitHub's pull-request search for the model id
    average: float | None = None  # evaluated: the nine-task average, if complete
    scores: tuple[tuple[str, float], ...] = ()  # evaluated: (task, accuracy) in registry order


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
            ci_run_url=https_only(f.failure.ci_run_url),
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
    return failures + pending + awaiting_merge(inputs, repository)


def awaiting_merge(inputs: SiteInputs, repository: Repository | None = None) -> list[QueueRow]:
    """Results of a revision the default branch does not submit (yet) that are newer than the
    model's ranked result, if any: a pull request's run, ranked once the PR is merged."""
    ranked = {f.model_key: f.result.run.finished_at for f in inputs.results}
    rows = [
        QueueRow(
            model=f.result.model.id,
            revision=f.revision or "",
            status="evaluated",
            ci_run_url=https_only(f.result.run.ci_run_url),
            pull_search_url=repository.pull_search_url(f.result.model.id) if repository else None,
            average=f.result.average,
            scores=tuple((name, task.acc) for name, task in f.result.tasks.items()),
            failed_at=f.result.run.finished_at,
        )
        for f in inputs.other_results
        if f.model_key not in ranked or f.result.run.finished_at > ranked[f.model_key]
    ]
    return sorted(rows, key=lambda row: row.failed_at, reverse=True)  # type: ignore[arg-type, return-value]
