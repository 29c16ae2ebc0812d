"""`medlb evaluate` with the reasoning track: which tracks run, what results.json and
predictions/cot hold, resume per track, a directory never mixing cot settings, the split-run
merge, and the recomputation that merge/publish rely on."""

from __future__ import annotations

import dataclasses
import json
from pathlib import Path

import pytest

from runner.cli import main
from runner.evaluation.cot.scoring import recompute_cot_track
from runner.evaluation.predictions import predictions_path, read_rows, sha256
from runner.evaluation.task_data import SAMPLE_DATA_DIR
from runner.evaluation.tiny_models import BOS_CHAT_SPEC, TinyModelSpec, build_tiny_model
from runner.results_schema import load_result

TASKS = "medqa_4options,pubmedqa,mmlu_anatomy"
SMALL = {"vocab_size": 400, "hidden_size": 32, "layers": 1, "heads": 2, "intermediate_size": 64}


@pytest.fixture(scope="module")
def chat_model(tmp_path_factory) -> Path:
    spec = dataclasses.replace(BOS_CHAT_SPEC, seed=31, **SMALL)
    return build_tiny_model(tmp_path_factory.mktemp("cot-chat-model"), spec)


@pytest.fixture(scope="module")
def plain_model(tmp_path_factory) -> Path:
    spec = TinyModelSpec(arch="gpt2", seed=32, **SMALL)
    return build_tiny_model(tmp_path_factory.mktemp("cot-plain-model"), spec)


def evaluate(model: Path, output: Path, *extra: str, tasks: str = TASKS) -> int:
    argv = ["evaluate", "--model", str(model), "--data-dir", str(SAMPLE_DATA_DIR)]
    argv += ["--tasks", tasks, "--limit", "3", "--max-new-tokens", "8", "--no-progress"]
    return main([*argv, *extra, "--output", str(output)])


@pytest.fixture(scope="module")
def both_run(chat_model, tmp_path_factory) -> Path:
    out = tmp_path_factory.mktemp("cot-both") / "run"
    assert evaluate(chat_model, out) == 0
    return out


def cot_rows(output: Path, task: str) -> list[dict]:
    path = output / "predictions" / "cot" / f"{task}.jsonl"
    return [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines()]


def test_a_chat_model_gets_both_tracks_by_default(both_run):
    result = load_result(both_run / "results.json")
    assert result.tracks == ("loglik", "cot")
    assert result.cot_not_run is None
    assert result.loglik_engine.name == "hf"
    assert result.loglik_cost.prompt_tokens == sum(
        json.loads((both_run / "run.json").read_text())["tasks"][t]["model_tokens"]
        for t in TASKS.split(",")
    )
    track = result.cot
    assert (track.engine.name, track.max_new_tokens) == ("hf", 8)
    assert list(track.tasks) == TASKS.split(",")
    for name, task in track.tasks.items():
        rows = cot_rows(both_run, name)
        assert [row["doc_id"] for row in rows] == [0, 1, 2]
        assert set(rows[0]) == {
            "doc_id", "generation", "answer", "gold", "correct", "output_tokens", "truncated",
        }  # fmt: skip
        assert task.predictions_sha256 == sha256(
            (both_run / "predictions" / "cot" / f"{name}.jsonl").read_bytes()
        )
        assert task.acc == sum(row["correct"] for row in rows) / 3
        assert task.no_answer_rate == sum(row["answer"] is None for row in rows) / 3
        assert task.output_tokens == sum(row["output_tokens"] for row in rows)
        assert all(row["output_tokens"] <= 8 for row in rows)
        assert task.truncation_rate == sum(row["truncated"] for row in rows) / 3
        # The paired table covers every item and reads the loglik choices of the same rows.
        loglik = read_rows(predictions_path(both_run, name))
        table = task.agreement
        cells = (table.both_right, table.cot_fixes, table.cot_breaks, table.both_wrong)
        assert sum(cells) == 3
        assert table.both_right + table.cot_breaks == sum(r.pred == r.gold for r in loglik)
    assert track.cost.output_tokens == sum(t.output_tokens for t in track.tasks.values())
    assert track.cost.gpu_seconds is None and track.cost.energy_wh is None  # CPU: not measured
    assert track.average is None  # a partial run


