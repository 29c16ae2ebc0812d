"""The question view in headless Chromium at 1920, 1400 and 390 px: it fits, it filters and sorts
what its data file says, a question opens as a card, and the compare page's question ids lead to
the right question with both models' answers.

Two tiny models run with `--rotations` and 12 synthetic models derived from them, each with
per-item details (`site_fixtures.synthesize_results(details=…)`) but one, whose page says so.
Screenshots:
.site-build/screenshots/questions-<width>.png and questions-card-<width>.png.
"""

from __future__ import annotations

import json
import shutil
from urllib.parse import parse_qs, urlsplit

import pytest
from site_browser import (
    BROKEN_WORDS_JS,
    WIDE_TABLES_JS,
    WIDTHS,
    page_overflow,
    served,
    shot,
    watched_tab,
)
from site_fixtures import (
    publish_tiny_runs,
    published_results,
    site_build_argv,
    synthesize_results,
)

from runner.cli import main
from runner.results_schema import decode_bits

pytestmark = pytest.mark.browser
TASK = "medmcqa"


@pytest.fixture(scope="module")
def built(tmp_path_factory):
    work = tmp_path_factory.mktemp("question-view")
    tree = publish_tiny_runs(work / "tiny")
    results, submissions, details = work / "results", work / "submissions", work / "details"
    shutil.copytree(tree.results, results)
    shutil.copytree(tree.submissions, submissions)
    shutil.copytree(tree.details, details)
    bases = list(published_results(tree.results).values())
    ids = synthesize_results(bases, 12, results, submissions, seed=7, details=details)
    without = ids[-1]
    shutil.rmtree(details / without)  # a model whose details are not on the branch
    assert main(site_build_argv(results, submissions, tree.references, work, details=details)) == 0
    return {"work": work, "ids": ids, "without": without, "tiny": tree.evaluated}


@pytest.fixture(scope="module")
def base_url(built):
    with served(built["work"] / "html") as url:
        yield url


def view_data(built, model: str, task: str = TASK) -> dict:
    path = built["work"] / "html" / "data" / "questions" / model / f"{task}.json"
    return json.loads(path.read_text())


def shown_ids(tab) -> list[int]:
    return [
        int(i) for i in tab.eval_on_selector_all("#qv-body tr", "rs => rs.map(r => r.dataset.id)")
    ]


@pytest.mark.parametrize("width", list(WIDTHS))
def test_the_question_view_fits_every_width(browser, base_url, built, width):
    model = built["tiny"][0]
    with watched_tab(browser, base_url, width) as tab:
        tab.goto(f"{base_url}questions/?model={model}&task={TASK}")
        tab.wait_for_selector("#qv-body tr")
        shot(tab, f"questions-{width}")
        assert page_overflow(tab) <= 0, f"the page scrolls sideways at {width} px"
        if width >= 1280:
            assert tab.evaluate(WIDE_TABLES_JS) == [], "a table needs scrolling"
        assert tab.evaluate(BROKEN_WORDS_JS, ".qv-table th, .qv-table td, .qv-about") == []
        tab.wait_for_load_state("networkidle")
        tab.goto(f"{base_url}questions/?model={model}&task={TASK}&item=3")
        tab.wait_for_selector("#qv-card h2")
        shot(tab, f"questions-card-{width}")
        assert page_overflow(tab) <= 0 and tab.locator("#qv-card").is_visible()


