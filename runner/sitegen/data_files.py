"""The site's machine-readable outputs: downloads and the data its scripts read.

- `leaderboard.json` / `leaderboard.csv`: every evaluated model with its scores and intervals as
  fractions rounded to four decimals (0.7366, not 0.7365999999999999), its ranks, plus the
  reference rows (marked), for readers who want the numbers;
- the rows embedded in the leaderboard page are `leaderboard_rows.leaderboard_payload`;
- each model's published results file is served as it is, `data/results/<key>.json`
  (`ModelEntry.results_download`): the model page's download (the compare page reads its own
  files, `compare_data`).
"""

from __future__ import annotations

import csv
import io
import json
from collections.abc import Mapping, Sequence
from typing import Any

from runner.evaluation.tasks import TASK_NAMES
from runner.results_schema import Estimate
from runner.sitegen.entries import ModelEntry
from runner.sitegen.formatting import fraction_number
from runner.sitegen.references import ReferenceModel

INTERVAL = ("", "_low", "_high")  # a value and its 95% interval
CSV_COLUMNS = (
    "rank",
    "tied_with",
    "model",
    "revision",
    "kind",
    "model_type",
    "params",
    "precision",
    "license",
    "average",
    "average_low",
    "average_high",
    # the eight letter tasks' robustness (needs --rotations, but RStd) and the chance-normalised
    # average, each a value and its 95% interval (`_low`, `_high`); ranks as the site shows them
    *(f"consistent{suffix}" for suffix in (*INTERVAL, "_rank")),
    *(f"{name}{suffix}" for name in ("flip_rate", "debiased", "rstd") for suffix in INTERVAL),
    *(f"chance_normalized{suffix}" for suffix in (*INTERVAL, "_rank")),
    "flagged",
)
TASK_COLUMNS = ("", "_low", "_high", "_rank")  # per task: accuracy, interval, task rank


def leaderboard_records(
    entries: Sequence[ModelEntry],
    references: Sequence[ReferenceModel],
    *,
    software: Mapping[str, str | None] | None = None,
) -> list[dict[str, Any]]:
    """One flat record per row, in leaderboard order; accuracies as fractions in [0, 1].
    `software_differs` marks a result run with other torch/transformers versions than CI's lock:
    `software` maps a model's key to them (`software_versions.software_mismatch`)."""
    records = []
    for entry in entries:
        record = _entry_record(entry)
        record["software_differs"] = (software or {}).get(entry.key)
        records.append(record)
    records += [_reference_record(r) for r in references]
    return records


def _entry_record(entry: ModelEntry) -> dict[str, Any]:
    record: dict[str, Any] = {
        "rank": entry.place.rank if entry.place else None,
        "tied_with": entry.place.tied if entry.place else None,
        "model": entry.model_id,
        "revision": entry.revision,
        "kind": "evaluated",
        "model_type": entry.model_type,
        "params": entry.params,
        "precision": entry.result.model.precision,
        "license": entry.license,
        "average": fraction_number(entry.average.value) if entry.average else None,
        "average_low": fraction_number(entry.average.low) if entry.average else None,
        "average_high": fraction_number(entry.average.high) if entry.average else None,
    }
    average = entry.result.letter_tasks_average
    rotations = average.rotations if average else None
    record.update(_estimate_fields("consistent", rotations and rotations.consistent))
    record["consistent_rank"] = entry.consistent_place.rank if entry.consistent_place else None
    record.update(_estimate_fields("flip_rate", rotations and rotations.flip_rate))
    record.update(_estimate_fields("debiased", rotations and rotations.debiased))
    record.update(_estimate_fields("rstd", average and average.rstd))
    record.update(_estimate_fields("chance_normalized", entry.result.chance_normalized_average))
    record["chance_normalized_rank"] = (
        entry.normalized_place.rank if entry.normalized_place else None
    )
    record["flagged"] = entry.flag is not None
    for name in TASK_NAMES:
        task = entry.task(name)
        place = entry.task_places.get(name)
        record[name] = fraction_number(task.acc) if task else None
        record[f"{name}_low"] = fraction_number(task.ci95[0]) if task else None
        record[f"{name}_high"] = fraction_number(task.ci95[1]) if task else None
        record[f"{name}_rank"] = place.rank if place else None
    return record


def _estimate_fields(name: str, estimate: Estimate | None) -> dict[str, float | None]:
    if estimate is None:
        return dict.fromkeys((name, f"{name}_low", f"{name}_high"))
    low, high = estimate.ci95
    return {
        name: fraction_number(estimate.value),
        f"{name}_low": fraction_number(low),
        f"{name}_high": fraction_number(high),
    }


def _reference_record(ref: ReferenceModel) -> dict[str, Any]:
    record: dict[str, Any] = dict.fromkeys(CSV_COLUMNS)
    record.update(
        model=ref.name,
        kind="reported",
        model_type="closed (reported)",
        average=fraction_number(ref.average) if ref.average is not None else None,
    )
    record["source"] = ref.source.url
    for name in TASK_NAMES:
        accuracy = ref.accuracy(name)
        record[name] = fraction_number(accuracy) if accuracy is not None else None
        record[f"{name}_low"] = record[f"{name}_high"] = record[f"{name}_rank"] = None
    return record


def leaderboard_csv(records: Sequence[dict[str, Any]]) -> str:
    columns = list(CSV_COLUMNS)
    for name in TASK_NAMES:
        columns += [name + suffix for suffix in TASK_COLUMNS]
    columns.append("source")
    out = io.StringIO()
    writer = csv.DictWriter(out, fieldnames=columns, extrasaction="ignore", lineterminator="\n")
    writer.writeheader()
    for record in records:
        writer.writerow({k: "" if record.get(k) is None else record[k] for k in columns})
    return out.getvalue()


def script_json(value: Any) -> str:
    """JSON safe to place inside a <script> element (no `</script>` can close it early)."""
    return json.dumps(value, separators=(",", ":"), ensure_ascii=False).replace("</", "<\\/")
