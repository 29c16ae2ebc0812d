"""Data directories: reading jsonl/parquet in the Hub columns, one clear error per bad file, and
`medlb data fetch/check` (fetch through its download seam: these tests never touch the network)."""

from __future__ import annotations

import json
import shutil
from dataclasses import replace
from pathlib import Path

import pytest

from runner.cli import main
from runner.errors import UserError
from runner.evaluation.data_dir import fetch_tasks
from runner.evaluation.task_data import (
    SAMPLE_DATA_DIR,
    canonical_jsonl,
    load_task_rows,
    read_rows_file,
    rows_sha256,
)
from runner.evaluation.tasks import TASK_NAMES, TASKS, build_items

MEDQA = TASKS["medqa_4options"]
MEDMCQA = TASKS["medmcqa"]
PUBMEDQA = TASKS["pubmedqa"]


def sample_rows(task: str) -> list[dict]:
    return read_rows_file(SAMPLE_DATA_DIR / f"{task}.jsonl")


def write_jsonl(path: Path, rows: list[dict]) -> Path:
    path.write_text("".join(json.dumps(row) + "\n" for row in rows), encoding="utf-8")
    return path


def write_parquet(path: Path, rows: list[dict]) -> Path:
    import pyarrow as pa
    import pyarrow.parquet as pq

    pq.write_table(pa.Table.from_pylist(rows), path)
    return path


# ---- reading --------------------------------------------------------------------------------


@pytest.mark.parametrize("task", TASK_NAMES)
def test_bundled_sample_data_loads_in_split_order(task):
    loaded = load_task_rows(TASKS[task], SAMPLE_DATA_DIR)
    assert len(loaded.rows) == 12
    assert loaded.source == str(SAMPLE_DATA_DIR / f"{task}.jsonl")
    assert loaded.sha256 == rows_sha256(loaded.rows)
    assert loaded.rows == sample_rows(task)


def test_parquet_and_jsonl_with_the_same_rows_load_identically(tmp_path):
    rows = sample_rows("pubmedqa")  # list columns (CONTEXTS) survive the round trip
    write_parquet(tmp_path / "pubmedqa.parquet", rows)
    from_parquet = load_task_rows(PUBMEDQA, tmp_path)
    from_jsonl = load_task_rows(PUBMEDQA, SAMPLE_DATA_DIR)
    assert from_parquet.rows == from_jsonl.rows
    assert from_parquet.sha256 == from_jsonl.sha256
    assert from_parquet.source.endswith("pubmedqa.parquet")


def test_digest_changes_when_any_value_changes():
    rows = sample_rows("medmcqa")
    edited = [dict(row) for row in rows]
    edited[7]["opd"] += " "
    assert rows_sha256(edited) != rows_sha256(rows)


def test_blank_lines_are_ignored(tmp_path):
    rows = sample_rows("medqa_4options")[:2]
    (tmp_path / "medqa_4options.jsonl").write_text(
        "\n" + json.dumps(rows[0]) + "\n\n" + json.dumps(rows[1]) + "\n\n", encoding="utf-8"
    )
    assert load_task_rows(MEDQA, tmp_path).rows == rows


# ---- one clear error per bad file ------------------------------------------------------------


def test_missing_file_names_the_expected_file(tmp_path):
    with pytest.raises(UserError, match=r"medmcqa\.jsonl: data file not found .*medmcqa\.parquet"):
        load_task_rows(MEDMCQA, tmp_path)


def test_missing_directory_is_named(tmp_path):
    with pytest.raises(UserError, match="nowhere: data directory not found"):
        load_task_rows(MEDMCQA, tmp_path / "nowhere")


def test_both_formats_present_is_ambiguous(tmp_path):
    write_jsonl(tmp_path / "medmcqa.jsonl", sample_rows("medmcqa"))
    write_parquet(tmp_path / "medmcqa.parquet", sample_rows("medmcqa"))
    with pytest.raises(UserError, match=r"both medmcqa\.jsonl and medmcqa\.parquet exist"):
        load_task_rows(MEDMCQA, tmp_path)


def test_invalid_json_line_gives_its_line_number(tmp_path):
    lines = [json.dumps(row) for row in sample_rows("medmcqa")]
    lines[4] = lines[4][:-1]  # drop the closing brace
    (tmp_path / "medmcqa.jsonl").write_text("\n".join(lines) + "\n", encoding="utf-8")
    with pytest.raises(UserError, match=r"medmcqa\.jsonl: line 5: not valid JSON"):
        load_task_rows(MEDMCQA, tmp_path)


def test_a_line_that_is_not_an_object_is_refused(tmp_path):
    (tmp_path / "medmcqa.jsonl").write_text('["a", "list"]\n', encoding="utf-8")
    with pytest.raises(UserError, match="line 1: expected a JSON object, got array"):
        load_task_rows(MEDMCQA, tmp_path)


