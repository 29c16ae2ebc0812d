"""The site flags a result evaluated with other torch/transformers versions than the lock CI
installs from (requirements/eval.lock; finding 7 of the trust-boundary review)."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

from site_fixtures import result_file, site_build_argv

from runner.cli import main
from runner.results_schema import Environment
from runner.sitegen.software_versions import locked_versions, software_mismatch

REPO = Path(__file__).resolve().parents[2]


def _environment(torch: str, transformers: str) -> Environment:
    return Environment(
        medlb_version="0.1.0", medlb_git_sha=None, python="3.11.7", torch=torch,
        transformers=transformers, device="cpu",
    )  # fmt: skip


def test_versions_are_compared_without_local_build_tags():
    locked = locked_versions(REPO / "requirements" / "eval.lock")
    assert locked == {"torch": "2.13.0", "transformers": locked["transformers"]}
    same = _environment("2.13.0+cpu", locked["transformers"])
    assert software_mismatch(same, locked) is None
    older = _environment("2.12.1+cu121", "4.46.0")
    assert software_mismatch(older, locked) == (
        f"torch 2.12.1+cu121 (CI: 2.13.0), transformers 4.46.0 (CI: {locked['transformers']})"
    )
    assert software_mismatch(older, {}) is None  # no lock in the checkout: nothing to compare


def test_the_model_page_and_leaderboard_data_flag_it(site_tree, tmp_path, monkeypatch):
    results = tmp_path / "results"
    shutil.copytree(site_tree.results, results)
    flagged = site_tree.evaluated[0]
    # every result with transformers as the lock has it, whatever this machine installed, so
    # that the one difference is the torch set below
    locked = locked_versions(REPO / "requirements" / "eval.lock")["transformers"]
    for model in site_tree.evaluated:
        path = result_file(results, model)
        document = json.loads(path.read_text())
        document["environment"]["transformers"] = locked
        if model == flagged:
            document["environment"]["torch"] = "2.12.1+cu121"
        path.write_text(json.dumps(document))
    (tmp_path / "requirements").mkdir()
    shutil.copy(REPO / "requirements" / "eval.lock", tmp_path / "requirements")
    monkeypatch.chdir(tmp_path)  # the checkout the pages job builds in
    argv = site_build_argv(results, site_tree.submissions, site_tree.references, tmp_path / "w")
    assert main(argv) == 0
    site = tmp_path / "w" / "html"
    records = {r["model"]: r for r in json.loads((site / "leaderboard.json").read_text())}
    assert records[flagged]["software_differs"] == "torch 2.12.1+cu121 (CI: 2.13.0)"
    assert records[site_tree.evaluated[1]]["software_differs"] is None
    page = (site / "models" / flagged / "index.html").read_text()
    assert "Other versions than CI installs:</strong> torch 2.12.1+cu121 (CI: 2.13.0)" in page
    other = (site / "models" / site_tree.evaluated[1] / "index.html").read_text()
    assert "Other versions than CI installs" not in other
