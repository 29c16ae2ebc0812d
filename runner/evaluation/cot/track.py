"""The reasoning track within a run: prompts, generation, answers, `predictions/cot/<task>.jsonl`
and the `CotTrack` (ARCHITECTURE.md, "The reasoning track").

It follows the log-likelihood track's discipline (`runner.evaluation.run`): the settings that
change the generations (engine, --max-new-tokens, the chat template; dtype and device are the
run's) are recorded in the run manifest before the first task and must agree on resume; a task's
record is written before its predictions file is renamed into place, and scores are computed
from the files as written.
"""

from __future__ import annotations

import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from runner.atomic_io import write_atomic
from runner.evaluation.cot.chat import chat_template_sha256, stop_token_ids
from runner.evaluation.cot.engine import (
    EngineName,
    GenerationEngine,
    ModelFiles,
    resolve_engine_name,
    select_engine,
)
from runner.evaluation.cot.generation import TaskItems, generate_tasks
from runner.evaluation.cot.prompts import CotItem, build_cot_items
from runner.evaluation.cot.records import (
    CotRow,
    cot_predictions_path,
    parse_matching,
    render_rows,
)
from runner.evaluation.cot.scoring import CotTaskFacts, cot_task_result, cot_track
from runner.evaluation.loglik_track import PreparedTask, say, track_cost
from runner.evaluation.predictions import PredictionRow, sha256
from runner.evaluation.run_manifest import (
    CotIdentity,
    CotTaskRecord,
    RunManifest,
    check_task_data,
    open_cot,
    record_cot_task,
)
from runner.results_schema import CotTrack, TrackCost

DEFAULT_MAX_NEW_TOKENS = 4096


@dataclass(frozen=True)
class CotSettings:
    max_new_tokens: int = DEFAULT_MAX_NEW_TOKENS
    engine: EngineName = "auto"


@dataclass(frozen=True)
class CotTask:
    prepared: PreparedTask
    items: list[CotItem]

    @property
    def name(self) -> str:
        return self.prepared.spec.name


@dataclass
class CotRunContext:
    """What the track's tasks share: the model, where output goes, the run's settings."""

    files: ModelFiles
    tokenizer: Any
    output_dir: Path
    device: str
    settings: CotSettings
    batch_size: int | None
    progress: bool
    loaded: Any = None  # the LoadedModel of the loglik track, reused by the transformers engine
    engine: GenerationEngine | None = None


def cot_tasks(prepared: Sequence[PreparedTask]) -> list[CotTask]:
    """The reasoning track's items for the run's tasks, from the rows the run read."""
    return [
        CotTask(task, build_cot_items(task.spec, task.rows, source=task.source))
        for task in prepared
    ]


def run_cot_track(
    tasks: Sequence[CotTask],
    manifest: RunManifest,
    context: CotRunContext,
    loglik_rows: Mapping[str, Sequence[PredictionRow]],
    *,
    complete: bool,
    gpus: int | None,
) -> tuple[CotTrack, RunManifest]:
    engine_name = resolve_engine_name(context.settings.engine, context.device)
    identity = CotIdentity(
        engine=engine_name,
        max_new_tokens=context.settings.max_new_tokens,
        chat_template_sha256=chat_template_sha256(context.tokenizer),
    )
    manifest = open_cot(context.output_dir, manifest, identity)
    for task in tasks:
        check_task_data(
            context.output_dir, manifest, task.name, task.prepared.data_sha256, cot=True
        )
    rows_by_task: dict[str, list[CotRow]] = {}
    pending = []
    for task in tasks:
        if (kept := _kept_rows(context.output_dir, manifest, task)) is not None:
            say(f"cot {task.name}: kept from an earlier run (predictions/cot is complete)")
            rows_by_task[task.name] = kept
        else:
            pending.append(task)
    if pending:
        manifest = _run_pending(pending, manifest, context)
    for task in pending:
        kept = _kept_rows(context.output_dir, manifest, task)
        if kept is None:  # written by this run a moment ago
            raise RuntimeError(f"predictions/cot/{task.name}.jsonl changed while running")
        rows_by_task[task.name] = kept
    results = {
        task.name: cot_task_result(
            task.prepared.spec,
            rows_by_task[task.name],
            [item.subject for item in task.items],
            facts=_facts(manifest.cot_tasks[task.name], task),
            predictions_sha256=manifest.cot_tasks[task.name].predictions_sha256,
            loglik_rows=loglik_rows.get(task.name),
        )
        for task in tasks
    }
    engine_info = context.engine.info if context.engine is not None else None
    track = cot_track(
        results,
        rows_by_task,
        engine=engine_info or _engine_info(engine_name),
        max_new_tokens=context.settings.max_new_tokens,
        chat_template_sha256=identity.chat_template_sha256,
        cost=_cost([manifest.cot_tasks[t.name] for t in tasks], gpus),
        complete=complete,
    )
    return track, manifest


