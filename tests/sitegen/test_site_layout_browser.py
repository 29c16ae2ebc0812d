"""What a reader sees at 1920, 1400 and 390 px wide: every page that shows data fits, nothing
breaks inside a word, sticky cells never cover data, chart text stays legible.

Screenshots of each page at each width go to .site-build/screenshots/<page>-<width>.png.
"""

from __future__ import annotations

import pytest
from site_browser import (
    BROKEN_WORDS_JS,
    CHART_TEXT_JS,
    STICKY_JS,
    WIDE_TABLES_JS,
    WIDTHS,
    box_overflow,
    page_overflow,
    served,
    shot,
    visible_columns,
    watched_tab,
)
from site_fixtures import build_synthetic_site

pytestmark = pytest.mark.browser

# Where a break inside a word (or at a hyphen inside a name) would hurt: headers, the first
# column of a table (task, check and model names), code in tables (hashes, check ids), model ids,
# chart labels and the model page's facts. Prose in table cells may wrap at its hyphens.
WORDS = (
    ".md-content th, .md-content td:first-child, .md-content td code, .md-content td .nb, "
    ".medlb-chart, .model-facts, #cmp-status .nb"
)


@pytest.fixture(scope="module")
def built(site_tree, tmp_path_factory):
    """The two real runs, a pending and a failed submission, and 30 synthetic models."""
    work = tmp_path_factory.mktemp("site-layout")
    build_synthetic_site(site_tree, work, 30, seed=11)
    return work


@pytest.fixture(scope="module")
def base_url(built):
    with served(built / "html") as url:
        yield url


def pages(site_tree) -> dict[str, tuple[str, str]]:
    """name -> (path, a selector that shows the page has drawn its data)."""
    return {
        "leaderboard": ("", "#lb-body tr"),
        "specialties": ("specialties/", "#sp-body tr"),
        "model": (f"models/{site_tree.evaluated[0]}/", ".medlb-chart"),
        "compare": ("compare/", "#cmp-body tr"),
        "queue": ("queue/", "table.queue-pending"),
        "submit": ("submit/", ".md-typeset__table"),
        "tasks": ("tasks/", "table.tasks-index"),
        "about": ("about/", "#what-each-number-means"),
    }


@pytest.mark.parametrize("width", list(WIDTHS))
def test_every_page_fits_its_width_without_broken_words(browser, base_url, site_tree, width):
    with watched_tab(browser, base_url, width) as tab:
        for name, (path, ready) in pages(site_tree).items():
            tab.goto(base_url + path)
            tab.wait_for_selector(ready)
            shot(tab, f"{name}-{width}")
            assert page_overflow(tab) <= 0, f"{name}: the page scrolls sideways at {width} px"
            if width >= 1280:
                assert tab.evaluate(WIDE_TABLES_JS) == [], f"{name}: a table needs scrolling"
            assert tab.evaluate(BROKEN_WORDS_JS, WORDS) == [], f"{name}: a word breaks"
            smallest = tab.evaluate(CHART_TEXT_JS)
            assert smallest is None or smallest >= 11, f"{name}: chart text of {smallest} px"


@pytest.mark.parametrize("width", list(WIDTHS))
def test_leaderboard_fits_every_task_column_or_hides_the_rest(browser, base_url, width):
    """At >= 1280 px: all nine tasks, the average, params and type, without a sideways scroll.
    On a phone: rank, model and average in the first screen, the rest one tap away."""
    with watched_tab(browser, base_url, width) as tab:
        tab.goto(base_url)
        tab.wait_for_selector("#lb-body tr")
        visible = visible_columns(tab)
        assert box_overflow(tab) <= 0, "the table fits its box"
        if width >= 1280:
            assert {f"t{i}" for i in range(9)} | {"avg", "params", "type"} <= set(visible)
        else:
            assert visible[:3] == ["rank", "model", "avg"]
            first = tab.locator("#lb-body tr").first.locator("td.avg").bounding_box()
            assert first["y"] + first["height"] <= WIDTHS[width], "the first average in view"


@pytest.mark.parametrize("width", [1400, 390])
def test_sticky_cells_cover_nothing_after_a_sideways_scroll(browser, base_url, width):
    with watched_tab(browser, base_url, width) as tab:
        tab.goto(base_url)
        tab.wait_for_selector("#lb-body tr")
        tab.click("#lb-columns summary")
        for box in tab.locator("#lb-column-list label:not([hidden]) input").all():
            box.check()  # every column of the track: wider than the screen on a phone
        tab.click("#lb-columns summary")
        if not tab.locator("#lb-intervals").is_visible():
            tab.click("#lb-filters summary")
        tab.check("#lb-intervals")
        result = tab.evaluate(STICKY_JS, "#lb-box")
        assert result["problems"] == []
        if width < 1280:
            assert result["scrolled"] > 0, "the table was scrolled sideways"
        shot(tab, f"leaderboard-all-columns-scrolled-{width}")
        tab.evaluate("localStorage.clear()")

        tab.goto(base_url + "specialties/")
        tab.wait_for_selector("#sp-body tr")
        if width < 1280:
            tab.check("#sp-all")
        result = tab.evaluate(STICKY_JS, "#sp-box")
        assert result["problems"] == []
        shot(tab, f"specialties-scrolled-{width}")
