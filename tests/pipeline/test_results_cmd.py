"""`medlb results`: merge (scale-out), intake of untrusted bundles, publish and failure records."""

from __future__ import annotations

import json
import shutil
import subprocess
from pathlib import Path

import pytest
from github_fake import file_entry, jobs_answer, pull_answer, shown
from hub_runs import as_hub_run
from results_versions import without_version_3_fields

from runner.cli import main
from runner.evaluation.tasks import TASK_NAMES
from runner.evaluation.tiny_models import SAMPLE_DATA_DIR

HEAD = "ab" * 20
# What results schema version 2 added to each task.
V2_TASK_FIELDS = (
    "options", "chance_normalized", "majority_class_rate", "brier", "reliability", "letter_bias",
    "robustness",
)  # fmt: skip
REVISION = "cd" * 20


def _evaluate(model: Path, tasks: list[str], out: Path, *extra: str) -> Path:
    argv = ["evaluate", "--model", str(model), "--data-dir", str(SAMPLE_DATA_DIR), *extra]
    assert main([*argv, "--tasks", ",".join(tasks), "--no-progress", "--output", str(out)]) == 0
    return out


def _without_run_timings(doc: dict) -> dict:
    """The results document minus the fields runner.pipeline.merge.MAY_DIFFER names."""
    doc = json.loads(json.dumps(doc))
    for key in ("started_at", "finished_at", "seconds"):
        doc["run"].pop(key)
    for task in doc["tasks"].values():
        task.pop("seconds")
        if task["robustness"] is not None:
            task["robustness"].pop("seconds")
    doc["environment"].pop("device")
    doc["environment"].pop("device_count")
    for key in ("seconds", "gpu_seconds", "energy_wh"):  # a sum of the parts' measurements
        doc["loglik_cost"].pop(key)
    return doc


def test_merged_parts_equal_a_single_runner_run(tmp_path, pipeline_tiny_model, pipeline_full_run):
    from runner.pipeline.request import plan_parts

    parts = plan_parts(3)
    assert sorted(t for part in parts for t in part) == sorted(TASK_NAMES)
    dirs = [
        _evaluate(pipeline_tiny_model, tasks, tmp_path / f"p{i}") for i, tasks in enumerate(parts)
    ]
    # Parts arrive in any order (artifact download order); the merge is the same.
    assert (
        main(["results", "merge", *map(str, reversed(dirs)), "--output", str(tmp_path / "m")]) == 0
    )

    single = json.loads((pipeline_full_run / "results.json").read_text())
    merged = json.loads((tmp_path / "m" / "results.json").read_text())
    assert _without_run_timings(merged) == _without_run_timings(single)
    assert list(merged["tasks"]) == list(single["tasks"]) == list(TASK_NAMES)
    assert merged["average"] is not None
    for task in TASK_NAMES:
        name = f"predictions/{task}.jsonl"
        assert (tmp_path / "m" / name).read_bytes() == (pipeline_full_run / name).read_bytes()
    seconds = sum(json.loads((d / "results.json").read_text())["run"]["seconds"] for d in dirs)
    assert merged["run"]["seconds"] == pytest.approx(seconds)


def test_merge_refuses_overlap_tampering_and_unfinished_parts(tmp_path, pipeline_full_run, capsys):
    copy = tmp_path / "copy"
    shutil.copytree(pipeline_full_run, copy)
    out = str(tmp_path / "m")
    assert main(["results", "merge", str(pipeline_full_run), str(copy), "--output", out]) == 1
    assert "was also evaluated in" in capsys.readouterr().err

    (copy / "predictions" / "pubmedqa.jsonl").write_text('{"doc_id": 0}\n')
    assert main(["results", "merge", str(copy), "--output", out]) == 1
    assert "pubmedqa.jsonl: sha256 differs" in capsys.readouterr().err

    (copy / "results.json").unlink()  # a part whose runner was lost has no results.json
    assert main(["results", "merge", str(copy), "--output", out]) == 1
    assert "the run did not finish" in capsys.readouterr().err
    assert not (tmp_path / "m" / "results.json").exists()


