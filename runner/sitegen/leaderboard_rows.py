"""The leaderboard page's payload (`payloads.LeaderboardPayload`): per track its rows, its rank
ranges and its reference rows, every derived value computed here so the script only displays it
(ARCHITECTURE.md, "The site").

Each track ranks its own models by its own intervals: `loglik` by `ModelEntry.place` and
`task_places`, `cot` by `cot_place` and `cot_task_places`. A model without a cot track is listed on
the cot track with the reason (`cot_not_run`), never a score. Paper-reported rows go only to the
track whose setting they match (zero-shot and few-shot prompting: loglik; chain of thought and
ensembles: cot) and carry an average only when all nine cells share one protocol.
"""

from __future__ import annotations

from collections.abc import Sequence

from runner.evaluation.tasks import TASK_NAMES, TASKS
from runner.results_schema import Estimate, EvaluationResult
from runner.sitegen.entries import ModelEntry
from runner.sitegen.formatting import percent_number, size_label
from runner.sitegen.payloads import (
    FlagNote,
    LeaderboardPayload,
    LeaderboardRow,
    LeaderboardTrack,
    ModelFacts,
    NormalizedRow,
    NormalizedScores,
    RankRange,
    ReferenceRow,
    Triple,
)
from runner.sitegen.ranking import RankPlace
from runner.sitegen.references import ReferenceModel
from runner.sitegen.task_facts import FACTS
from runner.stats import Interval

ENGINE_NAMES = {"hf": "transformers", "vllm": "vLLM"}
NO_COT = "no cot track in its results file (evaluated before the track existed)"


def rank_range(place: RankPlace | None) -> RankRange | None:
    if place is None:
        return None
    return (place.rank, place.worst)


def _interval(interval: Interval | None) -> Triple | None:
    if interval is None:
        return None
    return (
        percent_number(interval.value),
        percent_number(interval.low),
        percent_number(interval.high),
    )


def _estimate(estimate: Estimate | None) -> Triple | None:
    if estimate is None:
        return None
    return _interval(Interval(estimate.value, *estimate.ci95))


def _accuracy(acc: float, ci95: tuple[float, float]) -> Triple:
    return (percent_number(acc), percent_number(ci95[0]), percent_number(ci95[1]))


def model_facts(entry: ModelEntry) -> ModelFacts:
    flag = entry.flag
    return ModelFacts(
        key=entry.key if entry.key != entry.model_id else None,
        model=entry.model_id,
        hub_url=entry.hub_url,
        model_type=entry.model_type,
        params=entry.params,
        size_label=size_label(entry.params),
        precision=entry.result.model.precision,
        license=entry.license,
        flag=FlagNote(reason=flag.reason, discussion=flag.discussion, date=flag.date.isoformat())
        if flag
        else None,
    )


def loglik_row(entry: ModelEntry, index: int) -> LeaderboardRow:
    tasks = [entry.task(name) for name in TASK_NAMES]
    average = entry.result.letter_tasks_average
    return LeaderboardRow(
        model_index=index,
        rank=rank_range(entry.place),
        unranked_reason=entry.unranked_reason,
        average=_interval(entry.average),
        tasks=[_accuracy(t.acc, t.ci95) if t else None for t in tasks],
        task_ranks=[rank_range(entry.task_places.get(name)) for name in TASK_NAMES],
        consistent=_estimate(average.rotations.consistent)
        if average and average.rotations
        else None,
        consistent_rank=rank_range(entry.consistent_place),
    )


def normalized_row(entry: ModelEntry, index: int) -> NormalizedRow:
    tasks = [entry.task(name) for name in TASK_NAMES]
    normalized = [_estimate(t.chance_normalized) if t else None for t in tasks]
    return NormalizedRow(
        model_index=index,
        normalized_average=_estimate(entry.result.chance_normalized_average),
        normalized_rank=rank_range(entry.normalized_place),
        normalized_tasks=normalized if any(normalized) else None,
    )


