"""The built site in headless Chromium (Debian's /usr/bin/chromium, driven by Playwright).

The site is built from real tiny-model results plus synthetic ones derived from them, served on
127.0.0.1 by this module, and every test fails on a console error, a failed request or a request
to any other host. Screenshots go to .site-build/screenshots/ for a human to look at.
"""

from __future__ import annotations

import json
import math
from fractions import Fraction

import pytest
from site_browser import served, watched_tab
from site_fixtures import build_synthetic_site, published_results

from runner.evaluation.tasks import TASK_NAMES, TASKS
from runner.results_schema import decode_bits
from runner.sitegen.task_facts import FACTS

pytestmark = pytest.mark.browser

AVERAGE_COLUMN = 3  # rank, model, average, consistent, then the nine tasks (1-based, as
CONSISTENT_COLUMN = 4  # :nth-child counts)
FIRST_TASK_COLUMN = 7  # after them: the cot track's No answer and Truncated (hidden on loglik)


@pytest.fixture(scope="module")
def built(site_tree, tmp_path_factory):
    """The site for the browser: the two real runs plus 40 synthetic models derived from them."""
    work = tmp_path_factory.mktemp("site-browser")
    build_synthetic_site(site_tree, work, 40, seed=3)
    return work


@pytest.fixture(scope="module")
def base_url(built):
    with served(built / "html") as url:
        yield url


@pytest.fixture
def page(browser, base_url):
    """A 1400 × 900 tab that fails the test on console errors and requests to other hosts."""
    with watched_tab(browser, base_url, 1400) as tab:
        yield tab


def visible_models(tab) -> list[str]:
    return tab.eval_on_selector_all(
        "#lb-body tr:not(.ref) th.model a.name", "els => els.map(e => e.textContent)"
    )


def column(tab, index: int) -> list[float | None]:
    """The numbers of one column (1-based) over the evaluated rows, intervals left out."""
    texts = tab.eval_on_selector_all(
        f"#lb-body tr:not(.ref) > :nth-child({index})",
        "els => els.map(e => e.firstChild.textContent)",
    )
    return [None if t.strip() == "—" else float(t) for t in texts]


def exact_mcnemar_p(b: int, c: int) -> float:
    """Two-sided exact McNemar p in exact integer arithmetic (the browser uses logarithms)."""
    n = b + c
    tail = sum(math.comb(n, i) for i in range(min(b, c) + 1))
    return min(1.0, float(Fraction(2 * tail, 2**n))) if n else 1.0


def test_leaderboard_sorts_by_any_column(page, base_url):
    page.goto(base_url)
    page.wait_for_selector("#lb-body tr")
    averages = column(page, AVERAGE_COLUMN)
    assert averages == sorted(averages, reverse=True), "best average first by default"
    medqa = page.locator('#lb-table th[data-col="t0"]')
    medqa.click()
    values = [v for v in column(page, FIRST_TASK_COLUMN) if v is not None]
    assert values == sorted(values, reverse=True)
    assert medqa.get_attribute("aria-sort") == "descending"
    medqa.click()
    values = [v for v in column(page, FIRST_TASK_COLUMN) if v is not None]
    assert values == sorted(values) and medqa.get_attribute("aria-sort") == "ascending"
    page.locator('#lb-table th[data-col="model"]').click()
    names = [n.lower() for n in visible_models(page)]
    assert names == sorted(names)


def test_leaderboard_filters_by_type_size_and_precision(page, base_url, built):
    results = published_results(built / "results")
    from runner.submissions.schema import load_submission

    types = {
        load_submission(p).model: load_submission(p).model_type
        for p in (built / "submissions").rglob("*.yaml")
    }
    page.goto(base_url)
    page.wait_for_selector("#lb-body tr")
    page.select_option("#lb-type", "fine-tuned")
    page.fill("#lb-size-min", "0.5")
    page.fill("#lb-size-max", "20")
    expected = {
        m
        for m, r in results.items()
        if types[m] == "fine-tuned" and r.model.params and 0.5e9 <= r.model.params <= 20e9
    }
    assert set(visible_models(page)) == expected and expected
    assert page.locator("#lb-body tr.ref").count() == 0, "reference rows have no type or size"
    page.fill("#lb-size-min", "")
    page.fill("#lb-size-max", "")
    page.select_option("#lb-type", "")
    page.select_option("#lb-precision", "bfloat16")
    expected = {m for m, r in results.items() if r.model.precision == "bfloat16"}
    assert set(visible_models(page)) == expected and expected
    assert f"{len(expected)} of {len(results)} models" in page.inner_text("#lb-count")


