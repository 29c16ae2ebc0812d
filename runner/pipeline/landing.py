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
- a stale failure record is deleted only if the head still has it;
- a result file the head already has with other bytes (this revision published before) is
  replaced only when the plan says a maintainer's dispatch asked for it (`replace`); results
  of other revisions are never in a plan (ARCHITECTURE.md, "Results and ranking").

Before any of it, a request from a pull request is checked again against GitHub: the PR must
still be open with the head commit the request was taken in at; otherwise nothing is committed
and the PR is told why in one line.

The whole sequence is retried, a bounded number of times with exponential backoff and jitter,
when GitHub answers with a server error, throttles, or the branch moved (422 on updateRef). The PR
comment is posted only after the commit landed; otherwise a comment says it did not.

A result's per-item details (its predictions files, `runner.pipeline.details`) land FIRST, as one
commit on the details branch, made the same way (its blobs through createBlob, each id checked
against git's own) and decided on the same live default-branch head; the first publication
creates that branch, parentless (createRef). Only then is the result committed: a details commit
that fails publishes nothing and the PR is told, so the default branch never names details that
are not there (ARCHITECTURE.md, "Every answer auditable").
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
from runner.pipeline.details import (
    DETAILS_BRANCH,
    is_cot_details_path,
    is_details_path,
    question_files,
    texts_there,
)
from runner.pipeline.publish import COMMENT_FILE, PLAN_FILE, Publication, load_plan
from runner.pipeline.request import EvaluationRequest, load_request
from runner.pipeline.score_report import landing_failure_markdown
from runner.results_layout import failure_path, result_path
from runner.submissions.schema import is_submission_path, submission_from_bytes
from runner.untrusted_text import escape_markdown

T = TypeVar("T")
FILE_MODE = "100644"
RULES_FIX = (
    "A ruleset or branch protection refused the workflow's commit, so it was not retried: add "
    "GitHub Actions to the bypass list of the branch's rulesets (Settings → Rules → Rulesets; "
    ".github/rulesets/ has them as they should be), run `medlb doctor`, then re-run this job"
)


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


def with_retries(what: str, action: Callable[[], T], backoff: Backoff) -> T:
    """`action()`, again after a retryable GitHub error, up to `backoff.attempts` times."""
    for attempt in range(1, backoff.attempts + 1):
        try:
            return action()
        except GitHubApiError as err:
            if err.rule_violation:  # trying again cannot help: a setting refused the commit
                raise UserError(f"{what}: {err}. {RULES_FIX}") from None
            if not err.retryable or attempt == backoff.attempts:
                raise UserError(f"{what}: gave up after {attempt} attempt(s): {err}") from None
            delay = backoff.delay(attempt)
            shown = github_actions.escape_data(f"{what}: attempt {attempt} failed ({err})")
            print(f"{shown}; again in {delay:.1f} s", flush=True)
            backoff.sleep(delay)
    raise AssertionError("unreachable: attempts >= 1")


def commit_publication(
    repo: GitHubRepo,
    branch: str,
    plan: Publication,
    checkout: Path,
    backoff: Backoff,
    message: str | None = None,
) -> str | None:
    """Commit `plan` (paths checked) on `branch`; the new commit, or None when the branch
    already had it all."""
    contents = {}
    for path in plan.write:
        contents[path] = (Path(checkout) / path).read_text(encoding="utf-8")
    plan = plan if message is None else plan.model_copy(update={"message": message})
    return with_retries(
        f"commit to {branch}",
        lambda: _commit_once(repo, branch, plan, contents),
        backoff,
    )


def commit_details(
    repo: GitHubRepo,
    details_branch: str,
    branch: str,
    plan: Publication,
    checkout: Path,
    backoff: Backoff,
) -> str | None:
    """Commit the plan's (checked) details files on `details_branch` (created if missing),
    decided on `branch`'s live head; the new commit, or None when the details branch had them
    all."""
    root = Path(checkout) / (plan.details_dir or "")
    files = {}
    for path in plan.details:
        try:
            files[path] = (root / path).read_bytes()
        except OSError as err:
            raise UserError(f"{root / path}: cannot read it ({err.strerror})") from None
    files |= question_files(plan, checkout)
    blobs: dict[str, str] = {}  # kept across attempts: a blob's id depends on its bytes only
    return with_retries(
        f"commit to {details_branch}",
        lambda: _commit_details_once(repo, details_branch, branch, plan, files, blobs),
        backoff,
    )


def _commit_details_once(
    repo: GitHubRepo,
    details_branch: str,
    branch: str,
    plan: Publication,
    files: dict[str, bytes],
    blobs: dict[str, str],
) -> str | None:
    check_still_submitted(repo, repo.branch_head(branch), plan, branch)
    head = repo.branch_head_if_any(details_branch)  # None: the first publication
    questions = set(plan.questions)
    files = {
        p: d for p, d in files.items() if p not in questions or not texts_there(repo, head, p, d)
    }
    for path, data in files.items():
        if path not in blobs:  # a retry does not upload megabytes again
            blobs[path] = repo.create_blob(data)
    entries: list[dict[str, object]] = [
        {"path": path, "mode": FILE_MODE, "type": "blob", "sha": blobs[path]} for path in files
    ]
    message = f"details: {plan.model}@{plan.revision[:7]}, predictions of {len(plan.details)} tasks"
    return commit_entries(repo, details_branch, head, entries, message)


def _commit_once(
    repo: GitHubRepo, branch: str, plan: Publication, contents: dict[str, str]
) -> str | None:
    head = repo.branch_head(branch)
    check_still_submitted(repo, head, plan, branch)
    if plan.kind == "result" and not plan.replace:
        for path in plan.write:
            live = repo.file_at(path, head)
            if live is not None and live != contents[path].encode("utf-8"):
                raise UserError(
                    f"{path} on {branch} already holds a result of {plan.model}@"
                    f"{plan.revision[:12]}; it is replaced only by a maintainer's dispatch "
                    "with replace: true"
                )
    entries: list[dict[str, object]] = [
        {"path": path, "mode": FILE_MODE, "type": "blob", "content": contents[path]}
        for path in plan.write
    ]
    entries += [
        {"path": path, "mode": FILE_MODE, "type": "blob", "sha": None}
        for path in plan.delete_if_present
        if repo.file_at(path, head) is not None
    ]
    return commit_entries(repo, branch, head, entries, plan.message)


def commit_entries(
    repo: GitHubRepo, branch: str, head: str | None, entries: list[dict[str, object]], message: str
) -> str | None:
    """One commit of `entries` on `branch` at `head`, fast-forward only; with no head, the first
    commit of a new, parentless (orphan) branch. None when the branch already has them all."""
    if head is None:
        commit = repo.create_commit(message, repo.create_tree(None, entries), [])
        repo.create_branch(branch, commit)
        return commit
    tree = repo.commit_tree(head)
    new_tree = repo.create_tree(tree, entries)
    if new_tree == tree:
        return None  # a re-run of a publish that landed: nothing to change
    commit = repo.create_commit(message, new_tree, [head])
    repo.update_branch(branch, commit)
    return commit


def check_still_submitted(repo: GitHubRepo, head: str, plan: Publication, branch: str) -> None:
    """Refuse when the branch's submission file names neither the published revision nor what
    it named when the request was taken in."""
    data = repo.file_at(plan.submission, head)
    live = _named_revision(data, f"{plan.submission} on {branch}")
    if live in (plan.revision, plan.base_revision):
        return
    raise UserError(
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
        result_path(Path("results"), plan.model, plan.revision).as_posix(),
        failure_path(Path("results"), plan.model, plan.revision).as_posix(),
    }
    if not plan.write or any(path not in allowed for path in plan.paths):
        raise UserError(f"{PLAN_FILE}: may change only {sorted(allowed)}")
    from runner.evaluation.tasks import TASK_NAMES

    details_ok = all(
        is_details_path(path, plan.model, plan.revision, set(TASK_NAMES)) for path in plan.details
    )
    if not details_ok or len(set(plan.details)) != len(plan.details):
        raise UserError(f"{PLAN_FILE}: details may hold only {plan.model}@{plan.revision}'s")
    if (plan.details or plan.questions) and (plan.kind != "result" or plan.details_dir is None):
        raise UserError(f"{PLAN_FILE}: details without a result or a details_dir")
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
    cot_dataset: str | None = None,
) -> str | None:
    """Commit `out_dir/changes.json` (if any: its details first, on the details branch, the
    generations on the Hub dataset `cot_dataset` when one is configured; then the rest on
    `branch`), then comment `out_dir/comment.md` on the PR; if a commit fails, comment that
    instead and fail. Returns the commit on `branch`, if one was made."""
    backoff = backoff or Backoff()
    request = load_request(request_dir)
    plan_file, comment_file = Path(out_dir) / PLAN_FILE, Path(out_dir) / COMMENT_FILE
    comment = comment_file.read_text(encoding="utf-8") if comment_file.is_file() else None
    commit = None
    stale = pull_request_moved(repo, request, backoff)
    if stale is not None:
        _answer(repo, request.pr, f"Nothing was published: {escape_markdown(stale)}.\n", backoff)
        raise UserError(stale)
    if plan_file.is_file():
        plan = load_plan(plan_file)
        try:
            commit, landed = _land(repo, branch, plan, backoff, cot_dataset)
        except UserError as err:
            failed = landing_failure_markdown(plan.model, plan.revision, str(err), run_url)
            _answer(repo, request.pr, failed, backoff)
            raise
        if comment is not None:
            comment += "\n" + "".join(f"{line}.\n" for line in landed)
    if comment is not None:
        _answer(repo, request.pr, comment, backoff)
    return commit


