"""One model's section of the shortlist's dossier, in Markdown and in print-ready HTML.

What an ethics or procurement board asks for, per model: the pinned revision, the sha256 of the
results file and of every predictions file, the scores with their 95% intervals on each track,
robustness, calibration, the licence and any flag. The facts and tables are gathered once
(`_facts`, `_tables`) and written out twice, so the two formats can never say different things.
The page (`site/assets/shortlist.js`) puts the listed models' sections under one header with the
reader's constraints, the rank ranges and the clinical-use advisory.
"""

from __future__ import annotations

from dataclasses import dataclass
from html import escape

from runner.evaluation.tasks import TASK_NAMES
from runner.sitegen.entries import HUB, ModelEntry
from runner.sitegen.formatting import percent_text
from runner.sitegen.payloads import DossierSections
from runner.sitegen.task_facts import FACTS


@dataclass(frozen=True)
class Fact:
    label: str
    value: str
    code: bool = False  # a hash or revision: monospace
    href: str | None = None


@dataclass(frozen=True)
class Table:
    title: str
    header: list[str]
    rows: list[list[str]]


def _interval(value: float, ci95: tuple[float, float] | None, unit: str = "%") -> str:
    text = f"{percent_text(value)}{unit}"
    return text if ci95 is None else f"{text} [{percent_text(ci95[0])}, {percent_text(ci95[1])}]"


def _facts(entry: ModelEntry, licence_note: str, results_sha256: str) -> list[Fact]:
    model = entry.result.model
    flag = entry.flag
    submission = entry.submission
    return [
        Fact("Model", model.id, href=entry.hub_url or (f"{HUB}/{model.id}" if model.id else None)),
        Fact("Pinned revision", model.revision or "local directory (no Hub revision)", code=True),
        Fact("Results file sha256", results_sha256, code=True),
        Fact("Licence", f"{entry.license or 'none on record'} ({licence_note})"),
        Fact("Parameters", f"{model.params:,}" if model.params else "unknown"),
        Fact("Evaluated precision", model.precision),
        Fact("Type", entry.model_type),
        Fact("Base model", submission.base_model or "—" if submission else "—"),
        Fact(
            "Flag",
            f"flagged on {flag.date.isoformat()}: {flag.reason} ({flag.discussion})"
            if flag
            else "none",
        ),
        Fact(
            "Test-set declaration",
            "made in the pull request that submitted the model (required by its template); "
            "not part of the results file",
        ),
    ]


def _score_table(entry: ModelEntry) -> Table:
    result, cot = entry.result, entry.result.cot
    rows = []
    for name in TASK_NAMES:
        loglik = result.tasks.get(name)
        reasoning = cot.tasks.get(name) if cot else None
        if loglik is None and reasoning is None:
            continue
        rows.append(
            [
                FACTS[name].short,
                _interval(loglik.acc, loglik.ci95) if loglik else "—",
                loglik.predictions_sha256 if loglik else "—",
                _interval(reasoning.acc, reasoning.ci95) if reasoning else "—",
                reasoning.predictions_sha256 if reasoning else "—",
            ]
        )
    average = entry.average
    rows.append(
        [
            "Average of nine",
            _interval(average.value, (average.low, average.high)) if average else "—",
            "",
            _interval(cot.average, cot.average_ci95) if cot and cot.average is not None else "—",
            "",
        ]
    )
    header = ["Task", "loglik accuracy [95% CI]", "loglik predictions sha256"]
    header += ["cot accuracy [95% CI]", "cot predictions sha256"]
    return Table("Scores and the predictions they were computed from", header, rows)


def _robustness_table(entry: ModelEntry) -> Table | None:
    average = entry.result.letter_tasks_average
    if average is None:
        return None
    rstd = _interval(average.rstd.value, average.rstd.ci95, unit="")
    rows = [["RStd (letter bias, in points of recall; 0 is none)", rstd]]
    if average.rotations is not None:
        scores = average.rotations
        rows += [
            ["Consistent accuracy", _interval(scores.consistent.value, scores.consistent.ci95)],
            ["Answer-flip rate", _interval(scores.flip_rate.value, scores.flip_rate.ci95)],
        ]
    else:
        rows.append(["Consistent accuracy", "not measured (evaluated without rotations)"])
    return Table(
        "Robustness to option order (mean of the eight letter tasks)", ["Measure", "Value"], rows
    )


def _calibration_table(entry: ModelEntry) -> Table:
    rows = []
    for name in TASK_NAMES:
        task = entry.task(name)
        if task is None:
            continue
        ece = f"{task.ece:.3f}"
        if task.ece_ci95:
            ece += f" [{task.ece_ci95[0]:.3f}, {task.ece_ci95[1]:.3f}]"
        brier = "—" if task.brier is None else f"{task.brier:.3f}"
        if task.brier_ci95:
            brier += f" [{task.brier_ci95[0]:.3f}, {task.brier_ci95[1]:.3f}]"
        rows.append([FACTS[name].short, ece, brier])
    pooled = entry.result.reliability_pooled
    if pooled is not None:
        rows.append(["All tasks, pooled", f"{pooled.ece:.3f}", "—"])
    return Table("Calibration (loglik track)", ["Task", "ECE [95% CI]", "Brier [95% CI]"], rows)


def _tables(entry: ModelEntry) -> list[Table]:
    tables = [_score_table(entry), _robustness_table(entry), _calibration_table(entry)]
    return [t for t in tables if t is not None]


def dossier_sections(entry: ModelEntry, licence_note: str, results_sha256: str) -> DossierSections:
    facts, tables = _facts(entry, licence_note, results_sha256), _tables(entry)
    return DossierSections(
        key=entry.key,
        markdown=_markdown(entry.model_id, facts, tables),
        html=_html(entry.model_id, facts, tables),
    )


def _markdown(title: str, facts: list[Fact], tables: list[Table]) -> str:
    def cell(text: str) -> str:
        return text.replace("|", "\\|")

    lines = [f"## {title}", ""]
    for fact in facts:
        value = f"`{fact.value}`" if fact.code else fact.value
        if fact.href:
            value = f"[{value}]({fact.href})"
        lines.append(f"- **{fact.label}**: {value}")
    for table in tables:
        lines += ["", f"**{table.title}**", "", "| " + " | ".join(table.header) + " |"]
        lines.append("|" + "---|" * len(table.header))
        lines += ["| " + " | ".join(cell(c) for c in row) + " |" for row in table.rows]
    return "\n".join(lines) + "\n"


def _html(title: str, facts: list[Fact], tables: list[Table]) -> str:
    parts = [f'<section class="dossier-model"><h2>{escape(title)}</h2><dl>']
    for fact in facts:
        value = escape(fact.value)
        if fact.code:
            value = f"<code>{value}</code>"
        if fact.href:
            value = f'<a href="{escape(fact.href)}">{value}</a>'
        parts.append(f"<dt>{escape(fact.label)}</dt><dd>{value}</dd>")
    parts.append("</dl>")
    for table in tables:
        head = "".join(f"<th>{escape(h)}</th>" for h in table.header)
        body = "".join(
            "<tr>" + "".join(f"<td>{escape(c)}</td>" for c in row) + "</tr>" for row in table.rows
        )
        parts.append(
            f"<table><caption>{escape(table.title)}</caption><thead><tr>{head}</tr></thead>"
            f"<tbody>{body}</tbody></table>"
        )
    parts.append("</section>")
    return "".join(parts)
