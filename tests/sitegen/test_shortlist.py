"""The pilot shortlist's data and dossier (runner/sitegen/shortlist.py, dossier.py), checked in
Python on the 1,000-model fixture: every model's licence class and memory follow the stated
rules, the constraints "commercial use, 24 GB, bfloat16" keep only models meeting all three,
and the dossier of each listed model names its revision and every sha256."""

from __future__ import annotations

import hashlib
import json

import pytest
from site_fixtures import published_results

from runner.sitegen.entries import build_entries
from runner.sitegen.inputs import collect_inputs
from runner.sitegen.shortlist import (
    GIB,
    OVERHEAD,
    dossier_files,
    licence_class,
    memory_gib,
    shortlist_payload,
)

ADVISORY = ("Research comparison, not clinical approval", "Not for patient care.")


def test_licence_classes_follow_the_stated_rule():
    assert licence_class("apache-2.0")[0] == licence_class("MIT")[0] == "open"
    kind, note = licence_class("llama3")
    assert kind == "custom" and "700 million monthly active users" in note
    kind, note = licence_class("bigscience-openrail-m")
    assert kind == "custom" and "medical advice" in note
    assert licence_class("gemma")[0] == "custom"
    assert licence_class("cc-by-nc-4.0")[0] == licence_class("cc-by-nc-sa-4.0")[0]
    assert licence_class("cc-by-nc-4.0")[0] == "non-commercial"
    assert licence_class("other") == (
        "unknown",
        "“other”: not a licence this site classifies; read the model card",
    )
    assert licence_class(None)[0] == "unknown"


def test_memory_is_weights_plus_the_stated_overhead():
    memory = memory_gib(7_000_000_000)
    assert memory["bfloat16"] == pytest.approx(7e9 * 2 * (1 + OVERHEAD) / GIB, abs=0.01)
    assert memory["float32"] == pytest.approx(2 * memory["bfloat16"], abs=0.02)
    assert memory["float16"] == memory["bfloat16"]
    assert memory_gib(None) == {}


@pytest.fixture(scope="module")
def thousand(pilot_site, site_tree):
    """The session's 1,000-model pilot fixture (conftest.pilot_site) as the site build reads it."""
    work, ids = pilot_site
    inputs = collect_inputs(
        work / "results", work / "submissions", site_tree.references, work / "flags"
    )
    entries = build_entries(inputs)
    paths = {f.key: f.path for f in inputs.results}
    return entries, paths, ids


def meets(model, precision: str, gib: float) -> bool:
    """The page's rule for "commercial use, N GB at a precision, no flagged model", loglik."""
    return (
        "loglik" in model.tracks
        and model.licence_class == "open"
        and precision in model.memory_gib
        and model.memory_gib[precision] <= gib
        and not model.flagged
    )


def test_commercial_24_gb_bfloat16_on_a_thousand_models(thousand):
    entries, _, ids = thousand
    payload = shortlist_payload(entries, ADVISORY)
    by_key = {e.key: e for e in entries}
    assert {m.model_id for m in payload.models} >= set(ids[2:])  # every ranked synthetic model
    for model in payload.models:
        entry = by_key[model.key]
        assert model.licence == (entry.license or "")
        assert model.licence_class == licence_class(entry.license)[0]
        assert model.memory_gib == memory_gib(entry.params)
        assert model.flagged == (entry.flag is not None)
        assert model.tracks["loglik"].average == entry.average.value
    meeting = [m for m in payload.models if meets(m, "bfloat16", 24)]
    assert 0 < len(meeting) < len(payload.models)
    small = [m for m in payload.models if m.memory_gib["bfloat16"] <= 24]
    assert any(m.licence_class != "open" for m in small), "the licence rule excludes some"
    assert any(m.memory_gib["bfloat16"] > 24 and m.licence_class == "open" for m in payload.models)
    for model in meeting:
        entry = by_key[model.key]
        assert entry.license in ("apache-2.0", "mit")
        assert entry.params * 2 * (1 + OVERHEAD) <= 24 * GIB
        assert entry.flag is None
    # The two flagged models would pass the other constraints' check only without the flag.
    assert all(m.flagged for m in payload.models if m.model_id in ids[:2])


def test_the_dossier_names_every_revision_and_sha256(thousand):
    entries, paths, _ = thousand
    payload = shortlist_payload(entries, ADVISORY)
    files = dossier_files(entries, paths, payload)
    meeting = [m for m in payload.models if meets(m, "bfloat16", 24)]
    results = published_results(paths[meeting[0].key].parents[1])
    for model in meeting:
        sections = json.loads(files[f"data/dossier/{model.key}.json"])
        result = results[model.model_id]
        digest = hashlib.sha256(paths[model.key].read_bytes()).hexdigest()
        for text in (sections["markdown"], sections["html"]):
            assert result.model.revision in text and digest in text
            for task in result.tasks.values():
                assert task.predictions_sha256 in text
            if result.cot is not None:
                for task in result.cot.tasks.values():
                    assert task.predictions_sha256 in text
            assert "Licence" in text and "Test-set declaration" in text
