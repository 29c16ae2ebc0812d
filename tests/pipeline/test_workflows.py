"""Structural checks of .github/workflows: triggers, permissions, the trust boundary, pins."""

from __future__ import annotations

import re
import subprocess
from pathlib import Path

import pytest
import workflow_rules as rules
import yaml

ROOT = Path(__file__).resolve().parents[2]
NAMES = ("ci", "validate", "evaluate", "pages", "details-branch", "doctor")


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
    assert set(on["workflow_dispatch"]["inputs"]) == {"submission", "split", "replace"}
    assert on["workflow_dispatch"]["inputs"]["replace"]["default"] is False  # issue 17


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
    assert writers == {
        "publish": {"contents": "write", "pull-requests": "write", "actions": "read"}
    }
    assert jobs["publish"]["runs-on"].startswith("ubuntu-")
    assert jobs["prepare"]["permissions"] == {
        "contents": "read",
        "actions": "read",
        "pull-requests": "read",
    }


def test_the_artifact_comes_from_the_triggering_validate_run(workflows):
    downloads = [
        s for _, s in rules.steps(workflows["evaluate"]) if s.get("with", {}).get("run-id")
    ]
    assert [d["with"]["run-id"] for d in downloads] == ["${{ github.event.workflow_run.id }}"]
    assert downloads[0]["with"]["name"] == "submission"


def test_evaluate_success_path_runs_the_pipeline_in_order(workflows):
    assert rules.medlb_commands(workflows["evaluate"], event="workflow_run") == [
        "results bundle-pr",
        "results intake",
        "validate",
        "evaluate",
        "results merge",
        "results merge",
        "results publish",
        "results deliver",
    ]
    dispatch = rules.medlb_commands(workflows["evaluate"], event="workflow_dispatch")
    assert dispatch[:2] == ["results intake", "validate"]
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


def test_the_setup_workflows_run_only_by_a_maintainers_dispatch(workflows):
    """details-branch.yml and doctor.yml (docs/maintainers/setup.md): dispatch only, GitHub-
    hosted, one medlb command each; only the branch creation may write, and doctor's token is a
    secret passed through env:."""
    for name in ("details-branch", "doctor"):
        assert set(rules.triggers(workflows[name])) == {"workflow_dispatch"}
        [job] = workflows[name]["jobs"].values()
        assert job["runs-on"].startswith("ubuntu-")
    [create] = workflows["details-branch"]["jobs"].values()
    assert create["permissions"] == {"contents": "write"}
    assert rules.medlb_commands(workflows["details-branch"]) == ["results details-branch"]
    [doctor] = workflows["doctor"]["jobs"].values()
    assert doctor["permissions"] == {"contents": "read"}
    assert rules.medlb_commands(workflows["doctor"]) == ["doctor"]
    [step] = [s for _, s in rules.steps(workflows["doctor"]) if "doctor" in s.get("run", "")]
    assert step["env"]["GH_TOKEN"] == "${{ secrets.MEDLB_DOCTOR_TOKEN }}"


def test_actionlint_knows_the_gpu_label():
    config = yaml.safe_load((ROOT / ".github" / "actionlint.yaml").read_text())
    assert "gpu" in config["self-hosted-runner"]["labels"]


def _mutated(name: str, old: str, new: str) -> dict:
    text = (rules.WORKFLOWS / f"{name}.yml").read_text()
    assert old in text
    return rules.parse(text.replace(old, new, 1))


def test_checking_out_the_pr_head_on_the_privileged_side_is_caught():
    wf = _mutated(
        "evaluate",
        f"ref: {rules.DEFAULT_BRANCH_REF}",
        "ref: ${{ github.event.workflow_run.head_sha }}",
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
            'bin/medlb" validate "$SUBMISSION"',
            'bin/medlb" validate ${{ steps.pr-intake.outputs.submission }}',
            "inside run:",
        ),
        (
            "evaluate",
            "run: requirements/install-locked.sh requirements/eval.lock",
            "run: python -m pip install . numpy",
            "installs without requirements/install-locked.sh",
        ),
        (
            "pages",
            "run: requirements/install-locked.sh requirements/site.lock",
            "run: uv pip install --extra-index-url https://example.org/simple . && true",
            "installs without requirements/install-locked.sh",
        ),
    ],
)
def test_each_trust_rule_catches_its_violation(name, old, new, problem):
    assert any(problem in p for p in rules.trust_problems(_mutated(name, old, new)))


