"""Every answer auditable: per model and task, the data of the site's question view.

`medlb site build --details DIR` reads DIR laid out as the details branch
(`runner.pipeline.details`): for each published result and each of its tasks, the predictions file
`<org>/<model>/<revision>/predictions/<task>.jsonl`. A missing file means no question view for that
task, which the model page says; a file whose sha256 is not the result's `predictions_sha256`
stops the build with one line naming it, like any bad input. Each verified file becomes one
compact JSON file, `data/questions/<org>/<model>/<task>.json`, that the site's one question-view
page (`questions.md.j2`, `assets/questions.js`) loads:

    model, revision, task, labels (the choices), n, dataset (id, config, split, the revision the
    rows are known to be, the Hub links), predictions (sha256, where to download the file),
    gold[i], pred[i], p[i][k] = round(1000 * softmax(choice_logprobs[i])[k]) (per mille),
    conf[i] = p[i][pred[i]], p_gold[i] = p[i][gold[i]], rot[i] = the option chosen under
    rotation r = 0..n-1, as digits ("1121"), stable[i] (all the same) and survives[i] (all the
    gold), or null without rotations; texts_url, the question texts of these rows
    (`question_texts`), when the details hold them; cot[i], the cot track's generation,
    extracted answer, correctness, output tokens and truncation, when the result has a cot track
    and its predictions file is on the branch (`payloads.QuestionViewPayload`).

The option chosen under rotation r is defined in ARCHITECTURE.md ("Option-order robustness"): the
first letter with the highest log-likelihood on the rotated prompt, mapped back to the option it
labels. `runner.evaluation.rotations.chosen_options` is its numpy twin; this is plain Python
because the Pages job installs no numpy, and tests compare the two. Thousands of full-size files
are parsed in worker processes (ARCHITECTURE.md, "The site").
"""

from __future__ import annotations

import hashlib
import json
import math
import multiprocessing
import os
from collections.abc import Sequence
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass, field, replace
from pathlib import Path
from urllib.parse import quote

from runner.errors import UserError
from runner.evaluation.question_texts import texts_path
from runner.evaluation.tasks import LETTERS, PUBMEDQA_CHOICES, TASK_NAMES, TASKS
from runner.pipeline.details import (
    DETAILS_BRANCH,
    cot_details_path,
    details_path,
    predictions_dir,
)
from runner.results_schema import TaskResult
from runner.sitegen.entries import ModelEntry
from runner.sitegen.inputs import ResultFile
from runner.sitegen.payloads import CotAnswer, PredictionsFile, QuestionViewPayload
from runner.sitegen.repository import Repository

HUB_DATASETS = "https://huggingface.co/datasets"
# Below this much JSON to parse, starting worker processes costs more than it saves.
PARALLEL_FROM_BYTES = 64 << 20
TEXTS_FOLDER = "data/question-texts"  # each version of a task's question texts, copied once


def site_path(task: str, data_sha256: str) -> str:
    """Where the site serves a task's question texts (`texts_path` on the details branch)."""
    return f"{TEXTS_FOLDER}/{task}/{data_sha256}.json"


@dataclass(frozen=True)
class ViewSource:
    """A predictions file on its details-branch path, what its result pins, and the fixed part of
    its view."""

    key: str  # the result's page key ("org/model")
    task: str
    path: Path
    sha256: str  # what the result pins
    n: int
    header: dict  # model, revision, task, labels, dataset: the view's fixed part
    results_file: str = ""  # the result pinning it, repository-relative
    cot_path: Path | None = None  # the cot track's predictions file, when there is one
    cot_sha256: str | None = None  # what the result pins for it


@dataclass
class QuestionViews:
    """What a build made of the details: the views' data files and, per model, their tasks."""

    files: dict[str, str] = field(default_factory=dict)  # path under docs_dir -> JSON text
    tasks: dict[str, tuple[str, ...]] = field(default_factory=dict)  # key -> tasks with a view
    read: bool = False  # False: no --details given (nothing was looked for)
    # task -> rows' sha256 -> its question texts under the site root (the compare page's stems)
    texts: dict[str, dict[str, str]] = field(default_factory=dict)


def data_path(key: str, task: str) -> str:
    return f"data/questions/{key}/{task}.json"


