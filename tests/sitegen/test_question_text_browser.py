"""The question view shows each sample question's stem and options, read from the page."""

from __future__ import annotations

import pytest
from site_browser import SCREENSHOTS, page_overflow, served, shot, watched_tab
from site_fixtures import published_results, site_build_argv

from runner.evaluation.question_texts import question_text
from runner.evaluation.task_data import load_task_rows
from runner.evaluation.tasks import TASK_NAMES, TASKS
from runner.evaluation.tiny_models import SAMPLE_DATA_DIR
from runner.results_schema import decode_bits

pytestmark = pytest.mark.browser


@pytest.fixture(scope="module")
def built(site_tree, tmp_path_factory):
    from runner.cli import main

    work = tmp_path_factory.mktemp("question-texts")
    argv = site_build_argv(
        site_tree.results,
        site_tree.submissions,
        site_tree.references,
        work,
        details=site_tree.details,
    )
    assert main(argv) == 0
    return work


def test_each_sample_question_shows_its_stem_and_options(browser, built, site_tree):
    model = "medlb-tiny/tiny-llama"
    assert model in published_results(site_tree.results)
    with served(built / "html") as url, watched_tab(browser, url, 1400) as tab:
        for task in TASK_NAMES:
            rows = load_task_rows(TASKS[task], SAMPLE_DATA_DIR).rows
            tab.goto(f"{url}questions/?model={model}&task={task}")
            tab.wait_for_selector("#qv-body tr td.qv-stem-cell")
            stems = tab.eval_on_selector_all(
                "#qv-body td.qv-stem-cell", "els => els.map(e => e.title)"
            )
            expected = [question_text(task, row) for row in rows]
            assert stems == [q.stem for q in expected], task
            for item, question in enumerate(expected):
                tab.click(f"#q-{item} th a")
                options = tab.inner_text("#qv-card ol.qv-options")
                assert all(option in options for option in question.options), (task, item)
                assert question.stem in tab.inner_text("#qv-card .qv-stem")
            assert "licence" in tab.inner_text("#qv-card")
        shot(tab, "question-view-texts-1400")


LONG_TOKENS = 4000


@pytest.fixture(scope="module")
def long_generation(site_tree, tmp_path_factory):
    """Three synthetic models with cot details; the first one's answer to MedQA item 0 rewritten
    as a 4,000-token generation (its result re-pinned to the new file)."""
    import hashlib
    import json
    import shutil

    from site_fixtures import synthesize_results

    from runner.cli import main
    from runner.pipeline.details import cot_details_path
    from runner.results_schema import load_result, save

    work = tmp_path_factory.mktemp("long-generation")
    results, submissions, details = work / "results", work / "submissions", work / "details"
    shutil.copytree(site_tree.results, results)
    shutil.copytree(site_tree.submissions, submissions)
    shutil.copytree(site_tree.details, details)
    bases = list(published_results(site_tree.results).values())
    model = synthesize_results(bases, 3, results, submissions, seed=5, details=details)[0]
    path = results / f"{model}.json"
    result = load_result(path)
    task = "medqa_4options"
    cot_file = details / cot_details_path(model, result.model.revision, task)
    rows = [json.loads(line) for line in cot_file.read_text().splitlines()]
    words = " ".join(f"step{i}" for i in range(LONG_TOKENS))
    rows[0].update(
        generation=f"{words}\nFinal Answer: {rows[0]['answer'] or 'A'}", output_tokens=LONG_TOKENS
    )
    data = "".join(json.dumps(row) + "\n" for row in rows).encode()
    cot_file.write_bytes(data)
    cot = result.cot
    pinned = cot.tasks[task].model_copy(
        update={"predictions_sha256": hashlib.sha256(data).hexdigest()}
    )
    save(
        path,
        result.model_copy(
            update={"cot": cot.model_copy(update={"tasks": {**cot.tasks, task: pinned}})}
        ),
    )
    argv = site_build_argv(results, submissions, site_tree.references, work, details=details)
    assert main(argv) == 0
    return work, model, rows[0]


def test_a_4000_token_generation_shows_collapsed(browser, long_generation):
    from site_browser import page_overflow

    work, model, row = long_generation
    with served(work / "html") as url:
        for width in (1920, 1400, 390):
            with watched_tab(browser, url, width) as tab:
                tab.goto(f"{url}questions/?model={model}&task=medqa_4options&item=0")
                tab.wait_for_selector("#qv-card details.qv-generation")
                generation = tab.locator("#qv-card details.qv-generation")
                assert generation.get_attribute("open") is None  # collapsed
                summary = tab.inner_text("#qv-card .qv-cot p")
                assert "log-likelihood choice" in summary and str(LONG_TOKENS) in summary
                shot(tab, f"question-view-cot-{width}")
                tab.click("#qv-card details.qv-generation summary")
                assert tab.inner_text("#qv-card details.qv-generation pre") == row["generation"]
                assert page_overflow(tab) == 0
                shot(tab, f"question-view-cot-open-{width}")


def test_compare_lists_each_disagreement_with_its_stem(browser, built, site_tree):
    """The compare page's disagreement list shows each question's stem, read from the page: a
    short one whole, a long one cut at a word and whole once opened."""
    a, b = site_tree.evaluated
    results = published_results(site_tree.results)
    checked = 0
    with served(built / "html") as url, watched_tab(browser, url, 1400) as tab:
        tab.goto(f"{url}compare/?a={a}&b={b}")
        tab.wait_for_selector("#cmp-ids:not([hidden]) details")
        for task in TASK_NAMES:
            bits_a = decode_bits(results[a].tasks[task].correct, results[a].tasks[task].n)
            bits_b = decode_bits(results[b].tasks[task].correct, results[b].tasks[task].n)
            differ = [i for i, (x, y) in enumerate(zip(bits_a, bits_b, strict=True)) if x != y]
            if not differ:
                continue
            stems = [question_text(task, row).stem for row in rows_of(task)]
            box = tab.locator(f'#cmp-ids-body details[data-task="{task}"]')
            box.locator("> summary").click()
            tab.wait_for_selector(f'#cmp-ids-body details[data-task="{task}"][data-stems="shown"]')
            for item in differ:
                line = box.locator(f'li[data-id="{item}"]')
                stem = stems[item]
                if len(stem) <= 140:
                    assert line.locator("span.cmp-stem").inner_text() == stem
                    continue
                cut = line.locator("details.cmp-stem > summary").inner_text()
                assert cut.endswith("…") and stem.startswith(cut.removesuffix("more").strip(" …"))
                assert not line.locator(".cmp-stem-full").is_visible()
                line.locator("details.cmp-stem > summary").click()
                assert line.locator(".cmp-stem-full").inner_text() == stem
                checked += 1
        shot(tab, "compare-stems-1400")
        for width in (1920, 390):
            tab.set_viewport_size({"width": width, "height": 900})
            assert page_overflow(tab) <= 0, width
            tab.locator("#cmp-ids").screenshot(path=SCREENSHOTS / f"compare-stems-{width}.png")
    assert checked, "the two tiny models disagree on at least one long question"


def rows_of(task: str) -> list[dict]:
    return load_task_rows(TASKS[task], SAMPLE_DATA_DIR).rows
