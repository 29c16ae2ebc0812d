"""A fresh run's results as an older schema version would hold them, for the tests that check
older files still load (or are refused where they must be): `runner.results_schema`'s rule that
a version-1 or version-2 file carries no version-3 field."""

from __future__ import annotations

import copy

V3_RESULT_FIELDS = ("loglik_engine", "loglik_cost", "cot", "cot_not_run")
V3_TASK_FIELDS = ("ece_ci95", "brier_ci95")


def without_version_3_fields(doc: dict) -> dict:
    """`doc` (a results.json document) without the tracks' fields and the optional intervals."""
    older = {k: copy.deepcopy(v) for k, v in doc.items() if k not in V3_RESULT_FIELDS}
    for task in older.get("tasks", {}).values():
        for field in V3_TASK_FIELDS:
            task.pop(field, None)
        if task.get("letter_bias"):
            task["letter_bias"].pop("recall_ci95", None)
    return older
