"""The questions themselves, at the rows a model was evaluated on (ARCHITECTURE.md, "Every answer
auditable").

A task's question texts (stem, options, PubMedQA's abstract) are stored ONCE per version of its
rows beside the per-item details, not per model: `questions/<task>/<data_sha256>.json` on the
details branch (`QuestionTexts`), keyed by the sha256 of the rows as evaluated, which every result
records (`TaskResult.data_sha256`). `medlb results publish --details-dir` stages them from the
pinned rows it reads again (`runner.pipeline.rederive`; the demo's publish from the bundled
sample questions), `medlb results deliver` adds them to the branch; the site build copies each
file once and the question view reads the one whose key is the result's. The dataset's
licence, as its source declares it, is named in every file and on the page. Here, below the
pipeline and the site build, because both use it (the site's payloads re-export the models).
"""

from __future__ import annotations

from pathlib import Path

from pydantic import BaseModel, ConfigDict

from runner.atomic_io import write_atomic
from runner.evaluation.task_data import TaskRows
from runner.evaluation.tasks import PUBMEDQA_CHOICES, TASKS

# The licence each source dataset declares (its Hugging Face card or repository).
DATASET_LICENCES = {
    "GBaker/MedQA-USMLE-4-options-hf": "MIT (MedQA, Jin et al. 2021)",
    "openlifescienceai/medmcqa": "Apache-2.0 (MedMCQA, Pal et al. 2022)",
    "bigbio/pubmed_qa": "MIT (PubMedQA, Jin et al. 2019)",
    "cais/mmlu": "MIT (MMLU, Hendrycks et al. 2021)",
}


class QuestionText(BaseModel):
    """One item of a task at its pinned rows: what the model was asked."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    stem: str
    options: list[str]  # in the original order, labelled by `QuestionViewPayload.labels`
    context: str | None = None  # PubMedQA's abstract


class QuestionTexts(BaseModel):
    """A task's questions at one revision of its rows, stored once beside the details."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    task: str
    dataset: str
    dataset_revision: str | None = None
    data_sha256: str
    licence: str
    questions: list[QuestionText]


def texts_path(task: str, data_sha256: str) -> str:
    """Where a task's question texts live on the details branch (a posix path)."""
    return f"questions/{task}/{data_sha256}.json"


def question_text(task: str, row: dict) -> QuestionText:
    """The stem and options of one row, in the dataset's own order and words (stripped)."""
    if task == "medqa_4options":
        return QuestionText(
            stem=row["sent1"].strip(), options=[row[f"ending{i}"].strip() for i in range(4)]
        )
    if task == "medmcqa":
        options = [row[c].strip() for c in ("opa", "opb", "opc", "opd")]
        return QuestionText(stem=row["question"].strip(), options=options)
    if task == "pubmedqa":
        context = "\n".join(c.strip() for c in row["CONTEXTS"])
        return QuestionText(
            stem=row["QUESTION"].strip(), options=list(PUBMEDQA_CHOICES), context=context
        )
    return QuestionText(stem=row["question"].strip(), options=[c.strip() for c in row["choices"]])


def texts_of_rows(task: str, task_rows: TaskRows) -> QuestionTexts:
    """The question texts of `task` at the rows read (their sha256 is the file's key)."""
    spec = TASKS[task]
    return QuestionTexts(
        task=task,
        dataset=spec.dataset,
        dataset_revision=spec.revision,
        data_sha256=task_rows.sha256,
        licence=DATASET_LICENCES[spec.dataset],
        questions=[question_text(task, row) for row in task_rows.rows],
    )


def texts_bytes(texts: QuestionTexts) -> bytes:
    """A texts file's bytes: the same rows always give the same file (compared on the branch)."""
    return (texts.model_dump_json() + "\n").encode("utf-8")


def stage_texts(details_dir: Path, texts: QuestionTexts) -> str:
    """Write `texts` into `details_dir` at its details-branch path; that path."""
    relative = texts_path(texts.task, texts.data_sha256)
    write_atomic(Path(details_dir) / relative, texts_bytes(texts))
    return relative