def load_question_views(
    details_dir: Path | None,
    results: list[ResultFile],
    repository: Repository,
    *,
    workers: int | None = None,
) -> QuestionViews:
    """Verify and condense the details of every result found in `details_dir`; `repository`
    keeps them on its details branch (the download links)."""
    views = QuestionViews(read=details_dir is not None)
    if details_dir is None:
        return views
    if not Path(details_dir).is_dir():
        raise UserError(
            f"--details: {details_dir} is not a directory (a checkout of the details branch)"
        )
    sources = [s for r in results for s in _sources(Path(details_dir), r, repository)]
    for source in sources:  # each version of a task's rows once, whatever the models
        url = source.header["texts_url"]
        if url and url not in views.files:
            sha = url.rsplit("/", 1)[1].removesuffix(".json")
            views.files[url] = (Path(details_dir) / texts_path(source.task, sha)).read_text("utf-8")
            views.texts.setdefault(source.task, {})[sha] = url
    for key, task, text in _condense_all(sources, workers):
        views.files[data_path(key, task)] = text
        views.tasks[key] = (*views.tasks.get(key, ()), task)
    views.tasks = {k: tuple(t for t in TASK_NAMES if t in v) for k, v in views.tasks.items()}
    return views  # registry order, whatever order the files were condensed in


def _sources(
    details_dir: Path, result_file: ResultFile, repository: Repository
) -> list[ViewSource]:
    model = result_file.result.model
    if model.revision is None:
        return []
    found = []
    for name, task in result_file.result.tasks.items():
        relative = details_path(model.id, model.revision, name)
        path = details_dir / relative
        if path.is_file():
            texts = details_dir / texts_path(name, task.data_sha256)
            header = {
                "model": model.id,
                "revision": model.revision,
                "task": name,
                "labels": choice_labels(name),
                "dataset": dataset_links(task),
                "predictions": {"url": repository.file_on(DETAILS_BRANCH, relative)},
                "texts_url": site_path(name, task.data_sha256) if texts.is_file() else None,
            }
            cot = result_file.result.cot
            cot_task = cot.tasks.get(name) if cot else None
            cot_path = details_dir / cot_details_path(model.id, model.revision, name)
            has_cot = cot_task is not None and cot_path.is_file()
            found.append(
                ViewSource(
                    result_file.key,
                    name,
                    path,
                    task.predictions_sha256,
                    task.n,
                    header,
                    result_file.repo_path,
                    cot_path if has_cot else None,
                    cot_task.predictions_sha256 if has_cot else None,  # type: ignore[union-attr]
                )
            )
    return found


def choice_labels(task: str) -> list[str]:
    return list(LETTERS if TASKS[task].letter_choices else PUBMEDQA_CHOICES)


def dataset_links(task: TaskResult) -> dict:
    """The rows' provenance and the Hub links a question view shows.

    The Hub's dataset viewer (`/datasets/<id>/viewer/<config>/<split>?row=<i>`) shows a dataset's
    current version and takes no revision, so a row link cannot be pinned; the view shows the
    pinned revision beside it with a link to the dataset's files at that commit. Both links exist
    only when the rows are known to be the pinned ones (`dataset_revision` set): the bundled
    sample questions and unverified local copies are not the Hub's rows."""
    source = task.rows_source
    rows = "unknown" if source is None else "sample" if source.sample else source.kind
    pinned = task.dataset_revision
    base = f"{HUB_DATASETS}/{quote(task.dataset)}"
    config = quote(task.dataset_config or "default")
    return {
        "id": task.dataset,
        "config": task.dataset_config,
        "split": task.split,
        "revision": pinned,
        "rows": rows,
        "viewer": f"{base}/viewer/{config}/{quote(task.split)}" if pinned else None,
        "files": f"{base}/tree/{pinned}" if pinned else None,
    }


def _condense_all(sources: list[ViewSource], workers: int | None) -> list[tuple[str, str, str]]:
    if workers is None:
        size = sum(s.path.stat().st_size for s in sources)
        workers = 1 if size < PARALLEL_FROM_BYTES else min(os.cpu_count() or 1, 8)
    if workers <= 1 or len(sources) < 2:
        return [condense(s) for s in sources]
    context = multiprocessing.get_context("spawn")  # no fork of a threaded parent (tests)
    with ProcessPoolExecutor(workers, mp_context=context) as pool:
        return list(pool.map(condense, sources, chunksize=8))


def condense(source: ViewSource) -> tuple[str, str, str]:
    """(key, task, the view's JSON text) of one predictions file, after checking its sha256."""
    try:
        data = source.path.read_bytes()
    except OSError as err:
        raise UserError(f"{source.path}: cannot read it ({err.strerror})") from None
    digest = hashlib.sha256(data).hexdigest()
    if digest != source.sha256:
        raise UserError(
            f"{source.path}: sha256 {digest[:12]}… is not the predictions_sha256 "
            f"{source.sha256[:12]}… that {source.results_file} pins for {source.task}"
        )
    items = [_item(source, row, i) for i, row in enumerate(_rows(source, data))]
    gold = [g for g, *_ in items]
    pred = [c for _, c, *_ in items]
    probs = [p for *_, p, _ in items]
    rotations = [rot for *_, rot in items]
    rotated = None not in rotations
    view = QuestionViewPayload(
        **{
            **source.header,
            "predictions": PredictionsFile(**source.header["predictions"], sha256=digest),
        },
        n=len(items),
        gold=gold,
        pred=pred,
        p=probs,
        conf=[probs[i][c] for i, c in enumerate(pred)],
        p_gold=[probs[i][g] for i, g in enumerate(gold)],
        rot=rotations if rotated else None,
        stable=[len(set(rot)) == 1 for rot in rotations] if rotated else None,
        survives=[set(rot) == {str(g)} for rot, g in zip(rotations, gold, strict=True)]
        if rotated
        else None,
        cot=None if source.cot_path is None else _cot_answers(source),
    )
    return source.key, source.task, view.model_dump_json()