def pull_request_moved(
    repo: GitHubRepo, request: EvaluationRequest, backoff: Backoff
) -> str | None:
    """Why a PR's request may no longer be published (closed, or pushed to since it was taken
    in), in one line; None when it is still open at the request's head commit."""
    if request.pr is None:
        return None
    from pydantic import ValidationError

    from runner.pipeline.pull_request import PullRequest

    answer = with_retries(f"get PR #{request.pr}", lambda: repo.pull(request.pr), backoff)
    try:
        pull = PullRequest.model_validate(answer)
    except ValidationError:
        return f"GitHub's answer about PR #{request.pr} is not a pull request object"
    if pull.state != "open":
        return f"PR #{request.pr} is {pull.state} now, not open"
    if pull.head.sha != request.head_sha:
        return (
            f"PR #{request.pr} has a new head {pull.head.sha[:12]}, not the evaluated commit "
            f"{(request.head_sha or '')[:12]}; the new commit is evaluated on its own"
        )
    return None


def _land(
    repo: GitHubRepo, branch: str, plan: Publication, backoff: Backoff, cot_dataset: str | None
) -> tuple[str | None, list[str]]:
    """The plan's paths checked, its details commits (if any: the generations to `cot_dataset`
    when one is configured, the rest to the details branch), then its commit on `branch`: that
    commit, and what landed in the PR comment's words."""
    _check_paths(plan)
    question_files(plan, Path.cwd())  # a wrong text stops the plan before any upload
    landed, message = [], plan.message
    if cot_dataset is not None and any(is_cot_details_path(path) for path in plan.details):
        done = upload_cot_details(cot_dataset, plan, Path.cwd(), backoff)
        print(github_actions.escape_data(f"generations: {done}"))
        landed.append(f"Generations (cot) {escape_markdown(done)}")
        message += f"\n\nGenerations (cot): {done}"
        plan = plan.model_copy(
            update={"details": [p for p in plan.details if not is_cot_details_path(p)]}
        )
    if plan.details or plan.questions:
        details = commit_details(repo, DETAILS_BRANCH, branch, plan, Path.cwd(), backoff)
        where = f"{DETAILS_BRANCH} at {plan.model}/{plan.revision}/"
        done = f"committed to {where} as {details}" if details else f"already on {where}"
        print(github_actions.escape_data(f"per-item details: {done}"))
        landed.append(f"Per-item details {escape_markdown(done)}")
        message += f"\n\nPer-item details: branch {where}"
    commit = commit_publication(repo, branch, plan, Path.cwd(), backoff, message)
    done = f"committed as {commit}" if commit else f"already on {branch}"
    print(github_actions.escape_data(f"{', '.join(plan.write)}: {done}"))
    return commit, [done.capitalize(), *landed]


