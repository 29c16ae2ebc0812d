"""`medlb results model-card RESULTS.json --merge README.md`: a card that already has a
`model-index` (here an Open LLM Leaderboard entry) keeps every entry, read back through
huggingface_hub's own parser; re-running replaces only this board's entries; the source is the
results file at its commit."""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

import pytest
from huggingface_hub import ModelCard

from runner.cli import main
from runner.sitegen.model_card import SITE_NAME

FIXTURE = Path(__file__).parents[1] / "evaluation" / "fixtures" / "results_v1.json"
REPO_URL = "https://github.com/acme/leaderboard"
RESULTS = "results/acme/med-7b.json"

EXISTING = """\
---
license: apache-2.0
model-index:
- name: med-7b
  results:
  - task:
      type: text-generation
      name: Text Generation
    dataset:
      name: AI2 Reasoning Challenge (25-Shot)
      type: ai2_arc
      config: ARC-Challenge
      split: test
      args:
        num_few_shot: 25
    metrics:
    - type: acc_norm
      value: 61.43
      name: normalized accuracy
    source:
      url: https://huggingface.co/spaces/open-llm-leaderboard/open_llm_leaderboard?query=acme/med-7b
      name: Open LLM Leaderboard
---

# med-7b

A medical model.
"""


def _git(cwd: Path, *args: str) -> str:
    env = ["-c", "user.name=t", "-c", "user.email=t@x"]
    done = subprocess.run(["git", *env, *args], cwd=cwd, check=True, capture_output=True, text=True)
    return done.stdout.strip()


@pytest.fixture
def checkout(tmp_path, monkeypatch) -> Path:
    repo = tmp_path / "leaderboard"
    (repo / "results" / "acme").mkdir(parents=True)
    _git(repo, "init", "-q", "-b", "main")
    shutil.copy(FIXTURE, repo / RESULTS)
    _git(repo, "add", ".")
    _git(repo, "commit", "-q", "-m", "results: acme/med-7b")
    (tmp_path / "README.md").write_text(EXISTING)
    monkeypatch.chdir(tmp_path)
    return repo


def merge(capsys, checkout: Path) -> int:
    argv = ["results", "model-card", str(checkout / RESULTS), "--merge", "README.md"]
    code = main([*argv, "--repo-url", REPO_URL])
    capsys.readouterr()
    return code


def by_source(card: ModelCard) -> dict[str, list]:
    found: dict[str, list] = {}
    for result in card.data.eval_results:
        found.setdefault(result.source_name, []).append(result)
    return found


def test_the_merge_keeps_the_open_llm_leaderboard_entry(checkout, capsys):
    before = ModelCard(EXISTING).data.eval_results
    assert merge(capsys, checkout) == 0
    card = ModelCard(Path("README.md").read_text())
    sources = by_source(card)
    assert sources["Open LLM Leaderboard"] == before  # every field, as huggingface_hub reads it
    ours = sources[SITE_NAME]
    assert len(ours) == 9 and {r.metric_type for r in ours} == {"accuracy"}
    commit = _git(checkout, "rev-parse", "HEAD")
    assert {r.source_url for r in ours} == {f"{REPO_URL}/blob/{commit}/{RESULTS}"}
    assert card.data.license == "apache-2.0" and "A medical model." in card.text
    assert card.data.model_name == "med-7b"


def test_rerunning_replaces_only_this_boards_entries(checkout, capsys):
    assert merge(capsys, checkout) == 0
    (checkout / RESULTS).write_text((checkout / RESULTS).read_text().replace("0.", "0.1", 1))
    _git(checkout, "commit", "-q", "-am", "results: re-evaluated")
    assert merge(capsys, checkout) == 0
    sources = by_source(ModelCard(Path("README.md").read_text()))
    assert len(sources["Open LLM Leaderboard"]) == 1 and len(sources[SITE_NAME]) == 9
    commit = _git(checkout, "rev-parse", "HEAD")
    assert {r.source_url for r in sources[SITE_NAME]} == {f"{REPO_URL}/blob/{commit}/{RESULTS}"}


def test_without_merge_a_new_card_is_printed(checkout, capsys):
    code = main(["results", "model-card", str(checkout / RESULTS), "--repo-url", REPO_URL])
    out = capsys.readouterr().out
    assert code == 0
    card = ModelCard(out)
    assert len(card.data.eval_results) == 9 and card.data.model_name == "v1model"


def test_a_card_whose_index_cannot_be_carried_over_whole_is_left_alone(checkout, capsys):
    two_names = EXISTING.replace("---\n\n# med-7b", "- name: other\n  results: []\n---\n\n# med-7b")
    Path("README.md").write_text(two_names)
    argv = ["results", "model-card", str(checkout / RESULTS), "--merge", "README.md"]
    assert main([*argv, "--repo-url", REPO_URL]) == 1
    assert "merge by hand" in capsys.readouterr().err
    assert Path("README.md").read_text() == two_names


def test_an_uncommitted_results_file_asks_for_a_commit(tmp_path, capsys, monkeypatch):
    monkeypatch.chdir(tmp_path)
    shutil.copy(FIXTURE, tmp_path / "r.json")
    assert main(["results", "model-card", "r.json", "--repo-url", REPO_URL]) == 1
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "--commit" in err


def test_the_site_build_links_the_results_at_the_checkouts_commit(checkout):
    from runner.sitegen.git_dates import head_commit

    assert head_commit(checkout / "results") == _git(checkout, "rev-parse", "HEAD")
    assert head_commit(Path("/")) is None  # outside git: no commit, the link says HEAD