def test_merged_rotation_parts_equal_a_single_rotations_run(
    tmp_path, pipeline_tiny_model, pipeline_rotations_run
):
    from runner.pipeline.request import plan_parts

    dirs = [
        _evaluate(pipeline_tiny_model, tasks, tmp_path / f"p{i}", "--rotations")
        for i, tasks in enumerate(plan_parts(3))
    ]
    assert main(["results", "merge", *map(str, dirs), "--output", str(tmp_path / "m")]) == 0
    single = json.loads((pipeline_rotations_run / "results.json").read_text())
    merged = json.loads((tmp_path / "m" / "results.json").read_text())
    assert _without_run_timings(merged) == _without_run_timings(single)
    assert merged["rotations"] is True and merged["letter_tasks_average"]["rotations"] is not None
    for task in TASK_NAMES:
        name = f"predictions/{task}.jsonl"
        assert (tmp_path / "m" / name).read_bytes() == (pipeline_rotations_run / name).read_bytes()


def test_merge_refuses_parts_with_and_without_rotations_or_of_an_older_schema(
    tmp_path, pipeline_tiny_model, pipeline_full_run, capsys
):
    rotated = _evaluate(pipeline_tiny_model, ["medmcqa"], tmp_path / "rotated", "--rotations")
    plain = tmp_path / "plain"
    shutil.copytree(pipeline_full_run, plain)
    doc = json.loads((plain / "results.json").read_text())
    doc["tasks"].pop("medmcqa")
    (plain / "results.json").write_text(json.dumps(doc))
    out = str(tmp_path / "m")
    assert main(["results", "merge", str(plain), str(rotated), "--output", out]) == 1
    assert "rotations (one part ran with --rotations, the other without)" in capsys.readouterr().err

    # The same part as a version-1 file (what medlb wrote before schema version 2).
    doc = without_version_3_fields(doc)
    for task in doc["tasks"].values():
        for field in V2_TASK_FIELDS:
            task.pop(field)
    fields = ("rotations", "chance_normalized_average", "letter_tasks_average")
    for field in fields:
        doc.pop(field)
    doc.pop("reliability_pooled")
    (plain / "results.json").write_text(json.dumps({**doc, "schema_version": 1}))
    assert main(["results", "merge", str(plain), "--output", out]) == 1
    assert "results schema version 1, not 3" in capsys.readouterr().err
    assert not (tmp_path / "m" / "results.json").exists()


def _git(repo: Path, *args: str) -> None:
    subprocess.run(["git", *args], cwd=repo, check=True, capture_output=True)


def _submission_text(model: str = "acme/med-7b", precision: str = "float32") -> str:
    return (
        f"model: {model}\nrevision: {REVISION}\nprecision: {precision}\n"
        "model_type: pretrained\nlicense: apache-2.0\ndescription: A model for the tests here.\n"
    )


@pytest.fixture
def pr_repo(tmp_path, monkeypatch) -> Path:
    """A git repo whose branch `pr` adds submissions/acme/med-7b.yaml on top of `main`."""
    repo = tmp_path / "repo"
    repo.mkdir()
    _git(repo, "init", "-q", "-b", "main")
    _git(repo, "config", "user.email", "t@example.com")
    _git(repo, "config", "user.name", "t")
    (repo / "README.md").write_text("x\n")
    _git(repo, "add", ".")
    _git(repo, "commit", "-q", "-m", "base")
    _git(repo, "checkout", "-q", "-b", "pr")
    (repo / "submissions" / "acme").mkdir(parents=True)
    (repo / "submissions" / "acme" / "med-7b.yaml").write_text(_submission_text())
    _git(repo, "add", ".")
    _git(repo, "commit", "-q", "-m", "submit")
    monkeypatch.chdir(repo)
    return repo


