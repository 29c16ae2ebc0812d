"""What crosses the trust boundary between validate.yml and evaluate.yml.

The unprivileged side (a pull request's own code) packs a *bundle*: the one submission file at its
repository path plus `bundle.json` (PR number, head commit). The privileged side *takes it in* as
untrusted data: it checks the bundle's shape and size, never executes or interprets anything
beyond that, copies the file into a fresh *request directory* and plans how the nine tasks are
split across GPU runners. Validating the submission itself is `medlb validate`'s job, run next on
the copied file by the default branch's code.

Request directory (the `request` artifact every later job downloads):
    request.json                       `EvaluationRequest`
    submissions/<org>/<model>.yaml     the submission, byte for byte
    validation.log                     written by the workflow's re-validation step
"""

from __future__ import annotations

import hashlib
import json
import re
import shutil
from pathlib import Path, PurePosixPath
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError

from runner import github_actions
from runner.atomic_io import write_atomic
from runner.errors import UsageError, UserError, describe_validation_error
from runner.evaluation.tasks import TASK_NAMES, TASKS
from runner.submissions.schema import COMMIT_SHA, SUBMISSION_SUFFIX, SUBMISSIONS_DIR

BUNDLE_FILE = "bundle.json"
REQUEST_FILE = "request.json"
VALIDATION_LOG = "validation.log"
MAX_SUBMISSION_BYTES = 64 * 1024  # a submission is a dozen lines; anything bigger is not one
MAX_METADATA_BYTES = 4 * 1024

# Same alphabet as a Hub id part (runner.submissions.schema); the path check here only has to make
# the path safe to join under a directory. Whether it matches the model inside is for
# `medlb validate` to say.
_PATH_PART = r"[A-Za-z0-9_][A-Za-z0-9_.-]{0,95}"
SUBMISSION_PATH = re.compile(
    rf"{SUBMISSIONS_DIR}/{_PATH_PART}/{_PATH_PART}{re.escape(SUBMISSION_SUFFIX)}"
)


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True, strict=True)


class Bundle(_Strict):
    """`bundle.json`, written by the PR's side: untrusted until checked by `intake`."""

    submission: str = Field(pattern=SUBMISSION_PATH.pattern)
    pr: int = Field(ge=1)
    head_sha: str = Field(pattern=COMMIT_SHA.pattern)


class EvaluationRequest(_Strict):
    """`request.json`: one submission to evaluate, as the privileged side planned it."""

    submission: str = Field(pattern=SUBMISSION_PATH.pattern)  # repository path of the file
    pr: int | None = Field(default=None, ge=1)  # None for a maintainer's workflow_dispatch
    head_sha: str | None = Field(default=None, pattern=COMMIT_SHA.pattern)
    pr_validation: Literal["success", "failure"] | None = None  # validate.yml's conclusion
    key: str  # names the runner's resumable run directory and the concurrency group
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
    print(f"bundled {changed[0]} (PR #{pr}) into {out_dir}")
    return out_dir


def write_bundle(repo_dir: Path, submission: str, pr: int, head_sha: str, out_dir: Path) -> Path:
    """Pack one submission file and its PR's coordinates for the evaluation workflow."""
    try:
        bundle = Bundle(submission=submission, pr=pr, head_sha=head_sha)
    except ValidationError as err:
        raise UserError(f"bundle: {describe_validation_error(err)}") from None
    source = Path(repo_dir) / submission
    data = _read_capped(source, MAX_SUBMISSION_BYTES, submission)
    write_atomic(Path(out_dir) / submission, data)
    write_atomic(Path(out_dir) / BUNDLE_FILE, bundle.model_dump_json(indent=2) + "\n")
    return Path(out_dir)


# ---- the privileged side ------------------------------------------------------------------------