# The pins of ARCHITECTURE.md, "Trust boundary": the only actions the workflows may use, each at
# its reviewed commit. (No actions/github-script: publishing is tested Python, runner.pipeline.)
PINS = {
    "actions/checkout": ("3d3c42e5aac5ba805825da76410c181273ba90b1", "v7.0.1"),
    "actions/setup-python": ("5fda3b95a4ea91299a34e894583c3862153e4b97", "v7.0.0"),
    "actions/upload-artifact": ("bbbca2ddaa5d8feaa63e36b76fdaad77386f024f", "v7.0.0"),
    "actions/download-artifact": ("3e5f45b2cfb9172054b4087a40e8e0b5a5461e7c", "v8.0.1"),
    "actions/upload-pages-artifact": ("fc324d3547104276b827a68afc52ff2a11cc49c9", "v5.0.0"),
    "actions/deploy-pages": ("cd2ce8fcbc39b97be8ca5fce6e763baed58fa128", "v5.0.0"),
    "actions/configure-pages": ("983d7736d9b0ae728b81ab479565c72886d7745b", "v5.0.0"),
}


@pytest.mark.parametrize("name", NAMES)
def test_actions_are_the_reviewed_pins(workflows, name):
    uses = re.findall(r"uses:\s+([\w./-]+)@(\S+)\s+#\s+(\S+)", workflows[name]["_text"])
    assert uses
    for action, sha, tag in uses:
        assert PINS.get(action) == (sha, tag), action


# ---- the trust-boundary review's findings, as properties of the workflow files -----------------


def _step(workflow: dict, job: str, name_start: str) -> dict:
    [step] = [s for j, s in rules.steps(workflow) if j == job and s["name"].startswith(name_start)]
    return step


def test_only_runs_of_validate_yml_on_pull_requests_are_taken_in(workflows):
    """Finding 1: a second workflow named `validate` (or any other event) starts nothing."""
    condition = " ".join(workflows["evaluate"]["jobs"]["prepare"]["if"].split())
    assert "github.event.workflow_run.path == '.github/workflows/validate.yml'" in condition
    assert "github.event.workflow_run.event == 'pull_request'" in condition
    intake = _step(workflows["evaluate"], "prepare", "Intake the pull request")
    assert intake["env"]["WORKFLOW_PATH"] == "${{ github.event.workflow_run.path }}"
    assert '--workflow-path "$WORKFLOW_PATH"' in intake["run"]


def test_the_prepare_job_asks_github_about_the_pr_and_intake_checks_the_bundle_against_it(
    workflows,
):
    """Finding 1: the PR and its files come from GitHub's API with the job's read token."""
    wf = workflows["evaluate"]
    number = _step(wf, "prepare", "Read the PR number")
    assert number["id"] == "bundle-pr" and "results bundle-pr incoming" in number["run"]
    fetch = _step(wf, "prepare", "Ask GitHub about that pull request")
    assert fetch["env"]["GH_TOKEN"] == "${{ github.token }}"
    assert fetch["env"]["PR"] == "${{ steps.bundle-pr.outputs.pr }}"
    assert 'gh api "repos/$REPOSITORY/pulls/$PR" > pull.json' in fetch["run"]
    assert 'gh api --paginate --slurp "repos/$REPOSITORY/pulls/$PR/files"' in fetch["run"]
    intake = _step(wf, "prepare", "Intake the pull request")
    for option in ("--pull pull.json", "--pull-files pull-files.json", '--head-repo "$HEAD_REPO"'):
        assert option in intake["run"]
    assert (
        intake["env"]["HEAD_REPO"] == "${{ github.event.workflow_run.head_repository.full_name }}"
    )
    assert intake["env"]["HEAD_SHA"] == "${{ github.event.workflow_run.head_sha }}"


def test_pages_builds_only_after_evaluate_yml_ran_on_its_own_triggers(workflows):
    """Finding 8: pages matched the `evaluate` workflow by name only."""
    condition = " ".join(workflows["pages"]["jobs"]["build"]["if"].split())
    assert "github.event.workflow_run.path == '.github/workflows/evaluate.yml'" in condition
    assert "github.event.workflow_run.event == 'workflow_run'" in condition
    assert "github.event.workflow_run.head_branch == github.event.repository.default_branch" in (
        condition
    )


