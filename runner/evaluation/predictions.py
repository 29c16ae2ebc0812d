"""`predictions/<task>.jsonl`: one JSON line per item, the raw evidence behind every score.

`{"doc_id": int, "choice_logprobs": [float, ...], "pred": int, "gold": int}`, `doc_id` being the
row's index in the split, lines in doc_id order. The bytes are a pure function of the scores (fixed
key order, Python's shortest round-trip float repr), so the same run gives the same file, which is
what resume relies on and what `predictions_sha256` in the results pins.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from runner.evaluation.metrics import argmax_choices
from runner.evaluation.tasks import Item


@dataclass(frozen=True)
class PredictionRow:
    doc_id: int
    choice_logprobs: list[float]
    pred: int
    gold: int


def predictions_path(output_dir: Path, task: str) -> Path:
    return Path(output_dir) / "predictions" / f"{task}.jsonl"


def render(items: Sequence[Item], choice_logprobs: Sequence[Sequence[float]]) -> bytes:
    """The file's bytes for scored items."""
    preds = argmax_choices(choice_logprobs)
    lines = [
        json.dumps(
            {
                "doc_id": item.doc_id,
                "choice_logprobs": list(scores),
                "pred": pred,
                "gold": item.gold,
            }
        )
        for item, scores, pred in zip(items, choice_logprobs, preds, strict=True)
    ]
    return ("\n".join(lines) + "\n").encode("utf-8")


def sha256(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def read_matching(path: Path, items: Sequence[Item]) -> list[PredictionRow] | None:
    """The rows of `path` if it is a complete prediction file for exactly `items`, else None.

    Complete and consistent means: one row per item, in order, with the item's doc_id, gold and
    number of choices, and `pred` the argmax of its log-likelihoods.
    """
    try:
        lines = path.read_text(encoding="utf-8").splitlines()
    except (OSError, UnicodeDecodeError):
        return None
    if len(lines) != len(items):
        return None
    rows = []
    for line, item in zip(lines, items, strict=True):
        try:
            data = json.loads(line)
            row = PredictionRow(
                doc_id=data["doc_id"],
                choice_logprobs=[float(x) for x in data["choice_logprobs"]],
                pred=data["pred"],
                gold=data["gold"],
            )
        except (ValueError, KeyError, TypeError):
            return None
        if (
            row.doc_id != item.doc_id
            or row.gold != item.gold
            or len(row.choice_logprobs) != len(item.continuations)
            or row.pred != argmax_choices([row.choice_logprobs])[0]
        ):
            return None
        rows.append(row)
    return rows
