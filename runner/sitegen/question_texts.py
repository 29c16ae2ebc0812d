"""The questions themselves, at the rows a model was evaluated on (ARCHITECTURE.md, "Every answer
auditable").

A task's question texts (stem, options, PubMedQA's abstract) are stored ONCE per version of its
rows beside the per-item details, not per model: `questions/<task>/<data_sha256>.json` on the
details branch (`payloads.QuestionTexts`), keyed by the sha256 of the rows as evaluated, which
every result records (`TaskResult.data_sha256`). `write_question_texts` writes them from a data
directory (the demo does, from the bundled sample questions; the publish job can from the
pinned rows it read); the site build copies each file once to `data/question-texts/` and the
question view reads the one whose key is the result's. The dataset's licence, as its source
declares it, is named in every file and on the page.
"""

from __future__ import annotations

from pathlib import Path

from runner.atomic_io import write_atomic
from runner.evaluation.task_data import load_task_rows
from runner.evaluation.tasks import PUBMEDQA_CHOICES, TASK_NAMES, TASKS
from runner.sitegen.payloads import QuestionText, QuestionTexts

# The licence each source dataset declares (its Hugging Face card or repository).
DATASET_LICENCES = {
    "GBaker/MedQA-USMLE-4-options-hf": "MIT (MedQA, Jin et al. 2021)",
    "openlifescienceai/medmcqa": "Apache-2.0 (MedMCQA, Pal et al. 2022)",
    "bigbio/pubmed_qa": "MIT (PubMedQA, Jin et al. 2019)",
    "cais/mmlu": "MIT (MMLU, Hendrycks et al. 2021)",
}
SITE_FOLDER = "data/question-texts"


def texts_path(task: str, data_sha256: str) -> str:
    """Where a task's question texts live on the details branch (a posix path)."""
    return f"questions/{task}/{data_sha256}.json"


def site_path(task: str, data_sha256: str) -> str:
    return f"{SITE_FOLDER}/{task}/{data_sha256}.json"


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


def question_texts(task: str, data_dir: Path) -> QuestionTexts:
    spec = TASKS[task]
    rows = load_task_rows(spec, data_dir)
    return QuestionTexts(
        task=task,
        dataset=spec.dataset,
        dataset_revision=spec.revision,
        data_sha256=rows.sha256,
        licence=DATASET_LICENCES[spec.dataset],
        questions=[question_text(task, row) for row in rows.rows],
    )


def write_question_texts(details_dir: Path, data_dir: Path) -> list[str]:
    """Write every task's question texts of `data_dir` into `details_dir`; the paths written."""
    written = []
    for task in TASK_NAMES:
        texts = question_texts(task, data_dir)
        relative = texts_path(task, texts.data_sha256)
        write_atomic(Path(details_dir) / relative, texts.model_dump_json() + "\n")
        written.append(relative)
    return written
