"""A rehearsal of the whole GitHub flow on a temporary git repository and a tiny local model.

PR branch adds a submission → validate.yml → evaluate.yml (ask GitHub about the PR and the
gpu-evaluation environment, intake, re-validate, a two-part GPU split with a lost runner whose
re-run starts clean, merge, publish recomputing every score, commit the per-item details to the
details branch and then the result to the default branch through the Git Data API, comment) →
pages.yml (site build, reading the details branch checked out beside: the result waits on the
queue page) → the PR is merged → pages.yml (the model is on the leaderboard).
Each job runs in its own fresh clone of the default branch, as on GitHub, and the `medlb` commands
each job runs are compared with the `run:` steps of the workflow files, job by job and in order.
GitHub's API is
`github_fake.FakeGitHub` over the bare "origin" repository. Two deliberate differences from CI,
because tests are offline: validation passes `--offline` (and `--model-dir` for the model
checks), the Hub serves a tiny local model (`hub_runs.serve_from_hub`), and `medlb evaluate` and
`medlb results publish` read the bundled sample questions instead of the Hub's rows.

A second rehearsal plays the attack of the trust-boundary review: a fork PR that edits
validate.yml and bundles another model's file. Nothing is evaluated or published. A third plays
issue 17's: a stranger's PR that downgrades another org's submission, approved and published,
and a forgotten run of an owner's earlier push approved late; the owner's published score and
rank stay as they were.
"""

from __future__ import annotations

import hashlib
import json
import shutil
import subprocess
from pathlib import Path

import pytest
import workflow_rules as rules
from github_fake import (
    OWNER_REPO,
    FakeGitHub,
    commits_answer,
    environment_answer,
    files_answer,
    pull_answer,
    shown,
)
from hub_runs import serve_from_hub

from runner import github_api
from runner.cli import main
from runner.evaluation.question_texts import texts_bytes, texts_of_rows
from runner.evaluation.task_data import load_task_rows
from runner.evaluation.tasks import TASKS
from runner.evaluation.tiny_models import SAMPLE_DATA_DIR

ROOT = Path(__file__).resolve().parents[2]
MODEL_ID = "rehearsal/tiny-gpt2"
SUBMISSION = f"submissions/{MODEL_ID}.yaml"
FORK = "contributor/leaderboard"
RUN_ID = "9001"  # github.run_id: the GPU jobs' run directories are keyed by it


def preflight(workflows: dict[str, dict]) -> None:
    """What must hold before a rehearsal means anything: the trust rules of every workflow."""
    problems = [f"{name}: {p}" for name, wf in workflows.items() for p in rules.trust_problems(wf)]
    if problems:
        raise AssertionError("workflow breaks the trust boundary:\n" + "\n".join(problems))


def _git(cwd: Path, *args: str) -> str:
    done = subprocess.run(["git", *args], cwd=cwd, check=True, capture_output=True, text=True)
    return done.stdout.strip()


class Rehearsal:
    """Runs `medlb` in-process inside one job's checkout and records what each job ran."""

    def __init__(self, origin: Path, work: Path, monkeypatch: pytest.MonkeyPatch) -> None:
        self.origin, self.work, self.monkeypatch = origin, work, monkeypatch
        self.ran: dict[str, list[list[str]]] = {}

    def job(self, name: str, ref: str = "main") -> Path:
        """A fresh clone at `ref` (the default branch unless the job is the PR's own)."""
        checkout = self.work / f"{name}-{sum(map(len, self.ran.values()))}"
        _git(self.work, "clone", "-q", "--branch", ref, str(self.origin), str(checkout))
        self.monkeypatch.chdir(checkout)
        self.monkeypatch.setenv("GITHUB_OUTPUT", str(checkout / ".github_output"))
        self.ran.setdefault(name, []).append([])
        return checkout

    def medlb(self, *argv: str, expect: int = 0) -> None:
        job = next(reversed(self.ran))
        self.ran[job][-1].append(" ".join(argv[:2]) if argv[0] in ("results", "site") else argv[0])
        assert main(list(argv)) == expect, f"medlb {' '.join(argv)}"

    def ask_github(
        self, checkout: Path, pr: int, head: str, head_repo: str, last_changed_by=None
    ) -> list[str]:
        """The prepare job's `gh api` steps: the PR, its files, the submission's last commit on
        the default branch and the gpu-evaluation environment, as intake's options."""
        (checkout / "pull.json").write_text(json.dumps(pull_answer(pr, head, head_repo)))
        files = files_answer(self.origin, "main", head)
        (checkout / "pull-files.json").write_text(json.dumps([files]))  # --paginate --slurp
        history = commits_answer(last_changed_by) if last_changed_by else []
        (checkout / "file-history.json").write_text(json.dumps(history))
        (checkout / "environment.json").write_text(json.dumps(environment_answer()))
        return [
            "--pull", "pull.json", "--pull-files", "pull-files.json", "--head-repo", head_repo,
            "--environment", "environment.json", "--file-history", "file-history.json",
        ]  # fmt: skip

    @staticmethod
    def outputs(checkout: Path) -> dict[str, str]:
        lines = (checkout / ".github_output").read_text().splitlines()
        values, i = {}, 0
        while i < len(lines):
            name, delimiter = lines[i].split("<<")
            values[name], i = lines[i + 1], i + 3
            assert lines[i - 1] == delimiter
        return values


