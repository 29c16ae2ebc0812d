"""A run's scores as people read them: a title, a terminal table and a Markdown table.

`medlb evaluate` prints the first two (then the letter tasks' robustness line, when the run has
their averages) and adds the title and the Markdown table to the GitHub Actions job summary; the
publish step's PR comment (`runner.pipeline.score_report`) embeds the same Markdown table. The
title says what was scored on what, so that a 12-question sample run never reads like a
leaderboard result.
"""

from __future__ import annotations

from runner.evaluation.tasks import TASKS
from runner.github_actions import markdown_text
from runner.results_schema import EvaluationResult, LetterTasksAverage


def score_title(result: EvaluationResult, *, markdown: bool = False) -> str:
    """`org/model@revision` (or a local directory), dtype, device and the data's provenance."""
    model = result.model
    if model.source == "hub":
        name = f"{model.id}@{(model.revision or 'unpinned')[:12]}"
    else:
        name = f"{model.id} (local directory)"
    if markdown:
        name = f"**{markdown_text(name)}**"
    device = result.environment.device
    parts = [name, model.precision, device if device == "cpu" else f"cuda ({device})"]
    return " · ".join([*parts, data_words(result)])


def data_words(result: EvaluationResult) -> str:
    """Whose rows were scored: the Hub's, a local copy (verified or not), the bundled sample."""
    tasks = {**(result.cot.tasks if result.cot else {}), **result.tasks}
    sources = [task.rows_source for task in tasks.values() if task.rows_source]
    partial = result.run.limit is not None or any(
        name in TASKS and task.n_total != TASKS[name].n_total for name, task in tasks.items()
    )
    if not sources:
        return "source of the rows not recorded"
    if any(source.sample for source in sources):
        return "sample data, not rankable"
    if any(source.kind == "local" for source in sources):
        verified = all(source.sha256_known for source in sources if source.kind == "local")
        words = "local data" + (
            ", the pinned revisions' rows" if verified else ", not verified against the pins"
        )
    else:
        words = "Hub data at the pinned revisions"
    return words + (", partial: not rankable" if partial else "")


def score_lines(result: EvaluationResult) -> str:
    """Task, items, accuracy, standard error and 95% interval, one line a task, then the average."""
    lines = [f"{'task':<28} {'n':>6} {'acc':>7} {'± stderr':>9}  95% CI"]
    for name, task in result.tasks.items():
        low, high = task.ci95
        lines.append(
            f"{name:<28} {task.n:>6} {task.acc:>7.4f} {task.stderr:>9.4f}  [{low:.4f}, {high:.4f}]"
        )
    average = (
        "n/a (not all nine tasks in full)" if result.average is None else f"{result.average:.4f}"
    )
    lines.append(f"{'average':<28} {'':>6} {average}")
    return "\n".join(lines)


def cot_score_lines(result: EvaluationResult) -> str | None:
    """The reasoning track's table for the terminal: accuracy with its interval, no-answer and
    truncation rates and mean output tokens per task, then the average; None without the track."""
    track = result.cot
    if track is None:
        return None
    lines = [
        f"cot track: {track.engine.name} {track.engine.version}, at most "
        f"{track.max_new_tokens} new tokens",
        f"{'task':<28} {'n':>6} {'acc':>7}  {'95% CI':<16} "
        f"{'no ans':>6} {'trunc':>6} {'tokens':>7}",
    ]
    for name, task in track.tasks.items():
        low, high = task.ci95
        lines.append(
            f"{name:<28} {task.n:>6} {task.acc:>7.4f}  [{low:.4f}, {high:.4f}] "
            f"{task.no_answer_rate:>6.1%} {task.truncation_rate:>6.1%} "
            f"{task.mean_output_tokens:>7.1f}"
        )
    average = (
        "n/a (not all nine tasks in full)" if track.average is None else f"{track.average:.4f}"
    )
    lines.append(f"{'average':<28} {'':>6} {average}")
    return "\n".join(lines)


def summary_line(average: LetterTasksAverage | None) -> str | None:
    """One line for the terminal: the eight letter tasks' averages, when the run has them."""
    if average is None:
        return None
    parts = [f"RStd {average.rstd.value:.4f}"]
    if average.rotations is not None:
        scores = average.rotations
        parts = [
            f"consistent acc {scores.consistent.value:.4f}",
            f"flip rate {scores.flip_rate.value:.4f}",
            f"debiased acc {scores.debiased.value:.4f}",
            *parts,
        ]
    return "letter tasks (mean of 8): " + ", ".join(parts)


def score_table(result: EvaluationResult) -> str:
    """The Markdown table: task title, accuracy, 95% interval, items; the average last."""
    rows = ["| task | accuracy | 95% interval | items |", "|---|---:|---:|---:|"]
    for name, task in result.tasks.items():
        title = TASKS[name].title if name in TASKS else name
        low, high = task.ci95
        rows.append(f"| {title} | {task.acc:.1%} | {low:.1%} – {high:.1%} | {task.n} |")
    average = "—" if result.average is None else f"**{result.average:.1%}**"
    rows.append(f"| **average** | {average} | | |")
    return "\n".join(rows)


def cot_score_table(result: EvaluationResult) -> str | None:
    """The reasoning track's Markdown table (None without the track)."""
    if result.cot is None:
        return None
    rows = [
        "| task (cot) | accuracy | 95% interval | no answer | items |",
        "|---|---:|---:|---:|---:|",
    ]
    for name, task in result.cot.tasks.items():
        title = TASKS[name].title if name in TASKS else name
        low, high = task.ci95
        rows.append(
            f"| {title} | {task.acc:.1%} | {low:.1%} – {high:.1%} | {task.no_answer_rate:.1%} "
            f"| {task.n} |"
        )
    average = "—" if result.cot.average is None else f"**{result.cot.average:.1%}**"
    rows.append(f"| **average** | {average} | | | |")
    return "\n".join(rows)
