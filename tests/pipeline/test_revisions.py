"""Issue 17 in the pipeline: publish believes no number of the GPU artifact, a PR's request is
taken in and published only as far as GitHub and the setup allow, and untrusted text never
reaches a log raw (ARCHITECTURE.md, "Results and ranking", "Trust boundary")."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from github_fake import environment_answer, file_entry, pull_answer
from hub_runs import as_hub_run

from runner.cli import main
from runner.digests import git_blob_sha1
from runner.evaluation.tiny_models import SAMPLE_DATA_DIR
from runner.pipeline.request import load_request, write_request
from runner.results_schema import load_result

MODEL = "acme/med-7b"
REVISION = "cd" * 20
HEAD = "ab" * 20
SUBMISSION = f"submissions/{MODEL}.yaml"
RESULT = f"results/{MODEL}/{REVISION}.json"
RUN_URL = "https://github.com/medlb-org/leaderboard/actions/runs/42"


def _yaml(model: str = MODEL) -> bytes:
    return (
        f"model: {model}\nrevision: '{REVISION}'\nprecision: float32\nmodel_type: pretrained\n"
        "license: mit\ndescription: A model for the revision tests.\n"
    ).encode()


@pytest.fixture
def checkout(tmp_path, monkeypatch) -> Path:
    """The publish job's checkout with PR #7's request."""
    monkeypatch.chdir(tmp_path)
    write_request(tmp_path / "request", SUBMISSION, _yaml(), split=1, pr=7, head_sha=HEAD)
    return tmp_path


def _publish(run: Path, *extra: str) -> int:
    argv = ["results", "publish", str(run), "--request", "request", "--results-dir", "results"]
    argv += ["--out", "publish", "--data-dir", str(SAMPLE_DATA_DIR)]
    return main([*argv, *extra])


def _edit(run: Path, change) -> None:
    document = json.loads((run / "results.json").read_text())
    change(document)
    (run / "results.json").write_text(json.dumps(document))


def test_publish_recomputes_every_number_and_links_the_run_it_was_given(
    checkout, pipeline_full_run
):
    """MEDIUM: the part's results.json edited to medqa acc 0.99 and ci_run_url javascript:."""
    run = as_hub_run(pipeline_full_run, checkout / "run", MODEL, REVISION)
    truth = load_result(pipeline_full_run / "results.json")

    def forge(document):
        document["tasks"]["medqa_4options"].update(acc=0.99, ci95=[0.98, 1.0])
        document["average"] = 0.9
        document["run"]["ci_run_url"] = "javascript:alert(1)"

    _edit(run, forge)
    assert _publish(run, "--run-url", RUN_URL) == 0
    published = load_result(checkout / RESULT)
    assert published.tasks["medqa_4options"].acc == truth.tasks["medqa_4options"].acc != 0.99
    assert published.tasks == truth.tasks and published.average == truth.average
    assert published.run.ci_run_url == RUN_URL
    assert "javascript" not in (checkout / "publish" / "comment.md").read_text()


def test_publish_refuses_a_run_url_that_is_not_https(checkout, pipeline_full_run, capsys):
    run = as_hub_run(pipeline_full_run, checkout / "run", MODEL, REVISION)
    assert _publish(run, "--run-url", "javascript:alert(1)") == 1
    assert "--run-url: not an https URL" in capsys.readouterr().err
    assert not (checkout / RESULT).exists()


@pytest.mark.parametrize("edit", ["gold", "row"])
def test_publish_refuses_predictions_that_are_not_the_pinned_rows(
    checkout, pipeline_full_run, capsys, edit
):
    """The golds and the row count of each predictions file are checked against the task's
    rows, whatever results.json and its hashes say."""
    import hashlib

    run = as_hub_run(pipeline_full_run, checkout / "run", MODEL, REVISION)
    predictions = run / "predictions" / "medqa_4options.jsonl"
    rows = [json.loads(line) for line in predictions.read_text().splitlines()]
    if edit == "gold":
        wrong = next(row for row in rows if row["pred"] != row["gold"])
        wrong["gold"] = wrong["pred"]  # "right", by a gold the data does not have
    else:
        rows = rows[:-1]
    predictions.write_text("\n".join(json.dumps(row) for row in rows) + "\n")
    digest = hashlib.sha256(predictions.read_bytes()).hexdigest()
    _edit(run, lambda d: d["tasks"]["medqa_4options"].update(predictions_sha256=digest))
    assert _publish(run, "--run-url", RUN_URL) == 1
    err = capsys.readouterr().err
    assert "medqa_4options.jsonl: not one row per item of medqa_4options" in err
    assert not (checkout / RESULT).exists()


