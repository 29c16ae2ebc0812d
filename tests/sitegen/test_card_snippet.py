"""The model-card snippet on each model page: the Hub's own `ModelCard` loads it, with every
task's score and a source that has both a name and a url (the Hub refuses a name alone)."""

from __future__ import annotations

import pytest
from huggingface_hub import ModelCard

from runner.sitegen.entries import build_entries
from runner.sitegen.inputs import collect_inputs
from runner.sitegen.pages import SITE_NAME, _card_snippet


@pytest.fixture
def entries(site_tree, monkeypatch):
    for name in ("GITHUB_SERVER_URL", "GITHUB_REPOSITORY"):
        monkeypatch.delenv(name, raising=False)
    inputs = collect_inputs(site_tree.results, site_tree.submissions, site_tree.references)
    return build_entries(inputs)


def load_card(snippet: str) -> ModelCard:
    return ModelCard(f"---\n{snippet}\n---\n\n# A model\n")


def test_the_hub_loads_the_snippet_with_a_named_and_linked_source(entries, monkeypatch):
    monkeypatch.setenv("GITHUB_SERVER_URL", "https://github.com")
    monkeypatch.setenv("GITHUB_REPOSITORY", "acme/leaderboard")
    for entry in entries:
        card = load_card(_card_snippet(entry))
        assert card.data.model_name == entry.model_id
        results = {r.dataset_config or r.dataset_type: r for r in card.data.eval_results}
        assert len(results) == len(entry.result.tasks)
        for task in entry.result.tasks.values():
            result = results[task.dataset_config or task.dataset]
            assert result.metric_value == round(100 * task.acc, 2)
            assert (result.dataset_split, result.dataset_revision) == (
                task.split,
                task.dataset_revision,
            )
            assert result.source_name == SITE_NAME
            assert result.source_url == (
                f"https://github.com/acme/leaderboard/blob/HEAD/{entry.results_file}"
            )


def test_the_source_is_the_results_file_at_the_built_commit(entries, monkeypatch):
    """A permalink: a later re-evaluation changes the file on the branch, not at this commit."""
    monkeypatch.setenv("GITHUB_SERVER_URL", "https://github.com")
    monkeypatch.setenv("GITHUB_REPOSITORY", "acme/leaderboard")
    commit = "4b825dc642cb6eb9a060e54bf8d69288fbee4904"
    for entry in entries:
        card = load_card(_card_snippet(entry, commit))
        assert {r.source_url for r in card.data.eval_results} == {
            f"https://github.com/acme/leaderboard/blob/{commit}/{entry.results_file}"
        }


def test_without_a_known_url_the_snippet_names_no_source(entries):
    for entry in entries:  # a local build of local runs: no repository, no CI run
        card = load_card(_card_snippet(entry))
        assert card.data.eval_results
        assert all(r.source_name is None and r.source_url is None for r in card.data.eval_results)
