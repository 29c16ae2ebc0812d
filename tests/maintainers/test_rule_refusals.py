"""A commit refused by a ruleset (HTTP 422 "Repository rule violations found") is not retried as
if it were a race, and the failure names the setting; the one-time details-branch creation makes
a parentless branch so it can be protected before the first publication."""

from __future__ import annotations

import json
import subprocess
from pathlib import Path

import pytest
from github_fake import OWNER_REPO, FakeGitHub, pull_answer, readme_repository, shown

from runner.errors import UserError
from runner.github_api import GitHubRepo
from runner.pipeline.details_branch import create_details_branch
from runner.pipeline.landing import Backoff, deliver
from runner.pipeline.publish import Publication, write_plan
from runner.pipeline.request import write_request

REVISION = "cd" * 20
HEAD = "ab" * 20
SUBMISSION = "submissions/acme/med-7b.yaml"
RESULT = f"results/acme/med-7b/{REVISION}.json"
RULES_422 = "Repository rule violations found\n\nChanges must be made through a pull request.\n\n"


def _git(cwd: Path, *args: str) -> str:
    done = subprocess.run(["git", *args], cwd=cwd, check=True, capture_output=True, text=True)
    return done.stdout.strip()


@pytest.fixture
def github(tmp_path) -> FakeGitHub:
    github = readme_repository(tmp_path)
    github.pulls[7] = pull_answer(7, HEAD, "contributor/leaderboard")  # open, at the run's head
    return github


@pytest.fixture
def job(tmp_path, monkeypatch) -> Path:
    checkout = tmp_path / "checkout"
    text = (
        f"model: acme/med-7b\nrevision: '{REVISION}'\nprecision: float32\n"
        "model_type: pretrained\nlicense: mit\ndescription: A model for the landing tests.\n"
    )
    write_request(checkout / "request", SUBMISSION, text.encode(), split=1, pr=7, head_sha=HEAD)
    (checkout / RESULT).parent.mkdir(parents=True)
    (checkout / RESULT).write_text(json.dumps({"model": {"revision": REVISION}}) + "\n")
    plan = Publication(
        kind="result",
        message="results: acme/med-7b@cdcdcdc",
        model="acme/med-7b",
        revision=REVISION,
        submission=SUBMISSION,
        base_revision=None,
        write=[RESULT],
        delete_if_present=[],
    )
    write_plan(plan, checkout / "publish" / "changes.json")
    (checkout / "publish" / "comment.md").write_text("### scores\n")
    monkeypatch.chdir(checkout)
    monkeypatch.setenv("GITHUB_STEP_SUMMARY", str(tmp_path / "summary.md"))
    return checkout


def test_a_ruleset_refusal_is_not_retried_and_names_the_setting(github, job):
    github.fail("PATCH", "/git/refs/heads/main", 422, RULES_422)
    sleeps: list[float] = []
    backoff = Backoff(sleep=sleeps.append, jitter=lambda: 1.0)
    repo = GitHubRepo(OWNER_REPO, github)
    with pytest.raises(UserError) as raised:
        deliver(
            Path("publish"),
            Path("request"),
            repo=repo,
            branch="main",
            run_url=None,
            backoff=backoff,
        )
    message = str(raised.value)
    assert sleeps == []  # not retried: the same request would be refused again
    assert "Repository rule violations found" in message
    assert "bypass list" in message and "Settings → Rules → Rulesets" in message
    assert "gave up" not in message
    [(_, comment)] = github.comments
    assert "bypass list" in shown(comment) and github.file(RESULT) is None


def test_a_branch_that_moved_is_still_retried(github, job):
    github.fail("PATCH", "/git/refs/heads/main", 422, "Update is not a fast forward")
    sleeps: list[float] = []
    repo = GitHubRepo(OWNER_REPO, github)
    deliver(
        Path("publish"),
        Path("request"),
        repo=repo,
        branch="main",
        run_url=None,
        backoff=Backoff(sleep=sleeps.append, jitter=lambda: 1.0),
    )
    assert sleeps == [2.0] and github.file(RESULT) is not None


def test_the_details_branch_is_created_parentless_once(github):
    repo = GitHubRepo(OWNER_REPO, github)
    commit = create_details_branch(repo, Backoff(sleep=lambda _: None))
    assert commit is not None and github.head("details") == commit
    assert _git(github.git_dir, "rev-list", "--parents", "-n", "1", commit) == commit
    assert b"publish job" in github.file("README.md", commit)
    assert create_details_branch(repo, Backoff(sleep=lambda _: None)) is None
    assert github.head("details") == commit