HEAD_REPO = "contributor/leaderboard"


def _github_answers(repo: Path) -> list[str]:
    """What the prepare job fetches about PR #7 (head HEAD, adding the one submission), as the
    intake options that pass it on."""
    blob = subprocess.run(
        ["git", "rev-parse", "pr:submissions/acme/med-7b.yaml"],
        cwd=repo,
        check=True,
        capture_output=True,
        text=True,
    ).stdout.strip()
    (repo.parent / "pull.json").write_text(json.dumps(pull_answer(7, HEAD, HEAD_REPO)))
    files = [file_entry("submissions/acme/med-7b.yaml", blob)]
    (repo.parent / "files.json").write_text(json.dumps(files))
    return [
        "--pull",
        str(repo.parent / "pull.json"),
        "--pull-files",
        str(repo.parent / "files.json"),
    ]


def _bundle_and_intake(repo: Path, monkeypatch, **intake) -> int:
    bundle = ["results", "bundle", "--changed-from", "main", "--pr", "7", "--head-sha", HEAD]
    assert main([*bundle, "--output", "incoming"]) == 0
    _git(repo, "checkout", "-q", "main")  # the privileged side works on the default branch
    outputs = repo / "github_output"
    monkeypatch.setenv("GITHUB_OUTPUT", str(outputs))
    options = {"--head-sha": HEAD, "--head-repo": HEAD_REPO, "--split": "2", **intake}
    argv = ["results", "intake", "--event", "workflow_run", "--bundle", "incoming"]
    argv += _github_answers(repo)
    return main([*argv, *(x for kv in options.items() for x in kv), "--output", "request"])


def test_intake_turns_a_bundle_into_a_planned_request(pr_repo, monkeypatch):
    assert _bundle_and_intake(pr_repo, monkeypatch) == 0
    request = json.loads((pr_repo / "request" / "request.json").read_text())
    assert (request["pr"], request["head_sha"], request["pr_validation"]) == (7, HEAD, "success")
    assert (pr_repo / "request" / "submissions/acme/med-7b.yaml").read_text() == _submission_text()
    outputs = (pr_repo / "github_output").read_text()
    assert "submission<<" in outputs and "request/submissions/acme/med-7b.yaml" in outputs
    matrix = json.loads(outputs.split("matrix<<")[1].splitlines()[1])
    assert [entry["part"] for entry in matrix["include"]] == [1, 2]
    assert sorted(",".join(e["tasks"] for e in matrix["include"]).split(",")) == sorted(TASK_NAMES)


@pytest.mark.parametrize(
    ("tamper", "message"),
    [
        (lambda b: (b / "extra.sh").write_text("echo hi"), "unexpected: ['extra.sh']"),
        (
            lambda b: (b / "bundle.json").write_text(
                json.dumps({"submission": "submissions/../../etc.yaml", "pr": 7, "head_sha": HEAD})
            ),
            "submission: Value error, must be exactly submissions/<org>/<model>.yaml",
        ),
        (lambda b: (b / "submissions/acme/med-7b.yaml").write_bytes(b"x" * 70000), "larger than"),
    ],
)
def test_intake_refuses_a_tampered_bundle(pr_repo, monkeypatch, capsys, tamper, message):
    bundle = ["results", "bundle", "--changed-from", "main", "--pr", "7", "--head-sha", HEAD]
    assert main([*bundle, "--output", "incoming"]) == 0
    tamper(pr_repo / "incoming")
    argv = ["results", "intake", "--event", "workflow_run", "--bundle", "incoming"]
    argv += [*_github_answers(pr_repo), "--head-repo", HEAD_REPO]
    assert main([*argv, "--head-sha", HEAD, "--output", "request"]) == 1
    assert message in capsys.readouterr().err
    assert not (pr_repo / "request").exists()


