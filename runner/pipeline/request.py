"""What crosses the trust boundary between validate.yml and evaluate.yml.

The unprivileged side (a pull request's own code) packs a *bundle*: the one submission file at its
repository path plus `bundle.json` (PR number, head commit). Its own workflow packs it, and a fork
can rewrite that workflow, so nothing in a bundle is believed: the privileged side checks its
shape and size here, then checks it against what GitHub's API says about the pull request
(`runner.pipeline.intake`), copies the file into a fresh *request directory* and plans how the
nine tasks are split across GPU runners. Validating the submission itself is `medlb validate`'s
job, run next on the copied file by the default branch's code.

Request directory (the `request` artifact every later job downloads):
    request.json                       `EvaluationRequest`
    submissions/<org>/<model>.yaml     the submission, byte for byte
    validation.log                     written by the workflow's re-validation step
"""

from __future__ import annotations

import hashlib
import json
import shutil
from pathlib import Path, PurePosixPath
from typing import Annotated, Literal

from pydantic import AfterValidator, BaseModel, ConfigDict, Field, ValidationError

from runner import github_actions
from runner.atomic_io import write_atomic
from runner.errors import UsageError, UserError, describe_validation_error
from runner.evaluation.tasks import TASK_NAMES, TASKS
from runner.pipeline.capped_files import read_capped
from runner.submissions.schema import CommitSha, is_submission_path

BUNDLE_FILE = "bundle.json"
REQUEST_FILE = "request.json"
VALIDATION_LOG = "validation.log"
MAX_SUBMISSION_BYTES = 64 * 1024  # a submission is a dozen lines; anything bigger is not one
MAX_METADATA_BYTES = 4 * 1024


def _check_submission_path(value: str) -> str:
    # Matched in full (a pydantic `pattern` would match anywhere in the string).
    if not is_submission_path(value):
        raise ValueError("must be exactly submissions/<org>/<model>.yaml (Hub id characters)")
    return value


SubmissionPath = Annotated[str, AfterValidator(_check_submission_path)]


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True, strict=True)


class Bundle(_Strict):
    """`bundle.json`, written by the PR's side: untrusted until checked by `intake`."""

    submission: SubmissionPath
    pr: int = Field(ge=1)
    head_sha: CommitSha


class EvaluationRequest(_Strict):
    """`request.json`: one submission to evaluate, as the privileged side planned it."""

    submission: SubmissionPath  # repository path of the file
    pr: int | None = Field(default=None, ge=1)  # None for a maintainer's workflow_dispatch
    head_sha: CommitSha | None = None
    head_repo: str | None = None  # the PR's head repository, as GitHub's API named it
    pr_validation: Literal["success", "failure"] | None = None  # validate.yml's conclusion
    # What the default branch's file for this model named when the request was taken in (None:
    # no such file); publishing re-checks it against the live branch (runner.pipeline.landing).
    base_revision: CommitSha | None = None
    # A maintainer's dispatch asked to replace this revision's published result (never a PR's).
    replace: bool = False
    key: str  # names the concurrency group of the GPU jobs
    parts: list[list[str]]  # task names per GPU job, registry order

    @property
    def evaluate(self) -> bool:
        """Whether a GPU run may start: the PR's own validation passed (or a maintainer asked)."""
        return self.pr_validation in (None, "success")

    @property
    def tasks(self) -> list[str]:
        return [task for part in self.parts for task in part]

    def submission_file(self, request_dir: Path) -> Path:
        return Path(request_dir) / self.submission


# ---- the PR's side ------------------------------------------------------------------------------


def changed_submissions(base_ref: str, repo_dir: Path) -> list[str]:
    """Submission files the PR adds or updates (as `runner.submissions.repo_checks` reads the
    diff)."""
    from runner.submissions.repo_checks import changed_files, repository_root, review_changes

    root = repository_root(Path(repo_dir))
    return list(review_changes(changed_files(root, base_ref)).submissions)


def bundle_submission(base_ref: str, pr: int, head_sha: str, out_dir: Path, repo_dir: Path) -> Path:
    """`medlb results bundle`: pack the one submission file the PR adds or changes."""
    changed = changed_submissions(base_ref, repo_dir)
    if len(changed) != 1:  # none, or several (which repo_checks reports as none)
        raise UserError(
            f"--changed-from {base_ref}: nothing to bundle; a PR must add or change "
            "exactly one submission file (see the validate step's report)"
        )
    write_bundle(repo_dir, changed[0], pr, head_sha, out_dir)
    print(github_actions.escape_data(f"bundled {changed[0]} (PR #{pr}) into {out_dir}"))
    return out_dir


def write_bundle(repo_dir: Path, submission: str, pr: int, head_sha: str, out_dir: Path) -> Path:
    """Pack one submission file and its PR's coordinates for the evaluation workflow."""
    try:
        bundle = Bundle(submission=submission, pr=pr, head_sha=head_sha)
    except ValidationError as err:
        raise UserError(f"bundle: {describe_validation_error(err)}") from None
    source = Path(repo_dir) / submission
    data = read_capped(source, MAX_SUBMISSION_BYTES, submission)
    write_atomic(Path(out_dir) / submission, data)
    write_atomic(Path(out_dir) / BUNDLE_FILE, bundle.model_dump_json(indent=2) + "\n")
    return Path(out_dir)


