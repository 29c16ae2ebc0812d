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


def intake_pull_request(
    evidence: PullRequestEvidence,
    *,
    output: Path,
    pr_validation: Validation,
    split: int,
    repo_dir: Path,
) -> EvaluationRequest:
    """A validate run's bundle, believed only as far as GitHub's API confirms it."""
    evidence.check_usage()
    if evidence.workflow_path is not None and evidence.workflow_path != VALIDATE_WORKFLOW:
        raise UserError(
            f"--workflow-path {quoted(evidence.workflow_path)}: only runs of {VALIDATE_WORKFLOW} "
            "are taken in"
        )
    bundle, data = read_bundle(evidence.bundle_dir, evidence.head_sha)
    verify_pull_request(
        load_pull(evidence.pull_json),
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
    announce(request, output, submission)
    return request


def intake_dispatch(
    submission_path: str, *, output: Path, split: int, repo_dir: Path
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
    request = write_request(output, submission_path, data, split=split, base_revision=revision)
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


def announce(request: EvaluationRequest, output: Path, submission: Submission | None) -> None:
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
    github_actions.append_summary(approval_summary(request, submission, evaluate=evaluate))
    print(
        github_actions.escape_data(
            f"request {request.key}: {submission_file}, {len(request.parts)} GPU job(s)"
        )
    )


def approval_summary(
    request: EvaluationRequest, submission: Submission | None, *, evaluate: bool
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
    path = escape_markdown(request.submission)
    lines.append(f"- {len(request.parts)} GPU job(s); submission file {path}")
    return "\n".join(lines) + "\n"
