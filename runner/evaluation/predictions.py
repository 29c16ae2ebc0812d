"""`predictions/<task>.jsonl`: one JSON line per item, the raw evidence behind every score.

`{"doc_id": int, "choice_logprobs": [float, ...], "pred": int, "gold": int}`, `doc_id` being the
row's index in the split, lines in doc_id order. A letter task of a `--rotations` run adds
`"rotation_logprobs": [[float] * n for r = 1..n-1]`, each list indexed by ORIGINAL option k: the
log-likelihood of the letter that labels option k under rotation r (ARCHITECTURE.md,
"Option-order robustness"). The bytes are a pure function of the scores (fixed key order,
Python's shortest round-trip float repr), so the same run gives the same file, which is what
resume relies on and what `predictions_sha256` in the results pins.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from runner.errors import UserError
from runner.evaluation.metrics import argmax_choices
from runner.evaluation.tasks import Item

RotationLogprobs = list[list[float]]  # one item: [r - 1][original option]


@dataclass(frozen=True)
class PredictionRow:
    doc_id: int
    choice_logprobs: list[float]
    pred: int
    gold: int
    rotation_logprobs: RotationLogprobs | None = None


def predictions_path(output_dir: Path, task: str) -> Path:
    return Path(output_dir) / "predictions" / f"{task}.jsonl"


def render(
    items: Sequence[Item],
    choice_logprobs: Sequence[Sequence[float]],
    rotation_logprobs: Sequence[RotationLogprobs] | None = None,
) -> bytes:
    """The file's bytes for scored items (with their rotations' scores, if any)."""
    preds = argmax_choices(choice_logprobs)
    rotations = rotation_logprobs if rotation_logprobs is not None else [None] * len(items)
    rows = [
        PredictionRow(item.doc_id, scores, pred, item.gold, rotated)
        for item, scores, pred, rotated in zip(
            items, choice_logprobs, preds, rotations, strict=True
        )
    ]
    return render_rows(rows)


def render_rows(rows: Sequence[PredictionRow]) -> bytes:
    """The file's bytes for prediction rows, in their order (floats as Python floats)."""
    lines = []
    for row in rows:
        data = {
            "doc_id": row.doc_id,
            "choice_logprobs": [float(x) for x in row.choice_logprobs],
            "pred": row.pred,
            "gold": row.gold,
        }
        if row.rotation_logprobs is not None:
            data["rotation_logprobs"] = [[float(x) for x in r] for r in row.rotation_logprobs]
        lines.append(json.dumps(data))
    return ("\n".join(lines) + "\n").encode("utf-8")


def sha256(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def read_matching(
    path: Path, items: Sequence[Item], *, rotations: bool = False
) -> list[PredictionRow] | None:
    """The rows of `path` if it is a complete prediction file for exactly `items`, else None."""
    try:
        data = path.read_bytes()
    except OSError:
        return None
    return parse_matching(data, items, rotations=rotations)


def parse_matching(
    data: bytes, items: Sequence[Item], *, rotations: bool = False
) -> list[PredictionRow] | None:
    """The rows of a file's bytes if they are a complete prediction file for exactly `items`,
    else None (a resumed run parses the bytes it has just hashed).

    Complete and consistent means: one row per item, in order, with the item's doc_id, gold and
    number of choices, `pred` the argmax of its log-likelihoods, and rotation scores exactly when
    `rotations` (n - 1 lists of n for n choices).
    """
    try:
        lines = data.decode("utf-8").splitlines()
    except UnicodeDecodeError:
        return None
    if len(lines) != len(items):
        return None
    rows = []
    for line, item in zip(lines, items, strict=True):
        row = _parse(line)
        n = len(item.continuations)
        if (
            row is None
            or row.doc_id != item.doc_id
            or row.gold != item.gold
            or len(row.choice_logprobs) != n
            or (row.rotation_logprobs is not None) != rotations
            or (rotations and [len(r) for r in row.rotation_logprobs] != [n] * (n - 1))  # type: ignore[union-attr]
        ):
            return None
        rows.append(row)
    return rows


def read_rows(path: Path) -> list[PredictionRow]:
    """Every row of a predictions file already checked by its sha256 (a results merge)."""
    try:
        lines = path.read_text(encoding="utf-8").splitlines()
    except (OSError, UnicodeDecodeError) as err:
        raise UserError(f"{path}: cannot read predictions ({err})") from None
    rows = [_parse(line) for line in lines]
    bad = next((number for number, row in enumerate(rows, start=1) if row is None), None)
    if bad is not None or not rows:
        raise UserError(f"{path}: line {bad or 1}: not a predictions row")
    return rows  # type: ignore[return-value]


def _parse(line: str) -> PredictionRow | None:
    """One line as a row whose `pred` is the argmax of its scores; None if it is not one."""
    try:
        data = json.loads(line)
        rotated = data.get("rotation_logprobs")
        row = PredictionRow(
            doc_id=data["doc_id"],
            choice_logprobs=[float(x) for x in data["choice_logprobs"]],
            pred=data["pred"],
            gold=data["gold"],
            rotation_logprobs=None if rotated is None else [[float(x) for x in r] for r in rotated],
        )
    except (ValueError, KeyError, TypeError, AttributeError):
        return None
    if not row.choice_logprobs or row.pred != argmax_choices([row.choice_logprobs])[0]:
        return None
    return row
