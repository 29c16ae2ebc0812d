"""Merge the partial outputs of a model split across GPU runners into one run directory.

Each runner evaluates a subset of the tasks (`medlb evaluate --tasks …`) into its own directory.
`merge_runs` checks that the parts belong together and rebuilds what a single runner would have
written: the same `results.json` and the same `predictions/<task>.jsonl`, byte for byte, except
for what measures the run rather than the model (`MAY_DIFFER`):

- `run.started_at`, `run.finished_at`: the earliest start and the latest finish of the parts;
- `run.seconds`: the sum of the parts' run times (runner time spent, not wall time);
- `tasks.<task>.seconds`, `tasks.<task>.robustness.seconds`: the time the task (and its
  rotations) took on whichever runner evaluated it;
- `environment.device` / `device_count`: the parts' devices joined with " + " and the largest
  count, when the runners differ in GPU model.

Everything else (model, per-task scores, correctness bits, predictions and their hashes, the
leaderboard average and the other averages over tasks, recomputed from the parts' predictions)
must be, and is tested to be, identical to a single-runner run. Parts must all be of the current
results schema and all with or all without `--rotations`. Each track merges on its own: the
`cot` tasks and `predictions/cot/<task>.jsonl` the same way (`runner.evaluation.cot.merging`,
settings equal across parts), and each track's cost is the sum of the parts' costs.
A merge of one directory is a checked copy, which is how a GPU job stages its upload.
"""

from __future__ import annotations

import shutil
from pathlib import Path

from runner.atomic_io import write_atomic
from runner.errors import UserError
from runner.evaluation.cot.merging import merged_cot, summed_cost
from runner.evaluation.cot.records import CotRow, cot_predictions_path
from runner.evaluation.cot.scoring import read_cot_rows
from runner.evaluation.metrics import leaderboard_average
from runner.evaluation.predictions import PredictionRow, predictions_path, read_rows, sha256
from runner.evaluation.task_results import result_averages
from runner.evaluation.tasks import TASK_NAMES
from runner.results_schema import (
    SCHEMA_VERSION,
    EvaluationResult,
    RunInfo,
    TaskResult,
    load_result,
    save,
)

RESULTS_FILE = "results.json"
MAY_DIFFER = (
    "run.started_at",
    "run.finished_at",
    "run.seconds",
    "tasks.*.seconds",
    "tasks.*.robustness.seconds",
    "cot.tasks.*.seconds",
    "loglik_cost.seconds",  # each track's cost: the sum of the parts' measurements
    "loglik_cost.gpu_seconds",
    "loglik_cost.energy_wh",
    "cot.cost.seconds",
    "cot.cost.gpu_seconds",
    "cot.cost.energy_wh",
    "environment.device",
    "environment.device_count",
)
_ENVIRONMENT_MAY_DIFFER = {"device", "device_count"}


def load_part(part_dir: Path) -> EvaluationResult:
    """A finished part: `results.json` present and every predictions file matching its hash."""
    part_dir = Path(part_dir)
    path = part_dir / RESULTS_FILE
    if not path.is_file():
        raise UserError(f"{part_dir}: no {RESULTS_FILE}; the run did not finish")
    result = load_result(path)
    for name, task in result.tasks.items():
        predictions = predictions_path(part_dir, name)
        if not predictions.is_file():
            raise UserError(f"{predictions}: missing (listed in {path})")
        if sha256(predictions.read_bytes()) != task.predictions_sha256:
            raise UserError(f"{predictions}: sha256 differs from tasks.{name}.predictions_sha256")
    for task in result.cot.tasks.values() if result.cot else ():
        try:
            read_cot_rows(part_dir, task)
        except ValueError as err:
            raise UserError(str(err)) from None
    return result