def test_intake_refuses_a_bundle_for_another_commit(pr_repo, monkeypatch, capsys):
    assert _bundle_and_intake(pr_repo, monkeypatch, **{"--head-sha": "ef" * 20}) == 1
    assert "is not the checked commit" in capsys.readouterr().err


def _publish(run_dir: Path, *extra: str, model: str = "acme/med-7b") -> int:
    """Publish a Hub run of `model` at REVISION (a copy of `run_dir`: hub_runs), as the GPU job
    hands it over, recomputed against the bundled sample questions."""
    hub_run = Path("hub-runs") / f"{run_dir.parent.name}-{run_dir.name}"
    if not hub_run.exists():
        as_hub_run(run_dir, hub_run, model, REVISION)
    argv = ["results", "publish", str(hub_run), "--request", "request"]
    argv += ["--data-dir", str(SAMPLE_DATA_DIR)]
    return main([*argv, "--results-dir", "results", "--out", "publish", *extra])


RESULT = f"results/acme/med-7b/{REVISION}.json"
FAILURE = f"results/acme/med-7b/{REVISION}.failure.json"


def test_publish_writes_the_result_and_replaces_a_failure_record(
    pr_repo, monkeypatch, pipeline_full_run, capsys
):
    assert _bundle_and_intake(pr_repo, monkeypatch) == 0
    stale = pr_repo / FAILURE
    stale.parent.mkdir(parents=True)
    stale.write_text("{}")
    assert _publish(pipeline_full_run) == 0

    from runner.results_schema import load_result

    published = load_result(pr_repo / RESULT)
    assert (published.model.id, published.model.revision) == ("acme/med-7b", REVISION)
    # Recomputed from the predictions and the sample rows: the evaluation's own numbers.
    assert published.tasks == load_result(pipeline_full_run / "results.json").tasks
    changes = json.loads((pr_repo / "publish" / "changes.json").read_text())
    # What to delete is decided against the live branch when committing (test_landing.py).
    assert (changes["write"], changes["delete_if_present"]) == ([RESULT], [FAILURE])
    assert (changes["revision"], changes["base_revision"]) == (REVISION, None)
    assert not stale.exists()
    comment = (pr_repo / "publish" / "comment.md").read_text()
    assert "| MedQA (USMLE, 4 options) |" in comment and "**average**" in comment
    # The terminal gets the score table as text (the comment's Markdown is for GitHub).
    printed = capsys.readouterr().out
    assert "\nmedqa_4options " in printed and "\naverage " in printed and "\\" not in printed


def test_publish_stages_the_details_byte_for_byte_at_their_branch_paths(
    pr_repo, monkeypatch, pipeline_rotations_run
):
    """`--details-dir`: every predictions file, at <org>/<model>/<revision>/predictions/, with
    the sha256 the published result pins; the plan commits them first (test_landing.py)."""
    import hashlib

    from runner.results_schema import load_result

    assert _bundle_and_intake(pr_repo, monkeypatch) == 0
    assert _publish(pipeline_rotations_run, "--details-dir", str(pr_repo / "details-out")) == 0
    published = load_result(pr_repo / RESULT)
    changes = json.loads((pr_repo / "publish" / "changes.json").read_text())
    expected = [f"acme/med-7b/{REVISION}/predictions/{task}.jsonl" for task in sorted(TASK_NAMES)]
    assert (changes["details_dir"], changes["details"]) == ("details-out", expected)
    for task in TASK_NAMES:
        staged = pr_repo / "details-out" / f"acme/med-7b/{REVISION}/predictions/{task}.jsonl"
        original = pipeline_rotations_run / "predictions" / f"{task}.jsonl"
        assert staged.read_bytes() == original.read_bytes()
        assert hashlib.sha256(staged.read_bytes()).hexdigest() == (
            published.tasks[task].predictions_sha256
        )