def read_bundle(bundle_dir: Path, head_sha: str) -> tuple[Bundle, bytes]:
    """Check an untrusted bundle: exact file set, sizes, and that it is for commit `head_sha`."""
    bundle_dir = Path(bundle_dir)
    raw = _read_capped(bundle_dir / BUNDLE_FILE, MAX_METADATA_BYTES, f"bundle {BUNDLE_FILE}")
    try:
        bundle = Bundle.model_validate_json(raw)
    except ValidationError as err:
        raise UserError(f"bundle {BUNDLE_FILE}: {describe_validation_error(err)}") from None
    if bundle.head_sha != head_sha:
        raise UserError(
            f"bundle {BUNDLE_FILE}: head_sha {bundle.head_sha} is not the checked commit {head_sha}"
        )
    expected = {BUNDLE_FILE, bundle.submission}
    found = {p.relative_to(bundle_dir).as_posix() for p in bundle_dir.rglob("*") if not p.is_dir()}
    if found != expected or any(p.is_symlink() for p in bundle_dir.rglob("*")):
        extra = sorted(found - expected)[:3]
        raise UserError(f"bundle: must hold exactly {sorted(expected)}; unexpected: {extra}")
    return bundle, _read_capped(bundle_dir / bundle.submission, MAX_SUBMISSION_BYTES, "bundle")


def intake(
    event: Literal["workflow_run", "workflow_dispatch"],
    *,
    output: Path,
    bundle_dir: Path | None,
    submission: str,
    head_sha: str,
    pr_validation: Literal["success", "failure"],
    split: int,
    repo_dir: Path,
) -> EvaluationRequest:
    """`medlb results intake`: the request directory, and the step outputs in GitHub Actions.

    From a workflow_run, the validate run's bundle (checked: exact files, sizes, head commit);
    from a workflow_dispatch, a submission file of the checkout.
    """
    if event == "workflow_run":
        if bundle_dir is None:
            raise UsageError("--event workflow_run needs --bundle DIR")
        bundle, data = read_bundle(bundle_dir, head_sha)
        request = write_request(
            output,
            bundle.submission,
            data,
            split=split,
            pr=bundle.pr,
            head_sha=bundle.head_sha,
            pr_validation=pr_validation,
        )
    else:
        if not SUBMISSION_PATH.fullmatch(submission):
            raise UsageError(f"--submission {submission!r}: not submissions/<org>/<model>.yaml")
        path = Path(repo_dir) / submission
        if not path.is_file():
            raise UserError(f"{submission}: no such file on this branch")
        request = write_request(output, submission, path.read_bytes(), split=split)
    submission_file = request.submission_file(output).as_posix()
    github_actions.set_outputs(
        {
            "request": "true",
            "evaluate": "true" if request.evaluate else "false",
            "submission": submission_file,
            "key": request.key,
            "matrix": matrix_json(request),
        }
    )
    print(f"request {request.key}: {submission_file}, {len(request.parts)} GPU job(s)")
    return request


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
    """`org--model--<12 hex of the file>`: stable for a file, new when its revision changes."""
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
    pr_validation: Literal["success", "failure"] | None = None,
) -> EvaluationRequest:
    """Create the request directory: the submission's bytes and `request.json`."""
    request = EvaluationRequest(
        submission=submission,
        pr=pr,
        head_sha=head_sha,
        pr_validation=pr_validation,
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
    raw = _read_capped(path, MAX_METADATA_BYTES, str(path))
    try:
        return EvaluationRequest.model_validate_json(raw)
    except ValidationError as err:
        raise UserError(f"{path}: {describe_validation_error(err)}") from None


def matrix_json(request: EvaluationRequest) -> str:
    """The GPU job's `strategy.matrix`: one entry per part, tasks comma-separated."""
    include = [{"part": i, "tasks": ",".join(tasks)} for i, tasks in enumerate(request.parts, 1)]
    return json.dumps({"include": include}, separators=(",", ":"))


def _read_capped(path: Path, limit: int, display: str) -> bytes:
    path = Path(path)
    if path.is_symlink() or not path.is_file():
        raise UserError(f"{display}: not a regular file")
    with path.open("rb") as handle:
        data = handle.read(limit + 1)
    if len(data) > limit:
        raise UserError(f"{display}: larger than {limit} bytes")
    return data
