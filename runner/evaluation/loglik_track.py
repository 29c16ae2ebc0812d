"""The log-likelihood track's tasks within a run (`runner.evaluation.run` orders the run):
items from rows, resume from complete predictions files, scoring, and each task's result.

With `--rotations` a letter task is scored twice: its own items exactly as without rotations (one
`score_task` call, so rotation 0's bytes do not change), then all its rotated items in a second
call (one batching, one shared prefix across every rotation).
"""

from __future__ import annotations

import sys
import time
from dataclasses import dataclass
from pathlib import Path

from runner.atomic_io import write_atomic
from runner.evaluation import predictions
from runner.evaluation.engine import LoadedModel, TokenBudget, score_task
from runner.evaluation.rotations import to_original_order
from runner.evaluation.run_manifest import RunManifest, TaskRecord
from runner.evaluation.run_manifest import record_task as record_finished_task
from runner.evaluation.task_results import task_result
from runner.evaluation.tasks import Item, TaskSpec, build_items, build_rotated_items
from runner.results_schema import RowsSource, TaskResult, TrackCost


@dataclass(frozen=True)
class PreparedTask:
    spec: TaskSpec
    items: list[Item]
    rotated: list[Item]  # rotations 1..n-1 of every item (--rotations, letter tasks), else []
    n_total: int  # rows in the data (items == rows unless --limit)
    data_sha256: str
    rows_source: RowsSource  # where the rows came from (results.json provenance)
    rows: list  # the rows read (the reasoning track builds its prompts from the same rows)
    source: str  # the file read, or the Hub dataset at its revision (for error messages)

    @property
    def relative_path(self) -> str:
        return f"predictions/{self.spec.name}.jsonl"


def prepare_task(
    spec: TaskSpec, data_dir: Path | None, limit: int | None, rotations: bool
) -> PreparedTask:
    from runner.evaluation.task_data import load_task_rows, rows_source

    task_rows = load_task_rows(spec, data_dir)
    rows = task_rows.rows if limit is None else task_rows.rows[:limit]
    rotate = rotations and spec.letter_choices
    return PreparedTask(
        spec=spec,
        items=build_items(spec, rows, source=task_rows.source),
        rotated=build_rotated_items(spec, rows, source=task_rows.source) if rotate else [],
        n_total=len(task_rows.rows),
        data_sha256=task_rows.sha256,
        rows_source=rows_source(spec, task_rows),
        rows=list(rows),
        source=task_rows.source,
    )


def kept_rows(
    output_dir: Path, manifest: RunManifest, task: PreparedTask
) -> list[predictions.PredictionRow] | None:
    """The rows of a task an earlier run finished (its file complete and recorded), else None;
    the bytes are read once, hashed, then parsed."""
    record = manifest.tasks.get(task.spec.name)
    path = predictions.predictions_path(output_dir, task.spec.name)
    if record is None or not path.is_file():
        return None
    data = path.read_bytes()
    if predictions.sha256(data) != record.predictions_sha256:
        return None
    return predictions.parse_matching(data, task.items, rotations=bool(task.rotated))


def run_task(
    lm: LoadedModel,
    task: PreparedTask,
    manifest: RunManifest,
    output_dir: Path,
    budget: TokenBudget | None,
    *,
    progress: bool,
) -> RunManifest:
    from runner.evaluation.energy import EnergyMeter

    label = task.spec.name if progress else None
    meter = EnergyMeter()
    meter.start()
    clock, cpu = time.perf_counter(), time.process_time()
    scores = score_task(lm, task.items, token_budget=budget, progress=label)
    scored, scored_cpu = time.perf_counter(), time.process_time()
    rotated = None
    if task.rotated:
        rotated = score_task(
            lm, task.rotated, token_budget=budget, progress=label and f"{label} rotations"
        )
    data = predictions.render(
        task.items,
        scores.choice_logprobs,
        None if rotated is None else to_original_order(task.items, rotated.choice_logprobs),
    )
    done, done_cpu = time.perf_counter(), time.process_time()
    energy = meter.stop()
    record = TaskRecord(
        data_sha256=task.data_sha256,
        n=len(task.items),
        # Rotation 0's time alone, so that the rotations' cost can be read from one run.
        seconds=round((done if rotated is None else scored) - clock, 3),
        cpu_seconds=round((done_cpu if rotated is None else scored_cpu) - cpu, 3),
        model_tokens=scores.model_tokens,
        multi_token_items=scores.multi_token_items,
        predictions_sha256=predictions.sha256(data),
        rotation_seconds=None if rotated is None else round(done - scored, 3),
        rotation_cpu_seconds=None if rotated is None else round(done_cpu - scored_cpu, 3),
        rotation_model_tokens=None if rotated is None else rotated.model_tokens,
        energy_wh=None if energy is None else round(energy, 6),
    )
    # Record first, then rename the predictions into place: the file is the commit point.
    manifest = record_finished_task(output_dir, manifest, task.spec.name, record)
    write_atomic(predictions.predictions_path(output_dir, task.spec.name), data)
    say(f"{task.spec.name}: {len(task.items)} items, {done - clock:.1f}s -> {task.relative_path}")
    return manifest


def read_task_predictions(output_dir: Path, task: PreparedTask) -> list[predictions.PredictionRow]:
    path = predictions.predictions_path(output_dir, task.spec.name)
    rows = predictions.read_matching(path, task.items, rotations=bool(task.rotated))
    if rows is None:  # written by this run a moment ago; only outside interference gets here
        raise RuntimeError(f"{path} changed while the run was finishing")
    return rows


def loglik_task_result(
    manifest: RunManifest, task: PreparedTask, rows: list[predictions.PredictionRow]
) -> TaskResult:
    """Scores from the predictions file as written, so resumed and fresh runs agree exactly."""
    return task_result(
        task.spec,
        rows,
        [item.subject for item in task.items],
        data_sha256=task.data_sha256,
        n_total=task.n_total,
        record=manifest.tasks[task.spec.name],
        rows_source=task.rows_source,
    )


def loglik_cost(manifest: RunManifest, tasks: list[str], gpus: int | None) -> TrackCost:
    """What the track's tasks cost as their records say (rotations included)."""
    records = [manifest.tasks[name] for name in tasks]
    return track_cost(
        [r.seconds + (r.rotation_seconds or 0.0) for r in records],
        [r.energy_wh for r in records],
        prompt_tokens=sum(r.model_tokens + (r.rotation_model_tokens or 0) for r in records),
        output_tokens=0,
        gpus=gpus,
    )


def track_cost(
    seconds: list[float],
    energies: list[float | None],
    *,
    prompt_tokens: int,
    output_tokens: int,
    gpus: int | None,
) -> TrackCost:
    """A track's cost from its tasks' measurements; `gpus`: None on CPU, else the GPUs used.
    Energy only when every task measured it (a partial sum would understate the cost)."""
    total = sum(seconds)
    return TrackCost(
        seconds=round(total, 3),
        gpu_seconds=None if gpus is None else round(total * gpus, 3),
        prompt_tokens=prompt_tokens,
        output_tokens=output_tokens,
        energy_wh=None if not energies or None in energies else round(sum(energies), 6),
    )


def say(message: str) -> None:
    print(f"medlb: {message}", file=sys.stderr, flush=True)
