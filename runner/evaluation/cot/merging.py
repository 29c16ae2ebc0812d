"""The reasoning track of a run split across runners: one `CotTrack` from the parts' tracks
(`medlb results merge`, `runner.pipeline.merge`), as a single runner would have written it.

Parts must share the track's settings (engine, --max-new-tokens, chat template); each task comes
from exactly one part, kept as that part scored it (its agreement was computed against the same
`loglik` rows the merged run holds); the average over tasks is recomputed from the rows, and the
cost is the sum of the parts' costs (a figure absent from any part is absent from the sum).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

from runner.errors import UserError
from runner.evaluation.cot.records import CotRow
from runner.evaluation.cot.scoring import cot_track
from runner.evaluation.tasks import TASK_NAMES
from runner.results_schema import CotTaskResult, EvaluationResult, TrackCost

_SETTINGS = ("engine", "max_new_tokens", "chat_template_sha256")


def merged_cot(
    parts: Sequence[EvaluationResult],
    labels: Sequence[str],
    rows_by_task: Mapping[str, Sequence[CotRow]],
) -> dict[str, object]:
    """`cot` and `cot_not_run` of the merged result (keyword arguments of `EvaluationResult`)."""
    with_track = [(p.cot, label) for p, label in zip(parts, labels, strict=True) if p.cot]
    if not with_track:
        return {"cot": None, "cot_not_run": parts[0].cot_not_run}
    if len(with_track) != len(parts):
        missing = next(label for p, label in zip(parts, labels, strict=True) if p.cot is None)
        raise UserError(f"{missing}: has no cot track, unlike {with_track[0][1]}")
    first, first_label = with_track[0]
    tasks: dict[str, CotTaskResult] = {}
    owner: dict[str, str] = {}
    for track, label in with_track:
        for setting in _SETTINGS:
            if getattr(track, setting) != getattr(first, setting):
                raise UserError(f"{label}: cot.{setting} differs from {first_label}")
        for name, task in track.tasks.items():
            if name in tasks:
                raise UserError(f"{label}: cot task {name} was also evaluated in {owner[name]}")
            tasks[name], owner[name] = task, label
    ordered = {name: tasks[name] for name in TASK_NAMES if name in tasks}
    complete = parts[0].run.limit is None and all(t.n == t.n_total for t in ordered.values())
    track = cot_track(
        ordered,
        rows_by_task,
        engine=first.engine,
        max_new_tokens=first.max_new_tokens,
        chat_template_sha256=first.chat_template_sha256,
        cost=summed_cost([t.cost for t, _ in with_track]),
        complete=complete,
    )
    return {"cot": track, "cot_not_run": None}


def summed_cost(costs: Sequence[TrackCost | None]) -> TrackCost | None:
    """The parts' costs added up; a measurement missing from any part is missing from the sum."""
    if not costs or any(cost is None for cost in costs):
        return None

    def total(field: str) -> float | None:
        values = [getattr(cost, field) for cost in costs]
        return None if None in values else round(sum(values), 6)

    return TrackCost(
        seconds=round(sum(cost.seconds for cost in costs), 3),  # type: ignore[union-attr]
        gpu_seconds=total("gpu_seconds"),
        prompt_tokens=sum(cost.prompt_tokens for cost in costs),  # type: ignore[union-attr]
        output_tokens=sum(cost.output_tokens for cost in costs),  # type: ignore[union-attr]
        energy_wh=total("energy_wh"),
    )
