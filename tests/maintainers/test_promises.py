"""Small promises the command line keeps: `python -m runner.cli` runs medlb, a missing data
directory points at what to do, Ctrl-C says how to resume, the score table says where the
results went, and the help texts promise what was measured."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

from runner.cli import main

ROOT = Path(__file__).resolve().parents[2]


def test_python_m_runner_cli_runs_medlb(tmp_path):
    (tmp_path / "bad.yaml").write_text("model: a\n")
    done = subprocess.run(
        [sys.executable, "-m", "runner.cli", "validate", "--offline", "bad.yaml"],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert done.returncode == 1
    assert "bad.yaml: INVALID" in done.stdout


def test_a_missing_data_dir_points_at_data_fetch_and_the_sample_data(
    tmp_path, capsys, validation_tiny_model
):
    argv = ["evaluate", "--model", str(validation_tiny_model), "--device", "cpu"]
    code = main([*argv, "--data-dir", str(tmp_path / "missing"), "--output", str(tmp_path / "o")])
    err = capsys.readouterr().err
    assert code == 1 and err.count("\n") == 1
    assert "medlb data fetch" in err and "sample_data" in err


def test_ctrl_c_says_how_to_resume(monkeypatch, capsys, tmp_path):
    from runner.evaluation import run

    def interrupted(*args, **kwargs):
        raise KeyboardInterrupt

    monkeypatch.setattr(run, "evaluate_and_report", interrupted)
    assert main(["evaluate", "--model", "x", "--output", str(tmp_path)]) == 130
    err = capsys.readouterr().err
    assert "interrupted; run the same command again (same --output) to resume" in err


def test_the_score_table_says_where_the_results_went(tmp_path, capsys, validation_tiny_model):
    from runner.evaluation.tiny_models import SAMPLE_DATA_DIR

    out_dir = tmp_path / "run"
    argv = ["evaluate", "--model", str(validation_tiny_model), "--device", "cpu"]
    argv += ["--tasks", "pubmedqa", "--data-dir", str(SAMPLE_DATA_DIR), "--output", str(out_dir)]
    assert main([*argv, "--no-progress"]) == 0
    out = capsys.readouterr().out
    assert f"results: {out_dir / 'results.json'}" in out and (out_dir / "results.json").is_file()


def test_promises_match_what_was_measured():
    from runner.commands import demo

    assert "under a minute" not in demo.DESCRIPTION
    submitting = (ROOT / "SUBMITTING.md").read_text()
    assert "within a minute" not in submitting
    assert "first-time contributor's workflows wait until a maintainer approves" in submitting
