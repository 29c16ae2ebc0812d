"""What every `medlb` command shares: failures under GitHub Actions, a closed pipe, --help."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest
from submission_fixtures import VALID_PATH, VALID_SUBMISSION, place

from runner.cli import main
from runner.evaluation.tasks import TASK_NAMES
from runner.untrusted_text import escape_markdown

ROOT = Path(__file__).resolve().parents[1]


def medlb_process(cwd: Path, *argv: str) -> subprocess.Popen:
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    env.pop("GITHUB_ACTIONS", None)
    return subprocess.Popen(
        [sys.executable, "-m", "runner", *argv],
        cwd=cwd,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
    )


@pytest.mark.parametrize(
    "argv",
    [["validate", "--offline", "submissions"], ["validate", "--offline", "--json", "submissions"]],
    ids=["text", "json"],
)
def test_a_closed_pipe_ends_the_command_quietly(tmp_path, argv):
    place(tmp_path, VALID_PATH, VALID_SUBMISSION)
    process = medlb_process(tmp_path, *argv)
    process.stdout.close()  # the reader is gone before medlb writes a byte (`medlb … | head -0`)
    stderr = process.stderr.read().decode()
    assert process.wait(timeout=60) == 141  # as a process ended by SIGPIPE
    assert stderr == ""


def test_evaluate_help_lists_every_task(capsys):
    with pytest.raises(SystemExit):
        main(["evaluate", "--help"])
    text = " ".join(capsys.readouterr().out.split())
    for name in TASK_NAMES:
        assert name in text


@pytest.mark.parametrize(
    ("argv", "title", "message"),
    [
        (
            ["evaluate", "--model", "m", "--data-dir", "nowhere", "--output", "out"],
            "medlb evaluate failed",
            "--model m: no such directory",
        ),
        (["validate"], "medlb validate failed", "no FILE given and no ./submissions directory"),
        (["data", "check", "nowhere"], "medlb data failed", "nowhere: 9 of 9 tasks failed"),
    ],
    ids=["evaluate", "validate-usage", "data-check"],
)
def test_under_actions_every_failure_is_an_annotation_and_a_summary_section(
    tmp_path, monkeypatch, capsys, argv, title, message
):
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("GITHUB_ACTIONS", "true")
    monkeypatch.setenv("GITHUB_STEP_SUMMARY", str(tmp_path / "summary.md"))
    assert main(argv) in (1, 2)
    out, err = capsys.readouterr()
    assert f"medlb: error: {message}" in err
    annotations = [line for line in out.splitlines() if line.startswith("::error")]
    assert len(annotations) == 1 and annotations[0].startswith(f"::error title={title}::{message}")
    summary = (tmp_path / "summary.md").read_text()
    assert summary.startswith(f"### ❌ {title}\n\n{escape_markdown(message)}")


MISSING_MODEL = "--model m: no such directory (and not a Hub id 'org/name')"


def test_outside_actions_a_failure_is_one_line_only(tmp_path, monkeypatch, capsys):
    monkeypatch.chdir(tmp_path)
    monkeypatch.delenv("GITHUB_ACTIONS", raising=False)
    assert main(["evaluate", "--model", "m", "--data-dir", "nowhere", "--output", "o"]) == 1
    out, err = capsys.readouterr()
    assert (out, err) == ("", f"medlb: error: {MISSING_MODEL}\n")