@pytest.fixture
def origin(tmp_path: Path, pipeline_tiny_model: Path) -> Path:
    """A bare 'GitHub' repository: main with the site's sources and references/, and a branch
    `pr` adding one submission."""
    seed = tmp_path / "seed"
    seed.mkdir()
    _git(seed, "init", "-q", "-b", "main")
    _git(seed, "config", "user.email", "ci@example.com")
    _git(seed, "config", "user.name", "ci")
    for tree in ("references", "site"):
        shutil.copytree(ROOT / tree, seed / tree)
    shutil.copy(ROOT / "mkdocs.yml", seed / "mkdocs.yml")
    (seed / "results").mkdir()
    (seed / "results" / ".gitkeep").write_text("")
    _git(seed, "add", ".")
    _git(seed, "commit", "-q", "-m", "leaderboard")
    _git(seed, "checkout", "-q", "-b", "pr")
    weights = (pipeline_tiny_model / "model.safetensors").read_bytes()
    (seed / SUBMISSION).parent.mkdir(parents=True)
    (seed / SUBMISSION).write_text(
        f"model: {MODEL_ID}\nrevision: {hashlib.sha1(weights).hexdigest()}\n"
        "precision: float32\nmodel_type: pretrained\nlicense: apache-2.0\n"
        "description: A one-layer GPT-2 with random weights, for the rehearsal.\n"
    )
    _git(seed, "add", ".")
    _git(seed, "commit", "-q", "-m", "Submit rehearsal/tiny-gpt2")
    bare = tmp_path / "origin.git"
    _git(tmp_path, "clone", "-q", "--bare", str(seed), str(bare))
    return bare