def test_a_run_of_a_local_directory_is_never_published_for_a_pr(
    checkout, pipeline_full_run, capsys
):
    assert _publish(pipeline_full_run, "--run-url", RUN_URL) == 1
    assert "source: local) is not published for PR #7" in capsys.readouterr().err


# ---- intake ---------------------------------------------------------------------------------


def _bundle(tmp_path: Path, submission: str, data: bytes, bundle_json: str | None = None) -> Path:
    bundle = tmp_path / "incoming"
    (bundle / submission).parent.mkdir(parents=True)
    (bundle / submission).write_bytes(data)
    metadata = {"submission": submission, "pr": 7, "head_sha": HEAD}
    (bundle / "bundle.json").write_text(bundle_json or json.dumps(metadata))
    (tmp_path / "pull.json").write_text(json.dumps(pull_answer(7, HEAD, "c/leaderboard")))
    files = [file_entry(submission, git_blob_sha1(data))]
    (tmp_path / "files.json").write_text(json.dumps(files))
    return bundle


def _intake(*extra: str) -> int:
    argv = ["results", "intake", "--event", "workflow_run", "--bundle", "incoming"]
    argv += ["--pull", "pull.json", "--pull-files", "files.json", "--head-repo", "c/leaderboard"]
    return main([*argv, "--head-sha", HEAD, "--output", "request", *extra])


@pytest.mark.parametrize("reviewers", [0, 1])
def test_intake_fails_closed_without_required_reviewers(tmp_path, monkeypatch, capsys, reviewers):
    """GitHub creates `gpu-evaluation` unprotected when a workflow names it first: nothing is
    taken in until it has required reviewers, and the refusal says how to fix it."""
    monkeypatch.chdir(tmp_path)
    _bundle(tmp_path, SUBMISSION, _yaml())
    (tmp_path / "env.json").write_text(json.dumps(environment_answer(reviewers=reviewers)))
    code = _intake("--environment", "env.json")
    err = capsys.readouterr().err
    if reviewers:
        assert code == 0 and (tmp_path / "request" / "request.json").exists()
    else:
        assert code == 1 and not (tmp_path / "request").exists()
        assert "gpu-evaluation has no required reviewers" in err and "Settings" in err