def test_missing_column_is_named_with_file_and_row(tmp_path):
    rows = sample_rows("medqa_4options")
    del rows[2]["ending3"]
    write_jsonl(tmp_path / "medqa_4options.jsonl", rows)
    with pytest.raises(UserError, match=r"medqa_4options\.jsonl: row 2: missing column 'ending3'"):
        load_task_rows(MEDQA, tmp_path)


def test_wrong_column_type_is_named(tmp_path):
    rows = sample_rows("medmcqa")
    rows[0]["cop"] = "2"  # a string where the Hub column is an integer
    write_jsonl(tmp_path / "medmcqa.jsonl", rows)
    with pytest.raises(UserError, match="row 0: column 'cop' must be int, got string"):
        load_task_rows(MEDMCQA, tmp_path)


def test_contexts_must_be_a_list_of_strings(tmp_path):
    rows = sample_rows("pubmedqa")
    rows[5]["CONTEXTS"] = "\n".join(rows[5]["CONTEXTS"])
    write_parquet(tmp_path / "pubmedqa.parquet", rows[5:6])
    with pytest.raises(UserError, match=r"pubmedqa\.parquet: row 0: column 'CONTEXTS' must be"):
        load_task_rows(PUBMEDQA, tmp_path)


def test_parquet_without_a_read_column_is_refused(tmp_path):
    rows = [{k: v for k, v in row.items() if k != "subject_name"} for row in sample_rows("medmcqa")]
    write_parquet(tmp_path / "medmcqa.parquet", rows)
    with pytest.raises(UserError, match="missing column 'subject_name'"):
        load_task_rows(MEDMCQA, tmp_path)


def test_corrupt_parquet_is_one_error(tmp_path):
    (tmp_path / "medmcqa.parquet").write_bytes(b"PAR1 this is not parquet")
    with pytest.raises(UserError, match=r"medmcqa\.parquet: cannot read parquet file"):
        load_task_rows(MEDMCQA, tmp_path)


def test_empty_file_is_refused(tmp_path):
    (tmp_path / "medmcqa.jsonl").write_text("", encoding="utf-8")
    with pytest.raises(UserError, match=r"medmcqa\.jsonl: no rows"):
        load_task_rows(MEDMCQA, tmp_path)


def test_unpinned_task_is_refused_before_any_download():
    with pytest.raises(UserError, match="no pinned revision"):
        load_task_rows(replace(PUBMEDQA, revision=None), None)


# ---- medlb data fetch (through its download seam) --------------------------------------------


def pinned_sample_spec(task: str):
    """The registry spec, pinned, with the sample's row count standing in for the split's."""
    return replace(TASKS[task], revision="0" * 40, n_total=12)


def test_fetch_writes_canonical_files_that_load_back_identically(tmp_path):
    specs = [pinned_sample_spec(task) for task in ("medmcqa", "pubmedqa", "mmlu_anatomy")]
    downloaded = []

    def download(spec):
        downloaded.append(spec.name)
        return sample_rows(spec.name)

    written = fetch_tasks(specs, tmp_path / "data", download)
    assert downloaded == ["medmcqa", "pubmedqa", "mmlu_anatomy"]
    for spec, path, sha in written:
        assert path == tmp_path / "data" / f"{spec.name}.jsonl"
        assert path.read_text(encoding="utf-8") == canonical_jsonl(sample_rows(spec.name))
        loaded = load_task_rows(spec, tmp_path / "data")
        assert loaded.rows == sample_rows(spec.name)
        assert loaded.sha256 == sha
    assert sorted(p.name for p in (tmp_path / "data").iterdir()) == [
        "medmcqa.jsonl",
        "mmlu_anatomy.jsonl",
        "pubmedqa.jsonl",
    ]  # no temporary files left behind


def test_fetch_refuses_unpinned_tasks_before_downloading_anything(tmp_path):
    specs = [pinned_sample_spec("medmcqa"), replace(PUBMEDQA, revision=None)]

    def download(spec):
        raise AssertionError("nothing may be downloaded")

    with pytest.raises(UserError, match=r"pins no dataset revision for pubmedqa.*--tasks medmcqa"):
        fetch_tasks(specs, tmp_path, download)
    assert list(tmp_path.iterdir()) == []


def test_fetch_refuses_a_split_of_the_wrong_size(tmp_path):
    spec = replace(pinned_sample_spec("medmcqa"), n_total=4183)
    with pytest.raises(UserError, match="has 12 rows, the registry expects 4183"):
        fetch_tasks([spec], tmp_path, lambda s: sample_rows(s.name))
    assert not (tmp_path / "medmcqa.jsonl").exists()


