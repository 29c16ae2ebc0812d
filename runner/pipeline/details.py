"""Per-item details of a published result: the predictions files, kept on the `details` branch.

A published model's `predictions/<task>.jsonl` files (one row per item: the evidence behind every
score) are committed to the orphan branch `details` of the same repository, at

    <org>/<model>/<revision>/predictions/<task>.jsonl          the loglik track
    <org>/<model>/<revision>/predictions/cot/<task>.jsonl      the cot track (generations)

byte for byte as the run wrote them, so `tasks.<task>.predictions_sha256` (and
`cot.tasks.<task>.predictions_sha256`) in the result on the default branch pins each of them: the
result's model id and revision say where its details are, and its hashes say what they must be.
Why a branch (not release assets or a Hub dataset), and how the publish job lands it before the
result: ARCHITECTURE.md, "Every answer auditable".

Beside them, once per version of a task's rows, `questions/<task>/<data_sha256>.json`: the
question texts (`runner.evaluation.question_texts`), which deliver adds only when the branch lacks
them or has the same bytes (`check_question_files`).

This module is the layout (shared by publishing and the site build) and the publish step's copy;
`runner.pipeline.landing` commits it. No numpy here: the site build imports it.
"""

from __future__ import annotations

import hashlib
import re
from pathlib import Path, PurePosixPath
from typing import TYPE_CHECKING

from pydantic import ValidationError

from runner.atomic_io import write_atomic
from runner.digests import git_blob_sha1
from runner.errors import UserError
from runner.evaluation.question_texts import (
    DATASET_LICENCES,
    QuestionTexts,
    texts_bytes,
    texts_path,
)
from runner.github_api import GitHubRepo
from runner.results_layout import result_path
from runner.results_schema import TRACKS, EvaluationResult, Track, load_result

if TYPE_CHECKING:
    from runner.pipeline.publish import Publication

DETAILS_BRANCH = "details"
_TASK_FILE = re.compile(r"[a-z0-9_]+\.jsonl")


def predictions_dir(model_id: str, revision: str) -> str:
    """The folder of a model's predictions on the details branch (a posix path)."""
    return f"{model_id}/{revision}/predictions"


def details_path(model_id: str, revision: str, task: str, track: Track = "loglik") -> str:
    """Where a task's predictions file of `model_id` at `revision` lives on the details branch
    (the run's own `predictions/` layout: the cot track's files in `cot/`)."""
    return f"{predictions_dir(model_id, revision)}/{_track_file(task, track)}"


def _track_file(task: str, track: Track) -> str:
    return f"{task}.jsonl" if track == "loglik" else f"{track}/{task}.jsonl"


def cot_details_path(model_id: str, revision: str, task: str) -> str:
    """Where a task's `cot` predictions file lives: `details_path` of the cot track."""
    return details_path(model_id, revision, task, "cot")


def is_details_path(path: str, model_id: str, revision: str, tasks: set[str]) -> bool:
    """`path` is exactly one predictions file of this model and revision, of either track, for
    one of `tasks`."""
    pure = PurePosixPath(path)
    folder = str(pure.parent)
    home = predictions_dir(model_id, revision)
    return (
        folder in (home, *(f"{home}/{track}" for track in TRACKS if track != "loglik"))
        and _TASK_FILE.fullmatch(pure.name) is not None
        and pure.stem in tasks
    )


def is_cot_details_path(path: str) -> bool:
    """A details path of the cot track (its generations: the large files, ARCHITECTURE.md,
    "Details at scale")."""
    return PurePosixPath(path).parent.name == "cot"


def published_files(result: EvaluationResult) -> list[tuple[Track, str, str]]:
    """(track, task, predictions_sha256) of every predictions file a result pins."""
    files: list[tuple[Track, str, str]] = [
        ("loglik", name, task.predictions_sha256) for name, task in sorted(result.tasks.items())
    ]
    if result.cot is not None:
        cot = sorted(result.cot.tasks.items())
        files += [("cot", name, task.predictions_sha256) for name, task in cot]
    return files


