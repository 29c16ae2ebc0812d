"""The views beyond accuracy in headless Chromium: ranking by consistent accuracy, the
chance-normalised scores, hiding flagged models, and the model page's robustness and calibration
panels at 1920, 1400 and 390 px (no console error, no request to another host, no table wider
than its box at >= 1280 px, chart text >= 11 px).

Screenshots go to .site-build/screenshots/: leaderboard-consistent-<width>,
leaderboard-normalized-<width>, model-robustness-<width>, model-calibration-<width>.
"""

from __future__ import annotations

import json

import pytest
from site_browser import (
    BROKEN_WORDS_JS,
    CHART_TEXT_JS,
    WIDE_TABLES_JS,
    WIDTHS,
    box_overflow,
    page_overflow,
    served,
    shot,
    shot_between,
    visible_columns,
    watched_tab,
)
from site_fixtures import build_synthetic_site, published_results, site_build_argv, write_flag

from runner.cli import main

pytestmark = pytest.mark.browser

REASON = "Trained on MedQA's test split, as its model card says."
DISCUSSION = "https://github.com/open-medical-llm/leaderboard/issues/9"


@pytest.fixture(scope="module")
def built(site_tree, tmp_path_factory):
    """The two tiny runs beside 20 synthetic models on the full splits (two without rotation
    scores), one of them flagged."""
    work = tmp_path_factory.mktemp("site-beyond-browser")
    synthetic = build_synthetic_site(site_tree, work, 20, seed=21, full_size=True)
    flags = work / "flags"
    write_flag(flags, synthetic[2], REASON, DISCUSSION)  # then built again, with the flag
    argv = site_build_argv(
        work / "results", work / "submissions", site_tree.references, work, flags
    )
    assert main(argv) == 0
    return work, synthetic


@pytest.fixture(scope="module")
def records(built):
    return {r["model"]: r for r in json.loads((built[0] / "html/leaderboard.json").read_text())}


@pytest.fixture(scope="module")
def base_url(built):
    with served(built[0] / "html") as url:
        yield url


def shown_models(tab) -> list[str]:
    return tab.eval_on_selector_all(
        "#lb-body tr:not(.ref) th.model a.name", "els => els.map(e => e.getAttribute('title'))"
    )


def cells(tab, selector: str) -> list[str]:
    """Each row's cell text without its interval; a rank range by its best rank."""
    return tab.eval_on_selector_all(
        f"#lb-body tr:not(.ref) > {selector}",
        "els => els.map(e => e.firstChild ? e.firstChild.textContent.trim().split('–')[0] : '')",
    )


def number(text: str) -> float | None:
    return None if text == "—" else float(text.replace("−", "-"))


def test_ranking_by_consistent_accuracy(browser, base_url, records):
    with watched_tab(browser, base_url, 1400) as tab:
        tab.goto(base_url)
        tab.wait_for_selector("#lb-body tr")
        assert tab.locator("#lb-note-consistent").is_hidden()
        tab.check("#lb-consistent")
        assert tab.inner_text("#lb-rank-basis") == "consistent"
        assert tab.locator("#lb-note-consistent").is_visible()
        models = shown_models(tab)
        ranks = cells(tab, "td.rank")
        assert ranks == [str(records[m]["consistent_rank"] or "—") for m in models]
        values = [number(v) for v in cells(tab, "td.cons")]
        ranked = [v for m, v in zip(models, values, strict=True) if records[m]["consistent_rank"]]
        assert ranked == sorted(ranked, reverse=True) and len(ranked) == 18
        assert ranks[len(ranked) :] == ["—"] * (len(models) - len(ranked)), "unranked last"
        why = tab.locator("#lb-body tr:not(.ref) td.rank").nth(len(ranked)).get_attribute("title")
        assert "--rotations" in why or "not the full split" in why
        assert "rank=consistent" in tab.url, "the ranking has a link of its own"
        tab.reload()
        tab.wait_for_selector("#lb-body tr")
        assert tab.is_checked("#lb-consistent") and cells(tab, "td.rank") == ranks
        shot(tab, "leaderboard-consistent-1400")
        tab.uncheck("#lb-consistent")
        assert tab.inner_text("#lb-rank-basis") == "average"
        assert cells(tab, "td.rank") == [str(records[m]["rank"] or "—") for m in shown_models(tab)]


