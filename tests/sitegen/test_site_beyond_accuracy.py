"""What the site shows beyond accuracy, checked against the results files it was built from:
consistent accuracy and its ranking, chance-normalised scores, the model page's robustness and
calibration panels, and maintainers' flags.

The site holds the two real tiny runs (the Llama evaluated with --rotations, the GPT-2 without)
and twelve synthetic results on the full splits (model 9 without rotations), so the tiny runs are
shown unranked, one ranked model has no consistent rank, and full-size tasks get reliability
diagrams of their own.
"""

from __future__ import annotations

import html
import json
import re
import shutil
from pathlib import Path

import pytest
from site_fixtures import (
    build_synthetic_site,
    leaderboard_table,
    page_words,
    published_results,
    site_build_argv,
    write_flag,
)

from runner.cli import main
from runner.evaluation.tasks import LETTER_TASK_NAMES, TASK_NAMES
from runner.sitegen.model_panels import RELIABILITY_MIN_ITEMS
from runner.sitegen.task_facts import FACTS

FLAG_REASON = "The model card says MedQA's test split was part of its fine-tuning data."
DISCUSSION = "https://github.com/open-medical-llm/leaderboard/issues/77"


def pct(value: float) -> float:
    return round(100 * value, 1)


def shown(value: float) -> str:
    """A fraction as the pages print it: percent, one decimal, a real minus sign."""
    return f"{100 * value:.1f}".replace("-", "−")


@pytest.fixture(scope="module")
def built(site_tree, tmp_path_factory):
    work = tmp_path_factory.mktemp("site-beyond")
    synthetic = build_synthetic_site(site_tree, work, 12, seed=13, full_size=True)
    flags = work / "flags"
    write_flag(flags, synthetic[3], FLAG_REASON, DISCUSSION)
    assert (
        main(
            site_build_argv(
                work / "results", work / "submissions", site_tree.references, work, flags
            )
        )
        == 0
    )
    return work, synthetic


@pytest.fixture(scope="module")
def results(built):
    return published_results(built[0] / "results")


def rows_of(site: Path) -> dict[str, dict]:
    return {r["model"]: r for r in leaderboard_table(site)[0]}


def triple(estimate) -> list[float]:
    return [pct(estimate.value), pct(estimate.ci95[0]), pct(estimate.ci95[1])]


def expected_places(scores: dict[str, tuple[float, float]]) -> dict[str, int]:
    """rank = 1 + the models whose whole interval lies above, from the exact intervals."""
    return {
        model: 1 + sum(1 for other, (low, _) in scores.items() if other != model and low > high)
        for model, (_, high) in scores.items()
    }


def test_leaderboard_rows_carry_consistent_and_chance_normalised_scores(built, results):
    rows = rows_of(built[0] / "html")
    assert set(rows) == set(results)
    for model, result in results.items():
        row = rows[model]
        average = result.letter_tasks_average
        if average is not None and average.rotations is not None:
            assert row["consistent"] == triple(average.rotations.consistent), model
        else:
            assert "consistent" not in row and "consistent_rank" not in row, model
        assert row["normalized_average"] == triple(result.chance_normalized_average), model
        for i, name in enumerate(TASK_NAMES):
            expected = triple(result.tasks[name].chance_normalized)
            assert row["normalized_tasks"][i] == expected, (model, name)
    rotations = [m for m, r in results.items() if r.rotations]
    assert len(rotations) == len(results) - 2, "model 9 and the tiny GPT-2 have no rotations"


def test_ranking_by_consistent_accuracy_uses_the_averages_rule(built, results):
    """Among the models ranked by average, those with rotation scores are ranked by consistent
    accuracy; the one without rotations has no rank there, and the downloads say the same."""
    site = built[0] / "html"
    rows = rows_of(site)
    ranked = {m for m, row in rows.items() if row.get("rank") is not None}
    with_rotations = {m for m in ranked if results[m].rotations}
    assert with_rotations and ranked - with_rotations, "both kinds among the ranked"
    scores = {
        m: tuple(results[m].letter_tasks_average.rotations.consistent.ci95) for m in with_rotations
    }
    places = expected_places(scores)
    records = {r["model"]: r for r in json.loads((site / "leaderboard.json").read_text())}
    for model, row in rows.items():
        if model in with_rotations:
            shown = row["consistent_rank"][0]
            assert shown == places[model] == records[model]["consistent_rank"], model
        else:
            assert "consistent_rank" not in row and records[model]["consistent_rank"] is None
    normalized = {m: tuple(results[m].chance_normalized_average.ci95) for m in ranked}
    for model, place in expected_places(normalized).items():
        shown = rows[model]["normalized_rank"][0]
        assert shown == place == records[model]["chance_normalized_rank"]


