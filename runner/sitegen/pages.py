"""Render the site's Markdown pages from the jinja2 templates in `site/templates`.

`render_pages` returns every generated file (Markdown pages, downloads, data for the scripts)
as text keyed by its path under docs_dir, plus the raw HTML blocks `raw_html` splices back in
and the navigation. Writing them is the caller's job, so this module does no I/O but reading
templates.
"""

from __future__ import annotations

import json
import statistics
from dataclasses import dataclass, field
from pathlib import Path, PurePosixPath
from typing import Any

from runner.evaluation.tasks import TASK_NAMES, TASKS
from runner.github_actions import repository_url
from runner.sitegen import svg_plots
from runner.sitegen.data_files import (
    item_bits,
    leaderboard_csv,
    leaderboard_records,
    script_json,
    table_payload,
)
from runner.sitegen.entries import ModelEntry, sample_data_site
from runner.sitegen.formatting import percent_text, size_label
from runner.sitegen.inputs import SiteInputs
from runner.sitegen.queue import queue_rows
from runner.sitegen.raw_html import extract_raw_blocks
from runner.sitegen.software_versions import locked_versions, software_mismatch
from runner.sitegen.task_facts import FACTS
from runner.stats import Z95, wilson_interval

SITE_NAME = "Open Medical-LLM Leaderboard"


@dataclass
class RenderedSite:
    files: dict[str, str] = field(default_factory=dict)  # path under docs_dir -> text
    raw_blocks: dict[str, list[str]] = field(default_factory=dict)
    nav: list[Any] = field(default_factory=list)

    def add_page(self, path: str, markdown: str) -> None:
        text, blocks = extract_raw_blocks(markdown)
        self.files[path] = text
        if blocks:
            self.raw_blocks[path] = blocks


def root_prefix(path: str) -> str:
    """The relative URL from a page to the site root (pages are served as directories)."""
    parts = PurePosixPath(path).with_suffix("").parts
    depth = len(parts) - 1 if parts[-1] == "index" else len(parts)
    return "../" * depth


def template_environment(templates_dir: Path):
    import jinja2

    env = jinja2.Environment(
        loader=jinja2.FileSystemLoader(str(templates_dir)),
        autoescape=True,
        undefined=jinja2.StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
        keep_trailing_newline=True,
    )
    env.filters["pct"] = percent_text
    env.filters["size"] = size_label
    env.filters["short"] = lambda sha, n=10: "—" if not sha else sha[:n]
    env.globals.update(tasks=TASKS, task_names=TASK_NAMES, facts=FACTS, site_name=SITE_NAME)
    return env


def render_pages(
    inputs: SiteInputs, entries: list[ModelEntry], templates_dir: Path, checks: list[Any]
) -> RenderedSite:
    env = template_environment(templates_dir)
    site = RenderedSite()
    medians = _task_medians(entries)

    locked = locked_versions()
    records = leaderboard_records(entries, inputs.references, locked=locked)
    site.files["leaderboard.json"] = json.dumps(records, indent=1) + "\n"
    site.files["leaderboard.csv"] = leaderboard_csv(records)

    site.add_page(
        "index.md",
        env.get_template("leaderboard.md.j2").render(
            root="",
            payload=script_json(table_payload(entries, inputs.references)),
            size_plot=_size_plot(entries, inputs),
            ranked=sum(1 for e in entries if e.place),
            sample_data=sample_data_site(inputs),
            entries=entries,
            references=inputs.references,
        ),
    )
    model_template = env.get_template("model.md.j2")
    ranked_count = sum(1 for e in entries if e.place)
    task_counts = {n: sum(1 for e in entries if n in e.task_places) for n in TASK_NAMES}
    for entry in entries:
        site.add_page(
            entry.page,
            model_template.render(
                root=root_prefix(entry.page),
                e=entry,
                ranked_count=ranked_count,
                task_counts=task_counts,
                profile=_profile_chart(entry, medians),
                subjects=_subject_rows(entry),
                subject_chart=_subject_chart(entry),
                card_yaml=_card_snippet(entry),
                software=software_mismatch(entry.result.environment, locked),
            ),
        )
        site.files[f"data/items/{entry.key}.json"] = script_json(item_bits(entry))
    site.add_page("tasks/index.md", env.get_template("tasks_index.md.j2").render(root="../"))
    task_template = env.get_template("task.md.j2")
    for name in TASK_NAMES:
        ranked = sorted(
            (e for e in entries if name in e.task_places),
            key=lambda e, n=name: (-e.result.tasks[n].acc, e.model_id.lower()),
        )
        site.add_page(
            f"tasks/{name}.md",
            task_template.render(
                root=root_prefix(f"tasks/{name}.md"),
                spec=TASKS[name],
                fact=FACTS[name],
                ranked=ranked,
                references=[r for r in inputs.references if r.accuracy(name) is not None],
            ),
        )
    site.add_page(
        "compare.md",
        env.get_template("compare.md.j2").render(
            root=root_prefix("compare.md"),
            models=script_json(
                {
                    "tasks": [[n, TASKS[n].title] for n in TASK_NAMES],
                    "models": [[e.key, e.model_id] for e in entries],
                }
            ),
        ),
    )
    site.add_page(
        "queue.md",
        env.get_template("queue.md.j2").render(root="../", queue=queue_rows(inputs)),
    )
    site.add_page("submit.md", env.get_template("submit.md.j2").render(root="../", checks=checks))
    site.add_page("about.md", env.get_template("about.md.j2").render(root="../", z95=Z95))
    site.nav = [
        {"Leaderboard": "index.md"},
        {"Tasks": ["tasks/index.md"] + [{TASKS[n].title: f"tasks/{n}.md"} for n in TASK_NAMES]},
        {"Compare": "compare.md"},
        {"Queue": "queue.md"},
        {"Submit": "submit.md"},
        {"About": "about.md"},
    ]
    return site


