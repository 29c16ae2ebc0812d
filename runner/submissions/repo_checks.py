"""What a submission pull request may change: `medlb validate --changed-from GIT_REF`.

The changes are the commits on HEAD since it forked from GIT_REF (`git diff REF...HEAD`, the diff a
pull request shows), not the working tree: CI checks out exactly the PR's commits, and an
uncommitted file is not part of a pull request. So that such a file is never silently left out
(and "(no changes): valid" never printed for it), `--changed-from` refuses to run while
submissions/ holds uncommitted or untracked files: commit them, or validate them by name.
A PR may add one `submissions/<org>/<model>.yaml` or update one to a new revision, and change
nothing else.

`git diff --raw` is read rather than `--name-status` because it also gives file modes: a submission
that is a symlink (which could point CI at any file on the runner) or a submodule is refused.

The resubmission check reads the base branch's files through `BaseFiles`: from git at a ref
(`medlb validate --changed-from`), or from a plain directory holding the default branch's checkout
(`medlb results intake`, which re-runs the check on the privileged side: ARCHITECTURE.md,
"Trust boundary").
"""

from __future__ import annotations

import json
import subprocess
from dataclasses import dataclass
from pathlib import Path, PurePosixPath
from typing import Protocol

from runner.errors import UsageError
from runner.results_layout import RESULTS_DIR, FoundFile, classify
from runner.submissions.checks import CheckResult
from runner.submissions.schema import (
    SUBMISSION_SUFFIX,
    SUBMISSIONS_DIR,
    Submission,
    is_submission_path,
    submission_from_bytes,
)
from runner.untrusted_text import visible_characters

_SYMLINK_MODE = "120000"
_SUBMODULE_MODE = "160000"


@dataclass(frozen=True)
class ChangedFile:
    status: str  # git's letter: A added, M modified, D deleted, R renamed, C copied, T type changed
    path: str  # repository-relative, the new path for a rename
    old_path: str | None  # the old path of a rename or copy
    mode: str  # the new git file mode ("100644", "120000" for a symlink, ...)


@dataclass(frozen=True)
class PullRequestReview:
    submissions: tuple[str, ...]  # submission files the PR adds or updates, to be validated
    scope: dict[str, CheckResult]  # every changed path and its "pr-scope" result


def _git(repo_root: Path, *args: str) -> subprocess.CompletedProcess[bytes]:
    return subprocess.run(
        ["git", "-c", "core.quotepath=off", *args],
        cwd=repo_root,
        capture_output=True,
        check=False,
    )


def repository_root(start: Path) -> Path:
    done = _git(start, "rev-parse", "--show-toplevel")
    if done.returncode != 0:
        raise UsageError(f"--changed-from: {start} is not inside a git repository")
    return Path(done.stdout.decode().strip())


def refuse_uncommitted_submissions(repo_root: Path) -> None:
    """A usage error when submissions/ has changes that are not committed (module docstring)."""
    done = _git(
        repo_root,
        "status",
        "--porcelain",
        "-z",
        "--untracked-files=all",
        "--",
        f"{SUBMISSIONS_DIR}/",
    )
    entries = [entry for entry in done.stdout.decode(errors="replace").split("\0") if entry]
    # Each entry is "XY path" (a rename adds its old path as the next entry, without "XY ").
    paths = [entry[3:] for entry in entries if len(entry) > 3 and entry[2] == " "]
    if not paths:
        return
    shown = ", ".join(_short_path(path) for path in paths[:3])
    more = f" and {len(paths) - 3} more" if len(paths) > 3 else ""
    raise UsageError(
        f"--changed-from checks committed changes only, and {shown}{more} "
        f"{'is' if len(paths) == 1 else 'are'} not committed; commit "
        f"{'it' if len(paths) == 1 else 'them'} (git add, git commit) or validate by name: "
        f"medlb validate {_short_path(paths[0])}"
    )