def test_model_page_robustness_panel_shows_the_results_numbers(built, results):
    model = built[1][0]
    result = results[model]
    raw = (built[0] / "html" / "models" / model / "index.html").read_text(encoding="utf-8")
    average = result.letter_tasks_average
    measures = {
        "rotation0": average.rotations.acc_by_rotation[0],
        "rotation1": average.rotations.acc_by_rotation[1],
        "rotation3": average.rotations.acc_by_rotation[3],
        "consistent": average.rotations.consistent,
        "flip_rate": average.rotations.flip_rate,
        "debiased": average.rotations.debiased,
        "rstd": average.rstd,
    }
    for key, estimate in measures.items():
        row = re.search(rf'<tr data-measure="{key}">(.*?)</tr>', raw, re.S).group(1)
        cells = re.findall(r'<td class="num[^"]*">([^<]*)', row)
        assert cells[0] == shown(estimate.value), key
        assert cells[1] == f"{shown(estimate.ci95[0])}–{shown(estimate.ci95[1])}", key
        meaning = re.search(r'<td class="meaning[^"]*">(.*?)</td>', row).group(1)
        assert len(re.findall(r"[.?!](?:\s|$)", meaning)) == 1, f"one sentence: {meaning}"
    tasks = raw.split('class="robustness-tasks"')[1].split("</table>")[0]
    for name in LETTER_TASK_NAMES:
        scores = result.tasks[name].robustness
        row = re.search(rf'<tr data-task="{name}">(.*?)</tr>', tasks, re.S).group(1)
        values = re.findall(r'<td class="num">([^<]*)<span class="ci">', row)
        expected = [*scores.acc_by_rotation, scores.consistent, scores.flip_rate, scores.debiased]
        assert values == [shown(e.value) for e in expected], name
    recall = raw.split('class="letter-recall"')[1].split("</table>")[0]
    medqa = re.search(r'<tr data-task="medqa_4options">(.*?)</tr>', recall, re.S).group(1)
    bias = result.tasks["medqa_4options"].letter_bias
    cells = re.findall(r'<td class="num">([^<]*)<span class="ci">([^<]*)</span></td>', medqa)
    assert cells[:4] == [
        (shown(r), f"{shown(low)}–{shown(high)}")
        for r, (low, high) in zip(bias.recall, bias.recall_ci95, strict=True)
    ]
    pairs = zip(bias.recall, bias.recall_ci95, strict=True)
    assert all(low <= r <= high for r, (low, high) in pairs)
    rstd = bias.rstd
    assert cells[4] == (shown(rstd.value), f"{shown(rstd.ci95[0])}–{shown(rstd.ci95[1])}")
    assert rstd.ci95[0] <= rstd.value <= rstd.ci95[1]
    assert 'class="medlb-chart bars"' in raw.split("Robustness to option order")[1]


def test_a_model_without_rotations_says_so_and_still_shows_rstd(built, results, site_tree):
    for model in (built[1][9], site_tree.evaluated[1]):
        result = results[model]
        assert not result.rotations
        page = built[0] / "html" / "models" / model / "index.html"
        raw = page.read_text(encoding="utf-8")
        words = page_words(page)
        assert "This result was evaluated without rotations" in words
        assert "RStd still shows whether the model favours some letters" in words
        assert 'data-measure="consistent"' not in raw and "robustness-tasks" not in raw
        rstd = re.search(r'<tr data-measure="rstd">(.*?)</tr>', raw, re.S).group(1)
        assert re.search(r'<td class="num">([^<]*)<', rstd).group(1) == shown(
            result.letter_tasks_average.rstd.value
        )
        assert words.count("Consistent accuracy —") == 1, "the summary card has no value"


