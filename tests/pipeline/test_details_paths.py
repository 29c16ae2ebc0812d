"""The details layout: where each track's predictions files live, and which paths a publication
may commit (runner.pipeline.details; ARCHITECTURE.md, "Every answer auditable")."""

from __future__ import annotations

import pytest

from runner.pipeline.details import details_path, is_cot_details_path, is_details_path

MODEL, REVISION = "acme/med-7b", "cd" * 20
TASKS = {"medqa_4options", "pubmedqa"}


def test_each_track_has_its_folder_under_the_models_predictions():
    assert details_path(MODEL, REVISION, "pubmedqa") == (
        f"{MODEL}/{REVISION}/predictions/pubmedqa.jsonl"
    )
    assert details_path(MODEL, REVISION, "pubmedqa", "cot") == (
        f"{MODEL}/{REVISION}/predictions/cot/pubmedqa.jsonl"
    )


@pytest.mark.parametrize(
    ("path", "allowed"),
    [
        (f"{MODEL}/{REVISION}/predictions/pubmedqa.jsonl", True),
        (f"{MODEL}/{REVISION}/predictions/cot/medqa_4options.jsonl", True),
        (f"{MODEL}/{REVISION}/predictions/loglik/pubmedqa.jsonl", False),  # loglik has no folder
        (f"{MODEL}/{REVISION}/predictions/other/pubmedqa.jsonl", False),
        (f"{MODEL}/{REVISION}/predictions/cot/cot/pubmedqa.jsonl", False),
        (f"{MODEL}/{REVISION}/predictions/cot/mmlu_anatomy.jsonl", False),  # not a task of it
        (f"acme/other/{REVISION}/predictions/cot/pubmedqa.jsonl", False),
        (f"{MODEL}/{'ef' * 20}/predictions/cot/pubmedqa.jsonl", False),
        (f"{MODEL}/{REVISION}/predictions/cot/pubmedqa.json", False),
    ],
)
def test_a_publication_may_commit_only_its_own_files_of_either_track(path, allowed):
    assert is_details_path(path, MODEL, REVISION, TASKS) is allowed


def test_the_generations_are_told_apart_from_the_loglik_files():
    assert is_cot_details_path(details_path(MODEL, REVISION, "pubmedqa", "cot"))
    assert not is_cot_details_path(details_path(MODEL, REVISION, "pubmedqa"))