# ---- the privileged side ------------------------------------------------------------------------


def load_bundle_metadata(bundle_dir: Path) -> Bundle:
    """`bundle.json` alone, checked (its PR number is what the prepare job asks GitHub about)."""
    raw = read_capped(Path(bundle_dir) / BUNDLE_FILE, MAX_METADATA_BYTES, f"bundle {BUNDLE_FILE}")
    try:
        return Bundle.model_validate_json(raw)
    except ValidationError as err:
        raise UserError(f"bundle {BUNDLE_FILE}: {describe_validation_error(err)}") from None


def bundle_pr(bundle_dir: Path) -> int:
    """`medlb results bundle-pr`: print the bundle's PR number (a step output under Actions)."""
    bundle = load_bundle_metadata(bundle_dir)
    pr = bundle.pr
    # The path is checked (submissions/<org>/<model>.yaml, Hub id characters): the prepare job
    # asks GitHub who last changed that file on the default branch, for the approver.
    github_actions.set_outputs({"pr": str(pr), "submission": bundle.submission})
    print(pr)
    return pr


def read_bundle(bundle_dir: Path, head_sha: str) -> tuple[Bundle, bytes]:
    """Check an untrusted bundle: exact file set, sizes, and that it is for commit `head_sha`."""
    bundle_dir = Path(bundle_dir)
    if not bundle_dir.is_dir() or bundle_dir.is_symlink():
        raise UserError("bundle: not a directory")
    bundle = load_bundle_metadata(bundle_dir)
    if bundle.head_sha != head_sha:
        raise UserError(
            f"bundle {BUNDLE_FILE}: head_sha {bundle.head_sha} is not the checked commit {head_sha}"
        )
    expected = {BUNDLE_FILE, bundle.submission}
    found = {p.relative_to(bundle_dir).as_posix() for p in bundle_dir.rglob("*") if not p.is_dir()}
    if found != expected or any(p.is_symlink() for p in bundle_dir.rglob("*")):
        extra = sorted(found - expected)[:3]
        raise UserError(f"bundle: must hold exactly {sorted(expected)}; unexpected: {extra!a}")
    return bundle, read_capped(bundle_dir / bundle.submission, MAX_SUBMISSION_BYTES, "bundle")


def plan_parts(split: int) -> list[list[str]]:
    """The nine tasks in `split` groups of similar size (largest first, onto the lightest group).

    Items are the unit of work; every group keeps the registry's task order so that merged
    results list tasks exactly as a single run does.
    """
    if not 1 <= split <= len(TASK_NAMES):
        raise UsageError(f"--split: must be between 1 and {len(TASK_NAMES)}, got {split}")
    loads = [0] * split
    groups: list[list[str]] = [[] for _ in range(split)]
    for name in sorted(TASK_NAMES, key=lambda n: -TASKS[n].n_total):
        lightest = loads.index(min(loads))
        groups[lightest].append(name)
        loads[lightest] += TASKS[name].n_total
    return [[n for n in TASK_NAMES if n in group] for group in groups]


def run_key(submission: str, data: bytes) -> str:
    """`org--model--<12 hex of the file>`: the same for every request of one file, so that two
    runs of it queue instead of racing (the GPU jobs' concurrency group)."""
    org, name = PurePosixPath(submission).parent.name, PurePosixPath(submission).stem
    return f"{org}--{name}--{hashlib.sha256(data).hexdigest()[:12]}"


def write_request(
    out_dir: Path,
    submission: str,
    data: bytes,
    *,
    split: int,
    pr: int | None = None,
    head_sha: str | None = None,
    head_repo: str | None = None,
    pr_validation: Literal["success", "failure"] | None = None,
    base_revision: str | None = None,
    replace: bool = False,
) -> EvaluationRequest:
    """Create the request directory: the submission's bytes and `request.json`."""
    if replace and pr is not None:
        raise UserError("request: only a maintainer's dispatch may replace a published result")
    request = EvaluationRequest(
        submission=submission,
        replace=replace,
        pr=pr,
        head_sha=head_sha,
        head_repo=head_repo,
        pr_validation=pr_validation,
        base_revision=base_revision,
        key=run_key(submission, data),
        parts=plan_parts(split),
    )
    out_dir = Path(out_dir)
    if out_dir.exists():
        shutil.rmtree(out_dir)  # a request is made whole or not at all
    write_atomic(out_dir / submission, data)
    write_atomic(out_dir / REQUEST_FILE, request.model_dump_json(indent=2) + "\n")
    return request


def load_request(request_dir: Path) -> EvaluationRequest:
    path = Path(request_dir) / REQUEST_FILE
    raw = read_capped(path, MAX_METADATA_BYTES, str(path))
    try:
        return EvaluationRequest.model_validate_json(raw)
    except ValidationError as err:
        raise UserError(f"{path}: {describe_validation_error(err)}") from None


def matrix_json(request: EvaluationRequest) -> str:
    """The GPU job's `strategy.matrix`: one entry per part, tasks comma-separated."""
    include = [{"part": i, "tasks": ",".join(tasks)} for i, tasks in enumerate(request.parts, 1)]
    return json.dumps({"include": include}, separators=(",", ":"))
