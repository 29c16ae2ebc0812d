"""`medlb doctor --repo OWNER/NAME` against GitHub's API faked in its documented shapes: a
repository set up as docs/maintainers/setup.md says passes (exit 0); each missing setting fails
(exit 1) on its own line, named, with its fix."""

from __future__ import annotations

import pytest
from github_fake import (
    EVALUATE_AT_MAIN,
    OWNER_REPO,
    FakeSettings,
    environment_answer,
    pages_answer,
    runner_answer,
)

from runner import github_api
from runner.cli import main


@pytest.fixture
def settings(monkeypatch) -> FakeSettings:
    fake = FakeSettings()
    monkeypatch.setenv("GH_TOKEN", "token-for-tests")
    monkeypatch.delenv("GITHUB_ACTIONS", raising=False)
    monkeypatch.setattr(github_api, "urllib_transport", lambda token, api_url: fake)
    return fake


def doctor(capsys) -> tuple[int, dict[str, str]]:
    code = main(["doctor", "--repo", OWNER_REPO])
    out = capsys.readouterr().out
    lines = {}
    for line in out.splitlines()[:-1]:
        mark, check, rest = line.split(None, 2)
        lines[check] = f"{mark} {rest}"
    return code, lines


def failing(lines: dict[str, str]) -> dict[str, str]:
    return {check: line for check, line in lines.items() if line.startswith("FAIL")}


def test_a_repository_set_up_as_the_docs_say_passes_every_check(settings, capsys):
    code, lines = doctor(capsys)
    assert code == 0, lines
    assert set(lines) == {
        "environment",
        "actions-permissions",
        "fork-approval",
        "pages",
        "rulesets",
        "details-branch",
        "files",
        "runner-group",
        "runners",
    }
    assert not failing(lines)
    assert "2 required reviewer(s)" in lines["environment"]
    assert "gpu-a100-1" in lines["runners"]
    assert all(method == "GET" for method, _ in settings.requests)


def break_environment_missing(fake):
    fake.environment = None


def break_no_reviewers(fake):
    fake.environment = environment_answer(reviewers=0)


def break_self_review(fake):
    fake.environment = environment_answer(prevent_self_review=False)


def break_any_branch_deploys(fake):
    fake.environment = environment_answer(branch_policy=False)


def break_write_token(fake):
    fake.workflow_permissions = "write"


def break_first_time_only(fake):
    fake.approval_policy = "first_time_contributors"


def break_pages_off(fake):
    fake.pages = None


def break_pages_from_branch(fake):
    fake.pages = pages_answer(build_type="legacy")


def break_no_rulesets(fake):
    fake.rulesets.pop(1)


def break_no_bypass(fake):
    fake.rulesets[1]["bypass_actors"] = [
        {"actor_id": 5, "actor_type": "RepositoryRole", "bypass_mode": "always"}
    ]


def break_no_details_branch(fake):
    fake.branches.discard("details")


def break_details_unprotected(fake):
    fake.rulesets.pop(2)


def break_details_without_bypass(fake):
    fake.rulesets[2]["bypass_actors"] = []


def break_missing_lock(fake):
    fake.files.discard("requirements/eval.lock")


def break_no_codeowners(fake):
    fake.files.discard(".github/CODEOWNERS")


def break_codeowners_unknown_team(fake):
    fake.codeowners_errors = [
        {
            "line": 7,
            "column": 25,
            "kind": "Unknown owner",
            "source": "*  @open-medical-llm/maintainers\n",
            "suggestion": None,
            "message": "Unknown owner on line 7: make sure the team @open-medical-llm/maintainers "
            "exists, is publicly visible, and has write access to the repository",
            "path": ".github/CODEOWNERS",
        }
    ]


def break_no_group(fake):
    fake.groups = fake.groups[:1]


def break_any_workflow(fake):
    fake.groups[1]["restricted_to_workflows"] = False


def break_other_branch(fake):
    fake.groups[1]["selected_workflows"] = [EVALUATE_AT_MAIN.replace("main", "dev")]