def test_calibration_panel_ece_brier_and_the_pooling_rule(built, results):
    model = built[1][0]
    result = results[model]
    page = built[0] / "html" / "models" / model / "index.html"
    raw = page.read_text(encoding="utf-8")
    table = raw.split('<table class="calibration">')[1].split("</table>")[0]
    for name, task in result.tasks.items():
        row = re.search(rf'<tr data-task="{name}">(.*?)</tr>', table, re.S).group(1)
        assert f">{task.ece:.3f}<" in row and f">{task.brier:.3f}<" in row, name
        for value, (low, high) in ((task.ece, task.ece_ci95), (task.brier, task.brier_ci95)):
            assert f'>{value:.3f}<span class="ci">{low:.3f}–{high:.3f}</span>' in row, name
            assert low <= value <= high, name
    own = [n for n, t in result.tasks.items() if t.n >= RELIABILITY_MIN_ITEMS]
    assert own == ["medqa_4options", "medmcqa", "pubmedqa"]
    assert raw.count('class="medlb-chart scatter reliability"') == 1 + len(own)
    words = page_words(page)
    pooled = result.reliability_pooled
    assert f"The pooled diagram takes all {pooled.n} questions of 9 tasks together" in words
    assert "MedQA (USMLE, 4 options), MedMCQA, PubMedQA have at least 500 questions" in words
    assert "the others (MMLU Clinical Knowledge, MMLU Medical Genetics" in words
    assert f"All tasks, pooled {pooled.n} questions, ECE {pooled.ece:.3f}." in words
    # The pooled diagram: one bar per populated bin, as tall as the bin's accuracy.
    diagram = raw.split('class="medlb-chart scatter reliability"')[1]
    heights = [float(h) for h in re.findall(r'<rect class="bar" [^>]*height="([\d.]+)"', diagram)]
    filled = [b for b in pooled.bins if b.count]
    assert heights[: len(filled)] == [pytest.approx(100 * b.accuracy, abs=0.01) for b in filled]
    # Each populated bin is labelled with its question count (issue 19: a bin of a few questions
    # says little).
    pooled_html = diagram.split("</figure>")[0]
    counts = [int(c) for c in re.findall(r'<span class="bin-count"[^>]*>(\d+)</span>', pooled_html)]
    assert counts == [b.count for b in filled] and sum(counts) == pooled.n


def test_chance_normalised_accuracy_beside_accuracy_with_pubmedqas_majority_line(built, results):
    model = built[1][0]
    result = results[model]
    raw = (built[0] / "html" / "models" / model / "index.html").read_text(encoding="utf-8")
    table = raw.split('<table class="chance-normalized">')[1].split("</table>")[0]
    for name, task in result.tasks.items():
        row = re.search(rf'<tr data-task="{name}">(.*?)</tr>', table, re.S).group(1)
        cells = re.findall(r'<td class="num">([^<]*)', row)
        assert cells[:3] == [
            shown(1 / task.options),
            shown(task.acc),
            shown(task.chance_normalized.value),
        ]
        assert cells[-1] == shown(task.majority_class_rate)
    average = re.search(r'<tr class="pooled" data-task="average">(.*?)</tr>', table, re.S).group(1)
    assert f">{shown(result.chance_normalized_average.value)}<" in average
    chart = raw.split('<table class="chance-normalized">')[1].split("</figure>")[0]
    pubmedqa = re.search(r'<div class="bar-row" title="PubMedQA, chance-normalised.*?</div>', chart)
    majority = float(re.search(r'class="majority" x1="([\d.]+)"', pubmedqa.group(0)).group(1))
    first_tick = re.search(r'<span style="left:0%"[^>]*>([−\d]+)%', chart).group(1)
    axis_min = float(first_tick.replace("−", "-")) / 100
    normalized = FACTS["pubmedqa"].baseline.normalized(result.tasks["pubmedqa"].majority_class_rate)
    assert majority == pytest.approx(100 * (normalized - axis_min) / (1 - axis_min), abs=0.01)