def test_the_approver_sees_the_verified_pr_model_and_revision(workflows):
    """The GPU jobs' names come from intake's verified label; the run title shows no PR text."""
    from runner.pipeline.run_jobs import GPU_JOB_NAME

    wf = workflows["evaluate"]
    name = wf["jobs"]["evaluate"]["name"]
    assert name.startswith(GPU_JOB_NAME) and "${{ needs.prepare.outputs.label }}" in name
    outputs = wf["jobs"]["prepare"]["outputs"]
    assert outputs["label"].startswith("${{ steps.pr-intake.outputs.label ||")
    assert "head_sha" in wf["run-name"]
    for untrusted in ("display_title", "head_branch", "pull_requests"):
        assert untrusted not in wf["run-name"]


def test_the_gpu_job_starts_from_a_clean_run_directory_and_its_own_hub_cache(workflows):
    """Finding 2: resume state keyed by this workflow run and part; a fresh Hub cache and venv."""
    step = _step(workflows["evaluate"], "evaluate", "Evaluate the pinned revision")
    assert step["env"]["RUN_ID"] == "${{ github.run_id }}"
    assert step["env"]["HF_HOME"] == "${{ runner.temp }}/hf-home"
    assert 'run_dir="$RUNNER_WORKSPACE/medlb-runs/$RUN_ID/part-$PART"' in step["run"]
    assert '\nrm -rf "$run_dir"\n' in step["run"]  # every attempt: issue 17
    assert "outputs.key" not in str(step)  # a predictable key would let other runs' state in
    stage = _step(workflows["evaluate"], "evaluate", "Stage this part")
    assert "$RUNNER_WORKSPACE/medlb-runs/$RUN_ID/part-$PART" in stage["run"]


@pytest.mark.parametrize(
    ("workflow", "job", "lock"),
    [
        ("evaluate", "prepare", "eval.lock"),
        ("evaluate", "evaluate", "eval.lock"),
        ("evaluate", "publish", "eval.lock"),  # `datasets`: the rows scores are recomputed on
        ("pages", "build", "site.lock"),
    ],
)
def test_privileged_jobs_install_from_a_lock_into_a_fresh_venv(workflows, workflow, job, lock):
    """Finding 7: hashes, one index, exact versions (tests/test_locks.py checks the locks)."""
    runs = [s.get("run", "") for j, s in rules.steps(workflows[workflow]) if j == job]
    installs = [r for r in runs if rules.LOCKED_INSTALLER in r]
    assert installs == [f'{rules.LOCKED_INSTALLER} requirements/{lock} "$RUNNER_TEMP/venv"']
    medlb = [r for r in runs if "medlb" in r and rules.LOCKED_INSTALLER not in r]
    assert medlb and all('"$RUNNER_TEMP/venv/bin/medlb"' in r for r in medlb)
    assert not any(re.search(r"(^|\s)medlb\s", r) for r in medlb)  # no other medlb on PATH


def test_publishing_decides_on_the_current_branch_and_comments_only_after_the_commit(workflows):
    """Findings 3, 4, 5: the publish job checks out the branch's current head; one tested
    command commits and then comments; a failure record needs the run's jobs."""
    wf = workflows["evaluate"]
    checkout = _step(wf, "publish", "Check out the default branch")
    assert checkout["with"]["ref"] == rules.DEFAULT_BRANCH_REF
    assert not [s for _, s in rules.steps(wf) if "github-script" in s.get("uses", "")]
    publish_steps = [s for j, s in rules.steps(wf) if j == "publish"]
    assert "results deliver" in publish_steps[-1]["run"]  # the last step, after fail/publish
    jobs = _step(wf, "publish", "List this run's jobs")
    assert "actions/runs/$RUN_ID/jobs?filter=all" in jobs["run"] and jobs["continue-on-error"]
    assert "--jobs jobs.json" in _step(wf, "publish", "Record the failure")["run"]


