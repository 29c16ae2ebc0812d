"""A model page's robustness and calibration panels, from the result's schema-2 fields.

Nothing is recomputed here: every number is the results file's (ARCHITECTURE.md, "Beyond
accuracy"), put in rows with the one sentence a reader needs to read it, and drawn by
`svg_plots`. A result without rotation scores, or a version-1 file without any of these fields,
gets a panel that says what it lacks and what it still shows.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

from runner.evaluation.tasks import LETTER_TASK_NAMES, TASK_NAMES, TASKS
from runner.results_schema import Estimate, EvaluationResult, LetterBias, RotationScores
from runner.sitegen import svg_plots
from runner.sitegen.formatting import percent_label, percent_text
from runner.sitegen.task_facts import FACTS

# Reliability diagrams: a task's own diagram is worth drawing from this many items on (MedQA,
# MedMCQA, PubMedQA); the MMLU subsets (100-272 items, a few per bin) only count towards the
# diagram pooled over all tasks (ARCHITECTURE.md, "Calibration").
RELIABILITY_MIN_ITEMS = 500
LETTERS = "ABCD"
ROTATED = ("one place", "two places", "three places")
MEANINGS = {  # one sentence per measure, as the panel prints it
    "rotation0": "Right with the options in their published order: the leaderboard's accuracy.",
    "rotation": "Right when every option moves {places} (the option that was {was} is shown as "
    "A, and so on).",
    "consistent": "Right under every order of the options: answers that do not depend on where "
    "the right one sits.",
    "flip_rate": "The chosen answer changes when only the order of the options changes (lower "
    "is better).",
    "debiased": "Right when the option probabilities of all four orders are averaged, which "
    "cancels a preference for a letter.",
    "rstd": "How unevenly answers are recalled by their letter: 0 is no preference for a "
    "position; always giving one letter scores 43.3.",
}
CONSISTENT_CAPTION = (
    "Bar: consistent accuracy (right under all four orders of the options) with its 95% interval; "
    "solid tick: accuracy in the published order. The gap between them is the questions that "
    "another order of the options gets wrong."
)
NORMALIZED_CAPTION = (
    "Bar: chance-normalised accuracy, (accuracy − chance) / (1 − chance), with its 95% interval: "
    "0 is guessing, below 0 worse than guessing; dotted tick: PubMedQA's majority answer on the "
    "same scale."
)


@dataclass(frozen=True)
class Measure:
    key: str  # the row's data-measure, for tests and links
    label: str
    estimate: Estimate
    meaning: str


@dataclass(frozen=True)
class TaskRobustnessRow:
    name: str
    title: str
    short: str
    scores: RotationScores | None  # None without rotations
    bias: LetterBias

    @property
    def score_cells(self) -> list[str]:
        """Accuracy under each rotation, consistent accuracy, flip rate, debiased accuracy: the
        HTML of each cell, made here because 56 template macro calls a page cost 0.5 s a build."""
        if self.scores is None:
            return []
        scores = self.scores
        estimates = [*scores.acc_by_rotation, scores.consistent, scores.flip_rate, scores.debiased]
        return [estimate_cell(e) for e in estimates]

    @property
    def rstd_cell(self) -> str:
        return estimate_cell(self.bias.rstd)

    @property
    def recall_cells(self) -> list[str]:
        """Each letter's recall with its 95% interval where the results file has one (schema
        version 3); an em dash for a letter that is no question's answer."""
        intervals = self.bias.recall_ci95 or [None] * len(self.bias.recall)
        cells = []
        for recall, interval in zip(self.bias.recall, intervals, strict=True):
            if recall is None:
                cells.append('<span title="no question has this letter as its answer">—</span>')
            elif interval is None:
                cells.append(percent_text(recall))
            else:
                cells.append(estimate_cell(Estimate(value=recall, ci95=interval)))
        return cells


def estimate_cell(estimate: Estimate) -> str:
    """A score and, beneath it, its 95% interval (numbers only: nothing to escape)."""
    low, high = estimate.ci95
    return (
        f'{percent_text(estimate.value)}<span class="ci">{percent_text(low)}–'
        f"{percent_text(high)}</span>"
    )


@dataclass(frozen=True)
class RobustnessPanel:
    rotations: bool  # the result has rotation scores
    measures: list[Measure]  # means over the eight letter tasks (empty: not all eight ran)
    tasks: list[TaskRobustnessRow]
    chart: str


@dataclass(frozen=True)
class CalibrationRow:
    name: str
    title: str
    n: int
    acc: float
    ece: float
    brier: float | None
    ece_ci95: tuple[float, float] | None  # schema version 3
    brier_ci95: tuple[float, float] | None
    own_diagram: bool
    options: int
    normalized: Estimate | None
    majority: float | None