def test_a_model_without_chat_template_runs_loglik_and_says_why(plain_model, tmp_path, capsys):
    assert evaluate(plain_model, tmp_path / "out", tasks="pubmedqa") == 0
    result = load_result(tmp_path / "out" / "results.json")
    assert result.tracks == ("loglik",)
    assert "no chat template" in result.cot_not_run
    assert "cot track not run: the tokenizer has no chat template" in capsys.readouterr().out
    assert not (tmp_path / "out" / "predictions" / "cot").exists()


def test_track_cot_without_chat_template_is_one_error_line(plain_model, tmp_path, capsys):
    assert evaluate(plain_model, tmp_path / "out", "--track", "cot", tasks="pubmedqa") == 1
    err = capsys.readouterr().err.strip().splitlines()
    assert err == [
        "medlb: error: --track cot: the tokenizer has no chat template "
        "(tokenizer_config.json chat_template)"
    ]


def test_track_loglik_records_that_cot_was_not_asked_for(chat_model, tmp_path):
    assert evaluate(chat_model, tmp_path / "out", "--track", "loglik", tasks="pubmedqa") == 0
    result = load_result(tmp_path / "out" / "results.json")
    assert result.cot is None and result.cot_not_run == "not asked for (--track loglik)"


def test_resume_keeps_each_tracks_tasks_and_refuses_other_cot_settings(
    chat_model, both_run, tmp_path, capsys
):
    out = tmp_path / "run"
    assert evaluate(chat_model, out, "--track", "loglik") == 0
    capsys.readouterr()
    # Adding the cot track keeps the loglik tasks and runs only cot.
    assert evaluate(chat_model, out) == 0
    err = capsys.readouterr().err
    assert err.count("kept from an earlier run") == 3 and "cot medqa_4options: 3 items" in err
    resumed = load_result(out / "results.json")
    fresh = load_result(both_run / "results.json")
    for name, task in fresh.cot.tasks.items():
        again = resumed.cot.tasks[name]
        assert again.model_dump(exclude={"seconds", "rows_source"}) == task.model_dump(
            exclude={"seconds", "rows_source"}
        )
    # A second run keeps every cot task too.
    assert evaluate(chat_model, out) == 0
    assert capsys.readouterr().err.count("kept from an earlier run") == 6
    # Other generation settings in the same directory: refused, nothing mixed.
    assert evaluate(chat_model, out, "--max-new-tokens", "9") == 1
    assert "max_new_tokens=8, not 9" in capsys.readouterr().err


def test_recompute_from_the_predictions_gives_the_same_track(both_run):
    result = load_result(both_run / "results.json")
    loglik = {name: read_rows(predictions_path(both_run, name)) for name in result.tasks}
    again = recompute_cot_track(result.cot, both_run, loglik, complete=False)
    assert again == result.cot


def test_recompute_refuses_a_changed_predictions_file(both_run, tmp_path):
    import shutil

    copy = tmp_path / "copy"
    shutil.copytree(both_run, copy)
    path = copy / "predictions" / "cot" / "pubmedqa.jsonl"
    path.write_text(path.read_text().replace('"correct": false', '"correct": true', 1))
    result = load_result(copy / "results.json")
    with pytest.raises(ValueError, match="predictions_sha256"):
        recompute_cot_track(result.cot, copy, {}, complete=False)


def test_a_split_run_merges_per_track_like_a_single_run(chat_model, both_run, tmp_path):
    parts = [tmp_path / "a", tmp_path / "b"]
    assert evaluate(chat_model, parts[0], tasks="medqa_4options,pubmedqa") == 0
    assert evaluate(chat_model, parts[1], tasks="mmlu_anatomy") == 0
    merged_dir = tmp_path / "merged"
    assert main(["results", "merge", *map(str, parts), "--output", str(merged_dir)]) == 0
    merged, single = (
        load_result(merged_dir / "results.json"),
        load_result(both_run / "results.json"),
    )
    for name in TASKS.split(","):
        relative = Path("predictions") / "cot" / f"{name}.jsonl"
        assert (merged_dir / relative).read_bytes() == (both_run / relative).read_bytes()
    ignore = {
        "tasks": {name: {"seconds", "rows_source"} for name in single.cot.tasks},
        "cost": True,
    }
    assert merged.cot.model_dump(exclude=ignore) == single.cot.model_dump(exclude=ignore)
    assert merged.cot.cost.output_tokens == single.cot.cost.output_tokens
    assert merged.loglik_cost.prompt_tokens == single.loglik_cost.prompt_tokens