def test_a_privileged_checkout_of_a_pr_ref_is_still_caught():
    for ref in (
        "${{ github.event.workflow_run.head_branch }}",
        "${{ github.event.workflow_run.head_sha }}",
        "refs/pull/1/head",
    ):
        wf = _mutated("evaluate", f"ref: {rules.DEFAULT_BRANCH_REF}", f"ref: {ref}")
        assert any("checks out a chosen ref" in p for p in rules.trust_problems(wf)), ref


@pytest.mark.parametrize(("attempt", "kept"), [("1", False), ("2", False)])
def test_the_evaluate_step_clears_a_run_directory_on_every_attempt(
    workflows, tmp_path, attempt, kept
):
    """Finding 2 and issue 17, played with the step's own shell: on a persistent runner, a
    directory someone prepared for this run id is wiped, on the first attempt and on a re-run
    alike (a job attempt trusts no file an earlier attempt left: edited predictions would be
    resumed)."""
    step = _step(workflows["evaluate"], "evaluate", "Evaluate the pinned revision")
    script = step["run"].split('"$RUNNER_TEMP/venv/bin/medlb"')[0]
    planted = tmp_path / "medlb-runs" / "4242" / "part-1"
    planted.mkdir(parents=True)
    (planted / "run.json").write_text("{}")
    env = {"RUNNER_WORKSPACE": str(tmp_path), "RUN_ID": "4242", "PART": "1", "ATTEMPT": attempt}
    subprocess.run(["bash", "-euo", "pipefail", "-c", script], env=env, check=True)
    assert (planted / "run.json").exists() is kept


def test_the_details_branch_is_checked_out_only_as_data_beside_the_code(workflows):
    """pages.yml reads the per-item predictions from the details branch in a folder of its own;
    the same ref as the workspace itself (code), or another repository, is still refused."""
    wf = workflows["pages"]
    details = _step(wf, "build", "Check out the details branch")
    assert details["with"]["ref"] == rules.DETAILS_REF and details["with"]["path"]
    assert details["with"]["persist-credentials"] is False and details["continue-on-error"]
    build = _step(wf, "build", "Build the site")
    assert '--details "$DETAILS"' in build["run"]
    assert "steps.details.outcome == 'success'" in build["env"]["DETAILS"]
    for edit in ("          path: details-branch\n", "          path: .\n"):
        replaced = "" if edit.endswith("details-branch\n") else edit
        mutated = _mutated("pages", "          path: details-branch\n", replaced)
        assert any("checks out a chosen ref" in p for p in rules.trust_problems(mutated)), edit
    elsewhere = "          ref: details\n          repository: someone/else\n"
    other = _mutated("pages", "          ref: details\n", elsewhere)
    assert any("checks out a chosen ref" in p for p in rules.trust_problems(other))


def test_publishing_stages_the_details_and_deliver_commits_them_first(workflows):
    wf = workflows["evaluate"]
    publish = _step(wf, "publish", "Publish the results")
    assert "--details-dir details-out" in publish["run"]
    deliver = _step(wf, "publish", "Commit the details and the results")
    assert "results deliver" in deliver["run"]


def test_every_evaluate_job_checks_out_the_default_branchs_current_head(workflows):
    """Issue 17: a late approval runs the default branch as it is now, with any fix merged since
    the event, not the commit the triggering event saw."""
    wf = workflows["evaluate"]
    for job in ("prepare", "evaluate", "publish"):
        checkouts = [
            s for j, s in rules.steps(wf) if j == job and "actions/checkout@" in s.get("uses", "")
        ]
        assert checkouts and all(
            s["with"].get("ref") == rules.DEFAULT_BRANCH_REF for s in checkouts
        ), job


def test_the_prepare_job_fails_closed_without_required_reviewers(workflows):
    """Issue 17: the prepare job asks GitHub about the gpu-evaluation environment for either
    event, and both intakes refuse unless it has required reviewers (test_revisions.py)."""
    wf = workflows["evaluate"]
    ask = _step(wf, "prepare", "Ask GitHub whether the gpu-evaluation environment")
    assert "if" not in ask
    assert ask["run"] == 'gh api "repos/$REPOSITORY/environments/gpu-evaluation" > environment.json'
    for name in ("Intake the pull request", "Intake the maintainer"):
        assert "--environment environment.json" in _step(wf, "prepare", name)["run"]
    assert "--file-history file-history.json" in _step(wf, "prepare", "Intake the pull")["run"]