def test_rehearsal_plays_the_workflows_from_pr_to_site(
    origin, tmp_path, monkeypatch, pipeline_tiny_model
):
    workflows = {
        n: rules.load(rules.WORKFLOWS / f"{n}.yml") for n in ("validate", "evaluate", "pages")
    }
    preflight(workflows)
    monkeypatch.setenv("GITHUB_ACTIONS", "true")
    monkeypatch.setenv("GITHUB_STEP_SUMMARY", str(tmp_path / "summary.md"))
    github = FakeGitHub(origin)
    monkeypatch.setattr(
        github_api, "repo_from_environment", lambda: github_api.GitHubRepo(OWNER_REPO, github)
    )
    work = tmp_path / "runners"
    work.mkdir()
    flow = Rehearsal(origin, work, monkeypatch)
    model = str(pipeline_tiny_model)

    # validate.yml: the PR's merge commit, unprivileged.
    pr = flow.job("validate", ref="pr")
    head_sha = _git(pr, "rev-parse", "HEAD")
    _git(pr, "fetch", "-q", "origin", "main:refs/remotes/origin/main")
    flow.medlb("validate", "--changed-from", "origin/main", "--offline")
    bundle = ["results", "bundle", "--changed-from", "origin/main", "--pr", "1"]
    flow.medlb(*bundle, "--head-sha", head_sha, "--output", "submission-bundle")
    artifact_submission = pr / "submission-bundle"

    # evaluate.yml / prepare: default branch; the bundle arrives as an artifact, and GitHub is
    # asked about the PR it names.
    prepare = flow.job("prepare")
    assert not (prepare / SUBMISSION).exists()  # the PR's file is not on the default branch
    shutil.copytree(artifact_submission, prepare / "incoming")
    flow.medlb("results", "bundle-pr", "incoming")
    answers = flow.ask_github(prepare, int(flow.outputs(prepare)["pr"]), head_sha, FORK)
    intake = ["results", "intake", "--event", "workflow_run", "--bundle", "incoming", *answers]
    intake += ["--workflow-path", ".github/workflows/validate.yml"]
    flow.medlb(*intake, "--head-sha", head_sha, "--split", "2", "--output", "request")
    out = flow.outputs(prepare)
    assert out["label"] == f"PR #1: {MODEL_ID}@{out['revision'][:12]}"
    assert out["evaluate"] == "true" and out["submission"] == f"request/{SUBMISSION}"
    flow.medlb("validate", out["submission"], "--offline", "--model-dir", model)
    artifact_request = prepare / "request"

    # evaluate.yml / evaluate: one GPU job per part, the model downloaded from the Hub at the
    # pinned revision; part 1's runner is lost after one task, and the re-run on the same runner
    # starts from an empty run directory (the step removes it: an attempt trusts nothing an
    # earlier one left).
    serve_from_hub(monkeypatch, pipeline_tiny_model, out["revision"])
    matrix = json.loads(out["matrix"])["include"]
    runner_workspace = work / "gpu-runner"  # $RUNNER_WORKSPACE, outlives the jobs
    staged_parts = []
    for entry in matrix:
        run_dir = runner_workspace / "medlb-runs" / RUN_ID / f"part-{entry['part']}"
        evaluate = ["evaluate", f"request/{SUBMISSION}", "--data-dir", str(SAMPLE_DATA_DIR)]
        if entry["part"] == 1:
            lost = flow.job("evaluate (lost runner)")
            shutil.copytree(artifact_request, lost / "request")
            first_task = entry["tasks"].split(",")[0]
            flow.medlb(*evaluate, "--tasks", first_task, "--no-progress", "--output", str(run_dir))
            (run_dir / "results.json").unlink()  # killed before the run finished
        gpu = flow.job("evaluate")
        shutil.copytree(artifact_request, gpu / "request")
        shutil.rmtree(run_dir, ignore_errors=True)  # the step's `rm -rf "$run_dir"`
        flow.medlb(*evaluate, "--tasks", entry["tasks"], "--no-progress", "--output", str(run_dir))
        staged = gpu / "staged" / f"part-{entry['part']}"
        flow.medlb("results", "merge", str(run_dir), "--output", str(staged))
        staged_parts.append(staged)

    # evaluate.yml / publish: default branch, request + parts as artifacts, one commit.
    publish = flow.job("publish")
    before = github.head()
    shutil.copytree(artifact_request, publish / "request")
    for staged in staged_parts:
        shutil.copytree(staged, publish / "parts" / staged.name)
    parts = sorted(str(p.relative_to(publish)) for p in (publish / "parts").glob("part-*"))
    flow.medlb("results", "merge", *parts, "--output", "merged")
    run_url = f"https://github.com/{OWNER_REPO}/actions/runs/{RUN_ID}"
    flow.medlb(
        "results", "publish", "merged", "--request", "request", "--results-dir", "results",
        "--out", "publish", "--details-dir", "details-out", "--run-url", run_url,
        "--data-dir", str(SAMPLE_DATA_DIR),
    )  # fmt: skip
    result_path = f"results/{MODEL_ID}/{out['revision']}.json"
    changes = json.loads((publish / "publish" / "changes.json").read_text())
    assert changes["write"] == [result_path]
    assert len(changes["details"]) == 9 and changes["details_dir"] == "details-out"
    assert github.head("details") is None  # the first publication makes the branch
    github.pulls[1] = pull_answer(1, head_sha, FORK)  # still open at the evaluated commit
    deliver = ["results", "deliver", "--request", "request", "--out", "publish"]
    flow.medlb(*deliver, "--branch", "main")
    assert _git(origin, "rev-parse", "main^") == before  # one commit on the branch
    [(pr, comment)] = github.comments
    assert pr == 1 and MODEL_ID in shown(comment) and "Committed as" in comment
    assert "Merge this pull request to rank these scores" in comment  # the acceptance step
    assert "Per-item details committed to details at" in shown(comment)
    # The default branch gained the result only; the details branch, parentless, the predictions.
    added = _git(origin, "diff", "--name-only", "main^", "main").split()
    assert added == [result_path]
    size = int(_git(origin, "cat-file", "-s", f"main:{result_path}"))
    assert size < 100_000, "at most 100 KB per model on the default branch"
    assert _git(origin, "rev-list", "--count", "details") == "1"

    # pages.yml, before the merge: the result waits on the queue page with its scores and a link
    # to the PR; no model page, no leaderboard row (the default branch does not submit it yet).
    pages = flow.job("pages")
    flow.medlb("site", "build", "--out", "site-out")
    queue = (pages / "site-out" / "queue" / "index.html").read_text()
    assert "Evaluated, awaiting merge (1)" in queue and MODEL_ID in queue
    assert "/pulls?q=is%3Apr%20%22rehearsal%2Ftiny-gpt2%22" in queue and run_url in queue
    assert not (pages / "site-out" / "models" / MODEL_ID).exists()

    # Merging the PR is the acceptance step; pages.yml: the default branch, now submitting the
    # evaluated revision, and the details branch beside it.
    github.push({SUBMISSION: _git(origin, "show", f"pr:{SUBMISSION}").encode() + b"\n"}, "Merge")
    pages = flow.job("pages")
    _git(pages, "clone", "-q", "--branch", "details", str(origin), "details-branch")
    flow.medlb("site", "build", "--out", "site-out", "--details", "details-branch")
    html = "\n".join(p.read_text(errors="replace") for p in (pages / "site-out").rglob("*.html"))
    assert MODEL_ID in html
    published = json.loads((pages / result_path).read_text())
    assert published["model"]["id"] == MODEL_ID and published["average"] is not None
    assert (published["model"]["source"], published["run"]["ci_run_url"]) == ("hub", run_url)
    assert set(published["tasks"]) == {t for e in matrix for t in e["tasks"].split(",")}
    revision = published["model"]["revision"]
    for task, result in published["tasks"].items():
        on_branch = pages / "details-branch" / MODEL_ID / revision / "predictions" / f"{task}.jsonl"
        assert hashlib.sha256(on_branch.read_bytes()).hexdigest() == result["predictions_sha256"]
        view = pages / "site-out" / "data" / "questions" / MODEL_ID / f"{task}.json"
        assert json.loads(view.read_text())["n"] == result["n"]
        # The question texts publish staged from the pinned rows, served beside the view.
        texts_url = json.loads(view.read_text())["texts_url"]
        texts = json.loads((pages / "site-out" / texts_url).read_text())
        rows = load_task_rows(TASKS[task], SAMPLE_DATA_DIR)
        assert texts == json.loads(texts_bytes(texts_of_rows(task, rows)))
        assert texts["data_sha256"] == result["data_sha256"] and texts["questions"][0]["stem"]
    model_page = (pages / "site-out" / "models" / MODEL_ID / "index.html").read_text()
    assert f"questions/?model={MODEL_ID}&amp;task=medqa_4options" in model_page

    # The rehearsal ran what the workflow files run, job by job, in order.
    expected = {}
    for workflow in workflows.values():
        expected.update(rules.medlb_commands_by_job(workflow, event="workflow_run"))
    expected["pages"] = expected.pop("build")
    ran = {job: runs for job, runs in flow.ran.items() if job != "evaluate (lost runner)"}
    ran["pages"] = [ran["pages"][-1]]  # built twice: before and after the merge
    assert list(ran) == list(expected)
    for job, runs in ran.items():
        assert all(commands == expected[job] for commands in runs), job


