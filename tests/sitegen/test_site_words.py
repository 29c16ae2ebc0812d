"""What the pages say about ranking matches what they rank.

Two sites: one with results on the full splits and on the bundled sample questions together (the
sample results must be shown unranked, and every page must say ranks are on the full splits), and
one with sample-data results only (ranked among themselves, and the pages must say exactly that).
The ranking by consistent accuracy is checked the same way: in both sites one ranked model has no
rotation scores, and the pages must name it and rank the others by the stated rule.
"""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest
from site_fixtures import (
    build_synthetic_site,
    leaderboard_table,
    page_words,
    published_results,
    site_build_argv,
)

from runner.cli import main
from runner.evaluation.tasks import TASK_NAMES, TASKS

SAMPLE_SITE_WORDS = "ranked among themselves"


def rows_of(site: Path) -> dict[str, dict]:
    return {r["model"]: r for r in leaderboard_table(site)[0]}


@pytest.fixture(scope="module")
def mixed(site_tree, tmp_path_factory):
    """The two sample-data runs beside ten results on the full splits (the tenth without
    rotation scores)."""
    work = tmp_path_factory.mktemp("site-mixed")
    full = build_synthetic_site(site_tree, work, 10, seed=3, full_size=True)
    return work / "html", set(full)


@pytest.fixture(scope="module")
def sample_only(site_tree, tmp_path_factory):
    work = tmp_path_factory.mktemp("site-sample")
    argv = site_build_argv(site_tree.results, site_tree.submissions, site_tree.references, work)
    assert main(argv) == 0
    return work / "html"


def test_a_site_with_full_split_results_ranks_only_those_and_says_so(mixed, site_tree):
    site, full = mixed
    rows = rows_of(site)
    assert {m for m, r in rows.items() if r.get("rank") is not None} == full
    for model in site_tree.evaluated:
        assert "rank" not in rows[model] and "average" not in rows[model], "no rank, no average"
        assert "local questions" in rows[model]["unranked_reason"]
        assert rows[model]["task_ranks"] == [None] * len(TASK_NAMES), "no task rank either"

    words = page_words(site / "index.html")
    assert "every question of the benchmarks' full test splits" in words
    assert "2 results are shown without a rank or an average" in words
    assert all(model in words for model in site_tree.evaluated), "the unranked are named"
    assert "Sample data, not the benchmarks" not in words
    about = page_words(site / "about" / "index.html")
    assert "full test splits" in about and "without a rank or an average" in about
    for page in site.rglob("*.html"):
        assert SAMPLE_SITE_WORDS not in page_words(page), page


def test_task_pages_state_their_rule_and_list_what_they_do_not_rank(mixed, site_tree):
    site, full = mixed
    for name in TASK_NAMES:
        page = site / "tasks" / name / "index.html"
        words = page_words(page)
        assert f"all {TASKS[name].n_total} questions of the full" in words
        raw = page.read_text(encoding="utf-8")
        ranking, _, rest = raw.partition('class="task-unranked')
        assert set(re.findall(r'href="../../models/([^"]+)/"', ranking)) == full
        assert set(re.findall(r'href="../../models/([^"]+)/"', rest)) == set(site_tree.evaluated)
        assert f"evaluated on 12 local questions, not the full split of {TASKS[name].n_total}" in (
            page_words(page)
        )


def test_specialties_and_model_pages_follow_the_same_rule(mixed, site_tree):
    site, full = mixed
    page = (site / "specialties" / "index.html").read_text(encoding="utf-8")
    payload = json.loads(re.search(r'id="sp-data">(.*?)</script>', page, re.S).group(1))
    models = payload["models"]
    assert {models[row["model_index"]]["model"] for row in payload["tracks"][0]["rows"]} == full
    assert "full test splits" in page_words(site / "specialties" / "index.html")
    sample = page_words(site / "models" / site_tree.evaluated[0] / "index.html")
    assert "not ranked" in sample and "local questions" in sample
    # A ranked model's page: its rank as the range the leaderboard shows, in words that say so.
    rows = rows_of(site)
    ranged = 0
    for model in full:
        best, worst = rows[model]["rank"]
        words = page_words(site / "models" / model / "index.html")
        shown = f"{best}–{worst}" if best != worst else str(best)
        assert f"Rank by average {shown} of {len(full)}" in words, model
        if best != worst:
            ranged += 1
            assert f"every place its interval allows: it overlaps {worst - best} other" in words
        else:
            assert "no other interval overlaps its own" in words
        assert "The task rank is a range, every place the interval allows" in words
        assert "≈" not in words, model
    assert ranged, "some ranked models' intervals overlap"


def test_a_sample_data_site_ranks_its_results_among_themselves_and_says_so(sample_only):
    rows = rows_of(sample_only)
    assert all(r.get("rank") is not None for r in rows.values())
    for page in ("index.html", "about/index.html", "tasks/medqa_4options/index.html"):
        words = page_words(sample_only / page)
        assert SAMPLE_SITE_WORDS in words, page
        assert "questions of the full test split" not in words, page
        assert "every question of the benchmarks' full test splits" not in words, page
    assert "Sample data, not the benchmarks" in page_words(sample_only / "index.html")


def test_the_words_about_intervals_match_their_default(sample_only):
    page = (sample_only / "index.html").read_text(encoding="utf-8")
    toggle = re.search(r'<input type="checkbox" id="lb-intervals"[^>]*>', page).group(0)
    assert "checked" not in toggle, "intervals start hidden"
    words = page_words(sample_only / "index.html")
    assert "Every score shows its 95% interval" not in words
    assert "shows on hover, and in the table when Show intervals is ticked (off by default)" in (
        words
    )


def consistent_words(ranked: int, without: str, them: str) -> str:
    return (
        f"It ranks the {ranked} ranked model{'s' if ranked != 1 else ''} evaluated with rotations; "
        f"1 ranked model evaluated without them is listed after {them} without a rank ({without})."
    )


def test_the_words_about_the_consistent_ranking_match_its_ranks(mixed):
    """The pages name the ranked model without rotations, and rank the others by 1 + the models
    whose interval of consistent accuracy lies wholly above (from the exact results files)."""
    site, _ = mixed
    rows = rows_of(site)
    results = published_results(site.parent / "results")
    ranked = {m for m, r in rows.items() if r.get("rank") is not None}
    consistent = {m for m in ranked if "consistent_rank" in rows[m]}
    without = "synth-org-9/synth-model-0009"
    assert ranked - consistent == {without} and not results[without].rotations
    intervals = {m: results[m].letter_tasks_average.rotations.consistent.ci95 for m in consistent}
    for model, (_, high) in intervals.items():
        above = sum(1 for other, (low, _) in intervals.items() if other != model and low > high)
        assert rows[model]["consistent_rank"][0] == 1 + above, model
    for page in ("index.html", "about/index.html"):
        assert consistent_words(len(consistent), without, "them") in page_words(site / page)
    unranked_here = len(rows) - len(consistent)
    assert f"{unranked_here} of the {len(rows)} models have no rank here" in page_words(
        site / "index.html"
    )


def test_a_sample_data_site_names_its_run_without_rotations(sample_only, site_tree):
    rows = rows_of(sample_only)
    llama, gpt2 = site_tree.evaluated
    assert rows[llama]["consistent_rank"] == [1, 1] and "consistent_rank" not in rows[gpt2]
    words = page_words(sample_only / "index.html")
    assert consistent_words(1, gpt2, "it") in words