def stage_details(run_dir: Path, result: EvaluationResult, details_dir: Path) -> list[str]:
    """Copy the run's predictions files into `details_dir` at their details-branch paths, each
    checked against the published result's `predictions_sha256`; the paths, relative to
    `details_dir`. `result` is the record as published (bound to the submission's id and
    revision)."""
    model = result.model
    if model.revision is None:
        raise UserError(f"results: {model.id} has no revision; its details have no place")
    staged = []
    for track, name, sha256 in published_files(result):
        source = Path(run_dir) / "predictions" / _track_file(name, track)
        try:
            data = source.read_bytes()
        except OSError as err:
            raise UserError(f"{source}: cannot read the predictions ({err.strerror})") from None
        if hashlib.sha256(data).hexdigest() != sha256:
            field = f"tasks.{name}" if track == "loglik" else f"{track}.tasks.{name}"
            raise UserError(f"{source}: sha256 differs from {field}.predictions_sha256")
        relative = details_path(model.id, model.revision, name, track)
        write_atomic(Path(details_dir) / relative, data)
        staged.append(relative)
    return staged


def expected_question_texts(result: EvaluationResult) -> dict[str, tuple[str, int]]:
    """The question-texts paths a result's tasks may publish: path -> (task, number of rows)."""
    tasks = [*result.tasks.items(), *(result.cot.tasks.items() if result.cot else ())]
    return {texts_path(name, task.data_sha256): (name, task.n_total) for name, task in tasks}


def check_question_files(
    root: Path, paths: list[str], result: EvaluationResult
) -> dict[str, bytes]:
    """The bytes of the staged question texts at `paths` under `root`, each refused unless it is
    the file of one of `result`'s tasks at its rows' sha256: the task's dataset, licence and
    number of rows, written as `texts_bytes` writes it."""
    from runner.evaluation.tasks import TASKS

    expected = expected_question_texts(result)
    if len(set(paths)) != len(paths) or any(path not in expected for path in paths):
        raise UserError(
            f"question texts may be only those of {result.model.id}'s tasks at their "
            f"data_sha256: {sorted(expected)}"
        )
    files = {}
    for path in paths:
        task, n_total = expected[path]
        try:
            data = (Path(root) / path).read_bytes()
            texts = QuestionTexts.model_validate_json(data)
        except OSError as err:
            raise UserError(f"{root / path}: cannot read it ({err.strerror})") from None
        except ValidationError:
            raise UserError(f"{root / path}: not a question-texts file") from None
        spec = TASKS[task]
        ours = (task, path, spec.dataset, DATASET_LICENCES[spec.dataset], n_total, data)
        theirs = (
            texts.task,
            texts_path(texts.task, texts.data_sha256),
            texts.dataset,
            texts.licence,
            len(texts.questions),
            texts_bytes(texts),
        )
        if ours != theirs:
            raise UserError(f"{root / path}: not the question texts of {task} at these rows")
        files[path] = data
    return files


def question_files(plan: Publication, checkout: Path) -> dict[str, bytes]:
    """The plan's question texts, each checked against the result it publishes (its tasks'
    data_sha256, datasets and row counts); refused before anything is committed."""
    if not plan.questions:
        return {}
    result = load_result(result_path(Path(checkout) / "results", plan.model, plan.revision))
    return check_question_files(Path(checkout) / (plan.details_dir or ""), plan.questions, result)


def texts_there(repo: GitHubRepo, head: str | None, path: str, data: bytes) -> bool:
    """Whether the details branch already has these question texts; refused when it holds other
    bytes at their path (every model's tasks share them: one is never rewritten)."""
    if head is None:
        return False
    live = repo.blob_id_at(path, head)
    if live is not None and live != git_blob_sha1(data):
        raise UserError(f"{path} on {DETAILS_BRANCH} holds other question texts; not replaced")
    return live is not None