def test_rehearsal_refuses_an_evaluate_workflow_that_checks_out_the_pr_head():
    text = (rules.WORKFLOWS / "evaluate.yml").read_text()
    checkout = "          persist-credentials: false\n"
    event = "github.event.workflow_run"
    for edit in (
        f"ref: ${{{{ {event}.head_sha }}}}",
        f"repository: ${{{{ {event}.head_repository }}}}",
    ):
        mutated = rules.parse(text.replace(checkout, checkout + f"          {edit}\n", 1))
        with pytest.raises(AssertionError, match="checks out a chosen ref/repository"):
            preflight({"evaluate": mutated})
    merge = """        run: '"$RUNNER_TEMP/venv/bin/medlb" results merge parts/part-*"""
    assert merge in text
    fetched = text.replace(
        merge, merge.replace("run: '", """run: 'git fetch origin "pull/$PR/head" && """)
    )
    with pytest.raises(AssertionError, match="fetches or checks out other code"):
        preflight({"evaluate": rules.parse(fetched)})


def _gpu_jobs(started: bool) -> str:
    """The publish job's list of this run's jobs (GET …/actions/runs/{id}/jobs, slurped)."""
    from github_fake import jobs_answer

    return json.dumps([jobs_answer(("GPU evaluation 1: PR #1", "gpu-1" if started else None))])