def _task_medians(entries: list[ModelEntry]) -> dict[str, float]:
    medians = {}
    for name in TASK_NAMES:
        values = [e.result.tasks[name].acc for e in entries if name in e.task_places]
        if values:
            medians[name] = statistics.median(values)
    return medians


def _size_plot(entries: list[ModelEntry], inputs: SiteInputs) -> str:
    points = [
        svg_plots.ScatterPoint(e.model_id, e.params, e.average.value, f"models/{e.key}/")
        for e in entries
        if e.average and e.params
    ]
    lines = [
        svg_plots.ReferenceLine(r.name, r.average)
        for r in inputs.references
        if r.average is not None
    ]
    return svg_plots.size_vs_average(points, lines) if points else ""


def _profile_chart(entry: ModelEntry, medians: dict[str, float]) -> str:
    bars = [
        svg_plots.Bar(
            TASKS[name].title,
            task.acc,
            task.ci95[0],
            task.ci95[1],
            note=f"n={task.n}",
            marker=medians.get(name),
        )
        for name in TASK_NAMES
        if (task := entry.task(name)) is not None
    ]
    return svg_plots.interval_bars(bars)


@dataclass(frozen=True)
class SubjectRow:
    task: str
    subject: str
    n: int
    acc: float
    low: float
    high: float


def _subject_rows(entry: ModelEntry) -> list[SubjectRow]:
    """MedMCQA's specialties, then the MMLU subsets, each with a Wilson 95% interval."""
    rows = []
    for name in TASK_NAMES:
        task = entry.task(name)
        if task is None:
            continue
        for subject, score in sorted(task.subjects.items()):
            low, high = wilson_interval(score.acc, score.n)
            label = subject[:1].upper() + subject[1:]  # MMLU names its subsets in lower case
            rows.append(SubjectRow(TASKS[name].title, label, score.n, score.acc, low, high))
    return rows


def _subject_chart(entry: ModelEntry) -> str:
    rows = _subject_rows(entry)
    if not rows:
        return ""
    bars = [svg_plots.Bar(r.subject, r.acc, r.low, r.high, note=f"n={r.n}, {r.task}") for r in rows]
    return svg_plots.interval_bars(bars, row=20)


def _card_snippet(entry: ModelEntry) -> str:
    """A Hub model-card `model-index` block with this model's scores, built by huggingface_hub's
    own `EvalResult` and `eval_results_to_model_index`, so the Hub's `ModelCard` loads it.

    The source (name and url, which the Hub requires together) is the model's results file on
    the default branch, as the pages build under GitHub Actions knows it; elsewhere (a local
    build) the CI run that produced the scores, else no source.
    """
    from huggingface_hub.repocard_data import EvalResult, eval_results_to_model_index

    source_url = _results_url(entry)
    results = [
        EvalResult(
            task_type="multiple-choice",
            dataset_type=task.dataset,
            dataset_name=TASKS[name].title,
            dataset_config=task.dataset_config,
            dataset_split=task.split,
            dataset_revision=task.dataset_revision,
            metric_type="accuracy",
            metric_value=round(100 * task.acc, 2),
            metric_name="zero-shot accuracy",
            source_name=SITE_NAME if source_url else None,
            source_url=source_url,
        )
        for name in TASK_NAMES
        if (task := entry.task(name)) is not None
    ]
    index = eval_results_to_model_index(entry.model_id, results)
    return "\n".join(_yaml_block({"model-index": index}))


def _results_url(entry: ModelEntry) -> str | None:
    repository = repository_url()
    if repository:
        return f"{repository}/blob/HEAD/results/{entry.key}.json"
    return entry.result.run.ci_run_url


def _yaml_block(value: Any, indent: str = "") -> list[str]:
    """Block-style YAML with every scalar JSON-quoted (JSON scalars are valid YAML); written by
    hand because yaml.safe_dump cost 8 ms a page (8 s for 1,000 models)."""
    lines = []
    items = value.items() if isinstance(value, dict) else [(None, item) for item in value]
    for key, item in items:
        lead = f"{indent}{key}:" if key is not None else f"{indent}-"
        if isinstance(item, dict | list):
            nested = _yaml_block(item, indent + "  ")
            if key is None:  # a list item: its first line goes after the dash
                lines.append(f"{lead} {nested[0].lstrip()}")
                lines += nested[1:]
            else:
                lines += [lead, *nested]
        else:
            lines.append(f"{lead} {json.dumps(item)}")
    return lines
