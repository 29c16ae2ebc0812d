"""The task registry: prompts, choices and gold equal lm-eval's own task code on every row."""

from __future__ import annotations

import re

import pytest
from lmeval_reference import load_reference_tasks

from runner.errors import UsageError, UserError
from runner.evaluation.task_data import SAMPLE_DATA_DIR, load_task_rows
from runner.evaluation.tasks import TASK_NAMES, TASKS, build_items, resolve_tasks


@pytest.fixture(scope="module")
def reference_tasks(lmeval_task_manager):
    return load_reference_tasks(lmeval_task_manager)


@pytest.mark.parametrize("task", TASK_NAMES)
def test_items_equal_lm_eval_requests_for_every_sample_row(task, reference_tasks):
    """Context (description + doc_to_text), continuations and gold, byte for byte, via lm-eval."""
    spec = TASKS[task]
    reference = reference_tasks[task]
    docs = list(reference.test_docs())
    items = build_items(spec, load_task_rows(spec, SAMPLE_DATA_DIR).rows)
    assert len(items) == len(docs) > 0
    delimiter = reference.config.target_delimiter
    for item, doc in zip(items, docs, strict=True):
        assert item.context == reference.fewshot_context(doc, num_fewshot=0)
        choices = reference.doc_to_choice(doc)
        assert list(item.continuations) == [delimiter + choice for choice in choices]
        target = reference.doc_to_target(doc)  # lm-eval: an index, or the gold choice's text
        assert item.gold == (choices.index(target) if isinstance(target, str) else target)


def test_mmlu_and_medqa_prompts_equal_lm_eval_doc_to_text(reference_tasks):
    for task in ("medqa_4options", *(name for name in TASK_NAMES if name.startswith("mmlu_"))):
        spec, reference = TASKS[task], reference_tasks[task]
        for doc in reference.test_docs():
            assert spec.doc_to_text(doc) == reference.doc_to_text(doc)


def test_sample_rows_exercise_the_awkward_cases():
    """Trailing spaces (MedQA keeps them, MMLU strips them), unicode, quotes and long contexts."""
    contexts = {
        task: [
            item.context for item in build_items(spec, load_task_rows(spec, SAMPLE_DATA_DIR).rows)
        ]
        for task, spec in TASKS.items()
    }
    everything = "".join(c for task_contexts in contexts.values() for c in task_contexts)
    assert {"β", "µ", '"'} <= set(everything)
    assert any(" \nA. " in c for c in contexts["medqa_4options"])  # kept trailing space
    assert not any(" \nA. " in c for c in contexts["mmlu_anatomy"])  # stripped by lm-eval
    rows = load_task_rows(TASKS["pubmedqa"], SAMPLE_DATA_DIR).rows
    assert max(len(row["CONTEXTS"]) for row in rows) >= 3


@pytest.mark.parametrize("task", TASK_NAMES)
def test_every_choice_position_is_gold_somewhere_in_the_samples(task):
    spec = TASKS[task]
    items = build_items(spec, load_task_rows(spec, SAMPLE_DATA_DIR).rows)
    assert {item.gold for item in items} == set(range(len(items[0].continuations)))


def test_medmcqa_samples_span_subjects_for_per_subject_accuracy():
    items = build_items(TASKS["medmcqa"], load_task_rows(TASKS["medmcqa"], SAMPLE_DATA_DIR).rows)
    assert len({item.subject for item in items}) >= 6


def test_registry_pins_full_commit_shas_or_nothing():
    for spec in TASKS.values():
        assert spec.revision is None or re.fullmatch(r"[0-9a-f]{40}", spec.revision), spec.name


def test_bad_gold_value_names_the_row():
    spec = TASKS["medmcqa"]
    rows = load_task_rows(spec, SAMPLE_DATA_DIR).rows
    rows[3] = {**rows[3], "cop": 4}
    with pytest.raises(UserError, match=r"medmcqa\.jsonl: row 3: cop must be an integer 0-3"):
        build_items(spec, rows, source="medmcqa.jsonl")


def test_unknown_final_decision_names_the_row():
    spec = TASKS["pubmedqa"]
    rows = load_task_rows(spec, SAMPLE_DATA_DIR).rows
    rows[0] = {**rows[0], "final_decision": "Yes"}
    with pytest.raises(UserError, match=r"row 0: final_decision must be one of yes/no/maybe"):
        build_items(spec, rows)


def test_resolve_tasks_keeps_registry_order_and_rejects_unknown_names():
    assert [s.name for s in resolve_tasks(None)] == list(TASK_NAMES)
    assert [s.name for s in resolve_tasks("all")] == list(TASK_NAMES)
    assert [s.name for s in resolve_tasks("mmlu_anatomy, medqa_4options")] == [
        "medqa_4options",
        "mmlu_anatomy",
    ]
    with pytest.raises(UsageError, match="unknown task 'medqa'"):
        resolve_tasks("medqa,pubmedqa")