def _reported_normalized(ref: ReferenceModel) -> list[float | None]:
    return [
        None if (a := ref.accuracy(n)) is None else percent_number(FACTS[n].baseline.normalized(a))
        for n in TASK_NAMES
    ]


def engine_words(result: EvaluationResult) -> str | None:
    """Which engine produced the cot score, in words (shown until the engines were compared)."""
    if result.cot is None:
        return None
    engine = result.cot.engine
    return f"{ENGINE_NAMES[engine.name]} {engine.version}"


def cot_row(entry: ModelEntry, index: int) -> LeaderboardRow:
    cot = entry.result.cot
    if cot is None:
        return LeaderboardRow(
            model_index=index,
            tasks=[None] * len(TASK_NAMES),
            task_ranks=[None] * len(TASK_NAMES),
            not_run=entry.result.cot_not_run or NO_COT,
            unranked_reason="no cot track",
        )
    tasks = [cot.tasks.get(name) for name in TASK_NAMES]
    return LeaderboardRow(
        model_index=index,
        rank=rank_range(entry.cot_place),
        unranked_reason=None if entry.cot_place else "not all nine cot tasks ran in full",
        average=_interval(entry.cot_average),
        tasks=[_accuracy(t.acc, t.ci95) if t else None for t in tasks],
        task_ranks=[rank_range(entry.cot_task_places.get(name)) for name in TASK_NAMES],
        no_answer=percent_number(cot.no_answer_rate),
        truncated=percent_number(cot.truncation_rate),
        engine=engine_words(entry.result),
    )


def reference_row(ref: ReferenceModel) -> ReferenceRow:
    """A reported row: its average only when every cell shares the one setting."""
    accuracies = [ref.accuracy(name) for name in TASK_NAMES]
    return ReferenceRow(
        name=ref.name,
        setting=ref.setting_kind,
        setting_text=ref.note,
        source_url=ref.source.url,
        average=percent_number(ref.one_protocol_average),
        tasks=[percent_number(a) for a in accuracies],
    )


def _track_order(entry: ModelEntry, place: RankPlace | None, average: Interval | None) -> tuple:
    if place is None or average is None:
        return (1, 0.0, entry.model_id.lower())
    return (0, -average.value, entry.model_id.lower())


COT_FILE = "data/leaderboard-cot.json"
NORMALIZED_FILE = "data/leaderboard-normalized.json"


def leaderboard_payload(
    entries: Sequence[ModelEntry], references: Sequence[ReferenceModel]
) -> tuple[LeaderboardPayload, dict[str, str]]:
    """The page's payload (models and the loglik track) and the files it fetches on request
    (the cot track, the chance-normalised scores): path -> JSON text."""
    index = {entry.key: i for i, entry in enumerate(entries)}
    cot_entries = sorted(entries, key=lambda e: _track_order(e, e.cot_place, e.cot_average))
    loglik = LeaderboardTrack(
        track="loglik",
        rows=[loglik_row(e, index[e.key]) for e in entries],
        references=[reference_row(r) for r in references if _matches(r, "loglik")],
        ranked=sum(e.place is not None for e in entries),
    )
    cot = LeaderboardTrack(
        track="cot",
        rows=[cot_row(e, index[e.key]) for e in cot_entries],
        references=[reference_row(r) for r in references if _matches(r, "cot")],
        ranked=sum(e.cot_place is not None for e in entries),
    )
    page = LeaderboardPayload(
        tasks=list(TASK_NAMES),
        task_titles=[f"{TASKS[n].title} ({FACTS[n].short})" for n in TASK_NAMES],
        models=[model_facts(e) for e in entries],
        tracks=[loglik],
        track_files={"cot": COT_FILE},
        normalized_file=NORMALIZED_FILE,
    )
    normalized = NormalizedScores(
        rows=[normalized_row(e, index[e.key]) for e in entries],
        references=[_reported_normalized(r) for r in references if _matches(r, "loglik")],
    )
    return page, {COT_FILE: cot.to_json(), NORMALIZED_FILE: normalized.to_json()}


def _matches(ref: ReferenceModel, track: str) -> bool:
    return ref.track == track