def test_leaderboard_search_and_reference_toggle(page, base_url, built):
    results = published_results(built / "results")
    page.goto(base_url)
    page.wait_for_selector("#lb-body tr")
    # paper-reported rows: off by default, each beside the track its setting matches
    assert page.locator("#lb-body tr.ref").count() == 0
    page.check("#lb-references")
    refs = page.locator("#lb-body tr.ref")
    assert refs.count() == 1 and "reported, few-shot" in refs.inner_text()  # GPT-4-base
    page.fill("#lb-search", "synth-model-001")
    expected = {m for m in results if "synth-model-001" in m}
    assert set(visible_models(page)) == expected and len(expected) > 1
    page.fill("#lb-search", "palm")
    assert visible_models(page) == [] and refs.count() == 0  # Med-PaLM 2 is not a loglik row
    page.click(".lb-track-button[data-track=cot]")
    page.wait_for_selector("#lb-body tr.ref")
    assert "Med-PaLM 2" in refs.inner_text() and "reported, ensemble" in refs.inner_text()
    assert "—" in refs.locator("td.avg").inner_text()  # mixed protocols: no average
    page.click(".lb-track-button[data-track=loglik]")
    page.fill("#lb-search", "")
    assert not page.locator("#lb-body .ci").first.is_visible()
    page.check("#lb-intervals")
    assert page.locator("#lb-body tr:not(.ref) .ci").first.is_visible()


def test_model_page_from_the_leaderboard(page, base_url, site_tree):
    model_id = site_tree.evaluated[0]
    page.goto(base_url)
    page.wait_for_load_state("networkidle")  # leaving earlier aborts the search index's load
    page.fill("#lb-search", model_id)
    page.click(f"#lb-body th.model a.name[title='{model_id}']")
    page.wait_for_url(f"**/models/{model_id}/")
    assert page.inner_text("h1").rstrip("¶") == model_id
    for heading in ("Scores", "Per-subject accuracy", "Calibration", "Provenance"):
        assert page.locator(f"h2:has-text('{heading}')").is_visible()
    # a per-task and a per-subject chart; since issue 13 also consistent accuracy per task,
    # chance-normalised accuracy per task and the pooled reliability diagram (12 items a task)
    assert page.locator(".medlb-chart.bars").count() == 4
    assert page.locator(".medlb-chart.reliability").count() == 1
    assert page.locator(".medlb-chart").first.bounding_box()["width"] > 400


def test_compare_page_runs_mcnemar_on_shared_items(page, base_url, built, site_tree):
    a, b = site_tree.evaluated
    results = published_results(built / "results")
    page.goto(f"{base_url}compare/?a={a}&b={b}")
    page.wait_for_selector("#cmp-table:not([hidden]) tbody tr")
    shown = {
        row.get_attribute("data-task"): row.locator("td.p").get_attribute("data-p")
        for row in page.locator("#cmp-body tr").all()
    }
    for name in TASK_NAMES:
        ta, tb = results[a].tasks[name], results[b].tasks[name]
        bits_a, bits_b = decode_bits(ta.correct, ta.n), decode_bits(tb.correct, tb.n)
        only_a = sum(1 for x, y in zip(bits_a, bits_b, strict=True) if x and not y)
        only_b = sum(1 for x, y in zip(bits_a, bits_b, strict=True) if y and not x)
        expected = exact_mcnemar_p(only_a, only_b)
        assert float(shown[TASKS[name].title]) == pytest.approx(expected, rel=1e-9)
    assert "All tasks (pooled)" in shown


def test_phone_layout_keeps_the_page_within_the_screen(browser, base_url):
    context = browser.new_context(viewport={"width": 390, "height": 844}, is_mobile=True)
    tab = context.new_page()
    tab.goto(base_url)
    tab.wait_for_selector("#lb-body tr")
    overflow = tab.evaluate("document.documentElement.scrollWidth - window.innerWidth")
    context.close()
    assert overflow <= 0, "only the table scrolls sideways, not the page"


def rank_cells(tab) -> list[str]:
    """The best rank of each row's rank range ("12–47" -> "12")."""
    return tab.eval_on_selector_all(
        "#lb-body tr:not(.ref) > td.rank",
        "els => els.map(e => e.textContent.trim().split('–')[0])",
    )


def test_sorting_by_a_task_ranks_by_that_task(page, base_url, built):
    """The Rank column follows the sort: a task's own rank, and its header says which."""
    records = {r["model"]: r for r in json.loads((built / "html/leaderboard.json").read_text())}
    page.goto(base_url)
    page.wait_for_selector("#lb-body tr")
    assert page.inner_text("#lb-rank-basis") == "average"
    by_average = [str(records[m]["rank"]) for m in visible_models(page)]
    assert rank_cells(page) == by_average
    for index, name in ((0, "medqa_4options"), (5, "mmlu_anatomy")):
        page.locator(f'#lb-table th[data-col="t{index}"]').click()
        assert page.inner_text("#lb-rank-basis") == FACTS[name].short
        expected = [str(records[m][f"{name}_rank"]) for m in visible_models(page)]
        assert rank_cells(page) == expected and expected != by_average
        assert expected[0] == "1", "the best on the task comes first, ranked 1 on it"
    page.locator('#lb-table th[data-col="type"]').click()
    assert page.inner_text("#lb-rank-basis") == "average"


