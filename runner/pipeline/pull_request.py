"""What GitHub's API says about a submission pull request, checked against the PR's bundle.

The prepare job fetches `GET /repos/{o}/{r}/pulls/{n}` and `GET …/pulls/{n}/files` with its own
read token and passes the answers as files (ARCHITECTURE.md, "Trust boundary"). A fork controls
its `validate.yml` run and therefore the bundle; it does not control these answers. So the bundle
is believed only where GitHub agrees with it: the PR is open and not a draft, it is the PR whose
head commit and head repository triggered this run, it targets the default branch, it changes
exactly one file, which is a submission added or modified, at the bundle's path, with the bundle's
bytes (the git blob id the files API reports). Which changes a submission PR may make at all is
`runner.submissions.repo_checks.review_changes`, the rule `medlb validate --changed-from` applies.
"""

from __future__ import annotations

from pathlib import Path

from pydantic import BaseModel, ConfigDict, ValidationError

from runner.digests import git_blob_sha1
from runner.errors import UserError, describe_validation_error
from runner.pipeline.capped_files import read_json
from runner.submissions.repo_checks import ChangedFile, review_changes
from runner.submissions.schema import is_submission_path
from runner.untrusted_text import quoted, visible_characters

MAX_PULL_BYTES = 4 << 20  # a pull object with a long description is tens of KiB
MAX_FILES_BYTES = 16 << 20  # up to 3,000 entries with patches
ACCEPTED_STATUSES = ("added", "modified")
# The files API's statuses, as git's letters for `review_changes`; "unchanged" has none.
_GIT_STATUS = {
    "added": "A",
    "modified": "M",
    "removed": "D",
    "renamed": "R",
    "copied": "C",
    "changed": "T",
}
_REGULAR_FILE = "100644"  # the files API gives no mode; the blob check below pins the bytes


class _GitHubShape(BaseModel):
    """Fields medlb reads from GitHub's documented answers; others are ignored, types are not."""

    model_config = ConfigDict(extra="ignore", frozen=True, strict=True)


class RepositoryRef(_GitHubShape):
    full_name: str
    default_branch: str | None = None


class HeadRef(_GitHubShape):
    sha: str
    repo: RepositoryRef | None  # null once the fork is deleted


class BaseRef(_GitHubShape):
    ref: str
    repo: RepositoryRef


class UserRef(_GitHubShape):
    login: str


class PullRequest(_GitHubShape):
    number: int
    user: UserRef | None = None  # the PR's author (null for a deleted account)
    state: str
    draft: bool = False
    head: HeadRef
    base: BaseRef
    changed_files: int | None = None


class PullFile(_GitHubShape):
    filename: str
    status: str
    sha: str | None = None
    previous_filename: str | None = None


def load_pull(path: Path) -> PullRequest:
    """`GET /repos/{o}/{r}/pulls/{n}`'s answer."""
    document = read_json(path, MAX_PULL_BYTES, f"--pull {path}")
    try:
        return PullRequest.model_validate(document)
    except ValidationError as err:
        raise UserError(f"--pull {path}: {describe_validation_error(err)}") from None


def load_pull_files(path: Path) -> list[PullFile]:
    """`GET …/pulls/{n}/files`'s answer: one page (an array), or every page as `gh api
    --paginate --slurp` writes them (an array of arrays)."""
    document = read_json(path, MAX_FILES_BYTES, f"--pull-files {path}")
    if isinstance(document, list) and document and all(isinstance(p, list) for p in document):
        document = [entry for page in document for entry in page]
    if not isinstance(document, list):
        raise UserError(f"--pull-files {path}: not an array of files (GitHub's files API)")
    try:
        return [PullFile.model_validate(entry) for entry in document]
    except ValidationError as err:
        raise UserError(f"--pull-files {path}: {describe_validation_error(err)}") from None


def verify_pull_request(
    pull: PullRequest,
    files: list[PullFile],
    *,
    pr: int,
    submission: str,
    data: bytes,
    head_sha: str,
    head_repo: str,
) -> None:
    """Refuse (one `UserError`) unless GitHub's answers agree with the bundle in every point."""
    where = f"pull request #{pull.number}"
    if pull.number != pr:
        raise UserError(f"--pull describes {where}, the bundle names #{pr}")
    if pull.state != "open":
        raise UserError(f"{where} is {quoted(pull.state)}, not open")
    if pull.draft:
        raise UserError(f"{where} is a draft; mark it ready for review to have it evaluated")
    if pull.head.sha != head_sha:
        raise UserError(
            f"{where}: head is {quoted(pull.head.sha)}, not the validated commit {head_sha} "
            "(pushed since, or the bundle names another PR)"
        )
    if pull.head.repo is None:
        raise UserError(f"{where}: its head repository no longer exists")
    if pull.head.repo.full_name != head_repo:
        raise UserError(
            f"{where}: head repository is {quoted(pull.head.repo.full_name)}, "
            f"not {quoted(head_repo)} (the repository whose run this is)"
        )
    default = pull.base.repo.default_branch
    if default is None or pull.base.ref != default:
        raise UserError(
            f"{where} targets {quoted(pull.base.ref)}, "
            f"not the default branch {quoted(default or '')}"
        )
    changed = _the_one_submission(where, pull, files)
    if changed.filename != submission:
        raise UserError(
            f"{where} changes {quoted(changed.filename)}, the bundle holds {quoted(submission)}"
        )
    blob = git_blob_sha1(data)
    if changed.sha != blob:
        raise UserError(
            f"{where}: the bundle's {submission} (blob {blob}) is not the file in the pull request "
            f"(blob {quoted(changed.sha or '')})"
        )


def _the_one_submission(where: str, pull: PullRequest, files: list[PullFile]) -> PullFile:
    """The PR's only changed file, which must be a submission it adds or modifies."""
    for entry in files:
        if entry.status not in _GIT_STATUS:
            raise UserError(f"{where}: {quoted(entry.filename)} has status {quoted(entry.status)}")
    review = review_changes(
        [
            ChangedFile(_GIT_STATUS[f.status], f.filename, f.previous_filename, _REGULAR_FILE)
            for f in files
        ]
    )
    for path, verdict in review.scope.items():
        if verdict.failed:
            raise UserError(f"{where}: {quoted(path)}: {visible_characters(verdict.message)}")
    if pull.changed_files is not None and pull.changed_files != len(files):
        raise UserError(
            f"{where} changes {pull.changed_files} files, the files list has {len(files)}"
        )
    if len(files) != 1:
        raise UserError(f"{where} changes {len(files)} files; a submission PR changes exactly one")
    (entry,) = files
    # review_changes passed it; these restate the rule in full so that no reading of the scope
    # check can let anything else through.
    if entry.status not in ACCEPTED_STATUSES or not is_submission_path(entry.filename):
        raise UserError(f"{where}: {quoted(entry.filename)} is not an added or modified submission")
    return entry
