"""The typed contract between the build and the scripts (runner/sitegen/payloads.py).

The schema file the site ships is the one the models generate, and every field a script reads is
one the schema declares: a field renamed on one side only fails here.
"""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest

from runner.sitegen.payloads import SCHEMA_FILE, payload_schema, schema_text

ASSETS = SCHEMA_FILE.parent
# script -> {variable name in the script: the payload object it holds}
ACCESSES = {
    "leaderboard.js": {
        "row": "LeaderboardRow",
        "facts": "ModelFacts",
        "model": "ModelFacts",
        "ref": "ReferenceRow",
        "data": "LeaderboardPayload",
    },
    "specialties.js": {
        "row": "SpecialtyRow",
        "model": "SpecialtyModel",
        "column": "SpecialtyColumn",
        "track": "SpecialtiesTrack",
        "data": "SpecialtiesPayload",
    },
    "compare.js": {
        "data": "ComparePayload",
        "task": "CompareTaskName",
        "entry": "CompareEntry",
        "result": "CompareModel",
        "taskData": "CompareTask",
        "questionTexts": "QuestionTexts",
        "question": "QuestionText",
    },
    "shortlist.js": {
        "data": "ShortlistPayload",
        "model": "ShortlistModel",
        "score": "ShortlistTrack",
        "modelSections": "DossierSections",
    },
    "questions.js": {
        "data": "QuestionViewIndex",
        "entry": "QuestionViewModel",
        "viewTask": "QuestionViewTask",
        "view": "QuestionViewPayload",
        "other": "QuestionViewPayload",
        "source": "QuestionDataset",
        "predictions": "PredictionsFile",
        "cotAnswer": "CotAnswer",
        "texts": "QuestionTexts",
        "text": "QuestionText",
    },
}


def declared_reads(script: str) -> dict[str, list[str]]:
    """The script's `READS` object: payload object -> the fields it reads."""
    match = re.search(r"var READS = (\{.*?\n  \});", script, re.S)
    assert match, "the script declares the payload fields it reads in `var READS = {...};`"
    body = re.sub(r"(\w+):", r'"\1":', match.group(1))
    return json.loads(re.sub(r",\s*([}\]])", r"\1", body))


def accessed_fields(script: str, variable: str) -> set[str]:
    """Fields read as `variable.field` (method calls on strings left out)."""
    return {
        m.group(1) for m in re.finditer(rf"\b{variable}\.([a-z_][a-z0-9_]*)\b(?!\s*\()", script)
    }


def drift(script: str, schema: dict, accesses: dict[str, str]) -> list[str]:
    """Every way the script and the schema disagree, in words."""
    problems = []
    defs = schema["$defs"]
    reads = declared_reads(script)
    for name, fields in reads.items():
        if name not in defs:
            problems.append(f"{name}: no such payload object in the schema")
            continue
        known = set(defs[name]["properties"])
        problems += [f"{name}.{f}: not in the schema" for f in fields if f not in known]
    for variable, name in accesses.items():
        for field in sorted(accessed_fields(script, variable) - set(reads.get(name, []))):
            problems.append(f"{variable}.{field}: read but not declared in READS.{name}")
    return problems


def test_the_shipped_schema_is_the_generated_one():
    assert SCHEMA_FILE.read_text(encoding="utf-8") == schema_text(), (
        "site/assets/payloads.schema.json is stale: python -m runner.sitegen.payloads"
    )


def test_scripts_read_only_fields_the_schema_declares():
    schema = payload_schema()
    for name, accesses in ACCESSES.items():
        script = (ASSETS / name).read_text(encoding="utf-8")
        assert drift(script, schema, accesses) == [], name


def test_a_field_renamed_on_one_side_only_is_caught():
    schema = payload_schema()
    script = (ASSETS / "leaderboard.js").read_text(encoding="utf-8")
    # renamed in Python only: the schema no longer has size_label
    renamed = json.loads(json.dumps(schema))
    facts = renamed["$defs"]["ModelFacts"]["properties"]
    facts["params_label"] = facts.pop("size_label")
    assert drift(script, renamed, ACCESSES["leaderboard.js"]) == [
        "ModelFacts.size_label: not in the schema"
    ]
    # renamed in the script only, both where it is declared and where it is read
    js_only = script.replace("size_label", "sizeLabel")
    assert "ModelFacts.sizeLabel: not in the schema" in drift(
        js_only, schema, ACCESSES["leaderboard.js"]
    )
    # read under a new name without declaring it
    undeclared = script.replace("esc(facts.size_label)", "esc(facts.size_text)")
    assert drift(undeclared, schema, ACCESSES["leaderboard.js"]) == [
        "facts.size_text: read but not declared in READS.ModelFacts"
    ]


@pytest.mark.parametrize(
    "script, payload, field, access",
    [
        ("compare.js", "CompareTask", "texts_url", ("question.stem", "question", "QuestionText")),
        (
            "shortlist.js",
            "ShortlistModel",
            "memory_gib",
            ("model.licence_note", "model", "ShortlistModel"),
        ),
        (
            "questions.js",
            "QuestionViewPayload",
            "survives",
            ("view.p_gold", "view", "QuestionViewPayload"),
        ),
        (
            "questions.js",
            "QuestionDataset",
            "viewer",
            ("source.split", "source", "QuestionDataset"),
        ),
    ],
)
def test_a_field_renamed_on_one_side_only_is_caught_in_every_script(script, payload, field, access):
    schema = payload_schema()
    text = (ASSETS / script).read_text(encoding="utf-8")
    accesses = ACCESSES[script]
    renamed = json.loads(json.dumps(schema))
    properties = renamed["$defs"][payload]["properties"]
    properties[field + "_renamed"] = properties.pop(field)
    assert drift(text, renamed, accesses) == [f"{payload}.{field}: not in the schema"]
    read, variable, declared = access
    assert read in text
    undeclared = text.replace(read, f"{variable}.renamed_field")
    assert drift(undeclared, schema, accesses) == [
        f"{variable}.renamed_field: read but not declared in READS.{declared}"
    ]


def test_payload_json_is_safe_inside_a_script_element():
    from runner.sitegen.payloads import FlagNote

    text = FlagNote(reason="</script><b>", discussion="d", date="2026-01-01").to_json()
    assert "</" not in text and json.loads(text)["reason"] == "</script><b>"


def test_schema_names_every_payload():
    defs = set(payload_schema()["$defs"])
    assert {"LeaderboardPayload", "SpecialtiesPayload", "QuestionViewPayload"} <= defs
    assert {"QuestionTexts", "ComparePayload", "CompareModel", "ShortlistPayload"} <= defs
    assert "QuestionViewIndex" in defs
    assert Path(SCHEMA_FILE).name == "payloads.schema.json"
