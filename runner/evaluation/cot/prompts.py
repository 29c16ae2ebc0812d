"""The reasoning track's prompts, byte for byte as DESIGN §10 fixes them (ARCHITECTURE.md,
"The reasoning track").

One user message per row, no system message: an instruction, a blank line, the question (or the
abstract and the question) and, for the letter tasks, one `X. option` line per option in the
row's own order; lines joined with "\\n", every field `str.strip()`ped, no trailing newline.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from runner.evaluation.tasks import LETTERS, PUBMEDQA_CHOICES, Row, TaskSpec, _built

LETTER_INSTRUCTION = (
    "Answer the following multiple-choice question. Think step by step, then end your response "
    'with a line of the form "Final Answer: X", where X is one of A, B, C or D.'
)
PUBMEDQA_INSTRUCTION = (
    "Answer the following question about the research abstract below with yes, no or maybe. "
    'Think step by step, then end your response with a line of the form "Final Answer: X", '
    "where X is yes, no or maybe."
)


@dataclass(frozen=True)
class CotItem:
    """One question of the reasoning track: the user message and the gold answer's label."""

    doc_id: int
    message: str  # the user message's content (before the chat template)
    gold: str  # "A".."D", or "yes"/"no"/"maybe" for PubMedQA
    subject: str | None


def question_and_options(spec: TaskSpec, row: Row) -> tuple[str, Sequence[str]]:
    """A letter task's question and its options in the row's order (DESIGN §2's columns)."""
    if spec.name == "medqa_4options":
        return row["sent1"], [row[f"ending{i}"] for i in range(len(LETTERS))]
    if spec.name == "medmcqa":
        return row["question"], [row["opa"], row["opb"], row["opc"], row["opd"]]
    if spec.name.startswith("mmlu_"):
        return row["question"], list(row["choices"])
    raise ValueError(f"{spec.name}: not a letter task")


def cot_message(spec: TaskSpec, row: Row) -> str:
    """The user message for one row of `spec`."""
    if not spec.letter_choices:
        abstract = "\n".join(context.strip() for context in row["CONTEXTS"])
        lines = [PUBMEDQA_INSTRUCTION, "", f"Abstract: {abstract}"]
        return "\n".join([*lines, f"Question: {row['QUESTION'].strip()}"])
    question, options = question_and_options(spec, row)
    if len(options) != len(LETTERS):
        raise ValueError(f"{len(options)} options (expected {len(LETTERS)})")
    lines = [LETTER_INSTRUCTION, "", f"Question: {question.strip()}"]
    lines += [
        f"{letter}. {option.strip()}" for letter, option in zip(LETTERS, options, strict=True)
    ]
    return "\n".join(lines)


def gold_label(spec: TaskSpec, row: Row) -> str:
    """The gold answer as extraction returns it: a letter, or PubMedQA's decision word."""
    index = spec.doc_to_gold(row)
    return (LETTERS if spec.letter_choices else PUBMEDQA_CHOICES)[index]


def _build_item(spec: TaskSpec, doc_id: int, row: Row) -> CotItem:
    return CotItem(
        doc_id=doc_id,
        message=cot_message(spec, row),
        gold=gold_label(spec, row),
        subject=spec.doc_to_subject(row),
    )


def build_cot_items(spec: TaskSpec, rows: Sequence[Row], *, source: str = "") -> list[CotItem]:
    """All rows of a split as `CotItem`s; a row the prompt cannot read is a `UserError`."""
    return [_built(spec, doc_id, row, source, _build_item) for doc_id, row in enumerate(rows)]