def test_rehearsal_of_a_model_that_fails_to_load_ends_on_the_queue_page(
    origin, tmp_path, monkeypatch, capsys, pipeline_tiny_model
):
    """evaluate fails on the runner → publish job records the failure → the queue page shows it."""
    broken = tmp_path / "broken-model"
    shutil.copytree(pipeline_tiny_model, broken)
    (broken / "config.json").write_text("{not json")
    github = FakeGitHub(origin)
    repo = github_api.GitHubRepo(OWNER_REPO, github)
    monkeypatch.setattr(github_api, "repo_from_environment", lambda: repo)
    work = tmp_path / "runners"
    work.mkdir()
    flow = Rehearsal(origin, work, monkeypatch)

    pr = flow.job("validate", ref="pr")
    head = _git(pr, "rev-parse", "HEAD")
    bundle = ["results", "bundle", "--changed-from", "origin/main", "--pr", "1", "--head-sha"]
    flow.medlb(*bundle, head, "--output", "submission-bundle")
    prepare = flow.job("prepare")
    shutil.copytree(pr / "submission-bundle", prepare / "incoming")
    intake = ["results", "intake", "--event", "workflow_run", "--bundle", "incoming"]
    intake += flow.ask_github(prepare, 1, head, FORK)
    flow.medlb(*intake, "--head-sha", head, "--output", "request")

    gpu = flow.job("evaluate")
    evaluate = ["evaluate", "--model", str(broken), "--data-dir", str(SAMPLE_DATA_DIR)]
    capsys.readouterr()
    flow.medlb(*evaluate, "--no-progress", "--output", str(gpu / "run"), expect=1)
    log = capsys.readouterr()
    (gpu / "evaluate-part-1.log").write_text(log.out + log.err)  # what `tee` keeps in CI

    publish = flow.job("publish")
    shutil.copytree(prepare / "request", publish / "request")
    (publish / "logs").mkdir()
    shutil.copy(gpu / "evaluate-part-1.log", publish / "logs")
    (publish / "jobs.json").write_text(_gpu_jobs(started=True))
    github.pulls[1] = pull_answer(1, head, FORK)
    flow.medlb(
        "results", "fail", "--request", "request", "--prepare", "success", "--evaluate", "failure",
        "--logs", "logs", "--jobs", "jobs.json", "--results-dir", "results", "--out", "publish",
    )  # fmt: skip
    out = capsys.readouterr().out
    assert f"::error title=loading::{MODEL_ID}: evaluate-part-1: " in out
    assert "config.json: cannot load" in shown((publish / "publish" / "comment.md").read_text())
    flow.medlb("results", "deliver", "--request", "request", "--out", "publish", "--branch", "main")
    revision = json.loads((publish / "publish" / "changes.json").read_text())["revision"]
    assert github.file(f"results/{MODEL_ID}/{revision}.failure.json") is not None
    assert github.file(f"results/{MODEL_ID}/{revision}.json") is None  # nothing half-published
    assert "config.json: cannot load" in shown(github.comments[-1][1])

    pages = flow.job("pages")
    flow.medlb("site", "build", "--out", "site-out")
    queue = (pages / "site-out" / "queue" / "index.html").read_text()
    assert MODEL_ID in queue and "loading" in queue and "cannot load" in queue