def test_chance_normalised_scores(browser, base_url, records, built):
    results = published_results(built[0] / "results")
    with watched_tab(browser, base_url, 1400) as tab:
        tab.goto(base_url)
        tab.wait_for_selector("#lb-body tr")
        tab.check("#lb-normalized")
        tab.wait_for_function("document.querySelector('#lb-table.normalized')")  # fetched
        assert "32.8 chance-normalised" in tab.inner_text("#lb-note-normalized")
        assert tab.inner_text("#lb-rank-basis") == "norm. average"
        models = shown_models(tab)
        averages = [number(v) for v in cells(tab, "td.avg")]
        expected = [results[m].chance_normalized_average.value for m in models]
        assert averages == [round(100 * e, 1) for e in expected], "the results files' numbers"
        ranks = cells(tab, "td.rank")
        assert ranks == [str(records[m]["chance_normalized_rank"] or "—") for m in models]
        assert "scores=normalized" in tab.url


def test_flagged_models_are_marked_and_can_be_hidden(browser, base_url, built):
    flagged = built[1][2]
    with watched_tab(browser, base_url, 1400) as tab:
        tab.goto(base_url)
        tab.wait_for_selector("#lb-body tr")
        badge = tab.locator("#lb-body tr.flagged a.flag-mark")
        assert badge.count() == 1 and REASON in badge.get_attribute("title")
        before = shown_models(tab)
        assert flagged in before
        tab.uncheck("#lb-flagged")
        assert shown_models(tab) == [m for m in before if m != flagged]
        assert "(1 flagged hidden)" in tab.inner_text("#lb-count")
        tab.check("#lb-flagged")
        assert shown_models(tab) == before
        badge.click()
        tab.wait_for_url(f"**/models/{flagged}/#flagged")
        assert tab.locator("#flagged").is_visible() and REASON in tab.inner_text("#flagged")


@pytest.mark.parametrize("width", list(WIDTHS))
def test_the_new_views_fit_every_width(browser, base_url, built, width):
    with watched_tab(browser, base_url, width) as tab:
        for query, name in (
            ("?rank=consistent", "consistent"),
            ("?scores=normalized", "normalized"),
        ):
            tab.goto(base_url + query)
            tab.wait_for_selector("#lb-body tr")
            assert page_overflow(tab) <= 0
            visible = visible_columns(tab)
            assert box_overflow(tab) <= 0, f"{name}: the table fits its box"
            if width >= 1280:
                assert {f"t{i}" for i in range(9)} | {"avg", "params", "type"} <= set(visible)
            elif name == "consistent":  # ranked by it, it stays (the average may make way)
                assert visible[:2] == ["rank", "model"] and "cons" in visible[2:4]
                cell = tab.locator("#lb-body tr").first.locator("td.cons").bounding_box()
                assert cell["x"] + cell["width"] <= width, "the first consistent score in view"
            else:
                assert visible[:3] == ["rank", "model", "avg"]
            assert tab.evaluate(BROKEN_WORDS_JS, "#lb-table th, #lb-body .nb, .lb-note") == []
            shot(tab, f"leaderboard-{name}-{width}")

        model = built[1][0]
        tab.goto(f"{base_url}models/{model}/")
        tab.wait_for_selector(".medlb-chart.reliability")
        assert page_overflow(tab) <= 0, "the model page scrolls sideways"
        if width >= 1280:
            assert tab.evaluate(WIDE_TABLES_JS) == [], "a table needs scrolling"
        assert (
            tab.evaluate(
                BROKEN_WORDS_JS,
                ".md-content th, .md-content td:first-child, .medlb-chart, .model-facts",
            )
            == []
        )
        smallest = tab.evaluate(CHART_TEXT_JS)
        assert smallest is not None and smallest >= 11, f"chart text of {smallest} px"
        assert tab.locator(".medlb-chart.reliability").count() == 4, "pooled + three own"
        shot_between(
            tab, f"model-robustness-{width}", "#robustness-to-option-order", "#per-subject-accuracy"
        )
        shot_between(tab, f"model-calibration-{width}", "#calibration", "#provenance")


def test_at_1280_px_params_and_type_stay_when_ranked_by_consistent_accuracy(browser, base_url):
    """Issue 12's columns come first from 1280 px on; the Consistent column shows when it fits
    beside them, and when it does not the note says where its values are."""
    with watched_tab(browser, base_url, 1280, 800) as tab:
        tab.goto(base_url + "?rank=consistent")
        tab.wait_for_selector("#lb-body tr")
        visible = visible_columns(tab)
        assert {f"t{i}" for i in range(9)} | {"avg", "params", "type"} <= set(visible)
        assert box_overflow(tab) <= 0
        assert tab.locator("#lb-cons-hidden").is_visible() == ("cons" not in visible)
        assert tab.inner_text("#lb-rank-basis") == "consistent"
