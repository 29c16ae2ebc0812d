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
from runner.evaluation.cot.chat import (
    chat_template_sha256,
    decode_generation,
    encode_prompts,
    render_chat,
    stop_strings,
    stop_token_ids,
)
from runner.evaluation.cot.engine import (
    EngineName,
    GenerationEngine,
    GenerationRequest,
    ModelFiles,
    resolve_engine_name,
    select_engine,
)
from runner.evaluation.cot.extraction import extract_answer
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
    for task in tasks:
        if (kept := _kept_rows(context.output_dir, manifest, task)) is not None:
            say(f"cot {task.name}: kept from an earlier run (predictions/cot is complete)")
        else:
            manifest = _run_task(task, manifest, context)
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


def prompt_requests(
    tokenizer: Any, items: Sequence[CotItem], max_prompt_tokens: int
) -> list[GenerationRequest]:
    """Each item's prompt ids: chat template, lm-eval's tokenisation, left truncation."""
    texts = [render_chat(tokenizer, item.message) for item in items]
    ids = encode_prompts(tokenizer, texts, max_prompt_tokens)
    return [GenerationRequest(item.doc_id, prompt) for item, prompt in zip(items, ids, strict=True)]


def generate_rows(
    engine: GenerationEngine,
    tokenizer: Any,
    items: Sequence[CotItem],
    requests: Sequence[GenerationRequest],
    *,
    max_new_tokens: int,
    stop_ids: Sequence[int],
    letters: bool,
    progress: str | None = None,
) -> list[CotRow]:
    """Generate, decode, cut at the first stop string and extract: the rows in doc_id order."""
    import sys

    from tqdm import tqdm

    stops = stop_strings(tokenizer)
    by_doc = {item.doc_id: item for item in items}
    rows: dict[int, CotRow] = {}
    outputs = engine.generate(requests, max_new_tokens=max_new_tokens, stop_token_ids=stop_ids)
    bar = tqdm(
        total=len(requests), desc=progress, unit="item", file=sys.stderr, disable=progress is None
    )
    with bar:
        for output in outputs:
            item = by_doc[output.doc_id]
            generation = decode_generation(tokenizer, output.output_ids, stops)
            answer = extract_answer(generation, letters=letters)
            rows[output.doc_id] = CotRow(
                doc_id=output.doc_id,
                generation=generation,
                answer=answer,
                gold=item.gold,
                correct=answer == item.gold,
                output_tokens=len(output.output_ids),
                truncated=output.truncated,
            )
            bar.update(1)
    return [rows[item.doc_id] for item in items]


def _run_task(task: CotTask, manifest: RunManifest, context: CotRunContext) -> RunManifest:
    from runner.evaluation.energy import EnergyMeter

    settings = context.settings
    if context.engine is None:
        context.engine = _engine(context)
    meter = EnergyMeter()
    meter.start()
    clock = time.perf_counter()
    max_prompt = context.files.max_length - settings.max_new_tokens
    requests = prompt_requests(context.tokenizer, task.items, max_prompt)
    rows = generate_rows(
        context.engine,
        context.tokenizer,
        task.items,
        requests,
        max_new_tokens=settings.max_new_tokens,
        stop_ids=stop_token_ids(context.tokenizer, context.files.directory),
        letters=task.prepared.spec.letter_choices,
        progress=f"cot {task.name}" if context.progress else None,
    )
    data = render_rows(rows)
    seconds = time.perf_counter() - clock
    energy = meter.stop()
    record = CotTaskRecord(
        data_sha256=task.prepared.data_sha256,
        n=len(rows),
        seconds=round(seconds, 3),
        prompt_tokens=sum(len(r.prompt_ids) for r in requests),
        output_tokens=sum(r.output_tokens for r in rows),
        predictions_sha256=sha256(data),
        energy_wh=None if energy is None else round(energy, 6),
    )
    manifest = record_cot_task(context.output_dir, manifest, task.name, record)
    write_atomic(cot_predictions_path(context.output_dir, task.name), data)
    say(f"cot {task.name}: {len(rows)} items, {seconds:.1f}s -> predictions/cot/{task.name}.jsonl")
    return manifest
