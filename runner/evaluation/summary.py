"""A run's scores as people read them: a terminal table and a Markdown table.

`medlb evaluate` prints the first and adds the second to the GitHub Actions job summary; the
publish step's PR comment (`runner.pipeline.score_report`) embeds the same Markdown table.
"""

from __future__ import annotations

from runner.evaluation.tasks import TASKS
from runner.results_schema import EvaluationResult


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
