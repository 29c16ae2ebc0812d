"""The compare page's data (ARCHITECTURE.md, "The site"): the picker's list of models embedded in
the page (`ComparePayload`), and per model one small file of its per-item correctness on both
tracks (`CompareModel`), fetched only for the models a reader picks, so the page stays small at
1,000 models. Each task names its question texts' file here, so the page looks nothing up."""

from __future__ import annotations

from collections.abc import Mapping

from runner.evaluation.tasks import TASK_NAMES, TASKS
from runner.sitegen.entries import ModelEntry
from runner.sitegen.payloads import (
    CompareEntry,
    CompareModel,
    ComparePayload,
    CompareTask,
    CompareTaskName,
)
from runner.sitegen.task_facts import FACTS


def compare_file(key: str) -> str:
    return f"data/compare/{key}.json"


def compare_payload(
    entries: list[ModelEntry], texts: Mapping[str, Mapping[str, str]]
) -> tuple[ComparePayload, dict[str, str]]:
    """The embedded payload and the per-model files (path under the site root -> JSON);
    `texts` is task -> rows' sha256 -> its question texts under the site root."""
    payload = ComparePayload(
        tasks=[
            CompareTaskName(name=n, title=TASKS[n].title, short=FACTS[n].short) for n in TASK_NAMES
        ],
        models=[
            CompareEntry(
                key=e.key,
                model=e.model_id,
                file=compare_file(e.key),
                question_tasks=list(e.question_tasks),
            )
            for e in entries
        ],
    )
    files = {compare_file(e.key): _model(e, texts).to_json() for e in entries}
    return payload, files


def _model(entry: ModelEntry, texts: Mapping[str, Mapping[str, str]]) -> CompareModel:
    def tasks(source) -> dict[str, CompareTask]:
        return {
            name: CompareTask(
                correct=task.correct,
                n=task.n,
                data_sha256=task.data_sha256,
                texts_url=texts.get(name, {}).get(task.data_sha256),
            )
            for name, task in source.items()
        }

    cot = entry.result.cot
    return CompareModel(
        key=entry.key,
        model=entry.model_id,
        loglik=tasks(entry.result.tasks),
        cot=tasks(cot.tasks) if cot else {},
    )
