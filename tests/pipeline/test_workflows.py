"""Structural checks of .github/workflows: triggers, permissions, the trust boundary, pins."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
import workflow_rules as rules
import yaml

ROOT = Path(__file__).resolve().parents[2]
NAMES = ("ci", "validate", "evaluate", "pages")


@pytest.fixture(scope="module")
def workflows() -> dict[str, dict]:
    return {name: rules.load(rules.WORKFLOWS / f"{name}.yml") for name in NAMES}


@pytest.mark.parametrize("name", NAMES)
def test_every_workflow_keeps_the_trust_rules(workflows, name):
    assert rules.trust_problems(workflows[name]) == []


def test_validate_runs_unprivileged_on_submission_prs(workflows):
    wf = workflows["validate"]
    assert set(rules.triggers(wf)) == {"pull_request"}
    assert rules.triggers(wf)["pull_request"]["paths"] == ["submissions/**"]
    job = wf["jobs"]["validate"]
    assert job["permissions"] == {"contents": "read"}
    assert job["runs-on"].startswith("ubuntu-")
    assert rules.medlb_commands(wf) == ["validate", "results bundle"]
    upload = [s for _, s in rules.steps(wf) if "upload-artifact" in s.get("uses", "")]
    assert [s["with"]["name"] for s in upload] == ["submission"]


def test_evaluate_is_triggered_by_validate_and_by_maintainers(workflows):
    on = rules.triggers(workflows["evaluate"])
    assert set(on) == {"workflow_run", "workflow_dispatch"}
    assert on["workflow_run"] == {"workflows": ["validate"], "types": ["completed"]}
    assert set(on["workflow_dispatch"]["inputs"]) == {"submission", "split"}


def test_gpu_job_is_gated_self_hosted_and_queued(workflows):
    job = workflows["evaluate"]["jobs"]["evaluate"]
    assert job["runs-on"] == ["self-hosted", "linux", "gpu"]
    assert job["environment"] == "gpu-evaluation"
    assert job["concurrency"]["cancel-in-progress"] is False
    assert job["permissions"] == {"contents": "read"}
    assert job["needs"] == "prepare"
    assert "fromJSON(needs.prepare.outputs.matrix)" in job["strategy"]["matrix"]


def test_only_the_github_hosted_publish_job_can_write(workflows):
    jobs = workflows["evaluate"]["jobs"]
    writers = {
        job_id: job["permissions"]
        for job_id, job in jobs.items()
        if "write" in job["permissions"].values()
    }
    assert writers == {"publish": {"contents": "write", "pull-requests": "write"}}
    assert jobs["publish"]["runs-on"].startswith("ubuntu-")
    assert jobs["prepare"]["permissions"] == {"contents": "read", "actions": "read"}


def test_the_artifact_comes_from_the_triggering_validate_run(workflows):
    downloads = [
        s for _, s in rules.steps(workflows["evaluate"]) if s.get("with", {}).get("run-id")
    ]
    assert [d["with"]["run-id"] for d in downloads] == ["${{ github.event.workflow_run.id }}"]
    assert downloads[0]["with"]["name"] == "submission"


def test_evaluate_success_path_runs_the_pipeline_in_order(workflows):
    assert rules.medlb_commands(workflows["evaluate"]) == [
        "results intake",
        "validate",
        "evaluate",
        "results merge",
        "results merge",
        "results publish",
    ]
    assert "results fail" in rules.medlb_commands(workflows["evaluate"], success_path=False)


def test_pages_deploys_with_the_pages_permissions_only_in_deploy(workflows):
    wf = workflows["pages"]
    push = rules.triggers(wf)["push"]
    assert push["branches"] == ["main"]
    assert {"results/**", "submissions/**", "references/**"} <= set(push["paths"])
    assert wf["jobs"]["build"]["permissions"] == {"contents": "read"}
    assert wf["jobs"]["deploy"]["permissions"] == {"pages": "write", "id-token": "write"}
    assert rules.medlb_commands(wf) == ["site build"]
    uses = [s.get("uses", "").split("@")[0] for _, s in rules.steps(wf)]
    for action in ("configure-pages", "upload-pages-artifact", "deploy-pages"):
        assert f"actions/{action}" in uses


def test_ci_runs_the_readme_test_command(workflows):
    runs = [s["run"] for _, s in rules.steps(workflows["ci"]) if "run" in s]
    assert len(runs) == 1 and runs[0].split()[0] == "sudo"
    assert runs[0].split()[-1] == "./.ci/run", "CI runs exactly the README's test command"
    assert "make test" in (ROOT / ".ci" / "run").read_text()
    assert re.search(
        r"^lint:.*\n(\t.*\n)*\t\$\(BIN\)/zizmor", (ROOT / "Makefile").read_text(), re.M
    )


def test_actionlint_knows_the_gpu_label():
    config = yaml.safe_load((ROOT / ".github" / "actionlint.yaml").read_text())
    assert "gpu" in config["self-hosted-runner"]["labels"]


def _mutated(name: str, old: str, new: str) -> dict:
    text = (rules.WORKFLOWS / f"{name}.yml").read_text()
    assert old in text
    return rules.parse(text.replace(old, new, 1))


def test_checking_out_the_pr_head_on_the_privileged_side_is_caught():
    checkout = "        with:\n          persist-credentials: false\n"
    wf = _mutated(
        "evaluate",
        checkout,
        checkout + "          ref: ${{ github.event.workflow_run.head_sha }}\n",
    )
    assert any("checks out a chosen ref" in p for p in rules.trust_problems(wf))


@pytest.mark.parametrize(
    ("name", "old", "new", "problem"),
    [
        ("validate", "  pull_request:\n", "  pull_request_target:\n", "pull_request_target"),
        ("validate", "# v7.0.1", "", "not pinned"),
        ("evaluate", "persist-credentials: false", "persist-credentials: true", "persist-creden"),
        ("pages", "permissions: {}\n", "permissions: write-all\n", "top-level permissions"),
        (
            "evaluate",
            'medlb validate "$SUBMISSION"',
            "medlb validate ${{ steps.intake.outputs.submission }}",
            "inside run:",
        ),
    ],
)
def test_each_trust_rule_catches_its_violation(name, old, new, problem):
    assert any(problem in p for p in rules.trust_problems(_mutated(name, old, new)))


# The pins of ARCHITECTURE.md, "Trust boundary": the only actions the workflows may use, each at
# its reviewed commit.
PINS = {
    "actions/checkout": ("3d3c42e5aac5ba805825da76410c181273ba90b1", "v7.0.1"),
    "actions/setup-python": ("5fda3b95a4ea91299a34e894583c3862153e4b97", "v7.0.0"),
    "actions/upload-artifact": ("bbbca2ddaa5d8feaa63e36b76fdaad77386f024f", "v7.0.0"),
    "actions/download-artifact": ("3e5f45b2cfb9172054b4087a40e8e0b5a5461e7c", "v8.0.1"),
    "actions/upload-pages-artifact": ("fc324d3547104276b827a68afc52ff2a11cc49c9", "v5.0.0"),
    "actions/deploy-pages": ("cd2ce8fcbc39b97be8ca5fce6e763baed58fa128", "v5.0.0"),
    "actions/configure-pages": ("983d7736d9b0ae728b81ab479565c72886d7745b", "v5.0.0"),
    "actions/github-script": ("ed597411d8f924073f98dfc5c65a23a2325f34cd", "v8.0.0"),
}


@pytest.mark.parametrize("name", NAMES)
def test_actions_are_the_reviewed_pins(workflows, name):
    uses = re.findall(r"uses:\s+([\w./-]+)@(\S+)\s+#\s+(\S+)", workflows[name]["_text"])
    assert uses
    for action, sha, tag in uses:
        assert PINS.get(action) == (sha, tag), action
