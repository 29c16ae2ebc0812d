"""The built site in headless Chromium (Debian's /usr/bin/chromium, driven by Playwright).

The site is built from real tiny-model results plus synthetic ones derived from them, served on
127.0.0.1 by this module, and every test fails on a console error, a failed request or a request
to any other host. Screenshots go to .site-build/screenshots/ for a human to look at.
"""

from __future__ import annotations

import math
import os
import shutil
import threading
from fractions import Fraction
from pathlib import Path
from urllib.parse import urlsplit

import pytest
from site_fixtures import published_results, site_build_argv, synthesize_results

from runner.cli import main
from runner.evaluation.tasks import TASK_NAMES, TASKS
from runner.results_schema import decode_bits
from runner.sitegen.serve import static_server

pytestmark = pytest.mark.browser

REPO = Path(__file__).resolve().parents[2]
# Debian's chromium (what `make chromium` installs); MEDLB_CHROMIUM names another build, such as
# the Google Chrome that GitHub's Ubuntu runners ship (their apt "chromium" is a snap stub).
CHROMIUM = Path(os.environ.get("MEDLB_CHROMIUM", "/usr/bin/chromium"))
SCREENSHOTS = REPO / ".site-build" / "screenshots"
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]


@pytest.fixture(scope="module")
def built(site_tree, tmp_path_factory):
    """The site for the browser: the two real runs plus 40 synthetic models derived from them."""
    work = tmp_path_factory.mktemp("site-browser")
    results, submissions = work / "results", work / "submissions"
    shutil.copytree(site_tree.results, results)
    shutil.copytree(site_tree.submissions, submissions)
    bases = list(published_results(site_tree.results).values())
    synthesize_results(bases, 40, results, submissions, seed=3)
    assert main(site_build_argv(results, submissions, site_tree.references, work)) == 0
    return work


@pytest.fixture(scope="module")
def base_url(built):
    server = static_server(built / "html", "127.0.0.1", 0)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_address[1]}/"
    server.shutdown()
    server.server_close()


@pytest.fixture(scope="module")
def browser():
    if not CHROMIUM.exists():
        if os.environ.get("CI"):  # CI installs the browser first: a missing one is a failure there
            pytest.fail(f"no browser at {CHROMIUM} (make chromium, or set MEDLB_CHROMIUM)")
        pytest.skip(f"no browser at {CHROMIUM} (make chromium, or set MEDLB_CHROMIUM)")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        instance = playwright.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
        yield instance
        instance.close()


@pytest.fixture
def page(browser, base_url):
    """A page that records console errors, failed requests and requests to other hosts."""
    context = browser.new_context(viewport={"width": 1400, "height": 1000})
    tab = context.new_page()
    problems: list[str] = []
    host = urlsplit(base_url).netloc
    tab.on("console", lambda m: problems.append(f"console: {m.text}") if m.type == "error" else 0)
    tab.on("pageerror", lambda err: problems.append(f"page error: {err}"))
    tab.on("requestfailed", lambda r: problems.append(f"failed: {r.url}"))
    tab.on(
        "request",
        lambda r: (
            problems.append(f"outside: {r.url}")
            if urlsplit(r.url).scheme in ("http", "https") and urlsplit(r.url).netloc != host
            else 0
        ),
    )
    yield tab
    context.close()
    assert problems == []


def shot(tab, name: str) -> None:
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    tab.screenshot(path=str(SCREENSHOTS / f"{name}.png"))


def visible_models(tab) -> list[str]:
    return tab.eval_on_selector_all(
        "#lb-body tr:not(.ref) th.model > a:first-child", "els => els.map(e => e.textContent)"
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
    shot(page, "leaderboard")
    averages = column(page, 7)
    assert averages == sorted(averages, reverse=True), "best average first by default"
    medqa = page.locator('#lb-table th[data-col="t0"]')
    medqa.click()
    values = [v for v in column(page, 8) if v is not None]
    assert values == sorted(values, reverse=True)
    assert medqa.get_attribute("aria-sort") == "descending"
    medqa.click()
    values = [v for v in column(page, 8) if v is not None]
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
    assert f"Showing {len(expected)} of {len(results)} models" in page.inner_text("#lb-count")


def test_leaderboard_search_and_reference_toggle(page, base_url, built):
    results = published_results(built / "results")
    page.goto(base_url)
    page.wait_for_selector("#lb-body tr")
    assert page.locator("#lb-body tr.ref").count() == 2
    page.uncheck("#lb-references")
    assert page.locator("#lb-body tr.ref").count() == 0
    page.check("#lb-references")
    assert page.locator("#lb-body tr.ref").count() == 2
    page.fill("#lb-search", "synth-model-001")
    expected = {m for m in results if "synth-model-001" in m}
    assert set(visible_models(page)) == expected and len(expected) > 1
    page.fill("#lb-search", "palm")
    assert visible_models(page) == [] and page.locator("#lb-body tr.ref").count() == 1
    page.fill("#lb-search", "")
    assert not page.locator("#lb-body .ci").first.is_visible()
    page.check("#lb-intervals")
    assert page.locator("#lb-body tr:not(.ref) .ci").first.is_visible()


def test_model_page_from_the_leaderboard(page, base_url, site_tree):
    model_id = site_tree.evaluated[0]
    page.goto(base_url)
    page.fill("#lb-search", model_id)
    page.click(f"#lb-body th.model a:text-is('{model_id}')")
    page.wait_for_url(f"**/models/{model_id}/")
    assert page.inner_text("h1").rstrip("¶") == model_id
    for heading in ("Scores", "Per-subject accuracy", "Calibration", "Provenance"):
        assert page.locator(f"h2:has-text('{heading}')").is_visible()
    assert page.locator("svg.medlb-chart").count() == 2
    assert page.locator("svg.medlb-chart").first.bounding_box()["width"] > 400
    shot(page, "model")


def test_compare_page_runs_mcnemar_on_shared_items(page, base_url, built, site_tree):
    a, b = site_tree.evaluated
    results = published_results(built / "results")
    page.goto(f"{base_url}compare/?a={a}&b={b}")
    page.wait_for_selector("#cmp-table:not([hidden]) tbody tr")
    shot(page, "compare")
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
    shot(tab, "leaderboard-phone")
    context.close()
    assert overflow <= 0, "only the table scrolls sideways, not the page"