def test_rehearsal_of_a_fork_that_rewrites_validate_yml_evaluates_and_publishes_nothing(
    origin, tmp_path, monkeypatch, capsys
):
    """Finding 1. The default branch has BioMistral's submission and result. A fork PR changes
    only README.md and validate.yml; its rewritten validate job bundles BioMistral's file at
    another revision. The prepare job asks GitHub about the PR, whose files are README.md and
    validate.yml: intake refuses, so no request exists, no GPU job and no publish job run (their
    `if:` needs intake's outputs), and the default branch and the PR stay untouched."""
    from runner.pipeline.request import write_bundle

    seed = tmp_path / "attack"
    _git(tmp_path, "clone", "-q", str(origin), str(seed))
    victim = "submissions/BioMistral/BioMistral-7B.yaml"
    honest = "ab" * 20
    (seed / victim).parent.mkdir(parents=True)
    (seed / victim).write_text(
        f"model: BioMistral/BioMistral-7B\nrevision: '{honest}'\nprecision: bfloat16\n"
        "model_type: fine-tuned\nbase_model: mistralai/Mistral-7B-Instruct-v0.1\n"
        "license: apache-2.0\ndescription: Medical fine-tune of Mistral 7B.\n"
    )
    (seed / "results" / "BioMistral").mkdir(parents=True)
    (seed / "results" / "BioMistral" / "BioMistral-7B.json").write_text(
        json.dumps({"model": {"revision": honest}})
    )
    _git(seed, "add", ".")
    _git(seed, "-c", "user.name=m", "-c", "user.email=m@x", "commit", "-q", "-m", "BioMistral")
    _git(seed, "push", "-q", "origin", "HEAD:main")
    _git(seed, "checkout", "-q", "-b", "fork")
    (seed / ".github" / "workflows").mkdir(parents=True)
    (seed / ".github" / "workflows" / "validate.yml").write_text("name: validate\n# rewritten\n")
    (seed / "README.md").write_text("typo fix\n")
    _git(seed, "add", ".")
    _git(seed, "-c", "user.name=a", "-c", "user.email=a@x", "commit", "-q", "-m", "Fix typo")
    _git(seed, "push", "-q", "origin", "fork")
    head = _git(seed, "rev-parse", "HEAD")

    github = FakeGitHub(origin)
    main_before = github.head()
    monkeypatch.setenv("GITHUB_ACTIONS", "true")
    monkeypatch.setenv("GITHUB_STEP_SUMMARY", str(tmp_path / "summary.md"))
    work = tmp_path / "runners"
    work.mkdir()
    flow = Rehearsal(origin, work, monkeypatch)

    # The fork's own validate job runs the fork's code: it packs what it likes.
    fork = flow.job("validate", ref="fork")
    (fork / victim).write_text((seed / victim).read_text().replace(honest, "cd" * 20))
    write_bundle(fork, victim, 2, head, fork / "submission-bundle")

    prepare = flow.job("prepare")
    shutil.copytree(fork / "submission-bundle", prepare / "incoming")
    flow.medlb("results", "bundle-pr", "incoming")
    intake = ["results", "intake", "--event", "workflow_run", "--bundle", "incoming"]
    intake += flow.ask_github(prepare, 2, head, "attacker/leaderboard")
    capsys.readouterr()
    flow.medlb(*intake, "--head-sha", head, "--output", "request", expect=1)
    error = capsys.readouterr().err
    assert '".github/workflows/validate.yml": changes .github/workflows/validate.yml' in error
    assert not (prepare / "request").exists()
    assert "request<<" not in (prepare / ".github_output").read_text()  # only bundle-pr's pr
    # Nothing downstream can run, nothing reached the default branch or the PR.
    assert github.head() == main_before and github.comments == []
    assert f"'{honest}'" in github.file(victim).decode()


# ---- issue 17: nobody but a model's own merged submission decides its published score ----------

OWNED = "owner/med-7b"
OWNED_FILE = f"submissions/{OWNED}.yaml"


def _owned_submission(revision: str) -> str:
    return (
        f"model: {OWNED}\nrevision: '{revision}'\nprecision: float32\nmodel_type: pretrained\n"
        "license: apache-2.0\ndescription: The owner's model, for the rehearsal.\n"
    )


