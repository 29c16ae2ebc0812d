"""`medlb evaluate --rotations` end to end: rotation 0 unchanged, resume, the manifest, schema v2.

What a user relies on: adding --rotations changes nothing a run without it reports (the same
rotation-0 bytes, the same accuracy, intervals and calibration), a rotations run resumes like any
run, a directory of the other kind is refused, and results files of both schema versions load.
"""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest
from results_versions import without_version_3_fields

from runner.cli import main
from runner.errors import UserError
from runner.evaluation.run_manifest import RunIdentity, RunManifest, open_run
from runner.evaluation.task_data import SAMPLE_DATA_DIR
from runner.evaluation.tasks import LETTER_TASK_NAMES, TASK_NAMES
from runner.results_schema import decode_bits, load_result

FIXTURES = Path(__file__).parent / "fixtures"


def read_rows(path: Path) -> list[dict]:
    return [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines()]


def evaluate_argv(model: Path, output: Path, *extra: str) -> list[str]:
    argv = ["evaluate", "--model", str(model), "--data-dir", str(SAMPLE_DATA_DIR)]
    return [*argv, "--no-progress", "--output", str(output), *extra]


def test_rotation_0_is_byte_for_byte_the_run_without_rotations(
    pipeline_rotations_run: Path, pipeline_full_run: Path
):
    for task in TASK_NAMES:
        name = f"predictions/{task}.jsonl"
        plain = (pipeline_full_run / name).read_text(encoding="utf-8").splitlines()
        rows = read_rows(pipeline_rotations_run / name)
        assert all(("rotation_logprobs" in row) == (task in LETTER_TASK_NAMES) for row in rows)
        for row in rows:
            row.pop("rotation_logprobs", None)
        assert [json.dumps(row) for row in rows] == plain
    rotated, plain = (
        load_result(d / "results.json") for d in (pipeline_rotations_run, pipeline_full_run)
    )
    differ = {"predictions_sha256", "seconds", "robustness"}
    for task in TASK_NAMES:
        ours = rotated.tasks[task].model_dump(exclude=differ)
        assert ours == plain.tasks[task].model_dump(exclude=differ)
    assert (rotated.average, rotated.chance_normalized_average) == (
        plain.average,
        plain.chance_normalized_average,
    )
    assert rotated.letter_tasks_average.rstd == plain.letter_tasks_average.rstd
    assert rotated.reliability_pooled == plain.reliability_pooled
    assert (rotated.rotations, plain.rotations) == (True, False)
    assert plain.letter_tasks_average.rotations is None


def test_rotation_scores_agree_with_the_predictions(pipeline_rotations_run: Path):
    result = load_result(pipeline_rotations_run / "results.json")
    manifest = json.loads((pipeline_rotations_run / "run.json").read_text())
    assert manifest["identity"]["rotations"] is True
    for task in LETTER_TASK_NAMES:
        rows = read_rows(pipeline_rotations_run / "predictions" / f"{task}.jsonl")
        robustness = result.tasks[task].robustness
        assert all(len(row["rotation_logprobs"]) == 3 for row in rows)
        assert all(len(scores) == 4 for row in rows for scores in row["rotation_logprobs"])
        assert robustness.acc_by_rotation[0].value == pytest.approx(result.tasks[task].acc)
        consistent = decode_bits(robustness.consistent_correct, len(rows))
        assert sum(consistent) / len(rows) == pytest.approx(robustness.consistent.value)
        # Right under all rotations implies right under rotation 0.
        assert all(
            c <= r
            for c, r in zip(
                consistent, decode_bits(result.tasks[task].correct, len(rows)), strict=True
            )
        )
        record = manifest["tasks"][task]
        assert robustness.prompt_tokens == record["rotation_model_tokens"] > 0
        assert robustness.seconds == record["rotation_seconds"]
        assert record["rotation_cpu_seconds"] >= 0 and record["cpu_seconds"] >= 0
    assert result.tasks["pubmedqa"].robustness is None
    assert result.tasks["pubmedqa"].letter_bias is None
    average = result.letter_tasks_average.rotations
    consistent = [result.tasks[t].robustness.consistent.value for t in LETTER_TASK_NAMES]
    assert average.consistent.value == pytest.approx(sum(consistent) / 8)