def changed_files(repo_root: Path, ref: str) -> list[ChangedFile]:
    """The files HEAD's commits changed since the merge base with `ref` (renames detected)."""
    if (
        ref.startswith("-")
        or _git(repo_root, "rev-parse", "--verify", "--quiet", f"{ref}^{{commit}}").returncode
    ):
        raise UsageError(
            f"--changed-from: {ref!r} is not a commit, branch or tag in this repository"
        )
    done = _git(repo_root, "diff", "--raw", "-z", "-M", "--no-abbrev", f"{ref}...HEAD")
    if done.returncode != 0:
        reason = done.stderr.decode(errors="replace").strip().splitlines()
        raise UsageError(
            f"--changed-from: git diff failed ({reason[0] if reason else 'no output'})"
        )
    return _parse_raw_diff(done.stdout)


def _parse_raw_diff(output: bytes) -> list[ChangedFile]:
    fields = output.decode("utf-8", errors="replace").split("\0")
    changes = []
    index = 0
    while index < len(fields) and fields[index].startswith(":"):
        meta = fields[index][1:].split()  # old_mode new_mode old_sha new_sha status
        status = meta[4][0]
        if status in "RC":
            old_path, path = fields[index + 1], fields[index + 2]
            index += 3
        else:
            old_path, path = None, fields[index + 1]
            index += 2
        changes.append(ChangedFile(status=status, path=path, old_path=old_path, mode=meta[1]))
    return changes


def review_changes(changes: list[ChangedFile]) -> PullRequestReview:
    """The "pr-scope" verdict on every changed path, and the submissions left to validate."""
    scope: dict[str, CheckResult] = {}
    candidates = []
    for change in changes:
        problem = _scope_problem(change)
        if problem is not None:
            scope[change.path] = CheckResult("pr-scope", "fail", problem)
        else:
            candidates.append(change)
    if len(candidates) > 1:
        for change in candidates:
            scope[change.path] = CheckResult(
                "pr-scope",
                "fail",
                f"this pull request changes {len(candidates)} submission files; "
                "submit one model per pull request",
            )
        return PullRequestReview(submissions=(), scope=scope)
    for change in candidates:
        verb = "adds" if change.status == "A" else "updates"
        scope[change.path] = CheckResult("pr-scope", "pass", f"the pull request {verb} this file")
    return PullRequestReview(submissions=tuple(c.path for c in candidates), scope=scope)


def _scope_problem(change: ChangedFile) -> str | None:
    inside = PurePosixPath(change.path).parts[:1] == (SUBMISSIONS_DIR,)
    if not inside:
        return f"changes {_short_path(change.path)}: a submission PR may change only submissions/"
    if change.status == "D":
        return "deletes a submission; ask a maintainer to withdraw a model"
    if change.status in "RC":
        return f"renames or copies {_short_path(change.old_path or '')}; add a new file instead"
    if change.mode == _SYMLINK_MODE:
        return "is a symbolic link; a submission must be a regular file"
    if change.mode == _SUBMODULE_MODE or change.status == "T":
        return "changes a file's type; a submission must be a regular file"
    if not is_submission_path(change.path):
        return f"is not a submission file: use {SUBMISSIONS_DIR}/<org>/<model>{SUBMISSION_SUFFIX}"
    return None


class BaseFiles(Protocol):
    """The base branch's files, wherever they are read from."""

    where: str  # how messages name the base: "on main", "on the default branch"

    def read(self, path: str) -> bytes | None: ...

    def submission_paths(self) -> list[str]: ...

    def paths_under(self, folder: str) -> list[str]: ...


@dataclass(frozen=True)
class GitRefFiles:
    """The files of `ref` in the git repository at `root`."""

    root: Path
    ref: str

    @property
    def where(self) -> str:
        return f"on {self.ref}"

    def read(self, path: str) -> bytes | None:
        done = _git(self.root, "show", f"{self.ref}:{path}")
        return done.stdout if done.returncode == 0 else None

    def submission_paths(self) -> list[str]:
        return self.paths_under(SUBMISSIONS_DIR)

    def paths_under(self, folder: str) -> list[str]:
        listing = ["ls-tree", "-r", "-z", "--name-only", self.ref, "--", f"{folder}/"]
        names = _git(self.root, *listing).stdout.decode(errors="replace").split("\0")
        return [name for name in names if name]


