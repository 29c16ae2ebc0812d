"""`medlb evaluate` end to end on tiny models and the bundled sample data.

What a user relies on: the predictions and results.json agree with each other and with the
results schema; a re-run resumes without recomputing or changing anything; a run killed at a
random point and re-run ends with the same bytes as an uninterrupted one; a directory from another
run is refused; every bad input is one line and a non-zero exit.
"""

from __future__ import annotations

import json
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
import torch

from runner.cli import main
from runner.evaluation.metrics import argmax_choices
from runner.evaluation.predictions import sha256
from runner.evaluation.task_data import SAMPLE_DATA_DIR
from runner.evaluation.tasks import TASK_NAMES
from runner.results_schema import decode_bits, load_result

KILL_TASKS = ("medqa_4options", "mmlu_anatomy", "pubmedqa")


def evaluate_argv(model: Path, output: Path, *extra: str) -> list[str]:
    return [
        "evaluate",
        "--model",
        str(model),
        "--data-dir",
        str(SAMPLE_DATA_DIR),
        "--no-progress",
        "--output",
        str(output),
        *extra,
    ]


def read_rows(path: Path) -> list[dict]:
    return [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines()]


def prediction_files(output: Path) -> dict[str, Path]:
    return {p.stem: p for p in sorted((output / "predictions").glob("*.jsonl"))}


def test_results_agree_with_the_predictions(pipeline_full_run: Path):
    result = load_result(pipeline_full_run / "results.json")
    assert list(result.tasks) == list(TASK_NAMES)
    for name, task in result.tasks.items():
        path = pipeline_full_run / "predictions" / f"{name}.jsonl"
        rows = read_rows(path)
        assert [row["doc_id"] for row in rows] == list(range(task.n))
        assert [row["pred"] for row in rows] == argmax_choices(
            [row["choice_logprobs"] for row in rows]
        )
        correct = [row["pred"] == row["gold"] for row in rows]
        assert task.acc == pytest.approx(sum(correct) / len(rows))
        assert decode_bits(task.correct, task.n) == correct
        assert task.predictions_sha256 == sha256(path.read_bytes())
        assert task.ci95[0] <= task.acc <= task.ci95[1]
        assert task.n == task.n_total  # no --limit
    assert result.average == pytest.approx(sum(t.acc for t in result.tasks.values()) / 9)
    subjects = result.tasks["medmcqa"].subjects
    assert len(subjects) > 1 and sum(s.n for s in subjects.values()) == result.tasks["medmcqa"].n
    assert list(result.tasks["mmlu_anatomy"].subjects) == ["anatomy"]
    assert result.model.architecture == "GPT2LMHeadModel" and result.model.params > 0
    assert result.model.source == "local" and result.run.limit is None


def test_limit_gives_a_partial_run_without_average(engine_llama: Path, tmp_path: Path):
    out = tmp_path / "out"
    argv = evaluate_argv(engine_llama, out, "--tasks", "medmcqa,mmlu_anatomy", "--limit", "5")
    assert main(argv) == 0
    result = load_result(out / "results.json")
    assert list(result.tasks) == ["medmcqa", "mmlu_anatomy"]
    assert all(t.n == 5 and t.n_total == 12 for t in result.tasks.values())
    assert result.average is None and result.run.limit == 5
    assert len(read_rows(out / "predictions" / "medmcqa.jsonl")) == 5


def test_rerun_keeps_every_finished_task(pipeline_full_run: Path, pipeline_tiny_model, tmp_path):
    out = tmp_path / "copy"
    shutil.copytree(pipeline_full_run, out)
    before = {name: path.stat().st_mtime_ns for name, path in prediction_files(out).items()}
    contents = {name: path.read_bytes() for name, path in prediction_files(out).items()}
    assert main(evaluate_argv(pipeline_tiny_model, out)) == 0
    assert {name: p.stat().st_mtime_ns for name, p in prediction_files(out).items()} == before
    assert {name: p.read_bytes() for name, p in prediction_files(out).items()} == contents
    old, new = load_result(pipeline_full_run / "results.json"), load_result(out / "results.json")
    assert new.tasks == old.tasks and new.average == old.average


@pytest.mark.parametrize(
    ("extra", "field"),
    [(("--dtype", "bfloat16"), "dtype"), (("--limit", "3"), "limit")],
)
def test_output_directory_of_another_run_is_refused(
    pipeline_full_run, pipeline_tiny_model, tmp_path, capsys, extra, field
):
    out = tmp_path / "copy"
    shutil.copytree(pipeline_full_run, out)
    manifest = (out / "run.json").read_bytes()
    assert main(evaluate_argv(pipeline_tiny_model, out, *extra)) == 1
    message = capsys.readouterr().err.strip()
    assert message.count("\n") == 0 and f"{field}=" in message and "run.json" in message
    assert (out / "run.json").read_bytes() == manifest