def test_publish_refuses_incomplete_or_mismatched_runs(
    pr_repo, monkeypatch, pipeline_tiny_model, pipeline_full_run, capsys
):
    assert _bundle_and_intake(pr_repo, monkeypatch) == 0
    partial = _evaluate(pipeline_tiny_model, ["pubmedqa"], pr_repo / "partial")
    assert _publish(partial) == 1
    assert "incomplete run, 8 of 9 planned tasks missing (" in capsys.readouterr().err
    submission = pr_repo / "request" / "submissions" / "acme" / "med-7b.yaml"
    submission.write_text(_submission_text(precision="bfloat16"))
    assert _publish(pipeline_full_run) == 1
    assert "run in float32, the submission asks for bfloat16" in capsys.readouterr().err
    assert not (pr_repo / "results").exists()


OOM_LOG = (
    "Traceback (most recent call last):\ntorch.OutOfMemoryError: CUDA out of memory. Tried 2 GiB\n"
)
LOAD_LOG = "loading\nmedlb: error: /models/x: cannot load the model (bad header)\n"


@pytest.mark.parametrize(
    ("prepare", "evaluate", "log", "stage", "reason"),
    [
        ("success", "failure", OOM_LOG, "evaluation", "out of memory on the GPU"),
        ("success", "failure", LOAD_LOG, "loading", "cannot load the model (bad header)"),
        ("success", "failure", None, "evaluation", "runner lost"),
    ],
)
def test_fail_records_why_and_where(
    pr_repo, monkeypatch, capsys, prepare, evaluate, log, stage, reason
):
    """A GPU job that started and failed is recorded for the queue page."""
    assert _bundle_and_intake(pr_repo, monkeypatch) == 0
    started = jobs_answer(("Intake", "GitHub Actions 2"), ("GPU evaluation 1: PR #7", "gpu-a"))
    (pr_repo / "jobs.json").write_text(json.dumps([started]))  # gh api --paginate --slurp
    (pr_repo / "request" / "validation.log").write_text(
        "::error file=x.yaml,line=1,title=path::model: must be submitted as submissions/a/b.yaml\n"
    )
    if log is not None:
        (pr_repo / "logs").mkdir()
        (pr_repo / "logs" / "evaluate-part-1.log").write_text(log)
    argv = ["results", "fail", "--request", "request", "--prepare", prepare, "--evaluate", evaluate]
    argv += ["--jobs", "jobs.json"]
    assert main([*argv, "--logs", "logs", "--results-dir", "results", "--out", "publish"]) == 0

    from runner.results_schema import load_failure

    failure = load_failure(pr_repo / FAILURE)
    assert (failure.model, failure.revision, failure.stage) == ("acme/med-7b", REVISION, stage)
    assert reason in failure.reason
    assert f"::error title={stage}::acme/med-7b: " in capsys.readouterr().out
    assert reason in shown((pr_repo / "publish" / "comment.md").read_text())
    changes = json.loads((pr_repo / "publish" / "changes.json").read_text())
    assert (changes["kind"], changes["write"]) == ("failure", [FAILURE])


@pytest.mark.parametrize(
    ("jobs", "said"),
    [
        (None, "whether one started is not known (the run's job list could not be read)"),
        (
            jobs_answer(("GPU evaluation 1: PR #7", None)),
            "no GPU job started: the approval was rejected or expired",
        ),
    ],
)
def test_a_run_no_gpu_job_started_is_answered_on_the_pr_only(pr_repo, monkeypatch, jobs, said):
    """Approval rejected or expired (the GPU job never had a runner), or the jobs could not be
    listed (then the comment says only that it is not known): the PR gets a comment, the default
    branch gets nothing."""
    assert _bundle_and_intake(pr_repo, monkeypatch) == 0
    argv = ["results", "fail", "--request", "request", "--prepare", "success"]
    argv += ["--evaluate", "failure", "--results-dir", "results", "--out", "publish"]
    if jobs is not None:
        (pr_repo / "jobs.json").write_text(json.dumps(jobs))
        argv += ["--jobs", "jobs.json"]
    assert main(argv) == 0
    comment = shown((pr_repo / "publish" / "comment.md").read_text())
    assert said in comment
    assert "Nothing was recorded on the default branch" in comment
    assert not (pr_repo / "publish" / "changes.json").exists(), "nothing to commit to main"
    assert not (pr_repo / "results").exists()


