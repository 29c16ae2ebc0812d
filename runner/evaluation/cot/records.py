"""`predictions/cot/<task>.jsonl`: one JSON line per item, the evidence behind every `cot` score.

`{"doc_id", "generation", "answer", "gold", "correct", "output_tokens", "truncated"}` (DESIGN §10),
`doc_id` being the row's index in the split, lines in doc_id order; `generation` is the whole
decoded text cut at the first stop string, `answer` the extracted letter or word (null: no
answer). The bytes are a pure function of the rows (fixed key order), so `predictions_sha256` in
the results pins them and a resumed run reads back exactly what an uninterrupted one wrote.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from runner.evaluation.cot.prompts import CotItem

COT_DIR = "predictions/cot"


@dataclass(frozen=True)
class CotRow:
    doc_id: int
    generation: str
    answer: str | None
    gold: str
    correct: bool
    output_tokens: int
    truncated: bool


def cot_predictions_path(output_dir: Path, task: str) -> Path:
    return Path(output_dir) / COT_DIR / f"{task}.jsonl"


def render_rows(rows: Sequence[CotRow]) -> bytes:
    lines = [
        json.dumps(
            {
                "doc_id": row.doc_id,
                "generation": row.generation,
                "answer": row.answer,
                "gold": row.gold,
                "correct": row.correct,
                "output_tokens": row.output_tokens,
                "truncated": row.truncated,
            }
        )
        for row in rows
    ]
    return ("\n".join(lines) + "\n").encode("utf-8")


def parse_rows(data: bytes) -> list[CotRow]:
    """Every row of a file's bytes; ValueError naming the line when one is not a row."""
    rows = []
    for number, line in enumerate(data.decode("utf-8").splitlines(), start=1):
        try:
            fields = json.loads(line)
            rows.append(
                CotRow(
                    doc_id=_typed(fields["doc_id"], int),
                    generation=_typed(fields["generation"], str),
                    answer=None if fields["answer"] is None else _typed(fields["answer"], str),
                    gold=_typed(fields["gold"], str),
                    correct=_typed(fields["correct"], bool),
                    output_tokens=_typed(fields["output_tokens"], int),
                    truncated=_typed(fields["truncated"], bool),
                )
            )
        except (ValueError, KeyError, TypeError) as err:
            raise ValueError(f"line {number}: not a cot prediction row ({err})") from None
    return rows


def _typed(value: object, kind: type) -> object:
    if type(value) is not kind:
        raise TypeError(f"{value!r} is not {kind.__name__}")
    return value


def parse_matching(data: bytes, items: Sequence[CotItem]) -> list[CotRow] | None:
    """The rows of a complete file for exactly `items` (doc_ids and golds in order), else None."""
    try:
        rows = parse_rows(data)
    except (ValueError, UnicodeDecodeError):
        return None
    if [(r.doc_id, r.gold) for r in rows] != [(i.doc_id, i.gold) for i in items]:
        return None
    return rows