def merge_results(
    parts: list[EvaluationResult],
    labels: list[str],
    rows_by_task: dict[str, list[PredictionRow]],
    cot_rows_by_task: dict[str, list[CotRow]] | None = None,
) -> EvaluationResult:
    """One `EvaluationResult` from parts of the same model run on disjoint task sets;
    `rows_by_task` (`cot_rows_by_task`) are the parts' predictions of each track, from which the
    averages over tasks come."""
    first = parts[0]
    tasks: dict[str, TaskResult] = {}
    owner: dict[str, str] = {}
    for part, label in zip(parts, labels, strict=True):
        _check_same_run(first, labels[0], part, label)
        for name, task in part.tasks.items():
            if name in tasks:
                raise UserError(f"{label}: task {name} was also evaluated in {owner[name]}")
            tasks[name], owner[name] = task, label
    ordered = {name: tasks[name] for name in TASK_NAMES if name in tasks}
    complete = first.run.limit is None and all(t.n == t.n_total for t in ordered.values())
    accuracies = {name: task.acc for name, task in ordered.items()}
    devices = sorted({p.environment.device for p in parts})
    return first.model_copy(
        update={
            "tasks": ordered,
            "average": leaderboard_average(accuracies, complete=complete),
            **(
                result_averages(ordered, rows_by_task, complete=complete, rotations=first.rotations)
                if ordered
                else {}
            ),
            **merged_cot(parts, labels, cot_rows_by_task or {}),
            "loglik_cost": summed_cost([p.loglik_cost for p in parts]),
            "environment": first.environment.model_copy(
                update={
                    "device": " + ".join(devices),
                    "device_count": max(p.environment.device_count for p in parts),
                }
            ),
            "run": RunInfo(
                started_at=min(p.run.started_at for p in parts),
                finished_at=max(p.run.finished_at for p in parts),
                seconds=sum(p.run.seconds for p in parts),
                batch_size=first.run.batch_size,
                limit=first.run.limit,
                ci_run_url=next((p.run.ci_run_url for p in parts if p.run.ci_run_url), None),
            ),
        }
    )


def merge_runs(part_dirs: list[Path], out_dir: Path) -> EvaluationResult:
    """Check the parts, copy their predictions to `out_dir`, then write `results.json` last.

    `results.json` is the completion marker: it only appears once every predictions file is in
    place, so a reader never sees a merged directory that claims more than it holds.
    """
    part_dirs = [Path(p) for p in part_dirs]
    out_dir = Path(out_dir)
    if not part_dirs:
        raise UserError("results merge: no part directories given")
    if any(p.resolve() == out_dir.resolve() for p in part_dirs):
        raise UserError(f"{out_dir}: --output must not be one of the parts")
    parts = [load_part(p) for p in part_dirs]
    rows = {
        name: read_rows(predictions_path(part_dir, name))
        for part_dir, part in zip(part_dirs, parts, strict=True)
        for name in part.tasks
    }
    cot_rows = {
        name: read_cot_rows(part_dir, task)
        for part_dir, part in zip(part_dirs, parts, strict=True)
        for name, task in (part.cot.tasks.items() if part.cot else ())
    }
    merged = merge_results(parts, [str(p) for p in part_dirs], rows, cot_rows)
    (out_dir / RESULTS_FILE).unlink(missing_ok=True)
    shutil.rmtree(out_dir / "predictions", ignore_errors=True)  # no stale task from a past merge
    for part_dir, part in zip(part_dirs, parts, strict=True):
        for name in part.tasks:
            source = predictions_path(part_dir, name)
            write_atomic(predictions_path(out_dir, name), source.read_bytes())
        for name in part.cot.tasks if part.cot else ():
            source = cot_predictions_path(part_dir, name)
            write_atomic(cot_predictions_path(out_dir, name), source.read_bytes())
    save(out_dir / RESULTS_FILE, merged)
    return merged


def merge_and_report(part_dirs: list[Path], out_dir: Path) -> EvaluationResult:
    """`medlb results merge`: merge, then say what was merged."""
    merged = merge_runs(part_dirs, out_dir)
    average = "n/a" if merged.average is None else f"{merged.average:.4f}"
    print(f"merged {len(part_dirs)} part(s), {len(merged.tasks)} task(s), average {average}")
    return merged


def _check_same_run(first: EvaluationResult, first_label: str, part: EvaluationResult, label: str):
    """Parts must be the same model, revision and precision, run by the same software, all with
    or all without rotations, and written in the current results schema (the averages over
    tasks need every version-2 field)."""
    if part.schema_version != SCHEMA_VERSION:
        raise UserError(
            f"{label}: results schema version {part.schema_version}, not {SCHEMA_VERSION}; "
            "re-run this part with the current medlb"
        )
    mismatches = []
    if part.model != first.model:
        mismatches.append("model")
    ignore = _ENVIRONMENT_MAY_DIFFER
    if part.environment.model_dump(exclude=ignore) != first.environment.model_dump(exclude=ignore):
        mismatches.append("environment (medlb, python, torch or transformers version)")
    if (part.run.limit, part.run.batch_size) != (first.run.limit, first.run.batch_size):
        mismatches.append("run.limit or run.batch_size")
    if part.tracks != first.tracks:
        mismatches.append(f"tracks ({', '.join(part.tracks)} against {', '.join(first.tracks)})")
    if part.rotations != first.rotations:
        mismatches.append("rotations (one part ran with --rotations, the other without)")
    if mismatches:
        raise UserError(f"{label}: {', '.join(mismatches)} differs from {first_label}")