@dataclass(frozen=True)
class DirectoryFiles:
    """The files of a plain directory (a checkout of the default branch), symlinks ignored."""

    root: Path
    where: str = "on the default branch"

    def read(self, path: str) -> bytes | None:
        target = Path(self.root) / path
        if target.is_symlink() or not target.is_file():
            return None
        return target.read_bytes()

    def submission_paths(self) -> list[str]:
        return self.paths_under(SUBMISSIONS_DIR)

    def paths_under(self, folder: str) -> list[str]:
        base = Path(self.root) / folder
        files = (p for p in base.rglob("*") if p.is_file() and not p.is_symlink())
        return sorted(p.relative_to(self.root).as_posix() for p in files)


def submitted_revision(base: BaseFiles, submission: Submission) -> str | None:
    """The revision the base's file for this model names (None: the model is not submitted)."""
    expected = submission.expected_path.as_posix()
    old = base.read(expected)
    if old is None:
        return None
    return submission_from_bytes(old, f"{expected} {base.where}").revision


def resubmission_check(base: BaseFiles, submission: Submission, path: str) -> CheckResult:
    """Refuse a model revision that `base` already has as a submission or an evaluated result."""
    expected = submission.expected_path.as_posix()
    where = base.where
    for existing in base.submission_paths():
        if existing.lower() == expected.lower() and existing != expected:
            return CheckResult(
                "resubmission",
                "fail",
                f"{existing} already submits this model (Hub ids ignore case); update that file",
            )
    previous = submitted_revision(base, submission)
    if previous == submission.revision:
        return CheckResult(
            "resubmission",
            "fail",
            f"revision {submission.revision[:12]} is already submitted in {expected} {where}",
        )
    for found in _published(base, submission.model):
        if found.model_key != submission.model:
            return CheckResult(
                "resubmission",
                "fail",
                f"{found.path.as_posix()} {where} already has this model as {found.model_key} "
                "(Hub ids ignore case); submit it under that id",
            )
        revisions = (
            {found.revision}
            if found.revision
            else _result_revisions(base.read(found.path.as_posix()))
        )
        if found.kind == "result" and submission.revision in revisions:
            return CheckResult(
                "resubmission",
                "fail",
                f"revision {submission.revision[:12]} is already evaluated "
                f"({found.path.as_posix()} {where})",
            )
    what = "a new model" if previous is None else "a new revision of a submitted model"
    return CheckResult("resubmission", "pass", f"{what}; {path} is not {where} at this revision")


def _published(base: BaseFiles, model_id: str) -> list[FoundFile]:
    """The base's results files of `model_id` in either layout, its id compared case-folded."""
    paths = [p for p in base.paths_under(RESULTS_DIR) if p.endswith(".json")]
    found = (classify(Path(RESULTS_DIR), Path(p)) for p in paths)
    wanted = model_id.casefold()
    return [f for f in found if f.problem is None and f.model_key.casefold() == wanted]


def _result_revisions(data: bytes | None) -> set[str]:
    """Revisions named by a published results file (lenient: any malformed file names none)."""
    if data is None:
        return set()
    try:
        document = json.loads(data.decode("utf-8"))
    except (UnicodeDecodeError, json.JSONDecodeError):
        return set()
    records = document if isinstance(document, list) else [document]
    revisions = set()
    for record in records:
        model = record.get("model") if isinstance(record, dict) else None
        if isinstance(model, dict) and isinstance(model.get("revision"), str):
            revisions.add(model["revision"])
    return revisions


def _short_path(path: str) -> str:
    shown = visible_characters(path)  # a file name may hold a newline: keep messages one line
    return shown if len(shown) <= 80 else shown[:79] + "…"