def test_only_a_maintainers_dispatch_may_replace_a_published_result(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    _bundle(tmp_path, SUBMISSION, _yaml())
    assert _intake("--replace") == 2
    (tmp_path / SUBMISSION).parent.mkdir(parents=True)
    (tmp_path / SUBMISSION).write_bytes(_yaml())
    argv = ["results", "intake", "--event", "workflow_dispatch", "--submission", SUBMISSION]
    assert main([*argv, "--replace", "--output", "request"]) == 0
    assert load_request(tmp_path / "request").replace is True
    assert main([*argv, "--no-replace", "--output", "request"]) == 0
    assert load_request(tmp_path / "request").replace is False


def test_a_case_folded_id_of_a_published_model_is_refused(tmp_path, monkeypatch, capsys):
    """LOW: main has BioMistral/BioMistral-7B's result but no submission file; a PR submitting
    biomistral/biomistral-7b is the same Hub model under another spelling."""
    monkeypatch.chdir(tmp_path)
    published = tmp_path / "results" / "BioMistral" / "BioMistral-7B" / f"{'ef' * 20}.json"
    published.parent.mkdir(parents=True)
    published.write_text("{}")
    _bundle(
        tmp_path, "submissions/biomistral/biomistral-7b.yaml", _yaml("biomistral/biomistral-7b")
    )
    assert _intake() == 1
    err = capsys.readouterr().err
    assert "already has this model as BioMistral/BioMistral-7B (Hub ids ignore case)" in err


def test_a_hostile_bundle_key_never_starts_a_workflow_command(tmp_path, monkeypatch, capsys):
    """LOW: a key of bundle.json holding a newline and a workflow command reaches the log on
    one line, escaped."""
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("GITHUB_ACTIONS", "true")
    hostile = {"submission": SUBMISSION, "pr": 7, "head_sha": HEAD}
    hostile["x\n::notice title=pwned::owned\n::add-mask::\u202e"] = 1
    _bundle(tmp_path, SUBMISSION, _yaml(), bundle_json=json.dumps(hostile))
    assert _intake() == 1
    captured = capsys.readouterr()
    lines = (captured.out + captured.err).splitlines()
    assert not any(line.startswith("::notice") or line.startswith("::add-mask") for line in lines)
    assert len(captured.err.strip().splitlines()) == 1
    assert "\\n::notice" in captured.err and "\u202e" not in captured.err


def test_the_hubs_canonical_id_is_the_one_submitted():
    from runner.hub import HubModelRepo
    from runner.submissions.hub_checks import hub_access_results

    repo = HubModelRepo(
        repo_id="biomistral/biomistral-7b",
        commit=REVISION,
        private=False,
        gated=None,
        disabled=False,
        files=("config.json",),
        canonical_id="BioMistral/BioMistral-7B",
    )
    access = hub_access_results(repo, REVISION)[0]
    assert access.status == "fail" and "the Hub spells this model BioMistral/BioMistral-7B" in (
        access.message
    )


def test_the_approver_reads_the_parameter_count_in_the_revalidation_summary():
    """Issue 17: what the approver weighs first, the model's size, is a line of its own in the
    prepare job's summary (the re-validation reads it from the safetensors headers)."""
    from runner.submissions.checks import CheckResult
    from runner.submissions.report import FileReport, render_markdown

    message = "7,241,732,096 parameters (7.24B; BF16 7,241,732,096) from the Hub's metadata"
    report = FileReport(SUBMISSION, [CheckResult("parameters", "pass", message)])
    summary = render_markdown([report])
    from github_fake import shown

    assert f"Parameters of {SUBMISSION}: 7,241,732,096 parameters (7.24B" in shown(summary)


# ---- the cot track is re-derived too (ARCHITECTURE.md, "Trust boundary") ------------------------


@pytest.fixture(scope="module")
def cot_run(tmp_path_factory) -> Path:
    """Both tracks of a tiny chat model on the nine whole sample tasks."""
    import dataclasses

    from runner.evaluation.tiny_models import BOS_CHAT_SPEC, build_tiny_model

    small = {"vocab_size": 400, "hidden_size": 32, "layers": 1, "heads": 2, "intermediate_size": 64}
    spec = dataclasses.replace(BOS_CHAT_SPEC, seed=41, **small)
    model = build_tiny_model(tmp_path_factory.mktemp("revisions-chat-model"), spec)
    out = tmp_path_factory.mktemp("revisions-cot") / "run"
    argv = ["evaluate", "--model", str(model), "--data-dir", str(SAMPLE_DATA_DIR)]
    argv += ["--max-new-tokens", "8", "--no-progress"]
    assert main([*argv, "--output", str(out)]) == 0
    return out


def test_publish_recomputes_the_cot_track_from_its_generations(checkout, cot_run):
    run = as_hub_run(cot_run, checkout / "run", MODEL, REVISION)
    truth = load_result(cot_run / "results.json")
    assert truth.cot is not None

    def forge(document):
        task = document["cot"]["tasks"]["pubmedqa"]
        task.update(acc=0.99, ci95=[0.98, 1.0], no_answer_rate=0.0)
        task["subjects"] = {"forged": {"n": 1, "acc": 1.0}}

    _edit(run, forge)
    assert _publish(run, "--run-url", RUN_URL) == 0
    published = load_result(checkout / RESULT)
    assert published.cot is not None
    assert published.cot.tasks["pubmedqa"].acc == truth.cot.tasks["pubmedqa"].acc != 0.99
    assert published.cot.tasks == truth.cot.tasks


def test_publish_refuses_a_cot_answer_its_generation_does_not_give(checkout, cot_run, capsys):
    import hashlib

    run = as_hub_run(cot_run, checkout / "run", MODEL, REVISION)
    predictions = run / "predictions" / "cot" / "medqa_4options.jsonl"
    rows = [json.loads(line) for line in predictions.read_text().splitlines()]
    rows[0].update(answer=rows[0]["gold"], correct=True)  # "right", by no word of the model's
    predictions.write_text("\n".join(json.dumps(row) for row in rows) + "\n")
    digest = hashlib.sha256(predictions.read_bytes()).hexdigest()
    _edit(run, lambda d: d["cot"]["tasks"]["medqa_4options"].update(predictions_sha256=digest))
    assert _publish(run, "--run-url", RUN_URL) == 1
    assert "doc_id 0: its answer or correctness is not what its generation says" in (
        capsys.readouterr().err
    )
    assert not (checkout / RESULT).exists()
