"""The issue's acceptance, on the site `medlb demo` builds (two tiny models, sample questions).

Served as `medlb demo` serves it: at 1400 × 900 all nine task headers are inside the viewport
and nothing scrolls sideways; at 390 × 844 the first data row's average is in view; and a page
reached from the top navigation ranks both demo models in every MedMCQA subject.
"""

from __future__ import annotations

import pytest
from site_browser import page_overflow, served, shot, watched_tab
from site_fixtures import result_file

from runner.cli import main
from runner.demo_pipeline import DEMO_MODELS
from runner.evaluation.tasks import TASK_NAMES
from runner.results_schema import load_result

pytestmark = pytest.mark.browser


@pytest.fixture(scope="module")
def demo(tmp_path_factory):
    workspace = tmp_path_factory.mktemp("demo-site") / "demo"
    assert main(["demo", "--workspace", str(workspace), "--no-serve"]) == 0
    return workspace


@pytest.fixture(scope="module")
def base_url(demo):
    with served(demo / "site") as url:
        yield url


def test_all_nine_task_headers_in_view_at_1400_without_a_sideways_scroll(browser, base_url):
    with watched_tab(browser, base_url, 1400, 900) as tab:
        tab.goto(base_url)
        tab.wait_for_selector("#lb-body tr")
        for index in range(len(TASK_NAMES)):
            box = tab.locator(f'#lb-table th[data-col="t{index}"]').bounding_box()
            assert box is not None, f"task column {index} is shown"
            assert box["x"] >= 0 and box["x"] + box["width"] <= 1400, f"task {index} across"
            assert box["y"] >= 0 and box["y"] + box["height"] <= 900, f"task {index} down"
        assert page_overflow(tab) <= 0
        box_overflow = tab.evaluate(
            "(() => { const b = document.getElementById('lb-box');"
            " return b.scrollWidth - b.clientWidth; })()"
        )
        assert box_overflow <= 0, "the table itself does not scroll sideways"
        shot(tab, "demo-leaderboard-1400")


def test_first_average_in_view_on_a_phone(browser, base_url):
    with watched_tab(browser, base_url, 390, 844) as tab:
        tab.goto(base_url)
        tab.wait_for_selector("#lb-body tr")
        cell = tab.locator("#lb-body tr").first.locator("td.avg")
        box = cell.bounding_box()
        assert box["x"] >= 0 and box["x"] + box["width"] <= 390
        assert box["y"] >= 0 and box["y"] + box["height"] <= 844
        assert cell.inner_text().strip() not in ("", "—")
        shot(tab, "demo-leaderboard-390")


def test_the_specialties_tab_ranks_both_demo_models_in_every_medmcqa_subject(
    browser, base_url, demo
):
    subjects = set()
    for model in DEMO_MODELS:
        result = load_result(result_file(demo / "results", model.model_id))
        subjects |= set(result.tasks["medmcqa"].subjects)
    assert len(subjects) > 5
    with watched_tab(browser, base_url, 1400, 900) as tab:
        tab.goto(base_url)
        tab.click(".md-tabs a:text-is('Specialties')")
        tab.wait_for_selector("#sp-body tr")
        for subject in sorted(subjects):
            tab.select_option("#sp-sort", f"medmcqa:{subject}")
            assert tab.inner_text("#sp-basis") == subject
            rows = tab.locator("#sp-body tr").all()
            shown = {r.locator("th.model a").get_attribute("title") for r in rows}
            assert shown == {m.model_id for m in DEMO_MODELS}
            for row in rows:
                assert row.locator("td.rank").inner_text().split("–")[0].isdigit(), subject
                assert row.locator("td.sorted").inner_text().strip() != "—", subject
        shot(tab, "demo-specialties-1400")