def _push_branch(
    origin: Path, work: Path, branch: str, revisions: list[str], who: str
) -> list[str]:
    """A PR branch off main, one commit per revision of the owned submission; their SHAs."""
    seed = work / f"seed-{branch}"
    _git(work, "clone", "-q", "--branch", "main", str(origin), str(seed))
    _git(seed, "checkout", "-q", "-b", branch)
    heads = []
    for revision in revisions:
        (seed / OWNED_FILE).parent.mkdir(parents=True, exist_ok=True)
        (seed / OWNED_FILE).write_text(_owned_submission(revision))
        _git(seed, "add", ".")
        _git(seed, "-c", f"user.name={who}", "-c", "user.email=x@x", "commit", "-q", "-m", revision)
        heads.append(_git(seed, "rev-parse", "HEAD"))
    _git(seed, "push", "-q", "origin", branch)
    return heads


def _all_right(run_dir: Path, task: str) -> None:
    """The GPU job's run, with every answer of `task` right (and the file's hash updated, as a
    compromised job would): a different, higher score than the honest run."""
    predictions = run_dir / "predictions" / f"{task}.jsonl"
    rows = [json.loads(line) for line in predictions.read_text().splitlines()]
    for row in rows:
        options = range(len(row["choice_logprobs"]))
        row["choice_logprobs"] = [0.0 if k == row["gold"] else -5.0 for k in options]
        row["pred"] = row["gold"]
    predictions.write_text("\n".join(json.dumps(row) for row in rows) + "\n")
    document = json.loads((run_dir / "results.json").read_text())
    digest = hashlib.sha256(predictions.read_bytes()).hexdigest()
    document["tasks"][task]["predictions_sha256"] = digest
    (run_dir / "results.json").write_text(json.dumps(document))


class Submitter:
    """The jobs of one PR's evaluation, split where an approval waits: `take_in` (validate.yml
    and the prepare job), then `evaluate_and_publish` (GPU job, publish job, deliver)."""

    def __init__(self, flow: Rehearsal, github: FakeGitHub, run: Path) -> None:
        self.flow, self.github, self.run = flow, github, run

    def take_in(self, pr: int, branch: str, head: str, head_repo: str, last: str | None) -> Path:
        checkout = self.flow.job("validate", ref=branch)
        _git(checkout, "checkout", "-q", head)
        bundle = ["results", "bundle", "--changed-from", "origin/main", "--pr", str(pr)]
        self.flow.medlb(*bundle, "--head-sha", head, "--output", "submission-bundle")
        prepare = self.flow.job("prepare")
        shutil.copytree(checkout / "submission-bundle", prepare / "incoming")
        intake = ["results", "intake", "--event", "workflow_run", "--bundle", "incoming"]
        intake += self.flow.ask_github(prepare, pr, head, head_repo, last_changed_by=last)
        self.flow.medlb(*intake, "--head-sha", head, "--output", "request")
        return prepare / "request"

    def evaluate_and_publish(self, request: Path, revision: str, *, expect: int = 0, tamper=None):
        from hub_runs import as_hub_run

        gpu = self.flow.job("evaluate")
        run = as_hub_run(self.run, gpu / "run", OWNED, revision)  # what the GPU job wrote
        if tamper:
            tamper(run)
        self.flow.medlb("results", "merge", str(run), "--output", str(gpu / "staged"))
        publish = self.flow.job("publish")
        shutil.copytree(request, publish / "request")
        shutil.copytree(gpu / "staged", publish / "merged")
        self.flow.medlb(
            "results", "publish", "merged", "--request", "request", "--results-dir", "results",
            "--out", "publish", "--data-dir", str(SAMPLE_DATA_DIR),
            "--run-url", f"https://github.com/{OWNER_REPO}/actions/runs/{RUN_ID}",
        )  # fmt: skip
        deliver = ["results", "deliver", "--request", "request", "--out", "publish"]
        self.flow.medlb(*deliver, "--branch", "main", expect=expect)

    def merge(self, revision: str) -> None:
        self.github.push({OWNED_FILE: _owned_submission(revision).encode()}, "Merge")


def _leaderboard_average(flow: Rehearsal) -> tuple[float, str]:
    pages = flow.job("pages")
    flow.medlb("site", "build", "--out", "site-out")
    rows = json.loads((pages / "site-out" / "leaderboard.json").read_text())
    [row] = [row for row in rows if row["model"] == OWNED]
    page = (pages / "site-out" / "models" / OWNED / "index.html").read_text()
    return row["average"], page