def _engine(context: CotRunContext) -> GenerationEngine:
    """The run's engine; the transformers one reuses the model the loglik track loaded."""
    name = resolve_engine_name(context.settings.engine, context.device)
    if name == "hf" and context.loaded is not None:
        from runner.evaluation.cot.hf_engine import HfEngine

        return HfEngine(
            context.files,
            device=context.device,
            batch_size=context.batch_size,
            loaded=context.loaded,
        )
    if context.loaded is not None:  # vLLM claims most of the GPU: the loglik model goes first
        import gc

        from runner.evaluation.engine.batch import release_cuda_memory

        context.loaded = None
        gc.collect()
        release_cuda_memory()
    return select_engine(name, context.device, context.files, batch_size=context.batch_size)


def _cost(records: Sequence[CotTaskRecord], gpus: int | None) -> TrackCost:
    return track_cost(
        [r.seconds for r in records],
        [r.energy_wh for r in records],
        prompt_tokens=sum(r.prompt_tokens for r in records),
        output_tokens=sum(r.output_tokens for r in records),
        gpus=gpus,
    )


def _facts(record: CotTaskRecord, task: CotTask) -> CotTaskFacts:
    return CotTaskFacts(
        data_sha256=record.data_sha256,
        n_total=task.prepared.n_total,
        prompt_tokens=record.prompt_tokens,
        seconds=record.seconds,
        rows_source=task.prepared.rows_source,
    )


def _engine_info(name: str) -> Any:
    """The engine of a run whose every task was kept: the one the manifest names, this version."""
    from importlib.metadata import version

    from runner.results_schema import EngineInfo

    return EngineInfo(name=name, version=version("transformers" if name == "hf" else "vllm"))


def _kept_rows(output_dir: Path, manifest: RunManifest, task: CotTask) -> list[CotRow] | None:
    record = manifest.cot_tasks.get(task.name)
    path = cot_predictions_path(output_dir, task.name)
    if record is None or not path.is_file():
        return None
    data = path.read_bytes()
    if sha256(data) != record.predictions_sha256:
        return None
    return parse_matching(data, task.items)


def _run_pending(
    pending: Sequence[CotTask], manifest: RunManifest, context: CotRunContext
) -> RunManifest:
    """Generate every pending task in one engine call; record and write each as it finishes.

    A task's `seconds` (and energy) is what passed since the previous task finished (or since
    the start): measured, and the tasks' sum is the track's wall time, but with batches shared
    across tasks it is a share of the work, not the work of that task alone."""
    from runner.evaluation.energy import EnergyMeter

    settings = context.settings
    if context.engine is None:
        context.engine = _engine(context)
    meter = EnergyMeter()
    meter.start()
    clock = time.perf_counter()
    finished = generate_tasks(
        context.engine,
        context.tokenizer,
        [TaskItems(task.items, task.prepared.spec.letter_choices) for task in pending],
        max_prompt_tokens=context.files.max_length - settings.max_new_tokens,
        max_new_tokens=settings.max_new_tokens,
        stop_ids=stop_token_ids(context.tokenizer, context.files.directory),
        progress="cot" if context.progress else None,
    )
    for done in finished:
        task = pending[done.index]
        data = render_rows(done.rows)
        now, energy = time.perf_counter(), meter.stop()
        meter.start()
        record = CotTaskRecord(
            data_sha256=task.prepared.data_sha256,
            n=len(done.rows),
            seconds=round(now - clock, 3),
            prompt_tokens=done.prompt_tokens,
            output_tokens=sum(row.output_tokens for row in done.rows),
            predictions_sha256=sha256(data),
            energy_wh=None if energy is None else round(energy, 6),
        )
        manifest = record_cot_task(context.output_dir, manifest, task.name, record)
        write_atomic(cot_predictions_path(context.output_dir, task.name), data)
        say(f"cot {task.name}: {len(done.rows)} items -> predictions/cot/{task.name}.jsonl")
        clock = now
    meter.stop()
    return manifest
