"""The site's machine-readable outputs: downloads and the data its scripts read.

- `leaderboard.json` / `leaderboard.csv`: every evaluated model with its scores and intervals as
  fractions rounded to four decimals (0.7366, not 0.7365999999999999), its ranks, plus the
  reference rows (marked), for readers who want the numbers;
- `table_payload`: the compact rows embedded in the leaderboard page (percent, one decimal),
  which its script sorts and filters without another request: accuracy, consistent accuracy and
  the chance-normalised scores with their ranks, and a flagged model's flag;
- each model's published results file is served as it is, `data/results/<key>.json`
  (`ModelEntry.results_download`): the model page's download, and the per-item correctness bits
  the compare page fetches two at a time to run the paired test in the browser.
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
from runner.sitegen.formatting import fraction_number, percent_number
from runner.sitegen.references import ReferenceModel
from runner.sitegen.task_facts import FACTS

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


def table_payload(
    entries: Sequence[ModelEntry], references: Sequence[ReferenceModel]
) -> dict[str, Any]:
    """Rows for the leaderboard script: short keys, percentages with one decimal.

    Row fields: k page key (absent when it is the model id, as it is for a Hub model), m model
    id, v the evaluated Hub revision (the script links the Hub's page at it, `ModelEntry.hub_url`;
    absent for a local model), t type, p params, q precision, l license,
    r rank, x tied count, w why not ranked, a [average, low, high], s per task [acc, low, high]
    or null, tr per task [rank, tied count] or null (not ranked on that task), ref (reference rows
    only) the source URL. Beyond accuracy, each only where the model has it: c consistent
    accuracy [value, low, high] and cr its [rank, tied]; n the chance-normalised average and nr
    its place; ns per task chance-normalised [value, low, high] or null; f a flag [reason,
    discussion link, date].
    """
    rows: list[dict[str, Any]] = []
    for e in entries:
        row: dict[str, Any] = {
            **({"k": e.key} if e.key != e.model_id else {}),
            "m": e.model_id,
            **({"v": e.revision} if e.hub_url else {}),
            "t": e.model_type,
            "p": e.params,
            "q": e.result.model.precision,
            "l": e.license,
            "r": e.place.rank if e.place else None,
            "x": e.place.tied if e.place else 0,
            **({"w": e.unranked_reason} if e.unranked_reason else {}),
            "a": [
                percent_number(e.average.value),
                percent_number(e.average.low),
                percent_number(e.average.high),
            ]
            if e.average
            else None,
            "s": [_task_triple(e, name) for name in TASK_NAMES],
            "tr": [
                [p.rank, p.tied] if (p := e.task_places.get(name)) else None for name in TASK_NAMES
            ],
        }
        _add_beyond_accuracy(row, e)
        rows.append(row)
    for ref in references:
        rows.append(
            {
                "m": ref.name,
                "t": "reported",
                "ref": ref.source.url,
                "note": ref.note,
                "a": [percent_number(ref.average), None, None] if ref.average is not None else None,
                "s": [_reported(ref.accuracy(n)) for n in TASK_NAMES],
                "ns": [_reported(_reported_normalized(ref, n)) for n in TASK_NAMES],
                "n": _reported(_mean([_reported_normalized(ref, n) for n in TASK_NAMES])),
            }
        )
    return {"tasks": list(TASK_NAMES), "rows": rows}


def _add_beyond_accuracy(row: dict[str, Any], entry: ModelEntry) -> None:
    """The compact fields of consistent accuracy, chance-normalised scores and a flag."""
    if entry.consistent is not None:
        row["c"] = _triple(entry.consistent)
    if entry.consistent_place is not None:
        row["cr"] = [entry.consistent_place.rank, entry.consistent_place.tied]
    if entry.result.chance_normalized_average is not None:
        row["n"] = _triple(entry.result.chance_normalized_average)
    if entry.normalized_place is not None:
        row["nr"] = [entry.normalized_place.rank, entry.normalized_place.tied]
    normalized = [
        _triple(task.chance_normalized)
        if (task := entry.task(name)) and task.chance_normalized
        else None
        for name in TASK_NAMES
    ]
    if any(normalized):
        row["ns"] = normalized
    if entry.flag is not None:
        row["f"] = [entry.flag.reason, entry.flag.discussion, entry.flag.date.isoformat()]


def _triple(estimate: Estimate) -> list[float | None]:
    low, high = estimate.ci95
    return [percent_number(estimate.value), percent_number(low), percent_number(high)]


def _reported(value: float | None) -> list[float | None] | None:
    """A reported score as a row cell: the value, no interval."""
    return None if value is None else [percent_number(value), None, None]


def _reported_normalized(ref: ReferenceModel, name: str) -> float | None:
    accuracy = ref.accuracy(name)
    return None if accuracy is None else FACTS[name].baseline.normalized(accuracy)


def _mean(values: list[float | None]) -> float | None:
    """The mean of all nine, or None when any is missing (the average's rule)."""
    if any(v is None for v in values):
        return None
    return sum(values) / len(values)  # type: ignore[arg-type]


def _task_triple(entry: ModelEntry, name: str) -> list[float | None] | None:
    task = entry.task(name)
    if task is None:
        return None
    return [percent_number(task.acc), percent_number(task.ci95[0]), percent_number(task.ci95[1])]


def script_json(value: Any) -> str:
    """JSON safe to place inside a <script> element (no `</script>` can close it early)."""
    return json.dumps(value, separators=(",", ":"), ensure_ascii=False).replace("</", "<\\/")
