"""A model page's two tracks side by side, and the model against its base model.

The `loglik` track (log-likelihood ranking of the options) and the `cot` track (zero-shot chain of
thought with the chat template, ARCHITECTURE.md "The reasoning track") are never averaged
together: the panel puts them in one table per task, with the 2x2 agreement of their answers and
McNemar's p from the results file, each track's engine and measured cost. Nothing is recomputed
but the model-against-base differences, which need both results' correctness bits.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

from runner.evaluation.tasks import TASK_NAMES, TASKS
from runner.results_schema import (
    CotTaskResult,
    EngineInfo,
    EvaluationResult,
    TaskResult,
    TrackCost,
    decode_bits,
)
from runner.sitegen.task_facts import FACTS
from runner.stats import Z95

ENGINE_NAMES = {"hf": "transformers", "vllm": "vLLM"}
NOT_RECORDED = "transformers (the engine is not recorded in this results file)"


@dataclass(frozen=True)
class TrackRow:
    name: str
    title: str
    short: str
    loglik: TaskResult | None
    cot: CotTaskResult | None


@dataclass(frozen=True)
class TrackCostRow:
    track: str
    engine: str
    cost: TrackCost | None


@dataclass(frozen=True)
class TrackPanel:
    rows: list[TrackRow]
    cot_average: float | None
    cot_average_ci95: tuple[float, float] | None
    cot_not_run: str | None  # why there is no cot track (a result without one)
    max_new_tokens: int | None
    no_answer_rate: float | None
    truncation_rate: float | None
    mean_output_tokens: float | None
    costs: list[TrackCostRow]


def engine_text(engine: EngineInfo | None) -> str:
    if engine is None:
        return NOT_RECORDED
    return f"{ENGINE_NAMES[engine.name]} {engine.version}"


def track_panel(result: EvaluationResult) -> TrackPanel:
    cot = result.cot
    rows = [
        TrackRow(
            name,
            TASKS[name].title,
            FACTS[name].short,
            result.tasks.get(name),
            cot.tasks.get(name) if cot else None,
        )
        for name in TASK_NAMES
        if name in result.tasks or (cot is not None and name in cot.tasks)
    ]
    costs = [TrackCostRow("loglik", engine_text(result.loglik_engine), result.loglik_cost)]
    if cot is not None:
        costs.append(TrackCostRow("cot", engine_text(cot.engine), cot.cost))
    not_run = result.cot_not_run
    if cot is None and not_run is None:
        not_run = "this results file predates the reasoning track (schema version 3)"
    return TrackPanel(
        rows=rows,
        cot_average=cot.average if cot else None,
        cot_average_ci95=cot.average_ci95 if cot else None,
        cot_not_run=not_run,
        max_new_tokens=cot.max_new_tokens if cot else None,
        no_answer_rate=cot.no_answer_rate if cot else None,
        truncation_rate=cot.truncation_rate if cot else None,
        mean_output_tokens=cot.mean_output_tokens if cot else None,
        costs=costs,
    )


@dataclass(frozen=True)
class BaseDifference:
    """This model minus its base on one task's shared items, with a paired 95% interval."""

    title: str
    short: str
    n: int
    model_acc: float
    base_acc: float
    diff: float
    low: float
    high: float


def against_base(model: EvaluationResult, base: EvaluationResult) -> list[BaseDifference]:
    """Per task both ran on the same rows: accuracy difference of the same items, with the normal
    interval of the mean of the paired differences (each item counts +1, 0 or -1), which, unlike
    two separate intervals, keeps what the two models share."""
    out = []
    for name in TASK_NAMES:
        mine, theirs = model.tasks.get(name), base.tasks.get(name)
        if mine is None or theirs is None:
            continue
        if mine.n != theirs.n or mine.data_sha256 != theirs.data_sha256:
            continue
        a, b = decode_bits(mine.correct, mine.n), decode_bits(theirs.correct, theirs.n)
        d = [int(x) - int(y) for x, y in zip(a, b, strict=True)]
        n = len(d)
        mean = sum(d) / n
        sd = math.sqrt(sum((v - mean) ** 2 for v in d) / (n - 1)) if n > 1 else 0.0
        half = Z95 * sd / math.sqrt(n)
        out.append(
            BaseDifference(
                TASKS[name].title,
                FACTS[name].short,
                n,
                mine.acc,
                theirs.acc,
                mean,
                max(-1.0, mean - half),
                min(1.0, mean + half),
            )
        )
    return out
