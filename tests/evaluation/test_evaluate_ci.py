"""`medlb evaluate` as a maintainer reads it in CI, and the provenance its results.json records:
a summary title that says what was scored on which rows, a "load" group that says what was
loaded, no progress bars in logs, every failure annotated, and rows traced to where they came from.
"""

from __future__ import annotations

import dataclasses
import json
import shutil
import sys
from pathlib import Path

import pytest

from runner.cli import main
from runner.evaluation.task_data import SAMPLE_DATA_DIR, read_rows_file, rows_sha256
from runner.evaluation.tasks import TASKS
from runner.results_schema import RowsSource, load_result
from runner.untrusted_text import escape_markdown

TASKS_ARG = "pubmedqa,medmcqa"


@pytest.fixture
def actions(tmp_path, monkeypatch):
    monkeypatch.setenv("GITHUB_ACTIONS", "true")
    monkeypatch.setenv("GITHUB_STEP_SUMMARY", str(tmp_path / "summary.md"))
    return tmp_path / "summary.md"


def evaluate(model: Path, output: Path, data: Path = SAMPLE_DATA_DIR, *extra: str) -> int:
    argv = ["evaluate", "--model", str(model), "--data-dir", str(data), "--tasks", TASKS_ARG]
    return main([*argv, "--output", str(output), *extra])


def test_a_sample_run_says_so_in_the_summary_title(engine_llama, tmp_path, actions, capsys):
    assert evaluate(engine_llama, tmp_path / "out", SAMPLE_DATA_DIR, "--limit", "3") == 0
    out = capsys.readouterr().out
    title = f"{engine_llama.name} (local directory) · float32 · cpu · sample data, not rankable"
    assert title in out.splitlines()
    name = escape_markdown(f"{engine_llama.name} (local directory)")
    heading = f"### `medlb evaluate`: **{name}** · float32 · cpu · "
    assert actions.read_text().startswith(heading + "sample data, not rankable\n")


def test_the_load_group_says_what_was_loaded(engine_llama, tmp_path, actions, capsys):
    assert evaluate(engine_llama, tmp_path / "out", SAMPLE_DATA_DIR, "--limit", "2") == 0
    captured = capsys.readouterr()
    (loaded,) = [line for line in captured.err.splitlines() if line.startswith("medlb: loaded ")]
    assert loaded.startswith(f"medlb: loaded {engine_llama.resolve()}: ")
    assert "LlamaForCausalLM, " in loaded and " parameters, float32 on cpu, " in loaded
    assert "max length 96 tokens" in loaded


def test_progress_bars_are_off_under_actions_and_on_at_a_terminal(
    engine_llama, tmp_path, monkeypatch, capsys
):
    monkeypatch.setattr(sys.stderr, "isatty", lambda: True, raising=False)
    monkeypatch.setenv("GITHUB_ACTIONS", "true")
    assert evaluate(engine_llama, tmp_path / "ci", SAMPLE_DATA_DIR, "--limit", "2") == 0
    assert "item/s" not in capsys.readouterr().err
    monkeypatch.delenv("GITHUB_ACTIONS")
    assert evaluate(engine_llama, tmp_path / "tty", SAMPLE_DATA_DIR, "--limit", "2") == 0
    assert "item/s" in capsys.readouterr().err


def test_a_reused_run_directory_is_an_annotation_and_a_summary_section(
    engine_llama, engine_gpt2, tmp_path, actions, capsys
):
    out = tmp_path / "out"
    assert evaluate(engine_llama, out, SAMPLE_DATA_DIR, "--limit", "2", "--no-progress") == 0
    capsys.readouterr()
    assert evaluate(engine_gpt2, out, SAMPLE_DATA_DIR, "--limit", "2", "--no-progress") == 1
    stdout, err = capsys.readouterr()
    message = err.removeprefix("medlb: error: ").strip()
    assert f"::error title=medlb evaluate failed::{message[:40]}" in stdout
    assert "### ❌ medlb evaluate failed" in actions.read_text()


def test_local_rows_never_claim_the_pinned_revision(engine_llama, tmp_path, capsys):
    assert evaluate(engine_llama, tmp_path / "out", SAMPLE_DATA_DIR, "--no-progress") == 0
    result = load_result(tmp_path / "out" / "results.json")
    for name, task in result.tasks.items():
        assert task.dataset_revision is None  # the registry knows no hash for these rows
        assert task.rows_source == RowsSource(
            kind="local",
            path=str(SAMPLE_DATA_DIR / f"{name}.jsonl"),
            sha256_known=None,
            sample=True,
        )


def test_local_rows_with_the_known_hash_are_the_pinned_revisions(
    engine_llama, tmp_path, monkeypatch, capsys
):
    data = tmp_path / "data"
    shutil.copytree(SAMPLE_DATA_DIR, data)
    known = rows_sha256(read_rows_file(data / "pubmedqa.jsonl"))
    monkeypatch.setitem(
        TASKS, "pubmedqa", dataclasses.replace(TASKS["pubmedqa"], rows_sha256=known)
    )
    monkeypatch.setitem(
        TASKS, "medmcqa", dataclasses.replace(TASKS["medmcqa"], rows_sha256="0" * 64)
    )
    assert evaluate(engine_llama, tmp_path / "out", data, "--no-progress") == 0
    out = capsys.readouterr().out
    assert "· local data, not verified against the pins, partial: not rankable" in out
    tasks = load_result(tmp_path / "out" / "results.json").tasks
    assert tasks["pubmedqa"].dataset_revision == TASKS["pubmedqa"].revision
    assert tasks["pubmedqa"].rows_source.sha256_known is True
    assert tasks["medmcqa"].dataset_revision is None
    assert tasks["medmcqa"].rows_source.sha256_known is False
    assert not tasks["medmcqa"].rows_source.sample


def test_results_written_before_rows_were_traced_still_load(engine_llama, tmp_path, capsys):
    assert evaluate(engine_llama, tmp_path / "out", SAMPLE_DATA_DIR, "--limit", "2") == 0
    path = tmp_path / "out" / "results.json"
    document = json.loads(path.read_text())
    for task in document["tasks"].values():
        del task["rows_source"]
    path.write_text(json.dumps(document))
    assert all(task.rows_source is None for task in load_result(path).tasks.values())


def test_the_title_names_a_hub_model_at_its_revision_and_the_gpu(pipeline_full_run):
    from runner.evaluation.summary import score_title

    result = load_result(pipeline_full_run / "results.json")
    model = result.model.model_copy(
        update={
            "id": "acme/med-7b",
            "source": "hub",
            "revision": "ab" * 20,
            "precision": "bfloat16",
        }
    )
    gpu = result.environment.model_copy(update={"device": "NVIDIA H100 80GB HBM3"})
    on_hub = result.model_copy(update={"model": model, "environment": gpu})
    assert score_title(on_hub) == (
        "acme/med-7b@abababababab · bfloat16 · cuda (NVIDIA H100 80GB HBM3) · sample data, "
        "not rankable"
    )
    markdown = score_title(on_hub, markdown=True)
    assert markdown.startswith(f"**{escape_markdown('acme/med-7b@abababababab')}** · ")