def test_a_flagged_model_is_marked_with_its_reason_and_discussion(built):
    work, synthetic = built
    site, flagged = work / "html", synthetic[3]
    rows = rows_of(site)
    flag = {"reason": FLAG_REASON, "discussion": DISCUSSION, "date": "2026-01-15"}
    assert rows[flagged]["flag"] == flag
    assert all("flag" not in row for model, row in rows.items() if model != flagged)
    assert rows[flagged].get("rank") is not None, "a flag keeps the model's rank"
    raw = (site / "models" / flagged / "index.html").read_text(encoding="utf-8")
    banner = html.unescape(raw.split('id="flagged"')[1].split("</div>")[0])
    assert FLAG_REASON in banner and f'href="{DISCUSSION}"' in banner
    assert "Flagged by a maintainer on 2026-01-15" in banner and "about/#flags" in banner
    assert 'id="flagged"' not in (site / "models" / synthetic[4] / "index.html").read_text()
    words = page_words(site / "index.html")
    assert "1 model is flagged here" in words and "Untick flagged models to hide them" in words
    index = (site / "index.html").read_text()
    toggle = re.search(r'<label class="lb-toggle"[^>]*><input [^>]*id="lb-flagged"[^>]*>', index)
    assert "hidden" not in toggle.group(0) and "checked" in toggle.group(0), "shown by default"
    assert "documented reason to doubt its scores" in page_words(site / "about" / "index.html")
    records = {r["model"]: r for r in json.loads((site / "leaderboard.json").read_text())}
    assert records[flagged]["flagged"] is True and records[synthetic[4]]["flagged"] is False


def test_a_flag_of_a_submitted_model_without_a_result_is_a_warning(site_tree, tmp_path, capsys):
    flags = tmp_path / "flags"
    path = write_flag(flags, site_tree.pending, FLAG_REASON, DISCUSSION)
    argv = site_build_argv(
        site_tree.results, site_tree.submissions, site_tree.references, tmp_path, flags
    )
    capsys.readouterr()
    assert main(argv) == 0
    err = capsys.readouterr().err.strip()
    assert err == (
        f"warning: {path}: flags {site_tree.pending}, which has no result yet; shown once published"
    )
    assert all("flag" not in row for row in rows_of(tmp_path / "html").values())


def test_a_flag_of_an_unknown_model_fails_the_build_in_one_line(site_tree, tmp_path, capsys):
    work = tmp_path / "work"
    argv = site_build_argv(site_tree.results, site_tree.submissions, site_tree.references, work)
    assert main(argv) == 0
    before = (work / "html" / "index.html").read_bytes()
    flags = tmp_path / "flags"
    path = write_flag(flags, "acme/no-such-model", FLAG_REASON, DISCUSSION)
    capsys.readouterr()
    argv = site_build_argv(
        site_tree.results, site_tree.submissions, site_tree.references, work, flags
    )
    assert main(argv) == 1
    err = capsys.readouterr().err.strip()
    assert err.count("\n") == 0 and str(path) in err and "no result and no submission" in err
    assert (work / "html" / "index.html").read_bytes() == before, "the previous site stays"


def test_a_results_file_of_schema_version_1_still_builds_and_says_what_it_lacks(
    site_tree, tmp_path
):
    results = tmp_path / "results"
    shutil.copytree(site_tree.results, results)
    old = Path(__file__).resolve().parents[1] / "evaluation" / "fixtures" / "results_v1.json"
    data = json.loads(old.read_text(encoding="utf-8"))
    target = results / "medlb-tiny" / "old-model.json"
    data["model"]["id"] = "medlb-tiny/old-model"
    target.write_text(json.dumps(data), encoding="utf-8")
    argv = site_build_argv(results, site_tree.submissions, site_tree.references, tmp_path)
    assert main(argv) == 0
    page = tmp_path / "html" / "models" / "medlb-tiny" / "old-model" / "index.html"
    words = page_words(page)
    assert "This results file predates the robustness measures (schema version 1)" in words
    assert "predates the Brier score, the reliability diagram" in words
    assert "medlb-tiny/old-model" in rows_of(tmp_path / "html")
