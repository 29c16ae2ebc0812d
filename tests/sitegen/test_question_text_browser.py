"""The question view shows each sample question's stem and options, read from the page."""

from __future__ import annotations

import pytest
from site_browser import served, shot, watched_tab
from site_fixtures import published_results, site_build_argv

from runner.evaluation.task_data import load_task_rows
from runner.evaluation.tasks import TASK_NAMES, TASKS
from runner.evaluation.tiny_models import SAMPLE_DATA_DIR
from runner.sitegen.question_texts import question_text

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
