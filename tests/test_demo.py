"""`medlb demo --no-serve`: the whole pipeline on two tiny models into a fresh workspace."""

from __future__ import annotations

import json
import re

from site_fixtures import result_file

from runner.cli import main
from runner.demo_pipeline import DEMO_MAX_NEW_TOKENS, DEMO_MODELS, STAGES
from runner.results_schema import load_result


def test_demo_builds_a_site_with_both_models_and_the_references(tmp_path, capsys):
    workspace = tmp_path / "demo"
    assert main(["demo", "--workspace", str(workspace), "--no-serve"]) == 0
    out = capsys.readouterr().out

    # A newcomer can follow it: numbered stages in order, each command echoed before it runs.
    stages = [int(n) for n in re.findall(rf"^\[(\d)/{STAGES}\]", out, re.M)]
    assert stages == list(range(1, STAGES + 1))
    for command in ("validate", "evaluate", "results publish", "site build"):
        assert f"$ medlb {command} " in out

    site = workspace / "site"
    rows = {row["model"]: row for row in json.loads((site / "leaderboard.json").read_text())}
    for model in DEMO_MODELS:
        published = load_result(result_file(workspace / "results", model.model_id))
        assert published.model.id == model.model_id and published.model.source == "local"
        assert published.average is not None
        assert rows[model.model_id]["average"] == round(published.average, 4)  # as downloaded
        page = (site / "models" / model.model_id / "index.html").read_text()
        assert model.model_id in page
        # Evaluated with --rotations, so the site shows how robust each answer is.
        assert published.rotations and published.letter_tasks_average.rotations is not None
        consistent = published.letter_tasks_average.rotations.consistent.value
        row = re.search(r'<tr data-measure="consistent">(.*?)</tr>', page, re.S).group(1)
        assert f'<td class="num">{100 * consistent:.1f}<' in row
    averages = [rows[m.model_id]["average"] for m in DEMO_MODELS]
    assert averages[0] != averages[1]  # two different models, not one model twice

    # The repository's paper-reported scores are shown beside the demo models.
    assert "GPT-4-base" in (site / "index.html").read_text()

    # Every answer auditable: the publish step wrote the details where the details branch keeps
    # them, and the site shows a question view of every task of both models.
    for model in DEMO_MODELS:
        published = load_result(result_file(workspace / "results", model.model_id))
        for task in published.tasks:
            view = json.loads(
                (site / "data" / "questions" / model.model_id / f"{task}.json").read_text()
            )
            assert view["n"] == published.tasks[task].n
            assert view["predictions"]["sha256"] == published.tasks[task].predictions_sha256
            texts = json.loads((site / view["texts_url"]).read_text())  # staged by publish
            assert texts["data_sha256"] == published.tasks[task].data_sha256
        revision = published.model.revision
        assert (workspace / "details" / model.model_id / revision / "predictions").is_dir()
    assert (site / "questions" / "index.html").is_file()

    # The reasoning track: the model with a chat template, taught the answer format, has real
    # `cot` numbers (not all zero, and its answers mostly extracted); the one without says why.
    taught, plain = (
        load_result(result_file(workspace / "results", m.model_id)) for m in DEMO_MODELS
    )
    assert taught.cot is not None and taught.cot.max_new_tokens == DEMO_MAX_NEW_TOKENS
    assert any(task.acc > 0 for task in taught.cot.tasks.values())
    assert taught.cot.no_answer_rate < 0.5
    assert plain.cot is None and "no chat template" in plain.cot_not_run
    revision = taught.model.revision
    for task in taught.cot.tasks:
        assert (workspace / "details" / taught.model.id / revision / "predictions" / "cot"
                / f"{task}.jsonl").is_file()  # fmt: skip
    assert "chat-template   loglik and cot: " in out and "loglik only: no chat template" in out


def test_demo_refuses_a_bad_port_before_doing_any_work(tmp_path, capsys):
    assert main(["demo", "--workspace", str(tmp_path / "w"), "--port", "70000"]) == 2
    assert "--port: 70000 is not a TCP port" in capsys.readouterr().err
    assert not (tmp_path / "w").exists()
