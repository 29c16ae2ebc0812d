"""Per-item details of a published result: the predictions files, kept on the `details` branch.

A published model's `predictions/<task>.jsonl` files (one row per item: the evidence behind every
score) are committed to the orphan branch `details` of the same repository, at

    <org>/<model>/<revision>/predictions/<task>.jsonl

byte for byte as the run wrote them, so `tasks.<task>.predictions_sha256` in the result on the
default branch pins each of them: the result's model id and revision say where its details are,
and its hashes say what they must be. Why a branch (not release assets or a Hub dataset), and how
the publish job lands it before the result: ARCHITECTURE.md, "Every answer auditable".

This module is the layout (shared by publishing and the site build) and the publish step's copy;
`runner.pipeline.landing` commits it. No numpy here: the site build imports it.
"""

from __future__ import annotations

import hashlib
import re
from pathlib import Path, PurePosixPath

from runner.atomic_io import write_atomic
from runner.errors import UserError
from runner.results_schema import EvaluationResult

DETAILS_BRANCH = "details"
_TASK_FILE = re.compile(r"[a-z0-9_]+\.jsonl")


def predictions_dir(model_id: str, revision: str) -> str:
    """The folder of a model's predictions on the details branch (a posix path)."""
    return f"{model_id}/{revision}/predictions"


def details_path(model_id: str, revision: str, task: str) -> str:
    """Where a task's predictions file of `model_id` at `revision` lives on the details branch."""
    return f"{predictions_dir(model_id, revision)}/{task}.jsonl"


def cot_details_path(model_id: str, revision: str, task: str) -> str:
    """Where a task's `cot` predictions file lives: beside the loglik ones, as the run writes
    them (`predictions/cot/<task>.jsonl`)."""
    return f"{predictions_dir(model_id, revision)}/cot/{task}.jsonl"


def is_details_path(path: str, model_id: str, revision: str, tasks: set[str]) -> bool:
    """`path` is exactly one predictions file of this model and revision, for one of `tasks`."""
    pure = PurePosixPath(path)
    return (
        str(pure.parent) == predictions_dir(model_id, revision)
        and _TASK_FILE.fullmatch(pure.name) is not None
        and pure.stem in tasks
    )


def stage_details(run_dir: Path, result: EvaluationResult, details_dir: Path) -> list[str]:
    """Copy the run's predictions files into `details_dir` at their details-branch paths, each
    checked against the published result's `predictions_sha256`; the paths, relative to
    `details_dir`. `result` is the record as published (bound to the submission's id and
    revision)."""
    model = result.model
    if model.revision is None:
        raise UserError(f"results: {model.id} has no revision; its details have no place")
    staged = []
    for name, task in sorted(result.tasks.items()):
        source = Path(run_dir) / "predictions" / f"{name}.jsonl"
        try:
            data = source.read_bytes()
        except OSError as err:
            raise UserError(f"{source}: cannot read the predictions ({err.strerror})") from None
        if hashlib.sha256(data).hexdigest() != task.predictions_sha256:
            raise UserError(f"{source}: sha256 differs from tasks.{name}.predictions_sha256")
        relative = details_path(model.id, model.revision, name)
        write_atomic(Path(details_dir) / relative, data)
        staged.append(relative)
    return staged