def test_fetch_refuses_rows_with_an_invalid_gold(tmp_path):
    rows = sample_rows("medqa_4options")
    rows[9]["label"] = 7
    with pytest.raises(UserError, match="row 9: label must be an integer 0-3"):
        fetch_tasks([pinned_sample_spec("medqa_4options")], tmp_path, lambda s: rows)
    assert not (tmp_path / "medqa_4options.jsonl").exists()


def test_fetch_cli_refuses_unpinned_tasks_offline(tmp_path, capsys, monkeypatch):
    monkeypatch.setitem(TASKS, "pubmedqa", replace(PUBMEDQA, revision=None))
    assert main(["data", "fetch", str(tmp_path), "--tasks", "pubmedqa"]) == 1
    assert "pins no dataset revision" in capsys.readouterr().err
    assert list(tmp_path.iterdir()) == []


# ---- medlb data check -------------------------------------------------------------------------


def test_check_reports_every_task_of_the_sample_data(capsys):
    assert main(["data", "check", str(SAMPLE_DATA_DIR)]) == 0
    out = capsys.readouterr().out
    for task in TASK_NAMES:
        loaded = load_task_rows(TASKS[task], SAMPLE_DATA_DIR)
        (line,) = [line for line in out.splitlines() if line.startswith(task + " ")]
        assert line.split() == [task, "12", str(TASKS[task].n_total), "partial", loaded.sha256]


def test_check_require_complete_fails_on_partial_data(capsys):
    argv = [
        "data",
        "check",
        str(SAMPLE_DATA_DIR),
        "--tasks",
        "medqa_4options",
        "--require-complete",
    ]
    assert main(argv) == 1
    assert "1 of 1 tasks failed" in capsys.readouterr().err


def test_check_names_each_broken_file_and_fails(tmp_path, capsys):
    data = tmp_path / "data"
    shutil.copytree(SAMPLE_DATA_DIR, data)
    rows = sample_rows("mmlu_anatomy")
    rows[1]["answer"] = 9
    write_jsonl(data / "mmlu_anatomy.jsonl", rows)
    (data / "pubmedqa.jsonl").unlink()
    assert main(["data", "check", str(data)]) == 1
    captured = capsys.readouterr()
    assert "pubmedqa.jsonl: data file not found" in captured.err
    assert "mmlu_anatomy.jsonl: row 1: answer must be an integer 0-3" in captured.err
    assert "2 of 9 tasks failed" in captured.err
    medqa_line = next(line for line in captured.out.splitlines() if line.startswith("medqa_4"))
    assert "partial" in medqa_line


def test_fetched_rows_build_the_same_items_as_the_source(tmp_path):
    spec = pinned_sample_spec("mmlu_professional_medicine")
    fetch_tasks([spec], tmp_path, lambda s: sample_rows(s.name))
    fetched = build_items(spec, load_task_rows(spec, tmp_path).rows)
    original = build_items(spec, load_task_rows(spec, SAMPLE_DATA_DIR).rows)
    assert fetched == original


# ---- medlb data pin ---------------------------------------------------------------------------


def test_pin_resolves_unpinned_tasks_and_lists_existing_pins():
    from runner.evaluation.data_dir import pin_lines

    unpinned = replace(PUBMEDQA, revision=None)
    asked = []

    def resolve(spec):
        asked.append(spec.name)
        return "ab" * 20

    lines = pin_lines([MEDQA, unpinned], explicit=False, resolve=resolve)
    assert asked == ["pubmedqa"], "an existing pin is not re-resolved unless asked for"
    assert lines[0] == f"medqa_4options: pinned at {MEDQA.revision} ({MEDQA.data_source})"
    assert "abab" in lines[1] and "parquet-conversion" in lines[1]


def test_pin_names_a_moved_revision_and_refuses_a_non_sha():
    from runner.evaluation.data_dir import pin_lines

    moved = pin_lines([MEDQA], explicit=True, resolve=lambda spec: "cd" * 20)
    assert f"(pinned now: {MEDQA.revision})" in moved[0]
    with pytest.raises(UserError, match="not a commit SHA"):
        pin_lines([MEDQA], explicit=True, resolve=lambda spec: "main")


def test_pin_without_the_hub_is_one_line_and_exit_1(tmp_path):
    import os
    import subprocess
    import sys

    env = {**os.environ, "HF_HUB_OFFLINE": "1", "HF_HOME": str(tmp_path)}
    done = subprocess.run(
        [sys.executable, "-m", "runner", "data", "pin", "--tasks", "pubmedqa"],
        capture_output=True,
        text=True,
        env=env,
        timeout=120,
    )
    assert done.returncode == 1
    assert done.stderr.strip().splitlines() == [
        "medlb: error: bigbio/pubmed_qa: could not ask the Hub for its revision "
        "(OfflineModeIsEnabled)"
    ]
