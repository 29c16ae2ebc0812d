"""Models × specialties: MedMCQA's subjects and the six MMLU subsets, each ranked on its own.

A specialty is one subject of one task. Its score for a model is the accuracy on that subject's
questions, with a Wilson 95% interval (a subject can have a handful of questions, where a normal
interval would be wrong), and its rank follows the site's rule (`ranking.rank_places`: 1 + the
models whose interval lies wholly above). Only models ranked on the task itself take part, so a
specialty ranking never mixes full-split and sample-data scores (ARCHITECTURE.md, "Results and
ranking").

Each track has its own table (`specialty_table(entries, track)`): the cot track ranks the
models ranked on a task's cot track by their cot subject scores. The page's table is drawn by
`site/assets/specialties.js` from `specialty_payload` (`payloads.SpecialtiesPayload`): per cell
the accuracy, its Wilson interval and the rank range, computed here; the cot track is its own
file, fetched when the reader switches to it.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Literal

from runner.evaluation.tasks import TASK_NAMES, TASKS
from runner.sitegen.entries import ModelEntry
from runner.sitegen.formatting import percent_number
from runner.sitegen.payloads import (
    SpecialtiesPayload,
    SpecialtiesTrack,
    SpecialtyCell,
    SpecialtyColumn,
    SpecialtyModel,
    SpecialtyRow,
)
from runner.sitegen.ranking import RankPlace, rank_places
from runner.stats import Interval, wilson_interval

MMLU_PREFIX = "mmlu_"
# Linked above the table, one click from a question clinicians ask ("best for obstetrics?").
QUICK_PICKS = (
    "medmcqa:Gynaecology & Obstetrics",
    "medmcqa:Pediatrics",
    "medmcqa:Surgery",
    "medmcqa:Medicine",
    "mmlu_medical_genetics:medical genetics",
)


@dataclass(frozen=True)
class Specialty:
    task: str  # task name
    subject: str  # the subject as results files name it ("Gynaecology & Obstetrics", "anatomy")
    group: str  # "MedMCQA" or "MMLU"

    @property
    def key(self) -> str:
        """Stable id for URLs (`specialties/?sort=<key>`) and the page's script."""
        return f"{self.task}:{self.subject}"

    @property
    def label(self) -> str:
        return subject_label(self.subject)


def subject_label(subject: str) -> str:
    """A subject as headers and charts name it: capitalised (MMLU names subsets in lower case)."""
    return subject[:1].upper() + subject[1:]


@dataclass(frozen=True)
class SpecialtyScore:
    n: int
    correct: int
    low: float
    high: float
    place: RankPlace

    @property
    def acc(self) -> float:
        return self.correct / self.n


@dataclass(frozen=True)
class SpecialtyTable:
    specialties: list[Specialty]
    scores: dict[str, dict[str, SpecialtyScore]]  # specialty key -> model key -> score
    entries: list[ModelEntry]  # the models in the table, leaderboard order

    @property
    def quick_picks(self) -> list[Specialty]:
        return [s for s in self.specialties if s.key in QUICK_PICKS]

    def count(self, specialty: Specialty) -> int:
        return len(self.scores[specialty.key])

    def items(self, specialty: Specialty) -> tuple[int, int]:
        """The fewest and most questions any model in the table answered in this specialty."""
        counts = [s.n for s in self.scores[specialty.key].values()]
        return (min(counts), max(counts)) if counts else (0, 0)


Track = Literal["loglik", "cot"]
COT_FILE = "data/specialties-cot.json"


def _task_places(entry: ModelEntry, track: Track) -> dict:
    return entry.task_places if track == "loglik" else entry.cot_task_places


def _subjects(entry: ModelEntry, task: str, track: Track) -> dict:
    if track == "loglik":
        return entry.result.tasks[task].subjects
    return entry.result.cot.tasks[task].subjects  # type: ignore[union-attr]


def specialty_table(entries: Sequence[ModelEntry], track: Track = "loglik") -> SpecialtyTable:
    specialties: list[Specialty] = []
    scores: dict[str, dict[str, SpecialtyScore]] = {}
    for name in TASK_NAMES:
        ranked = [e for e in entries if name in _task_places(e, track)]
        subjects = sorted({s for e in ranked for s in _subjects(e, name, track)}, key=str.lower)
        group = "MMLU" if name.startswith(MMLU_PREFIX) else TASKS[name].title
        for subject in subjects:
            specialty = Specialty(name, subject, group)
            specialties.append(specialty)
            scores[specialty.key] = _ranked_scores(ranked, name, subject, track)
    members = {key for column in scores.values() for key in column}
    return SpecialtyTable(specialties, scores, [e for e in entries if e.key in members])


def _ranked_scores(
    entries: list[ModelEntry], task: str, subject: str, track: Track
) -> dict[str, SpecialtyScore]:
    measured = []
    for entry in entries:
        score = _subjects(entry, task, track).get(subject)
        if score is not None:
            low, high = wilson_interval(score.acc, score.n)
            measured.append((entry.key, score.n, round(score.acc * score.n), low, high))
    places = rank_places([Interval(c / n, low, high) for _, n, c, low, high in measured])
    return {
        key: SpecialtyScore(n, correct, low, high, place)
        for (key, n, correct, low, high), place in zip(measured, places, strict=True)
    }


def specialty_payload(
    loglik: SpecialtyTable, cot: SpecialtyTable, entries: Sequence[ModelEntry]
) -> tuple[SpecialtiesPayload, dict[str, str]]:
    """The page's payload (columns, models, the loglik track) and the cot track's file."""
    columns = [
        SpecialtyColumn(
            key=s.key,
            name=s.label,
            group=s.group,
            task_title=TASKS[s.task].title,
            questions=loglik.items(s)[1],
        )
        for s in loglik.specialties
    ]
    members = {e.key for e in loglik.entries} | {e.key for e in cot.entries}
    models = [e for e in entries if e.key in members]
    index = {e.key: i for i, e in enumerate(models)}
    page = SpecialtiesPayload(
        columns=columns,
        models=[SpecialtyModel(key=e.key, model=e.model_id) for e in models],
        tracks=[_track(loglik, "loglik", loglik.specialties, index)],
        track_files={"cot": COT_FILE},
    )
    return page, {COT_FILE: _track(cot, "cot", loglik.specialties, index).to_json()}


def _track(
    table: SpecialtyTable, track: Track, columns: list[Specialty], index: dict[str, int]
) -> SpecialtiesTrack:
    rows = []
    for entry in table.entries:
        place = entry.place if track == "loglik" else entry.cot_place
        average = entry.average if track == "loglik" else entry.cot_average
        rows.append(
            SpecialtyRow(
                model_index=index[entry.key],
                rank=(place.rank, place.worst) if place else None,
                average=percent_number(average.value) if average else None,
                cells=[_cell(table.scores.get(s.key, {}).get(entry.key)) for s in columns],
            )
        )
    ranked = [len(table.scores.get(s.key, {})) for s in columns]
    return SpecialtiesTrack(track=track, rows=rows, ranked=ranked)


def _cell(score: SpecialtyScore | None) -> SpecialtyCell | None:
    if score is None:
        return None
    return (
        percent_number(score.acc),
        percent_number(score.low),
        percent_number(score.high),
        score.place.rank,
        score.place.worst,
        score.n,
    )  # type: ignore[return-value]