@pytest.fixture(scope="module")
def kill_model(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Big enough that a task takes a noticeable fraction of a second, so a kill lands mid-run."""
    from runner.evaluation.tiny_models import TinyModelSpec, build_tiny_model

    spec = TinyModelSpec(seed=31, vocab_size=800, hidden_size=192, layers=3, intermediate_size=384)
    return build_tiny_model(tmp_path_factory.mktemp("kill-model"), spec)


@pytest.mark.slow
def test_killed_run_resumes_to_the_same_bytes(kill_model: Path, tmp_path: Path):
    tasks = ("--tasks", ",".join(KILL_TASKS))
    reference = tmp_path / "uninterrupted"
    assert main(evaluate_argv(kill_model, reference, *tasks)) == 0

    out = tmp_path / "killed"
    command = [sys.executable, "-m", "runner", *evaluate_argv(kill_model, out, *tasks)]
    process = subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    first = out / "predictions" / f"{KILL_TASKS[0]}.jsonl"
    deadline = time.monotonic() + 300
    while not first.exists() and process.poll() is None and time.monotonic() < deadline:
        time.sleep(0.005)
    process.send_signal(signal.SIGKILL)
    process.wait()
    finished = {name: path.stat() for name, path in prediction_files(out).items()}
    assert KILL_TASKS[0] in finished
    assert len(finished) < len(KILL_TASKS), "the run ended before the kill; use a slower model"
    assert not (out / "results.json").exists()

    rerun = subprocess.run(command, capture_output=True, text=True, timeout=300)
    assert rerun.returncode == 0, rerun.stderr[-2000:]
    for name, stat in finished.items():
        assert f"{name}: kept from an earlier run" in rerun.stderr
        now = (out / "predictions" / f"{name}.jsonl").stat()
        assert (now.st_ino, now.st_mtime_ns) == (stat.st_ino, stat.st_mtime_ns)
    expected = {name: p.read_bytes() for name, p in prediction_files(reference).items()}
    assert {name: p.read_bytes() for name, p in prediction_files(out).items()} == expected
    assert sorted(expected) == sorted(KILL_TASKS)
    ours, theirs = load_result(out / "results.json"), load_result(reference / "results.json")
    assert {n: t.acc for n, t in ours.tasks.items()} == {n: t.acc for n, t in theirs.tasks.items()}


def write_jsonl(path: Path, rows: list[dict]) -> None:
    path.write_text("".join(json.dumps(row) + "\n" for row in rows), encoding="utf-8")


def bad_data_dir(tmp_path: Path) -> Path:
    data = tmp_path / "data"
    data.mkdir()
    rows = read_rows(SAMPLE_DATA_DIR / "medqa_4options.jsonl")
    write_jsonl(
        data / "medqa_4options.jsonl", [{k: v for k, v in r.items() if k != "sent1"} for r in rows]
    )
    return data


BAD_INPUTS = {
    "missing data file": (["--tasks", "medmcqa", "--data-dir", "{data}"], 1, "medmcqa.jsonl"),
    "wrong columns": (["--tasks", "medqa_4options", "--data-dir", "{data}"], 1, "'sent1'"),
    "unknown task": (["--tasks", "medqa,pubmedqa"], 2, "unknown task 'medqa'"),
    "limit zero": (["--limit", "0"], 2, "--limit: must be at least 1"),
    "bad batch size": (["--batch-size", "lots"], 2, "--batch-size: 'lots' is not a whole number"),
    "no safetensors": (["--model", "{no_weights}"], 1, "no *.safetensors"),
    "model and submission": (["{data}/sub.yaml"], 2, "exactly one"),
    "no such model dir": (["--model", "{data}/nope"], 1, "no such directory"),
}


@pytest.mark.parametrize("case", BAD_INPUTS)
def test_bad_input_is_one_line_and_a_nonzero_exit(case, engine_llama, tmp_path, capsys):
    data = bad_data_dir(tmp_path)
    no_weights = tmp_path / "no-weights"
    shutil.copytree(engine_llama, no_weights, ignore=shutil.ignore_patterns("*.safetensors"))
    extra, code, needle = BAD_INPUTS[case]
    extra = [arg.format(data=data, no_weights=no_weights) for arg in extra]
    out = tmp_path / "out"
    # --model given last wins over the default one, as argparse does for repeated options.
    argv = evaluate_argv(engine_llama, out, *extra)
    assert main(argv) == code
    err = capsys.readouterr().err.strip()
    assert err.startswith("medlb: error:") and "\n" not in err and "Traceback" not in err
    assert needle in err
    assert not (out / "results.json").exists()


def test_a_mistyped_model_path_fails_before_any_data_is_read(tmp_path, monkeypatch, capsys):
    """Without --data-dir the rows come from the Hub; a path typo must not wait for them."""
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")  # were the data read first, this would stop it
    argv = ["evaluate", "--model", str(tmp_path / "my-modle"), "--output", str(tmp_path / "o")]
    assert main(argv) == 1
    err = capsys.readouterr().err.strip()
    assert (
        err == f"medlb: error: --model {tmp_path / 'my-modle'}: no such directory (and not a "
        "Hub id 'org/name')"
    )


@pytest.mark.skipif(torch.cuda.is_available(), reason="needs a machine without a GPU")
def test_cuda_without_a_gpu_is_refused_before_anything_is_written(engine_llama, tmp_path, capsys):
    out = tmp_path / "out"
    assert main(evaluate_argv(engine_llama, out, "--device", "cuda")) == 1
    assert "no CUDA GPU" in capsys.readouterr().err
    assert not out.exists()


def test_in_github_actions_each_task_is_a_log_group_and_scores_reach_the_summary(
    engine_llama: Path, tmp_path: Path, capsys, monkeypatch
):
    summary = tmp_path / "summary.md"
    monkeypatch.setenv("GITHUB_ACTIONS", "true")
    monkeypatch.setenv("GITHUB_STEP_SUMMARY", str(summary))
    argv = evaluate_argv(engine_llama, tmp_path / "out", "--tasks", "pubmedqa,medmcqa")
    assert main([*argv, "--limit", "3"]) == 0
    out = capsys.readouterr().out
    opened = [line for line in out.splitlines() if line.startswith("::group::")]
    assert opened == [
        f"::group::load {engine_llama}",
        "::group::medmcqa: 3 items",
        "::group::pubmedqa: 3 items",
    ]
    assert out.count("::endgroup::") == len(opened)
    table = summary.read_text(encoding="utf-8")
    assert "| MedMCQA |" in table and "| PubMedQA |" in table