def test_an_invalid_pull_request_is_answered_on_the_pr_and_never_committed(
    pr_repo, monkeypatch, capsys
):
    assert _bundle_and_intake(pr_repo, monkeypatch, **{"--pr-validation": "failure"}) == 0
    (pr_repo / "request" / "validation.log").write_text(
        "::error file=x.yaml,line=1,title=path::model: must be submitted as submissions/a/b.yaml\n"
    )
    argv = ["results", "fail", "--request", "request", "--prepare", "success"]
    assert (
        main([*argv, "--evaluate", "skipped", "--results-dir", "results", "--out", "publish"]) == 0
    )
    assert "::error title=validation::acme/med-7b: " in capsys.readouterr().out
    comment = shown((pr_repo / "publish" / "comment.md").read_text())
    assert "model: must be submitted as" in comment and "every push is validated again" in comment
    assert not (pr_repo / "publish" / "changes.json").exists(), "nothing to commit to main"
    assert not (pr_repo / "results").exists()


HUB_DOWN_LOG = (
    "  ERROR hub-access      the Hub did not answer (ConnectError)\n"
    "medlb: error: could not check 1 file: the Hub did not answer, which says nothing about the "
    "submission; re-run the check\n"
)


@pytest.mark.parametrize("dispatched", [False, True])
def test_a_hub_outage_in_the_re_validation_is_never_blamed_on_the_submission(
    pr_repo, monkeypatch, capsys, dispatched
):
    """The re-validation gave up with exit 3 (the Hub did not answer): the comment says nothing
    is known to be wrong and asks nobody to fix the file; a dispatched run records no failure."""
    if dispatched:
        _git(pr_repo, "checkout", "-q", "main")
        _git(pr_repo, "merge", "-q", "pr")
        intake = ["results", "intake", "--event", "workflow_dispatch", "--output", "request"]
        assert main([*intake, "--submission", "submissions/acme/med-7b.yaml"]) == 0
    else:
        assert _bundle_and_intake(pr_repo, monkeypatch) == 0
    (pr_repo / "request" / "validation.log").write_text(HUB_DOWN_LOG)
    argv = ["results", "fail", "--request", "request", "--prepare", "failure"]
    assert (
        main([*argv, "--evaluate", "skipped", "--results-dir", "results", "--out", "publish"]) == 0
    )
    comment = shown((pr_repo / "publish" / "comment.md").read_text())
    assert "the Hugging Face Hub did not answer" in comment
    assert "nothing is known to be wrong with it" in comment
    assert "Fix the submission" not in comment and "Nothing was recorded" in comment
    assert not (pr_repo / "publish" / "changes.json").exists(), "no failure record"


def test_a_maintainer_dispatch_takes_a_submission_of_the_default_branch(pr_repo, capsys):
    intake = ["results", "intake", "--event", "workflow_dispatch", "--output", "request"]
    assert main([*intake, "--submission", "submissions/acme/med-7b.yaml", "--split", "9"]) == 0
    request = json.loads((pr_repo / "request" / "request.json").read_text())
    assert (request["pr"], request["pr_validation"]) == (None, None)
    assert sorted(request["parts"]) == sorted([task] for task in TASK_NAMES)
    assert main([*intake, "--submission", "../secrets/x.yaml"]) == 2
    assert "not submissions/<org>/<model>.yaml" in capsys.readouterr().err
    assert main([*intake, "--submission", "submissions/acme/none.yaml"]) == 1
    assert "no such file on this branch" in capsys.readouterr().err


