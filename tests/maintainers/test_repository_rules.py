"""The shipped CODEOWNERS and rulesets (.github/) parse as GitHub documents them, and together
they keep `results/**` from anyone but the workflow and `.github/**` from unreviewed changes;
`medlb doctor` accepts a repository whose rulesets are exactly these files."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pathspec
import pytest
from github_fake import FakeSettings

from runner.github_api import RepositorySettings
from runner.pipeline.doctor import ACTIONS_APP_ID, check_default_branch_rules, check_details_branch
from runner.pipeline.doctor import Repository as DoctorRepository

ROOT = Path(__file__).resolve().parents[2]
CODEOWNERS = ROOT / ".github" / "CODEOWNERS"
RULESETS = ROOT / ".github" / "rulesets"
MAINTAINERS = "@open-medical-llm/maintainers"

# GitHub's REST API for repository rulesets (2022-11-28): the fields a ruleset may have, the rule
# types, and each parameterised rule's parameters, as far as these files use them.
RULESET_KEYS = {"name", "target", "enforcement", "conditions", "bypass_actors", "rules"}
TARGETS = {"branch", "tag", "push"}
ENFORCEMENTS = {"disabled", "active", "evaluate"}
ACTOR_TYPES = {"Integration", "OrganizationAdmin", "RepositoryRole", "Team", "DeployKey"}
BYPASS_MODES = {"always", "pull_request"}
RULE_PARAMETERS = {
    "creation": None,
    "deletion": None,
    "non_fast_forward": None,
    "required_linear_history": None,
    "required_signatures": None,
    "update": {"update_allows_fetch_and_merge"},
    "pull_request": {
        "required_approving_review_count",
        "dismiss_stale_reviews_on_push",
        "require_code_owner_review",
        "require_last_push_approval",
        "required_review_thread_resolution",
        "allowed_merge_methods",
    },
}
# An owner is @user, @org/team or an e-mail address (GitHub's "About code owners").
OWNER = re.compile(r"@[A-Za-z0-9-]+(/[A-Za-z0-9._-]+)?|[^@\s]+@[^@\s]+\.[^@\s]+")


def codeowners_lines() -> list[tuple[str, list[str]]]:
    lines = []
    for raw in CODEOWNERS.read_text(encoding="utf-8").splitlines():
        text = raw.split(" #", 1)[0].strip()
        if text and not text.startswith("#"):
            pattern, *owners = text.split()
            lines.append((pattern, owners))
    return lines


def owners_of(path: str) -> list[str]:
    """The owners of `path`: the last matching line wins, as on GitHub."""
    found: list[str] = []
    for pattern, owners in codeowners_lines():
        if pathspec.PathSpec.from_lines("gitwildmatch", [pattern]).match_file(path):
            found = owners
    return found


def load_ruleset(name: str) -> dict:
    return json.loads((RULESETS / name).read_text(encoding="utf-8"))


def test_codeowners_uses_only_what_github_supports():
    assert CODEOWNERS.stat().st_size < 3 * 1024 * 1024  # GitHub ignores larger files
    lines = codeowners_lines()
    assert lines
    for pattern, owners in lines:
        # CODEOWNERS has no negation, character ranges or escaped `#` (GitHub's documentation).
        assert not pattern.startswith("!") and "[" not in pattern and "\\#" not in pattern
        assert owners, f"{pattern}: no owner"
        assert all(OWNER.fullmatch(owner) for owner in owners), owners


@pytest.mark.parametrize(
    "path",
    [
        ".github/workflows/evaluate.yml",
        ".github/CODEOWNERS",
        ".github/rulesets/default-branch.json",
        "requirements/eval.lock",
        "runner/pipeline/landing.py",
        "results/acme/med-7b.json",
        "submissions/acme/med-7b.yaml",
        "README.md",
    ],
)
def test_the_maintainers_own_what_runs_with_write_tokens_and_what_is_published(path):
    assert MAINTAINERS in owners_of(path)


@pytest.mark.parametrize("name", ["default-branch.json", "details-branch.json"])
def test_each_ruleset_has_githubs_import_shape(name):
    ruleset = load_ruleset(name)
    assert set(ruleset) <= RULESET_KEYS | {"source_type", "source"}
    assert {"name", "target", "enforcement", "rules"} <= set(ruleset)
    assert ruleset["target"] in TARGETS and ruleset["enforcement"] in ENFORCEMENTS
    ref_name = ruleset["conditions"]["ref_name"]
    assert isinstance(ref_name["include"], list) and isinstance(ref_name["exclude"], list)
    for actor in ruleset["bypass_actors"]:
        assert set(actor) == {"actor_id", "actor_type", "bypass_mode"}
        assert actor["actor_type"] in ACTOR_TYPES and actor["bypass_mode"] in BYPASS_MODES
    for rule in ruleset["rules"]:
        allowed = RULE_PARAMETERS[rule["type"]]
        assert set(rule) <= {"type", "parameters"}
        if allowed is None:
            assert "parameters" not in rule
        else:
            assert set(rule["parameters"]) <= allowed


def _only_the_workflow_bypasses(ruleset: dict) -> bool:
    return ruleset["bypass_actors"] == [
        {"actor_id": ACTIONS_APP_ID, "actor_type": "Integration", "bypass_mode": "always"}
    ]


def test_the_default_branch_takes_reviewed_changes_and_the_workflows_commits_only():
    ruleset = load_ruleset("default-branch.json")
    assert ruleset["enforcement"] == "active"
    assert ruleset["conditions"]["ref_name"]["include"] == ["~DEFAULT_BRANCH"]
    rules = {rule["type"]: rule.get("parameters") for rule in ruleset["rules"]}
    # No direct push at all, except by the bypass actors: the workflow token alone (no admin).
    assert _only_the_workflow_bypasses(ruleset)
    assert {"deletion", "non_fast_forward", "pull_request"} <= set(rules)
    # Every other change, results/** and .github/** included, is a pull request that a code
    # owner (the maintainers, for both) approves after its last push.
    review = rules["pull_request"]
    assert review["require_code_owner_review"] is True
    assert review["required_approving_review_count"] >= 1
    assert review["require_last_push_approval"] is True
    assert review["dismiss_stale_reviews_on_push"] is True
    assert owners_of("results/acme/med-7b.json") == [MAINTAINERS]
    assert owners_of(".github/workflows/pages.yml") == [MAINTAINERS]


def test_the_details_branch_is_written_by_the_workflow_only():
    ruleset = load_ruleset("details-branch.json")
    assert ruleset["conditions"]["ref_name"]["include"] == ["refs/heads/details"]
    assert {rule["type"] for rule in ruleset["rules"]} >= {"deletion", "non_fast_forward", "update"}
    assert _only_the_workflow_bypasses(ruleset)


def test_doctor_accepts_the_shipped_rulesets_and_refuses_them_without_the_bypass():
    fake = FakeSettings()
    fake.rulesets = {
        number: {**load_ruleset(name), "id": number, "source_type": "Repository"}
        for number, name in ((11, "default-branch.json"), (12, "details-branch.json"))
    }
    settings = RepositorySettings("medlb-org/leaderboard", fake)
    repo = DoctorRepository("medlb-org/leaderboard", "main", public=True)
    assert check_default_branch_rules(settings, repo).ok
    assert check_details_branch(settings, repo).ok
    fake.rulesets[11]["bypass_actors"] = []
    assert not check_default_branch_rules(settings, repo).ok