def _cot_answers(source: ViewSource) -> list[CotAnswer]:
    """The cot track's per-item answers (DESIGN §10's fields), after checking the file's sha256."""
    path = source.cot_path
    assert path is not None
    try:
        data = path.read_bytes()
    except OSError as err:
        raise UserError(f"{path}: cannot read it ({err.strerror})") from None
    digest = hashlib.sha256(data).hexdigest()
    if digest != source.cot_sha256:
        raise UserError(
            f"{path}: sha256 {digest[:12]}… is not the cot predictions_sha256 that "
            f"results/{source.key}.json pins for {source.task}"
        )
    answers = []
    for i, row in enumerate(_rows(replace(source, path=path), data)):
        try:
            if row["doc_id"] != i:
                raise ValueError(i)
            answers.append(
                CotAnswer(
                    generation=row["generation"],
                    answer=row["answer"],
                    correct=row["correct"],
                    output_tokens=row["output_tokens"],
                    truncated=row["truncated"],
                )
            )
        except (KeyError, TypeError, ValueError):
            raise UserError(f"{path}: line {i + 1}: not a cot predictions row") from None
    return answers


def _rows(source: ViewSource, data: bytes) -> list:
    try:
        text = data.decode("utf-8").rstrip("\n")
        rows = json.loads("[" + text.replace("\n", ",") + "]")
    except (UnicodeDecodeError, json.JSONDecodeError) as err:
        raise UserError(f"{source.path}: not JSON lines ({err})") from None
    if len(rows) != source.n:
        raise UserError(f"{source.path}: {len(rows)} rows, {source.results_file} says {source.n}")
    return rows


def _item(source: ViewSource, row: object, doc_id: int) -> tuple:
    """(gold, pred, per-mille probabilities, options chosen under rotation as digits or None) of
    one row, checked to be the predictions row of item `doc_id` of this task."""
    k = len(source.header["labels"])
    try:
        gold, pred, scores = row["gold"], row["pred"], row["choice_logprobs"]  # type: ignore[index]
        rotated = row.get("rotation_logprobs")  # type: ignore[union-attr]
        if not (
            row["doc_id"] == doc_id  # type: ignore[index]
            and gold in range(k)
            and pred in range(k)
            and len(scores) == k
            and (rotated is None or [len(r) for r in rotated] == [k] * (k - 1))
        ):
            raise ValueError(doc_id)
        p = [round(1000 * x) for x in probabilities(scores)]
        rot = (
            None if rotated is None else "".join(map(str, chosen_under_rotations(scores, rotated)))
        )
    except (AttributeError, KeyError, TypeError, ValueError):
        raise UserError(
            f"{source.path}: line {doc_id + 1}: not a predictions row of {source.task}"
        ) from None
    return gold, pred, p, rot


def probabilities(logprobs: Sequence[float]) -> list[float]:
    """softmax over an item's choices (ARCHITECTURE.md, "Calibration")."""
    top = max(logprobs)
    weights = [math.exp(x - top) for x in logprobs]
    total = sum(weights)
    return [w / total for w in weights]


def chosen_under_rotations(
    choice_logprobs: Sequence[float], rotation_logprobs: Sequence[Sequence[float]]
) -> list[int]:
    """The original option chosen under each rotation r = 0..n-1: under rotation r letter j
    labels option (j + r) mod n; the first letter with the highest score wins, mapped back."""
    chosen = []
    for r, scores in enumerate([choice_logprobs, *rotation_logprobs]):
        n = len(scores)
        letters = [scores[(j + r) % n] for j in range(n)]
        chosen.append((letters.index(max(letters)) + r) % n)
    return chosen


def with_question_views(
    entries: list[ModelEntry], views: QuestionViews, repository: Repository
) -> list[ModelEntry]:
    """The entries with their question views and, where the details were read, the folder of
    their predictions files on the details branch (the model page's download)."""
    return [
        replace(
            entry,
            question_tasks=views.tasks[entry.key],
            predictions_url=repository.folder_url(
                DETAILS_BRANCH, predictions_dir(entry.model_id, entry.revision or "")
            ),
        )
        if entry.key in views.tasks
        else entry
        for entry in entries
    ]
