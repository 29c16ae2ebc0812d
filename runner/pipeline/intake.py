"""`medlb results intake`: the privileged side takes one submission in (ARCHITECTURE.md, "Trust
boundary").

From a `workflow_run` (a validate run on a pull request): the PR's bundle, checked for shape
(`runner.pipeline.request`), then against GitHub's own answers about the PR
(`runner.pipeline.pull_request`), then against the default branch: the file must name the model
its path says, and the default branch must not already have that model at that revision
(`runner.submissions.repo_checks`, read from the working directory, which is the workflow's
checkout of the default branch, so a plain directory works too). From a `workflow_dispatch`: a
submission file of the checkout, named by a maintainer.

Everything is checked before anything is written: a refusal is one line and exit 1, with no
request directory and no step outputs. A submission that does not even parse is still taken in
(never to be evaluated): `medlb validate`, the next step, explains it on the PR.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Literal

from runner import github_actions
from runner.errors import UsageError, UserError
from runner.github_api import REPOSITORY_NAME
from runner.pipeline.capped_files import read_json
from runner.pipeline.pull_request import load_pull, load_pull_files, verify_pull_request
from runner.pipeline.request import EvaluationRequest, matrix_json, read_bundle, write_request
from runner.submissions.repo_checks import DirectoryFiles, resubmission_check, submitted_revision
from runner.submissions.schema import (
    COMMIT_SHA,
    Submission,
    is_submission_path,
    submission_from_bytes,
)
from runner.untrusted_text import escape_markdown, quoted

VALIDATE_WORKFLOW = ".github/workflows/validate.yml"
MAX_HISTORY_BYTES = 1 << 20

Validation = Literal["success", "failure"]


@dataclass(frozen=True)
class PullRequestEvidence:
    """What a workflow_run intake is given: the PR's bundle, GitHub's answers about the PR, and
    the event's facts (head commit and repository, the triggering workflow's file)."""

    bundle_dir: Path
    pull_json: Path
    files_json: Path
    head_repo: str
    head_sha: str
    workflow_path: str | None = None

    def check_usage(self) -> None:
        if not COMMIT_SHA.fullmatch(self.head_sha):
            raise UsageError(f"--head-sha {quoted(self.head_sha)}: not a 40-hex commit SHA")
        if not REPOSITORY_NAME.fullmatch(self.head_repo):
            raise UsageError(f"--head-repo {quoted(self.head_repo)}: not OWNER/NAME")


@dataclass(frozen=True)
class ApprovalFacts:
    """What the approver weighs besides the model: who opened the PR, and, when it changes a
    submission the default branch has, the revision it replaces and who last changed that file
    (GitHub's answers, verified or quoted as GitHub gave them)."""

    author: str | None = None
    replaces: str | None = None  # the revision the default branch's file names
    last_changed_by: str | None = None


def intake_pull_request(
    evidence: PullRequestEvidence,
    *,
    output: Path,
    pr_validation: Validation,
    split: int,
    repo_dir: Path,
    file_history: Path | None = None,
) -> EvaluationRequest:
    """A validate run's bundle, believed only as far as GitHub's API confirms it."""
    evidence.check_usage()
    if evidence.workflow_path is not None and evidence.workflow_path != VALIDATE_WORKFLOW:
        raise UserError(
            f"--workflow-path {quoted(evidence.workflow_path)}: only runs of {VALIDATE_WORKFLOW} "
            "are taken in"
        )
    bundle, data = read_bundle(evidence.bundle_dir, evidence.head_sha)
    pull = load_pull(evidence.pull_json)
    verify_pull_request(
        pull,
        load_pull_files(evidence.files_json),
        pr=bundle.pr,
        submission=bundle.submission,
        data=data,
        head_sha=evidence.head_sha,
        head_repo=evidence.head_repo,
    )
    base = DirectoryFiles(Path(repo_dir))
    submission = _parsed(bundle.submission, data)
    base_revision = None
    if submission is not None:
        _check_identity(submission, bundle.submission)
        verdict = resubmission_check(base, submission, bundle.submission)
        if verdict.failed:
            raise UserError(f"{bundle.submission}: {verdict.message}")
        base_revision = submitted_revision(base, submission)
    facts = ApprovalFacts(
        author=pull.user.login if pull.user else None,
        replaces=base_revision,
        last_changed_by=last_committer(file_history) if base_revision else None,
    )
    request = write_request(
        output,
        bundle.submission,
        data,
        split=split,
        pr=bundle.pr,
        head_sha=bundle.head_sha,
        head_repo=evidence.head_repo,
        pr_validation=pr_validation,
        base_revision=base_revision,
    )
    announce(request, output, submission, facts)
    return request


def last_committer(path: Path | None) -> str | None:
    """Who made the newest commit in GitHub's `GET …/commits?path=FILE&per_page=1` answer: the
    account's login, else the commit's author name; None when not given or not known."""
    if path is None:
        return None
    document = read_json(path, MAX_HISTORY_BYTES, f"--file-history {path}")
    if isinstance(document, list) and document and isinstance(document[0], list):
        document = document[0]  # `gh api --slurp`'s pages
    commit = document[0] if isinstance(document, list) and document else None
    if not isinstance(commit, dict):
        return None
    account = commit.get("author")
    if isinstance(account, dict) and isinstance(account.get("login"), str):
        return account["login"]
    author = (
        (commit.get("commit") or {}).get("author")
        if isinstance(commit.get("commit"), dict)
        else None
    )
    name = author.get("name") if isinstance(author, dict) else None
    return name if isinstance(name, str) else None


def intake_dispatch(
    submission_path: str, *, output: Path, split: int, repo_dir: Path, replace: bool = False
) -> EvaluationRequest:
    """A maintainer's workflow_dispatch: a submission file of the default branch's checkout."""
    if not is_submission_path(submission_path):
        raise UsageError(
            f"--submission {quoted(submission_path)}: not submissions/<org>/<model>.yaml"
        )
    path = Path(repo_dir) / submission_path
    if path.is_symlink() or not path.is_file():
        raise UserError(f"{submission_path}: no such file on this branch")
    data = path.read_bytes()
    submission = _parsed(submission_path, data)
    revision = submission.revision if submission is not None else None
    request = write_request(
        output, submission_path, data, split=split, base_revision=revision, replace=replace
    )
    announce(request, output, submission)
    return request


def _parsed(path: str, data: bytes) -> Submission | None:
    try:
        return submission_from_bytes(data, path)
    except UserError:
        return None  # never evaluated: the re-validation step reports why


def _check_identity(submission: Submission, path: str) -> None:
    """The model a result would be published under is the one the PR's file path shows."""
    if submission.expected_path.as_posix() != path:
        raise UserError(
            f"{path}: names model {submission.model}, which is submitted as "
            f"{submission.expected_path}; nothing is evaluated under another path's name"
        )


# ---- what the workflow and the approver see ---------------------------------------------------


def label(request: EvaluationRequest, submission: Submission | None) -> str:
    """One line for job names: `PR #12: org/model@<12 hex>` (only validated characters)."""
    who = f"PR #{request.pr}" if request.pr is not None else "dispatch"
    if submission is None:
        return f"{who}: {request.submission} (does not validate)"
    return f"{who}: {submission.model}@{submission.revision[:12]}"


def announce(
    request: EvaluationRequest,
    output: Path,
    submission: Submission | None,
    facts: ApprovalFacts | None = None,
) -> None:
    """Step outputs for the later jobs, the approver's job summary, one line on stdout."""
    submission_file = request.submission_file(output).as_posix()
    evaluate = request.evaluate and submission is not None
    github_actions.set_outputs(
        {
            "request": "true",
            "evaluate": "true" if evaluate else "false",
            "submission": submission_file,
            "key": request.key,
            "matrix": matrix_json(request),
            "pr": str(request.pr or ""),
            "model": submission.model if submission else "",
            "revision": submission.revision if submission else "",
            "label": label(request, submission),
        }
    )
    summary = approval_summary(request, submission, evaluate=evaluate, facts=facts)
    github_actions.append_summary(summary)
    print(
        github_actions.escape_data(
            f"request {request.key}: {submission_file}, {len(request.parts)} GPU job(s)"
        )
    )


def approval_summary(
    request: EvaluationRequest,
    submission: Submission | None,
    *,
    evaluate: bool,
    facts: ApprovalFacts | None = None,
) -> str:
    """What a reviewer of the `gpu-evaluation` environment approves, from verified facts only."""
    who = f"PR #{request.pr}" if request.pr is not None else "a maintainer's run"
    if submission is None:
        what = f"{escape_markdown(request.submission)}, which does not validate"
    else:  # the "@" is ours; model and revision are escaped on either side of it
        what = f"{escape_markdown(submission.model)}@{escape_markdown(submission.revision)}"
    if evaluate:
        lines = [f"### You are approving {who}: {what}", ""]
    else:
        lines = [f"### Not evaluated, only reported: {who}, {what}", ""]
    if submission is not None:
        lines.append(
            f"- model {escape_markdown(submission.model)} at revision "
            f"{escape_markdown(submission.revision)}, {escape_markdown(submission.precision)}"
        )
    if request.pr is not None:
        head = escape_markdown(f"{request.head_repo}@{request.head_sha}")
        lines += [
            f"- pull request #{request.pr}, head {head}: open, targeting the default branch, "
            "changing only this file with these bytes (checked with GitHub's API)",
            f"- its own validate check: {escape_markdown(request.pr_validation or 'unknown')}",
        ]
        facts = facts or ApprovalFacts()
        lines.append(f"- opened by {_account(facts.author)}")
        if facts.replaces and submission is not None:
            lines.append(
                f"- **changes an existing submission**: the default branch names revision "
                f"{escape_markdown(facts.replaces)}, this PR "
                f"{escape_markdown(submission.revision)}; "
                f"that file was last changed by {_account(facts.last_changed_by)}. Merging, "
                "not this approval, decides which revision is ranked"
            )
        elif submission is not None:
            lines.append("- a new model: the default branch has no submission file for it")
    if request.replace:
        lines.append(
            "- **replaces the published result of this revision** (a maintainer's dispatch "
            "with replace)"
        )
    lines.append(
        "- parameter count: read from the safetensors headers at the pinned commit, in the "
        're-validation below ("Parameters of …")'
    )
    path = escape_markdown(request.submission)
    lines.append(f"- {len(request.parts)} GPU job(s); submission file {path}")
    return "\n".join(lines) + "\n"


def _account(login: str | None) -> str:
    return escape_markdown(login) if login else "an unknown account"