@dataclass(frozen=True)
class CalibrationPanel:
    rows: list[CalibrationRow]
    pooled_tasks: list[str]  # titles of the tasks in the pooled diagram
    pooled_n: int
    pooled_ece: float | None
    diagrams: list[str]  # the pooled diagram first, then each task's own
    normalized_average: Estimate | None
    normalized_chart: str
    schema_1: bool  # a results file without Brier, bins or chance-normalised scores


def robustness_panel(result: EvaluationResult) -> RobustnessPanel | None:
    """None for a version-1 file (no letter bias at all)."""
    tasks = [
        TaskRobustnessRow(
            name,
            TASKS[name].title,
            FACTS[name].short,
            task.robustness,
            task.letter_bias,
        )
        for name in LETTER_TASK_NAMES
        if (task := result.tasks.get(name)) is not None and task.letter_bias is not None
    ]
    if not tasks:
        return None
    return RobustnessPanel(
        rotations=result.rotations,
        measures=_average_measures(result),
        tasks=tasks,
        chart=_consistent_chart(tasks),
    )


def _average_measures(result: EvaluationResult) -> list[Measure]:
    average = result.letter_tasks_average
    if average is None:
        return []
    measures = []
    scores = average.rotations
    if scores is not None:
        for r, estimate in enumerate(scores.acc_by_rotation):
            if r == 0:
                measures.append(
                    Measure("rotation0", "Published order", estimate, MEANINGS["rotation0"])
                )
                continue
            meaning = MEANINGS["rotation"].format(places=ROTATED[r - 1], was=LETTERS[r])
            measures.append(Measure(f"rotation{r}", f"Rotated {ROTATED[r - 1]}", estimate, meaning))
        measures += [
            Measure("consistent", "Consistent accuracy", scores.consistent, MEANINGS["consistent"]),
            Measure("flip_rate", "Answer-flip rate", scores.flip_rate, MEANINGS["flip_rate"]),
            Measure("debiased", "Debiased accuracy", scores.debiased, MEANINGS["debiased"]),
        ]
    measures.append(Measure("rstd", "RStd (letter bias)", average.rstd, MEANINGS["rstd"]))
    return measures


def _consistent_chart(tasks: list[TaskRobustnessRow]) -> str:
    bars = [
        svg_plots.Bar(
            t.short,
            t.scores.consistent.value,
            *t.scores.consistent.ci95,
            marker=t.scores.acc_by_rotation[0].value,
            title=f"{t.title}, consistent accuracy",
        )
        for t in tasks
        if t.scores is not None
    ]
    return svg_plots.interval_bars(bars, caption=CONSISTENT_CAPTION) if bars else ""


def calibration_panel(result: EvaluationResult) -> CalibrationPanel:
    rows = [
        CalibrationRow(
            name,
            TASKS[name].title,
            task.n,
            task.acc,
            task.ece,
            task.brier,
            task.ece_ci95,
            task.brier_ci95,
            task.reliability is not None and task.n >= RELIABILITY_MIN_ITEMS,
            task.options or FACTS[name].baseline.options,
            task.chance_normalized,
            task.majority_class_rate,
        )
        for name in TASK_NAMES
        if (task := result.tasks.get(name)) is not None
    ]
    pooled = result.reliability_pooled
    diagrams = []
    if pooled is not None:
        diagrams.append(
            svg_plots.reliability_diagram(
                pooled.bins,
                title="All tasks, pooled",
                caption=f"{pooled.n} questions, ECE {pooled.ece:.3f}.",
            )
        )
    for row in rows:
        if row.own_diagram:  # the task has reliability bins: own_diagram requires them
            diagrams.append(
                svg_plots.reliability_diagram(
                    result.tasks[row.name].reliability,
                    title=row.title,
                    caption=f"{row.n} questions, ECE {row.ece:.3f}.",
                )
            )
    return CalibrationPanel(
        rows=rows,
        pooled_tasks=[TASKS[name].title for name in pooled.tasks] if pooled else [],
        pooled_n=pooled.n if pooled else 0,
        pooled_ece=pooled.ece if pooled else None,
        diagrams=diagrams,
        normalized_average=result.chance_normalized_average,
        normalized_chart=_normalized_chart(rows),
        schema_1=result.schema_version == 1,
    )


def _normalized_chart(rows: list[CalibrationRow]) -> str:
    bars = []
    for row in rows:
        if row.normalized is None:
            continue
        baseline = FACTS[row.name].baseline
        reference = row.majority if baseline.majority is not None else None
        bars.append(
            svg_plots.Bar(
                FACTS[row.name].short,
                row.normalized.value,
                *row.normalized.ci95,
                note=f"accuracy {percent_label(row.acc)}",
                majority=baseline.normalized(reference) if reference is not None else None,
                title=f"{row.title}, chance-normalised",
            )
        )
    if not bars:
        return ""
    lowest = min(0.0, *(b.low for b in bars))
    axis_min = math.floor(lowest / 0.25) * 0.25  # down to a multiple of 25%
    return svg_plots.interval_bars(bars, caption=NORMALIZED_CAPTION, axis_min=max(axis_min, -1.0))
