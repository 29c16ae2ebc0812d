"""What a submission pull request may change, on real temporary git repositories."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from submission_fixtures import git, place

from runner.errors import UsageError
from runner.submissions.repo_checks import (
    GitRefFiles,
    changed_files,
    resubmission_check,
    review_changes,
)
from runner.submissions.schema import load_submission

OLD_SHA = "1" * 39 + "a"
NEW_SHA = "2" * 39 + "b"


def submission_text(model: str, revision: str) -> str:
    return (
        f"model: {model}\nrevision: '{revision}'\nprecision: bfloat16\nmodel_type: pretrained\n"
        "license: apache-2.0\ndescription: A test model for the repository checks.\n"
    )


@pytest.fixture
def repo(tmp_path: Path) -> Path:
    """`main` holds one submission (org/old at OLD_SHA) and its result; HEAD is a PR branch."""
    git(tmp_path, "init", "-q", "-b", "main")
    place(tmp_path, "submissions/org/old.yaml", submission_text("org/old", OLD_SHA))
    place(tmp_path, "results/org/old.json", json.dumps({"model": {"revision": OLD_SHA}}))
    place(tmp_path, "README.md", "readme\n")
    git(tmp_path, "add", "-A")
    git(tmp_path, "commit", "-q", "-m", "base")
    git(tmp_path, "checkout", "-q", "-b", "pr")
    return tmp_path


def commit(root: Path) -> None:
    git(root, "add", "-A")
    git(root, "commit", "-q", "-m", "change")


def review(root: Path):
    return review_changes(changed_files(root, "main"))


def verdicts(root: Path) -> dict[str, tuple[str, str]]:
    return {path: (r.status, r.message) for path, r in review(root).scope.items()}


def test_one_added_submission_is_in_scope(repo):
    place(repo, "submissions/org/new.yaml", submission_text("org/new", NEW_SHA))
    commit(repo)
    result = review(repo)
    assert result.submissions == ("submissions/org/new.yaml",)
    assert verdicts(repo) == {
        "submissions/org/new.yaml": ("pass", "the pull request adds this file")
    }


def test_uncommitted_files_are_not_part_of_the_pull_request(repo):
    place(repo, "submissions/org/new.yaml", submission_text("org/new", NEW_SHA))
    commit(repo)
    place(repo, "runner.py", "print('not committed')\n")
    assert list(verdicts(repo)) == ["submissions/org/new.yaml"]


def test_files_outside_submissions_are_refused(repo):
    place(repo, "submissions/org/new.yaml", submission_text("org/new", NEW_SHA))
    place(repo, ".github/workflows/evil.yml", "on: push\n")
    commit(repo)
    assert verdicts(repo)[".github/workflows/evil.yml"] == (
        "fail",
        "changes .github/workflows/evil.yml: a submission PR may change only submissions/",
    )


def test_deleting_a_submission_is_refused(repo):
    (repo / "submissions/org/old.yaml").unlink()
    commit(repo)
    assert verdicts(repo) == {
        "submissions/org/old.yaml": (
            "fail",
            "deletes a submission; ask a maintainer to withdraw a model",
        )
    }
    assert review(repo).submissions == ()


def test_renaming_a_submission_is_refused(repo):
    git(repo, "mv", "submissions/org/old.yaml", "submissions/org/renamed.yaml")
    commit(repo)
    assert verdicts(repo) == {
        "submissions/org/renamed.yaml": (
            "fail",
            "renames or copies submissions/org/old.yaml; add a new file instead",
        )
    }


def test_more_than_one_submission_is_refused(repo):
    place(repo, "submissions/org/a.yaml", submission_text("org/a", NEW_SHA))
    place(repo, "submissions/org/b.yaml", submission_text("org/b", NEW_SHA))
    commit(repo)
    message = "this pull request changes 2 submission files; submit one model per pull request"
    assert verdicts(repo) == {
        "submissions/org/a.yaml": ("fail", message),
        "submissions/org/b.yaml": ("fail", message),
    }
    assert review(repo).submissions == ()


@pytest.mark.parametrize(
    "path", ["submissions/README.md", "submissions/org/new.yml", "submissions/a/b/c.yaml"]
)
def test_files_in_submissions_that_are_not_submission_files(repo, path):
    place(repo, path, "x: 1\n")
    commit(repo)
    assert verdicts(repo) == {
        path: ("fail", "is not a submission file: use submissions/<org>/<model>.yaml")
    }


def test_symlinked_submission_is_refused(repo):
    (repo / "submissions/org/link.yaml").symlink_to("/etc/passwd")
    commit(repo)
    assert verdicts(repo) == {
        "submissions/org/link.yaml": (
            "fail",
            "is a symbolic link; a submission must be a regular file",
        )
    }


def test_unknown_ref_is_a_usage_error(repo):
    with pytest.raises(UsageError, match=r"^--changed-from: 'nope' is not a commit"):
        changed_files(repo, "nope")
    with pytest.raises(UsageError, match="is not a commit"):
        changed_files(repo, "--output=/tmp/x")


def resubmission(repo: Path, path: str):
    submission = load_submission(repo / path)
    result = resubmission_check(GitRefFiles(repo, "main"), submission, path)
    return result.status, result.message


def test_new_revision_of_a_submitted_model_is_accepted(repo):
    place(repo, "submissions/org/old.yaml", submission_text("org/old", NEW_SHA))
    commit(repo)
    assert verdicts(repo)["submissions/org/old.yaml"][0] == "pass"
    assert resubmission(repo, "submissions/org/old.yaml") == (
        "pass",
        "a new revision of a submitted model; submissions/org/old.yaml is not on main at this "
        "revision",
    )


def test_same_revision_already_submitted_is_refused(repo):
    place(repo, "submissions/org/old.yaml", submission_text("org/old", OLD_SHA) + "# edit\n")
    commit(repo)
    assert resubmission(repo, "submissions/org/old.yaml") == (
        "fail",
        f"revision {OLD_SHA[:12]} is already submitted in submissions/org/old.yaml on main",
    )


def test_revision_already_evaluated_is_refused(repo):
    place(repo, "results/org/fresh.json", json.dumps({"model": {"revision": NEW_SHA}}))
    commit(repo)
    git(repo, "checkout", "-q", "main")
    git(repo, "merge", "-q", "pr")
    git(repo, "checkout", "-q", "-b", "pr2")
    place(repo, "submissions/org/fresh.yaml", submission_text("org/fresh", NEW_SHA))
    commit(repo)
    assert resubmission(repo, "submissions/org/fresh.yaml") == (
        "fail",
        f"revision {NEW_SHA[:12]} is already evaluated (results/org/fresh.json on main)",
    )


def test_same_model_in_different_case_is_refused(repo):
    place(repo, "submissions/ORG/Old.yaml", submission_text("ORG/Old", NEW_SHA))
    commit(repo)
    assert resubmission(repo, "submissions/ORG/Old.yaml") == (
        "fail",
        "submissions/org/old.yaml already submits this model (Hub ids ignore case); update that "
        "file",
    )