def test_bundle_needs_exactly_one_changed_submission(pr_repo, capsys):
    (pr_repo / "submissions" / "acme" / "other.yaml").write_text(_submission_text("acme/other"))
    _git(pr_repo, "add", ".")
    _git(pr_repo, "commit", "-q", "-m", "second")
    bundle = ["results", "bundle", "--changed-from", "main", "--pr", "7", "--head-sha", HEAD]
    assert main([*bundle, "--output", "incoming"]) == 1
    assert "nothing to bundle; a PR must add or change exactly one" in capsys.readouterr().err
    assert not (pr_repo / "incoming").exists()


def test_a_rejected_submission_is_explained_with_our_validators_words(tmp_path, capsys):
    from runner.pipeline.failure_reasons import explain_failure

    path = tmp_path / "submissions" / "acme" / "med-7b.yaml"
    path.parent.mkdir(parents=True)
    path.write_text(_submission_text(precision="float64"))
    assert main(["validate", str(path), "--offline"]) == 1
    log = tmp_path / "validation.log"
    log.write_text(capsys.readouterr().out)  # the text report, as `tee` keeps it outside Actions
    report = explain_failure(
        prepare="failure", evaluate="skipped", pr_validation="success",
        validation_log=log, evaluate_logs=[],
    )  # fmt: skip
    assert report.stage == "validation"
    assert report.reason.startswith("schema") and "precision" in report.reason


def test_a_run_that_does_not_publish_is_recorded_at_the_publishing_stage(
    pr_repo, monkeypatch, pipeline_full_run, capsys
):
    assert _bundle_and_intake(pr_repo, monkeypatch) == 0
    submission = pr_repo / "request" / "submissions" / "acme" / "med-7b.yaml"
    submission.write_text(_submission_text(precision="bfloat16"))
    capsys.readouterr()
    assert _publish(pipeline_full_run) == 1
    (pr_repo / "publish.log").write_text(capsys.readouterr().err)  # what `tee -a` keeps
    argv = ["results", "fail", "--request", "request", "--prepare", "success"]
    argv += ["--evaluate", "success", "--publish", "failure", "--publish-log", "publish.log"]
    assert main([*argv, "--results-dir", "results", "--out", "publish"]) == 0

    from runner.results_schema import load_failure

    failure = load_failure(pr_repo / FAILURE)
    assert failure.stage == "publishing"
    assert "run in float32, the submission asks for bfloat16" in failure.reason
    assert not (pr_repo / RESULT).exists()


# ---- the question texts: staged by publish from the pinned rows, landed by deliver ------------


def _texts_of_sample(task: str) -> bytes:
    from runner.evaluation.question_texts import texts_bytes, texts_of_rows
    from runner.evaluation.task_data import load_task_rows
    from runner.evaluation.tasks import TASKS

    return texts_bytes(texts_of_rows(task, load_task_rows(TASKS[task], SAMPLE_DATA_DIR)))


@pytest.fixture
def texts_published(pr_repo, monkeypatch, pipeline_rotations_run):
    """PR #7 published with `--details-dir details-out`, and GitHub's copy of the repository
    (main without the submission: the PR is not merged)."""
    from github_fake import FakeGitHub

    assert _bundle_and_intake(pr_repo, monkeypatch) == 0
    assert _publish(pipeline_rotations_run, "--details-dir", str(pr_repo / "details-out")) == 0
    _git(pr_repo.parent, "clone", "-q", "--bare", "--branch", "main", str(pr_repo), "origin.git")
    github = FakeGitHub(pr_repo.parent / "origin.git")
    github.pulls[7] = pull_answer(7, HEAD, HEAD_REPO)
    monkeypatch.setenv("GITHUB_STEP_SUMMARY", str(pr_repo.parent / "summary.md"))
    return github


def _deliver_plan(github) -> str | None:
    from github_fake import OWNER_REPO

    from runner.github_api import GitHubRepo
    from runner.pipeline.landing import Backoff, deliver

    repo = GitHubRepo(OWNER_REPO, github)
    backoff = Backoff(sleep=lambda _: None, jitter=lambda: 1.0)
    return deliver(Path("publish"), Path("request"), repo=repo, branch="main", run_url=None,
                   backoff=backoff)  # fmt: skip


