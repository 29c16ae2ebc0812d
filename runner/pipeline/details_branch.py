"""The one-time setup of the `details` branch: created parentless, with a README, before the first
publication, so that a maintainer can protect it first (docs/maintainers/setup.md)."""

from __future__ import annotations

from runner.github_api import GitHubRepo
from runner.pipeline.details import DETAILS_BRANCH
from runner.pipeline.landing import FILE_MODE, Backoff, commit_entries, with_retries

DETAILS_README = """\
# Per-item details of the published results

Written by the leaderboard's publish job only (the workflow token); never edited by hand.
Layout: `<org>/<model>/<revision>/predictions/<task>.jsonl` (and `predictions/cot/<task>.jsonl`
for the reasoning track), each file pinned by the sha256 in its result on the default branch
(`tasks.<task>.predictions_sha256`, `cot.tasks.<task>.predictions_sha256`).
"""


def create_details_branch(repo: GitHubRepo, backoff: Backoff | None = None) -> str | None:
    """Create the parentless details branch with a README, so that it can be protected before
    the first publication (docs/maintainers/setup.md); the new commit, or None when the branch
    exists already (nothing is changed)."""
    entries: list[dict[str, object]] = [
        {"path": "README.md", "mode": FILE_MODE, "type": "blob", "content": DETAILS_README}
    ]
    message = "details: the branch of per-item predictions (empty until the first publication)"

    def create_once() -> str | None:
        if repo.branch_head_if_any(DETAILS_BRANCH) is not None:
            return None  # it exists (or someone created it meanwhile): leave it as it is
        return commit_entries(repo, DETAILS_BRANCH, None, entries, message)

    return with_retries(f"create {DETAILS_BRANCH}", create_once, backoff or Backoff())