def test_rehearsal_of_a_downgrade_and_a_stale_run_leaves_the_owners_score(
    origin, tmp_path, monkeypatch, capsys, pipeline_full_run
):
    """Issue 17, HIGH. The owner's PR #1 submits GOOD, evaluated and merged. A stranger's fork PR
    #2 changes the owner's file to an older revision OLD (whose run scores higher); a maintainer
    approves it and it is published, unmerged: OLD's result lands beside GOOD's, and the
    leaderboard still ranks GOOD, with GOOD's score; the model page shows OLD as "evaluated, not
    the submitted revision". Then the owner's PR #3 pushes R1, then R2; R2 is evaluated,
    published and merged; the forgotten run of R1 is approved later and publishes nothing."""
    good, old, r1, r2 = "a1" * 20, "b2" * 20, "c3" * 20, "d4" * 20
    github = FakeGitHub(origin)
    monkeypatch.setattr(
        github_api, "repo_from_environment", lambda: github_api.GitHubRepo(OWNER_REPO, github)
    )
    monkeypatch.setenv("GITHUB_ACTIONS", "true")
    summary = tmp_path / "summary.md"
    monkeypatch.setenv("GITHUB_STEP_SUMMARY", str(summary))
    work = tmp_path / "runners"
    work.mkdir()
    flow = Rehearsal(origin, work, monkeypatch)
    owner = Submitter(flow, github, pipeline_full_run)

    # The owner's PR #1: GOOD, evaluated, published, merged.
    [head] = _push_branch(origin, work, "owner-good", [good], "owner")
    request = owner.take_in(1, "owner-good", head, "owner/leaderboard", None)
    github.pulls[1] = pull_answer(1, head, "owner/leaderboard")
    owner.evaluate_and_publish(request, good)
    owner.merge(good)
    good_result = f"results/{OWNED}/{good}.json"
    published_good = github.file(good_result)
    average_good, _ = _leaderboard_average(flow)

    # The stranger's PR #2 from a fork: the owner's file at OLD. The approver is told who opened
    # it, that it changes an existing submission, from which revision to which, and who last
    # changed that file on main.
    [head] = _push_branch(origin, work, "downgrade", [old], "stranger")
    summary.write_text("")
    request = owner.take_in(2, "downgrade", head, "stranger/leaderboard", "owner")
    approval = shown(summary.read_text())
    assert "opened by contributor" in approval and "changes an existing submission" in approval
    assert f"names revision {good}, this PR {old}" in approval
    assert "last changed by owner" in approval
    github.pulls[2] = pull_answer(2, head, "stranger/leaderboard")
    owner.evaluate_and_publish(request, old, tamper=lambda run: _all_right(run, "medqa_4options"))
    assert github.file(f"results/{OWNED}/{old}.json") is not None  # published beside, unmerged
    assert github.file(good_result) == published_good  # the owner's result: byte for byte
    assert f"'{good}'" in github.file(OWNED_FILE).decode()
    average, page = _leaderboard_average(flow)
    assert average == average_good
    assert "not the submitted revision" in page and old[:10] in page

    # The owner's PR #3 pushes R1, then R2. R1's run waits for approval; R2 goes through.
    heads = _push_branch(origin, work, "update", [r1, r2], "owner")
    stale = owner.take_in(3, "update", heads[0], "owner/leaderboard", "owner")
    request = owner.take_in(3, "update", heads[1], "owner/leaderboard", "owner")
    github.pulls[3] = pull_answer(3, heads[1], "owner/leaderboard")
    owner.evaluate_and_publish(request, r2)
    owner.merge(r2)
    github.pulls[3] = pull_answer(3, heads[1], "owner/leaderboard", state="closed")
    published_r2 = github.file(f"results/{OWNED}/{r2}.json")
    average_r2, _ = _leaderboard_average(flow)

    # The forgotten run of R1, approved late (its answers all right on PubMedQA: a higher score).
    capsys.readouterr()
    tamper = lambda run: _all_right(run, "pubmedqa")  # noqa: E731
    owner.evaluate_and_publish(stale, r1, expect=1, tamper=tamper)
    assert "PR #3 is closed now, not open" in capsys.readouterr().err
    assert "Nothing was published" in shown(github.comments[-1][1])
    assert github.file(f"results/{OWNED}/{r1}.json") is None
    assert github.file(f"results/{OWNED}/{r2}.json") == published_r2
    assert github.file(good_result) == published_good
    assert _leaderboard_average(flow)[0] == average_r2