def break_every_repository(fake):
    fake.groups[1]["visibility"] = "all"


def break_public_not_allowed(fake):
    fake.groups[1]["allows_public_repositories"] = False


def break_runner_offline(fake):
    fake.runners[2] = [runner_answer(7, "gpu-a100-1", ("self-hosted", "linux", "gpu"), "offline")]


def break_runner_unlabelled(fake):
    fake.runners[2] = [runner_answer(7, "gpu-a100-1", ("self-hosted", "linux"), "online")]


def break_token_cannot_read_runners(fake):
    fake.refused["/actions/runner-groups"] = 403


BROKEN = [
    (break_environment_missing, "environment", "no environment gpu-evaluation", "New environment"),
    (break_no_reviewers, "environment", "no required reviewers", "Settings → Environments"),
    (break_self_review, "environment", "self-review is allowed", "Prevent self-review"),
    (break_any_branch_deploys, "environment", "any branch may deploy", "Deployment branches"),
    (break_write_token, "actions-permissions", "'write'", "Workflow permissions: Read"),
    (break_first_time_only, "fork-approval", "first_time_contributors", "Require approval for all"),
    (break_pages_off, "pages", "not enabled", "Source: GitHub Actions"),
    (break_pages_from_branch, "pages", "from legacy", "Source: GitHub Actions"),
    (break_no_rulesets, "rulesets", "code owner's review", "default-branch.json"),
    (break_no_bypass, "rulesets", "cannot commit results/**", "Add bypass → GitHub Actions"),
    (break_no_details_branch, "details-branch", "no branch details", "Create the details branch"),
    (break_details_unprotected, "details-branch", "deletion, non_fast_forward, update", "details"),
    (break_details_without_bypass, "details-branch", "cannot commit to details", "Add bypass"),
    (break_missing_lock, "files", "requirements/eval.lock", "requirements/lock.sh"),
    (break_no_codeowners, "files", ".github/CODEOWNERS", "commit them"),
    (break_codeowners_unknown_team, "files", "Unknown owner on line 7", "write access"),
    (break_no_group, "runner-group", "no runner group 'gpu'", "New runner group"),
    (break_any_workflow, "runner-group", "Workflow access", "Runner groups → gpu"),
    (break_other_branch, "runner-group", "evaluate.yml@refs/heads/main", "Runner groups → gpu"),
    (break_every_repository, "runner-group", "Repository access: only", "Runner groups → gpu"),
    (break_public_not_allowed, "runner-group", "Allow public repositories", "Runner groups"),
    (break_runner_offline, "runners", "(1 offline)", "jit-runner.sh"),
    (break_runner_unlabelled, "runners", "labels self-hosted, linux, gpu", "minRunners: 1"),
    (break_token_cannot_read_runners, "runner-group", "HTTP 403", "Self-hosted runners: read"),
]


@pytest.mark.parametrize(
    ("breaks", "check", "named", "fix"), BROKEN, ids=[b[0].__name__ for b in BROKEN]
)
def test_each_missing_setting_is_named_with_its_fix(settings, capsys, breaks, check, named, fix):
    breaks(settings)
    code, lines = doctor(capsys)
    assert code == 1
    assert check in failing(lines), lines
    found, _, shown_fix = failing(lines)[check].partition(" → fix: ")
    assert named in found
    assert fix in shown_fix


def test_only_the_broken_setting_fails(settings, capsys):
    break_pages_off(settings)
    code, lines = doctor(capsys)
    assert code == 1
    assert list(failing(lines)) == ["pages"]


def test_a_missing_token_is_a_usage_error_naming_the_variable(monkeypatch, capsys):
    monkeypatch.delenv("GH_TOKEN", raising=False)
    monkeypatch.delenv("GITHUB_TOKEN", raising=False)
    assert main(["doctor", "--repo", OWNER_REPO]) == 2
    assert "GH_TOKEN" in capsys.readouterr().err


def test_a_malformed_repository_is_refused_in_one_line(settings, capsys):
    assert main(["doctor", "--repo", "https://github.com/x"]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "OWNER/NAME" in err
