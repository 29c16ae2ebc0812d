"""What one model's page shows beyond its results file: charts, per-subject ranks, the medians.

`pages.render_pages` renders `site/templates/model.md.j2` with `model_context` for every entry;
the per-task medians and the specialty table are computed once for all of them. The robustness
and calibration panels are `model_panels`'.
"""

from __future__ import annotations

import statistics
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from runner.evaluation.tasks import TASK_NAMES, TASKS
from runner.sitegen import svg_plots
from runner.sitegen.entries import ModelEntry
from runner.sitegen.model_panels import calibration_panel, robustness_panel
from runner.sitegen.ranking import RankPlace
from runner.sitegen.specialties import SpecialtyTable, subject_label
from runner.sitegen.task_facts import FACTS
from runner.sitegen.track_panel import against_base, track_panel
from runner.stats import wilson_interval

PROFILE_CAPTION = (
    "Bar: accuracy; line: 95% interval; solid tick: median of the ranked models; dashed tick: "
    "chance (25% with four options, 33.3% for PubMedQA's three); dotted tick: PubMedQA's "
    "majority answer (“yes”, 55.2% of its test set)."
)
SUBJECT_CAPTION = "Bar: accuracy; line: Wilson 95% interval; dashed tick: chance (25%)."


@dataclass(frozen=True)
class SubjectRow:
    task: str  # the task's title
    specialty_key: str | None  # its column on the specialties page, when it has one
    subject: str
    n: int
    acc: float
    low: float
    high: float
    place: RankPlace | None  # rank among the models ranked on the task
    ranked: int  # how many models share that ranking
    chance: float  # accuracy of guessing among the task's options


def task_medians(entries: Sequence[ModelEntry]) -> dict[str, float]:
    medians = {}
    for name in TASK_NAMES:
        values = [e.result.tasks[name].acc for e in entries if name in e.task_places]
        if values:
            medians[name] = statistics.median(values)
    return medians


def model_context(
    entry: ModelEntry,
    medians: dict[str, float],
    specialties: SpecialtyTable,
    by_id: dict[str, ModelEntry] | None = None,
) -> dict[str, Any]:
    """The template's values for one model page; `by_id` (every entry by model id) finds the
    model's base model on the board, for the "against its base" table."""
    subjects = subject_rows(entry, specialties)
    base_id = entry.submission.base_model if entry.submission else None
    base = (by_id or {}).get(base_id) if base_id else None
    return {
        "tracks": track_panel(entry.result),
        "base_id": base_id,
        "base": base,
        "base_diffs": against_base(entry.result, base.result) if base else [],
        "e": entry,
        "profile": _profile_chart(entry, medians),
        "subjects": subjects,
        "subject_chart": _subject_chart(subjects),
        "robustness": robustness_panel(entry.result),
        "calibration": calibration_panel(entry.result),
    }


def subject_rows(entry: ModelEntry, specialties: SpecialtyTable) -> list[SubjectRow]:
    """MedMCQA's specialties, then the MMLU subsets, each with a Wilson 95% interval and, where
    the model is ranked on the task, its rank among the other ranked models (the specialty's
    score, whose interval is the same Wilson interval of the same counts)."""
    rows = []
    for name in TASK_NAMES:
        task = entry.task(name)
        if task is None:
            continue
        for subject, score in sorted(task.subjects.items(), key=lambda kv: kv[0].lower()):
            key = f"{name}:{subject}"
            ranked = specialties.scores.get(key, {})
            own = ranked.get(entry.key)  # its score in the specialty's ranking, if ranked
            if own is not None:
                low, high, place = own.low, own.high, own.place
            else:
                (low, high), place = wilson_interval(score.acc, score.n), None
            rows.append(
                SubjectRow(
                    TASKS[name].title,
                    key if key in specialties.scores else None,
                    subject_label(subject),
                    score.n,
                    score.acc,
                    low,
                    high,
                    place,
                    len(ranked),
                    FACTS[name].baseline.chance,
                )
            )
    return rows


def _profile_chart(entry: ModelEntry, medians: dict[str, float]) -> str:
    bars = []
    for name in TASK_NAMES:
        task = entry.task(name)
        if task is None:
            continue
        baseline = FACTS[name].baseline
        bars.append(
            svg_plots.Bar(
                FACTS[name].short,
                task.acc,
                task.ci95[0],
                task.ci95[1],
                note=f"n={task.n}",
                marker=medians.get(name),
                chance=baseline.chance,
                majority=baseline.majority,
                title=TASKS[name].title,
            )
        )
    return svg_plots.interval_bars(bars, caption=PROFILE_CAPTION)


def _subject_chart(rows: list[SubjectRow]) -> str:
    if not rows:
        return ""
    bars = [
        svg_plots.Bar(r.subject, r.acc, r.low, r.high, note=f"n={r.n}, {r.task}", chance=r.chance)
        for r in rows
    ]
    return svg_plots.interval_bars(bars, caption=SUBJECT_CAPTION)