def upload_cot_details(dataset: str, plan: Publication, checkout: Path, backoff: Backoff) -> str:
    """Upload the plan's cot predictions files to the Hub dataset `dataset`, at the details
    branch's paths, in one commit (retried while the Hub does not answer); where they landed."""
    from runner import hub

    root = Path(checkout) / (plan.details_dir or "")
    files = {}
    for path in (p for p in plan.details if is_cot_details_path(p)):
        try:
            files[path] = (root / path).read_bytes()
        except OSError as err:
            raise UserError(f"{root / path}: cannot read it ({err.strerror})") from None
    message = f"details: {plan.model}@{plan.revision[:7]}, cot generations of {len(files)} tasks"
    for attempt in range(1, backoff.attempts + 1):
        try:
            commit = hub.upload_dataset_files(dataset, files, message)
        except hub.HubUnavailable as err:
            if attempt == backoff.attempts:
                what = f"upload to {dataset}: gave up after {attempt} attempts: {err}"
                raise UserError(what) from None
            backoff.sleep(backoff.delay(attempt))
            continue
        return f"uploaded to the Hugging Face dataset {dataset} as {commit}"
    raise AssertionError("unreachable: attempts >= 1")


def _answer(repo: GitHubRepo, pr: int | None, markdown: str, backoff: Backoff) -> None:
    """The job summary, and the PR comment when the request came from a PR."""
    github_actions.append_summary(markdown)
    if pr is not None:
        url = with_retries(f"comment on #{pr}", lambda: repo.comment(pr, markdown), backoff)
        print(github_actions.escape_data(f"commented on PR #{pr}: {url}"))