def test_filters_and_sorting_show_what_the_data_says(browser, base_url, built):
    model = built["tiny"][0]  # the Llama, evaluated with --rotations
    data = view_data(built, model)
    n = data["n"]
    conf = [data["p"][i][data["pred"][i]] for i in range(n)]
    with watched_tab(browser, base_url, 1400) as tab:
        tab.goto(f"{base_url}questions/?model={model}&task={TASK}")
        tab.wait_for_selector("#qv-body tr")
        assert shown_ids(tab) == list(range(n))
        tab.check("#qv-wrong")
        assert shown_ids(tab) == [i for i in range(n) if data["pred"][i] != data["gold"][i]]
        tab.uncheck("#qv-wrong")
        tab.check("#qv-unstable")
        assert shown_ids(tab) == [i for i in range(n) if len(set(data["rot"][i])) > 1]
        tab.uncheck("#qv-unstable")
        tab.fill("#qv-conf", "60")
        tab.dispatch_event("#qv-conf", "change")
        assert shown_ids(tab) == [i for i in range(n) if conf[i] >= 600]
        tab.fill("#qv-conf", "0")
        tab.dispatch_event("#qv-conf", "change")
        tab.select_option("#qv-sort", "conf-desc")
        assert shown_ids(tab) == sorted(range(n), key=lambda i: (-conf[i], i))
        tab.select_option("#qv-sort", "gold-asc")
        p_gold = [data["p"][i][data["gold"][i]] for i in range(n)]
        assert shown_ids(tab) == sorted(range(n), key=lambda i: (p_gold[i], i))
        # The cells say the same: the option columns are the probabilities in percent.
        first = tab.eval_on_selector_all(
            "#qv-body tr:first-child td", "tds => tds.map(td => td.textContent)"
        )
        i = shown_ids(tab)[0]
        # after the question's stem, the right answer, the answer and the confidence
        assert first[4:8] == [f"{p / 10:.1f}" for p in data["p"][i]]
        # The GPT-2 ran without --rotations: there is nothing to call unstable.
        tab.goto(f"{base_url}questions/?model={built['tiny'][1]}&task={TASK}")
        tab.wait_for_selector("#qv-body tr")
        assert tab.is_disabled("#qv-unstable")


def test_a_model_without_details_says_so_and_its_view_is_refused(browser, base_url, built):
    without = built["without"]
    with watched_tab(browser, base_url, 1400) as tab:
        tab.goto(f"{base_url}models/{without}/")
        assert "per-item details are not on the details branch" in tab.inner_text(
            ".model-questions"
        )
        tab.wait_for_load_state("networkidle")  # leaving sooner aborts the page's own requests
        tab.goto(f"{base_url}questions/?model={without}&task={TASK}")
        tab.wait_for_selector("#qv-status.error")
        assert "has no question views on this site" in tab.inner_text("#qv-status")


def test_compare_links_open_the_question_with_both_answers(browser, base_url, built):
    """Each id of the disagreement list opens the question view of that id, where the model
    that got it right shows ✓ and the other ✗, as their data files say."""
    a, b = built["ids"][0], built["ids"][1]
    with watched_tab(browser, base_url, 1400) as tab:
        tab.goto(f"{base_url}compare/?a={a}&b={b}")
        tab.wait_for_selector("#cmp-ids:not([hidden])")
        box = tab.locator(f'#cmp-ids-body details[data-task="{TASK}"]')
        box.locator("summary").click()
        for side in ("a", "b"):
            links = box.locator(f'ul[data-side="{side}"] a')
            if links.count():
                break
        assert links.count(), "the two models disagree somewhere on MedMCQA"
        doc_id = int(links.first.inner_text())
        tab.wait_for_load_state("networkidle")
        links.first.click()
        tab.wait_for_selector("#qv-card h2")
        query = parse_qs(urlsplit(tab.url).query)
        assert (query["model"], query["task"], query["item"], query["vs"]) == (
            [a],
            [TASK],
            [str(doc_id)],
            [b],
        )
        assert tab.inner_text("#qv-card h2") == f"Question {doc_id}"
        card = tab.inner_text("#qv-card")
        view_a, view_b = view_data(built, a), view_data(built, b)
        gold = view_a["labels"][view_a["gold"][doc_id]]
        assert f"Right answer\n{gold}" in card
        right_a = side == "a"
        assert (view_a["pred"][doc_id] == view_a["gold"][doc_id]) is right_a
        for model, view, right in ((a, view_a, right_a), (b, view_b, not right_a)):
            line = card.split(f"{model} answered\n")[1].split("\n")[0]
            answer = view["labels"][view["pred"][doc_id]]
            assert line.startswith(f"{answer} ✓ right" if right else f"{answer} ✗ wrong"), line
        # The result's own correctness bits agree with what the card shows.
        results = published_results(built["work"] / "results")
        bits = decode_bits(results[a].tasks[TASK].correct, results[a].tasks[TASK].n)
        assert bits[doc_id] is right_a