def test_phone_rows_show_rank_model_average_and_expand_to_every_score(browser, base_url, built):
    records = {r["model"]: r for r in json.loads((built / "html/leaderboard.json").read_text())}
    with watched_tab(browser, base_url, 390) as tab:
        tab.goto(base_url)
        tab.wait_for_selector("#lb-body tr")
        first = tab.locator("#lb-body tr:not(.ref)").first
        for cell in ("td.rank", "th.model", "td.avg"):
            box = first.locator(cell).bounding_box()
            assert box and box["x"] >= 0 and box["x"] + box["width"] <= 390, cell
        model = first.locator("a.name").inner_text()
        first.locator("button.row-toggle").click()
        detail = tab.locator("#lb-body tr.row-detail").first
        text = detail.inner_text()
        for name in TASK_NAMES:
            assert TASKS[name].title in text
            assert f"{100 * records[model][name]:.1f}" in text
        assert detail.bounding_box()["width"] <= 390


def test_compare_opens_on_the_top_two_and_lists_the_questions_they_disagree_on(
    page, base_url, built
):
    records = json.loads((built / "html/leaderboard.json").read_text())
    top = [r["model"] for r in records if r["rank"] is not None][:2]
    results = published_results(built / "results")
    page.goto(f"{base_url}compare/")
    page.wait_for_selector("#cmp-table:not([hidden]) tbody tr")
    assert [page.input_value("#cmp-a"), page.input_value("#cmp-b")] == top
    assert page.locator("#cmp-table thead").inner_text().count("A only") == 1
    a, b = (results[m] for m in top)
    for name in ("medqa_4options", "pubmedqa"):
        bits_a = decode_bits(a.tasks[name].correct, a.tasks[name].n)
        bits_b = decode_bits(b.tasks[name].correct, b.tasks[name].n)
        for side, want in (("a", (1, 0)), ("b", (0, 1))):
            expected = [
                str(i) for i, pair in enumerate(zip(bits_a, bits_b, strict=True)) if pair == want
            ]
            shown = page.eval_on_selector_all(
                f'#cmp-ids details[data-task="{name}"] ul[data-side="{side}"] li',
                "items => items.map(i => i.dataset.id)",
            )
            assert shown == expected


def test_compare_matches_part_of_a_name_and_says_what_is_wrong(page, base_url, site_tree):
    page.goto(f"{base_url}compare/?a={site_tree.evaluated[0]}&b=no-such/model")
    status = page.locator("#cmp-status")
    assert "?b=no-such/model is not an evaluated model" in status.inner_text()
    assert page.input_value("#cmp-b") == "no-such/model", "the unknown name stays visible"
    assert page.locator("#cmp-table").is_hidden()
    page.fill("#cmp-b", "tiny-gp")
    page.press("#cmp-b", "Enter")
    page.wait_for_selector("#cmp-table:not([hidden]) tbody tr")
    assert page.input_value("#cmp-b") == site_tree.evaluated[1]
    page.fill("#cmp-b", site_tree.evaluated[0])
    page.press("#cmp-b", "Enter")
    assert "same model" in status.inner_text() and page.locator("#cmp-table").is_hidden()
    page.fill("#cmp-b", "zzz-nothing")
    page.press("#cmp-b", "Enter")
    assert "No evaluated model matches" in status.inner_text()
    assert "error" in status.get_attribute("class")


def test_a_specialty_header_ranks_the_models_by_it(page, base_url, built):
    """ "Which model is best for obstetrics?": one click on the column's name."""
    from runner.sitegen.ranking import rank_places
    from runner.stats import Interval, wilson_interval

    results = published_results(built / "results")
    subject = "Gynaecology & Obstetrics"
    page.goto(f"{base_url}specialties/")
    page.wait_for_selector("#sp-body tr")
    page.locator("#sp-table th[data-col='medmcqa:Gynaecology & Obstetrics']").click()
    assert page.inner_text("#sp-basis") == subject
    scored = {m: r.tasks["medmcqa"].subjects[subject] for m, r in results.items()}
    intervals = [Interval(s.acc, *wilson_interval(s.acc, s.n)) for s in scored.values()]
    expected = dict(zip(scored, (p.rank for p in rank_places(intervals)), strict=True))
    rows = page.locator("#sp-body tr").all()
    shown = {r.locator("th.model a").get_attribute("title"): r.locator("td.rank") for r in rows}
    assert set(shown) == set(results)
    for model, cell in shown.items():
        assert cell.inner_text().split("–")[0] == str(expected[model]), model
    order = [scored[r.locator("th.model a").get_attribute("title")].acc for r in rows]
    assert order == sorted(order, reverse=True)
    assert "sort=medmcqa" in page.url, "the ranking has a link of its own"