@pytest.mark.parametrize(
    ("tracks", "flag", "expected"),
    [("[loglik]", None, "loglik"), ("[cot]", None, "cot"), ("[loglik, cot]", None, "both"),
     (None, None, None), ("[loglik]", "cot", "cot")],
)  # fmt: skip
def test_a_submission_narrows_the_tracks_unless_the_flag_says(tracks, flag, expected, tmp_path):
    from submission_fixtures import VALID_PATH, VALID_SUBMISSION

    from runner.evaluation.run import ModelChoice

    text = VALID_SUBMISSION + (f"tracks: {tracks}\n" if tracks else "")
    path = tmp_path / VALID_PATH
    path.parent.mkdir(parents=True)
    path.write_text(text, encoding="utf-8")
    assert ModelChoice(submission=path, track=flag).resolve()[4] == expected


def test_a_window_too_small_for_max_new_tokens_skips_cot_and_says_why(chat_model, tmp_path):
    # The chat model's window is 2048 tokens: the default 4096 new tokens leave no prompt.
    argv = ["evaluate", "--model", str(chat_model), "--data-dir", str(SAMPLE_DATA_DIR)]
    argv += ["--tasks", "pubmedqa", "--limit", "2", "--no-progress"]
    assert main([*argv, "--output", str(tmp_path / "out")]) == 0
    result = load_result(tmp_path / "out" / "results.json")
    assert result.cot is None and result.tracks == ("loglik",)
    assert result.cot_not_run == (
        "--max-new-tokens 4096 leaves no room for the prompt in the model's 2048-token context "
        "window"
    )
    assert main([*argv, "--track", "cot", "--output", str(tmp_path / "cot")]) == 1


def test_engine_vllm_on_cpu_fails_before_any_work(chat_model, tmp_path, capsys):
    out = tmp_path / "out"
    assert evaluate(chat_model, out, "--engine", "vllm", "--device", "cpu") == 2
    assert "--engine vllm: vLLM runs on CUDA only" in capsys.readouterr().err
    assert not (out / "predictions").exists()


# A template whose rendering runs 10^10 loop steps: the sandboxed check stops it after 2 s.
LOOPING_TEMPLATE = (
    "{% for i in range(99999) %}{% for j in range(99999) %}{% endfor %}{% endfor %}"
    "{{ messages[0]['content'] }}"
)


@pytest.fixture(scope="module")
def looping_model(chat_model, tmp_path_factory) -> Path:
    """The chat model with a template that never finishes rendering (chat_template.jinja wins
    over tokenizer_config.json, in transformers and in the check alike)."""
    import shutil

    copy = Path(shutil.copytree(chat_model, tmp_path_factory.mktemp("looping") / "model"))
    (copy / "chat_template.jinja").write_text(LOOPING_TEMPLATE, encoding="utf-8")
    return copy


REFUSED = (
    "the chat template failed the sandboxed check: chat_template.jinja: rendering took over 2 s"
)


@pytest.mark.slow
def test_a_template_that_renders_too_long_is_not_run_and_the_result_says_why(
    looping_model, tmp_path, capsys
):
    """The template is rendered in-process for every prompt; `medlb evaluate` first runs the
    validator's sandboxed check on the model directory, whatever validation said."""
    assert evaluate(looping_model, tmp_path / "out", tasks="pubmedqa") == 0
    result = load_result(tmp_path / "out" / "results.json")
    assert result.tracks == ("loglik",) and result.cot is None
    assert result.cot_not_run == REFUSED
    assert f"cot track not run: {REFUSED}" in capsys.readouterr().out
    assert not (tmp_path / "out" / "predictions" / "cot").exists()


@pytest.mark.slow
def test_track_cot_with_a_refused_template_is_one_error_line(looping_model, tmp_path, capsys):
    assert evaluate(looping_model, tmp_path / "out", "--track", "cot", tasks="pubmedqa") == 1
    err = capsys.readouterr().err.strip().splitlines()
    assert err == [f"medlb: error: --track cot: {REFUSED}"]
    assert not (tmp_path / "out" / "results.json").exists()
