"""Fixtures the browser tests share."""

from __future__ import annotations

import pytest
import yaml
from site_browser import chromium
from site_fixtures import (
    published_results,
    site_build_argv,
    synthesize_results,
    write_flag,
)

from runner.cli import main

PILOT_FLAG = "The model card says MedQA's test split was part of its fine-tuning data."


@pytest.fixture(scope="module")
def browser():
    """One headless Chromium per test module (starting one costs about a second)."""
    with chromium() as instance:
        yield instance


@pytest.fixture(scope="session")
def pilot_site(site_tree, tmp_path_factory):
    """The 1,000-model site a pilot's reader meets, synthesized and built once per session (the
    shortlist's Python tests and the pilot pages' browser tests read the same files): 1,000
    synthetic models (seed 7) beside the two tiny runs; models 0 and 1 flagged; model 10 a
    fine-tune of model 11 (its base on the board). (work folder, synthetic model ids)"""
    import shutil

    work = tmp_path_factory.mktemp("pilot-1000")
    results, submissions = work / "results", work / "submissions"
    shutil.copytree(site_tree.results, results)
    shutil.copytree(site_tree.submissions, submissions)
    bases = list(published_results(site_tree.results).values())
    ids = synthesize_results(bases, 1000, results, submissions, seed=7)
    flags = work / "flags"
    for model in ids[:2]:
        write_flag(
            flags, model, PILOT_FLAG, "https://github.com/open-medical-llm/leaderboard/issues/9"
        )
    child = submissions / f"{ids[10]}.yaml"
    fields = yaml.safe_load(child.read_text())
    fields.update(model_type="fine-tuned", base_model=ids[11])
    child.write_text(yaml.safe_dump(fields, sort_keys=False))
    assert main(site_build_argv(results, submissions, site_tree.references, work, flags)) == 0
    return work, ids
