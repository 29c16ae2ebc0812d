"""Land a publication on the default branch, then answer the PR (`medlb results deliver`).

One commit through the Git Data API (ARCHITECTURE.md, "Trust boundary"): read the branch head
(getRef), its tree (getCommit), build a tree with the planned files (createTree), commit it
(createCommit) and move the branch to it, fast-forward only (updateRef, `force: false`). The
publish job's checkout may be older than the branch, and other publishes land meanwhile, so
every attempt decides again against the head it has just read:

- the default branch's submission file for the model (read through the contents API, parsed with
  the hardened loader) must still name the published revision, or name what it named when the
  request was taken in (the PR is not merged yet): a late or re-run publish of a revision the
  branch has moved past never replaces a newer result;
- a stale failure record is deleted only if the head still has it.

The whole sequence is retried, a bounded number of times with exponential backoff and jitter,
when GitHub answers with a server error, throttles, or the branch moved (422 on updateRef). The PR
comment is posted only after the commit landed; otherwise a comment says it did not.
"""

from __future__ import annotations

import random
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import TypeVar

from runner import github_actions
from runner.errors import UserError
from runner.github_api import GitHubApiError, GitHubRepo
from runner.pipeline.publish import (
    COMMENT_FILE,
    PLAN_FILE,
    Publication,
    failure_path,
    load_plan,
    result_path,
)
from runner.pipeline.request import load_request
from runner.pipeline.score_report import landing_failure_markdown
from runner.submissions.schema import is_submission_path, submission_from_bytes

T = TypeVar("T")
_FILE_MODE = "100644"


@dataclass(frozen=True)
class Backoff:
    """Attempt n waits `first * 2**(n-1)` seconds (at most `cap`), times a random 0.5–1."""

    attempts: int = 5
    first: float = 2.0
    cap: float = 60.0
    sleep: Callable[[float], None] = time.sleep
    jitter: Callable[[], float] = field(default=random.random)

    def delay(self, attempt: int) -> float:
        return min(self.cap, self.first * 2 ** (attempt - 1)) * (0.5 + self.jitter() / 2)


class StalePublication(UserError):
    """The default branch no longer submits what this publication is for."""


def with_retries(what: str, action: Callable[[], T], backoff: Backoff) -> T:
    """`action()`, again after a retryable GitHub error, up to `backoff.attempts` times."""
    for attempt in range(1, backoff.attempts + 1):
        try:
            return action()
        except GitHubApiError as err:
            if not err.retryable or attempt == backoff.attempts:
                raise UserError(f"{what}: gave up after {attempt} attempt(s): {err}") from None
            delay = backoff.delay(attempt)
            shown = github_actions.escape_data(f"{what}: attempt {attempt} failed ({err})")
            print(f"{shown}; again in {delay:.1f} s", flush=True)
            backoff.sleep(delay)
    raise AssertionError("unreachable: attempts >= 1")


def commit_publication(
    repo: GitHubRepo, branch: str, plan: Publication, checkout: Path, backoff: Backoff
) -> str | None:
    """Commit `plan` on `branch`; the new commit, or None when the branch already had it all."""
    _check_paths(plan)
    contents = {}
    for path in plan.write:
        contents[path] = (Path(checkout) / path).read_text(encoding="utf-8")
    return with_retries(
        f"commit to {branch}",
        lambda: _commit_once(repo, branch, plan, contents),
        backoff,
    )


def _commit_once(
    repo: GitHubRepo, branch: str, plan: Publication, contents: dict[str, str]
) -> str | None:
    head = repo.branch_head(branch)
    tree = repo.commit_tree(head)
    check_still_submitted(repo, head, plan, branch)
    entries: list[dict[str, object]] = [
        {"path": path, "mode": _FILE_MODE, "type": "blob", "content": contents[path]}
        for path in plan.write
    ]
    entries += [
        {"path": path, "mode": _FILE_MODE, "type": "blob", "sha": None}
        for path in plan.delete_if_present
        if repo.file_at(path, head) is not None
    ]
    new_tree = repo.create_tree(tree, entries)
    if new_tree == tree:
        return None  # a re-run of a publish that landed: nothing to change
    commit = repo.create_commit(plan.message, new_tree, [head])
    repo.update_branch(branch, commit)
    return commit


def check_still_submitted(repo: GitHubRepo, head: str, plan: Publication, branch: str) -> None:
    """Refuse when the branch's submission file names neither the published revision nor what
    it named when the request was taken in."""
    data = repo.file_at(plan.submission, head)
    live = _named_revision(data, f"{plan.submission} on {branch}")
    if live in (plan.revision, plan.base_revision):
        return
    raise StalePublication(
        f"{plan.submission} on {branch} now names {live or 'no revision'}, not "
        f"{plan.revision[:12]} (it named {(plan.base_revision or 'none')[:12]} when the request "
        f"was taken in); {plan.model} is not changed"
    )


def _named_revision(data: bytes | None, display: str) -> str | None:
    if data is None:
        return None
    try:
        return submission_from_bytes(data, display).revision
    except UserError:
        return None  # a file that does not parse names no revision


def _check_paths(plan: Publication) -> None:
    """The plan touches only this model's two result files (it came from this job, but a commit
    to the default branch is checked anyway)."""
    allowed = {
        result_path(Path("results"), plan.model).as_posix(),
        failure_path(Path("results"), plan.model).as_posix(),
    }
    if not plan.write or any(path not in allowed for path in plan.paths):
        raise UserError(f"{PLAN_FILE}: may change only {sorted(allowed)}")
    own_file = f"submissions/{plan.model}.yaml"
    if not is_submission_path(plan.submission) or plan.submission != own_file:
        raise UserError(f"{PLAN_FILE}: submission is not the file of {plan.model}")


# ---- the workflow step ------------------------------------------------------------------------


def deliver(
    out_dir: Path,
    request_dir: Path,
    *,
    repo: GitHubRepo,
    branch: str,
    run_url: str | None,
    backoff: Backoff | None = None,
) -> str | None:
    """Commit `out_dir/changes.json` (if any), then comment `out_dir/comment.md` on the PR; if
    the commit fails, comment that instead and fail. Returns the commit, if one was made."""
    backoff = backoff or Backoff()
    request = load_request(request_dir)
    plan_file, comment_file = Path(out_dir) / PLAN_FILE, Path(out_dir) / COMMENT_FILE
    comment = comment_file.read_text(encoding="utf-8") if comment_file.is_file() else None
    commit = None
    if plan_file.is_file():
        plan = load_plan(plan_file)
        try:
            commit = commit_publication(repo, branch, plan, Path.cwd(), backoff)
        except UserError as err:
            failed = landing_failure_markdown(plan.model, plan.revision, str(err), run_url)
            _answer(repo, request.pr, failed, backoff)
            raise
        landed = f"committed as {commit}" if commit else f"already on {branch}"
        print(github_actions.escape_data(f"{', '.join(plan.write)}: {landed}"))
        if comment is not None:
            comment += f"\n{landed.capitalize()}.\n"
    if comment is not None:
        _answer(repo, request.pr, comment, backoff)
    return commit


def _answer(repo: GitHubRepo, pr: int | None, markdown: str, backoff: Backoff) -> None:
    """The job summary, and the PR comment when the request came from a PR."""
    github_actions.append_summary(markdown)
    if pr is not None:
        url = with_retries(f"comment on #{pr}", lambda: repo.comment(pr, markdown), backoff)
        print(github_actions.escape_data(f"commented on PR #{pr}: {url}"))
