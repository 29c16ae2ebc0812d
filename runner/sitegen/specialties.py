"""Models × specialties: MedMCQA's subjects and the six MMLU subsets, each ranked on its own.

A specialty is one subject of one task. Its score for a model is the accuracy on that subject's
questions, with a Wilson 95% interval (a subject can have a handful of questions, where a normal
interval would be wrong), and its rank follows the site's rule (`ranking.rank_places`: 1 + the
models whose interval lies wholly above). Only models ranked on the task itself take part, so a
specialty ranking never mixes full-split and sample-data scores (ARCHITECTURE.md, "Results and
ranking").

The page's table is drawn by `site/assets/specialties.js` from `specialty_payload`: per cell the
number of correct answers (with the column's item count, that is the accuracy exactly), the rank
and the count of overlapping models, so 1,000 models × 27 specialties stay a few hundred KiB.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from runner.evaluation.tasks import TASK_NAMES, TASKS
from runner.sitegen.entries import ModelEntry
from runner.sitegen.formatting import percent_number
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


def specialty_table(entries: Sequence[ModelEntry]) -> SpecialtyTable:
    specialties: list[Specialty] = []
    scores: dict[str, dict[str, SpecialtyScore]] = {}
    for name in TASK_NAMES:
        ranked = [e for e in entries if name in e.task_places]
        subjects = sorted({s for e in ranked for s in e.result.tasks[name].subjects}, key=str.lower)
        group = "MMLU" if name.startswith(MMLU_PREFIX) else TASKS[name].title
        for subject in subjects:
            specialty = Specialty(name, subject, group)
            specialties.append(specialty)
            scores[specialty.key] = _ranked_scores(ranked, name, subject)
    members = {key for column in scores.values() for key in column}
    return SpecialtyTable(specialties, scores, [e for e in entries if e.key in members])


def _ranked_scores(entries: list[ModelEntry], task: str, subject: str) -> dict[str, SpecialtyScore]:
    measured = []
    for entry in entries:
        score = entry.result.tasks[task].subjects.get(subject)
        if score is not None:
            low, high = wilson_interval(score.acc, score.n)
            measured.append((entry.key, score.n, round(score.acc * score.n), low, high))
    places = rank_places([Interval(c / n, low, high) for _, n, c, low, high in measured])
    return {
        key: SpecialtyScore(n, correct, low, high, place)
        for (key, n, correct, low, high), place in zip(measured, places, strict=True)
    }


def specialty_payload(table: SpecialtyTable) -> dict[str, Any]:
    """Compact data for the page's script.

    cols: [key, label, group, task title, items] per specialty (items: the count most models
    answered); rows: k page key, m model id, r leaderboard rank, x its overlap count,
    a average percent, c per specialty null or [correct, rank, overlaps] (+ n when it differs
    from the column's).
    """
    cols, usual_n = [], []
    for specialty in table.specialties:
        counts = [s.n for s in table.scores[specialty.key].values()]
        n = max(set(counts), key=counts.count)
        usual_n.append(n)
        cols.append(
            [specialty.key, specialty.label, specialty.group, TASKS[specialty.task].title, n]
        )
    rows = []
    for entry in table.entries:
        cells: list[list[int] | None] = []
        for specialty, n in zip(table.specialties, usual_n, strict=True):
            score = table.scores[specialty.key].get(entry.key)
            if score is None:
                cells.append(None)
                continue
            cell = [score.correct, score.place.rank, score.place.tied]
            cells.append(cell if score.n == n else [*cell, score.n])
        rows.append(
            {
                "k": entry.key,
                "m": entry.model_id,
                "r": entry.place.rank if entry.place else None,
                "x": entry.place.tied if entry.place else 0,
                "a": percent_number(entry.average.value) if entry.average else None,
                "c": cells,
            }
        )
    return {"cols": cols, "rows": rows}