def test_a_rotations_run_resumes_and_refuses_a_run_of_the_other_kind(
    pipeline_rotations_run, pipeline_full_run, pipeline_tiny_model, tmp_path, capsys
):
    out = tmp_path / "copy"
    shutil.copytree(pipeline_rotations_run, out)
    files = sorted((out / "predictions").glob("*.jsonl"))
    before = {p: p.stat().st_mtime_ns for p in files}
    assert main(evaluate_argv(pipeline_tiny_model, out, "--rotations")) == 0
    assert {p: p.stat().st_mtime_ns for p in files} == before
    assert "kept from an earlier run" in capsys.readouterr().err

    manifest = (out / "run.json").read_bytes()
    assert main(evaluate_argv(pipeline_tiny_model, out)) == 1
    assert "rotations=True, not False" in capsys.readouterr().err
    assert (out / "run.json").read_bytes() == manifest

    plain = tmp_path / "plain"
    shutil.copytree(pipeline_full_run, plain)
    assert main(evaluate_argv(pipeline_tiny_model, plain, "--rotations")) == 1
    assert "rotations=False, not True" in capsys.readouterr().err


def test_a_manifest_written_before_rotations_holds_a_run_without_them(tmp_path):
    (tmp_path / "run.json").write_bytes((FIXTURES / "run_manifest_v1.json").read_bytes())
    old = RunManifest.model_validate_json((FIXTURES / "run_manifest_v1.json").read_text())
    assert old.identity.rotations is False
    assert all(record.rotation_seconds is None for record in old.tasks.values())
    assert open_run(tmp_path, old.identity).tasks == old.tasks
    with_rotations = RunIdentity(**{**old.identity.model_dump(), "rotations": True})
    with pytest.raises(UserError, match="rotations=False, not True"):
        open_run(tmp_path, with_rotations)


def test_a_version_1_results_file_still_loads():
    result = load_result(FIXTURES / "results_v1.json")  # written by medlb before schema v2
    assert result.schema_version == 1 and result.rotations is False
    assert list(result.tasks) == list(TASK_NAMES)
    assert all(t.brier is None and t.robustness is None for t in result.tasks.values())
    assert result.reliability_pooled is None and result.average is not None


def test_a_version_2_results_file_still_loads(pipeline_rotations_run: Path, tmp_path: Path):
    doc = without_version_3_fields(
        json.loads((pipeline_rotations_run / "results.json").read_text())
    )
    path = tmp_path / "results.json"
    path.write_text(json.dumps({**doc, "schema_version": 2}))
    result = load_result(path)
    assert result.schema_version == 2 and result.cot is None and result.tracks == ("loglik",)


def v1_file(request) -> dict:
    return json.loads((FIXTURES / "results_v1.json").read_text())


def v2_file(request) -> dict:
    run = request.getfixturevalue("pipeline_rotations_run")
    return without_version_3_fields(json.loads((run / "results.json").read_text()))


@pytest.mark.parametrize(
    ("source", "edit", "message"),
    [
        (
            v1_file,
            lambda d: d["tasks"]["pubmedqa"].update(brier=0.5),
            "not a field of schema version 1",
        ),
        (v1_file, lambda d: d.update(rotations=True), "rotations: not a field of schema version 1"),
        (v1_file, lambda d: d.update(schema_version=4), "schema_version 4 is not supported"),
        (v2_file, lambda d: d["tasks"]["medmcqa"].pop("brier"), "tasks.medmcqa.brier: required"),
        (v2_file, lambda d: d.pop("reliability_pooled"), "reliability_pooled: required"),
        (v2_file, lambda d: d.update(rotations=False), "present exactly for the letter tasks"),
        (
            v2_file,
            lambda d: d.update(schema_version=2, cot_not_run="no chat template"),
            "cot_not_run: not a field of schema version 2",
        ),
        (
            v2_file,
            lambda d: [
                d.update(schema_version=2),
                d["tasks"]["medmcqa"].update(ece_ci95=[0.0, 0.1]),
            ],
            "tasks.medmcqa.ece_ci95: not a field of schema version 2",
        ),
    ],
)
def test_a_results_file_has_exactly_the_fields_of_its_version(
    request, tmp_path, source, edit, message
):
    doc = source(request)
    edit(doc)
    path = tmp_path / "results.json"
    path.write_text(json.dumps(doc))
    with pytest.raises(UserError, match=message):
        load_result(path)