def _texts_paths() -> dict[str, str]:
    from runner.evaluation.question_texts import texts_path
    from runner.results_schema import load_result

    tasks = load_result(Path(RESULT)).tasks
    return {name: texts_path(name, task.data_sha256) for name, task in tasks.items()}


def test_publish_stages_the_question_texts_of_the_pinned_rows_and_deliver_lands_them(
    texts_published, pr_repo
):
    changes = json.loads((pr_repo / "publish" / "changes.json").read_text())
    paths = _texts_paths()
    assert changes["questions"] == [paths[task] for task in TASK_NAMES]
    assert _deliver_plan(texts_published) is not None
    for task, path in paths.items():  # the rows read again, not anything the run wrote
        assert texts_published.file(path, "details") == _texts_of_sample(task)
    assert texts_published.file(RESULT) is not None


def test_question_texts_already_on_the_branch_are_kept_and_other_bytes_are_never_replaced(
    texts_published,
):
    from runner.errors import UserError

    paths = _texts_paths()
    same, other = paths["pubmedqa"], paths["medqa_4options"]
    texts_published.push({same: _texts_of_sample("pubmedqa")}, branch="details")
    texts_published.push({other: b'{"tampered": true}\n'}, branch="details")
    with pytest.raises(UserError, match="holds other question texts; not replaced"):
        _deliver_plan(texts_published)
    assert texts_published.file(other, "details") == b'{"tampered": true}\n'
    assert texts_published.file(RESULT) is None  # nothing published
    texts_published.push({other: _texts_of_sample("medqa_4options")}, branch="details")
    sent = len(texts_published.bodies)
    assert _deliver_plan(texts_published) is not None
    uploaded = [b.get("content") for b in texts_published.bodies[sent:] if isinstance(b, dict)]
    assert _texts_of_sample("pubmedqa").decode() not in uploaded  # identical: not sent again
    assert _texts_of_sample("mmlu_anatomy").decode() in uploaded  # absent: added
    assert texts_published.file(other, "details") == _texts_of_sample("medqa_4options")


def _edit_plan(pr_repo: Path, **update) -> None:
    plan_file = pr_repo / "publish" / "changes.json"
    plan_file.write_text(json.dumps({**json.loads(plan_file.read_text()), **update}))


def test_a_plan_naming_question_texts_of_other_rows_is_refused(texts_published, pr_repo):
    from runner.errors import UserError

    elsewhere = "questions/medqa_4options/" + "0" * 64 + ".json"
    target = pr_repo / "details-out" / elsewhere
    target.parent.mkdir(parents=True, exist_ok=True)
    target.write_bytes(_texts_of_sample("medqa_4options"))
    _edit_plan(pr_repo, questions=[elsewhere])
    with pytest.raises(UserError, match="question texts may be only those of acme/med-7b"):
        _deliver_plan(texts_published)
    assert texts_published.head("details") is None and texts_published.file(RESULT) is None


@pytest.mark.parametrize(
    "edit",
    [
        lambda doc: {**doc, "questions": doc["questions"][1:]},  # a row missing
        lambda doc: {**doc, "task": "medmcqa"},  # another task's texts
        lambda doc: {**doc, "licence": "all rights reserved"},
    ],
)
def test_question_texts_that_do_not_match_the_result_are_refused(texts_published, pr_repo, edit):
    from runner.errors import UserError

    staged = pr_repo / "details-out" / _texts_paths()["medqa_4options"]
    staged.write_text(json.dumps(edit(json.loads(staged.read_bytes()))) + "\n")
    with pytest.raises(UserError, match="not the question texts of medqa_4options"):
        _deliver_plan(texts_published)
    assert texts_published.head("details") is None and texts_published.file(RESULT) is None
