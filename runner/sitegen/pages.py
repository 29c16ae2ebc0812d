"""Render the site's Markdown pages from the jinja2 templates in `site/templates`.

`render_pages` returns every generated file (Markdown pages, downloads, data for the scripts)
as text keyed by its path under docs_dir, the files to copy as they are (each model's results
file), the raw HTML blocks `raw_html` splices back in, and the navigation. Writing them is the
caller's job, so this module does no I/O but reading templates.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path, PurePosixPath
from typing import Any

from runner.evaluation.tasks import TASK_NAMES, TASKS
from runner.github_actions import repository_url
from runner.sitegen import svg_plots
from runner.sitegen.citation import leaderboard_bibtex
from runner.sitegen.compare_data import compare_payload
from runner.sitegen.data_files import (
    leaderboard_csv,
    leaderboard_records,
)
from runner.sitegen.entries import (
    NO_NORMALIZED,
    NO_ROTATIONS,
    ModelEntry,
    sample_data_site,
    task_unranked_reason,
)
from runner.sitegen.formatting import percent_label, percent_text, signed_percent_text, size_label
from runner.sitegen.inputs import SiteInputs
from runner.sitegen.leaderboard_rows import leaderboard_payload
from runner.sitegen.model_card import SITE_NAME, eval_results
from runner.sitegen.model_page import model_context, task_medians
from runner.sitegen.model_panels import RELIABILITY_MIN_ITEMS
from runner.sitegen.payloads import QuestionViewIndex, QuestionViewModel, QuestionViewTask
from runner.sitegen.question_views import QuestionViews
from runner.sitegen.queue import queue_rows
from runner.sitegen.ranking_rules import RankingRules, ranking_rules
from runner.sitegen.raw_html import extract_raw_blocks
from runner.sitegen.repository import Repository
from runner.sitegen.shortlist import render_shortlist
from runner.sitegen.software_versions import software_mismatch
from runner.sitegen.specialties import SpecialtyTable, specialty_payload, specialty_table
from runner.sitegen.submit_page import submit_guide
from runner.sitegen.task_facts import FACTS
from runner.stats import Z95

NAV = (  # (tab title, page), in the order of the top navigation
    ("Leaderboard", "index.md"),
    ("Specialties", "specialties.md"),
    ("Tasks", "tasks/index.md"),
    ("Compare", "compare.md"),
    ("Shortlist", "shortlist.md"),
    ("Queue", "queue.md"),
    ("Submit", "submit.md"),
    ("About", "about.md"),
)


@dataclass(frozen=True)
class SiteSources:
    """What the build read for the pages besides the results: the repository's own files."""

    repository: Repository
    checks: list[Any]  # runner.submissions.checks.CHECKS
    submitting_md: str | None = None  # SUBMITTING.md
    submitted_at: Mapping[Path, datetime] = field(default_factory=dict)  # submission file dates
    year: int = 2026  # the citation's year: when the site was built
    questions: QuestionViews = field(default_factory=QuestionViews)  # from --details
    # torch and transformers as requirements/eval.lock pins them (software_versions.locked_versions)
    locked: Mapping[str, str] = field(default_factory=dict)
    commit: str | None = None  # the checkout's commit: links to the results files at it never move


@dataclass
class RenderedSite:
    files: dict[str, str] = field(default_factory=dict)  # path under docs_dir -> text
    copies: dict[str, Path] = field(default_factory=dict)  # path under docs_dir -> file to copy
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
    env.filters["spct"] = signed_percent_text
    env.filters["size"] = size_label
    env.filters["short"] = lambda sha, n=10: "—" if not sha else sha[:n]
    env.globals.update(
        tasks=TASKS,
        task_names=TASK_NAMES,
        facts=FACTS,
        site_name=SITE_NAME,
        pubmedqa_majority=_majority_reference(),
        reliability_min_items=RELIABILITY_MIN_ITEMS,
    )
    return env


def render_pages(
    inputs: SiteInputs, entries: list[ModelEntry], templates_dir: Path, sources: SiteSources
) -> RenderedSite:
    env = template_environment(templates_dir)
    env.globals.update(
        rules=ranking_rules(entries, sample_data_site(inputs)),
        repository=sources.repository,
        submissions=len(inputs.submissions),
        details_read=sources.questions.read,
    )
    site = RenderedSite()
    software = {e.key: software_mismatch(e.result.environment, sources.locked) for e in entries}
    records = leaderboard_records(entries, inputs.references, software=software)
    site.files["leaderboard.json"] = json.dumps(records, indent=1) + "\n"
    site.files["leaderboard.csv"] = leaderboard_csv(records)
    specialties = specialty_table(entries)
    queue = queue_rows(inputs, sources.repository, sources.submitted_at)
    board, fetched = leaderboard_payload(entries, inputs.references)
    site.files.update(fetched)
    specialties_payload, fetched = specialty_payload(
        specialties, specialty_table(entries, "cot"), entries
    )
    site.files.update(fetched)

    site.add_page(
        "index.md",
        env.get_template("leaderboard.md.j2").render(
            root="",
            payload=board.to_json(),
            size_plot=_size_plot(entries, inputs),
            queue=len(queue),
            no_rotations=NO_ROTATIONS,
            no_normalized=NO_NORMALIZED,
        ),
    )
    _model_pages(site, env, inputs, entries, specialties, software, sources.commit)
    _task_pages(site, env, entries, inputs)
    site.add_page(
        "specialties.md",
        env.get_template("specialties.md.j2").render(
            root="../", table=specialties, payload=specialties_payload.to_json()
        ),
    )
    compare, fetched = compare_payload(entries, sources.questions.texts)
    site.files.update(fetched)
    site.add_page(
        "compare.md",
        env.get_template("compare.md.j2").render(
            root=root_prefix("compare.md"), payload=compare.to_json()
        ),
    )
    render_shortlist(site, env, entries, {f.key: f.path for f in inputs.results})
    _question_views(site, env, entries, sources.questions)
    site.add_page(
        "queue.md",
        env.get_template("queue.md.j2").render(
            root="../", queue=queue, broken=[(b.path, b.reason) for b in inputs.broken]
        ),
    )
    guide = (
        submit_guide(sources.submitting_md, sources.repository) if sources.submitting_md else None
    )
    site.add_page(
        "submit.md",
        env.get_template("submit.md.j2").render(root="../", guide=guide, checks=sources.checks),
    )
    site.add_page(
        "about.md",
        env.get_template("about.md.j2").render(
            root="../", z95=Z95, bibtex=leaderboard_bibtex(sources.repository.url, sources.year)
        ),
    )
    site.nav = [_nav_item(title, page) for title, page in NAV]
    return site


def question_view_index(entries: list[ModelEntry]) -> QuestionViewIndex:
    """The question view page's data: the tasks, and the models with a view with their tasks as
    places in that list."""
    return QuestionViewIndex(
        tasks=[QuestionViewTask(name=n, title=TASKS[n].title) for n in TASK_NAMES],
        models=[
            QuestionViewModel(
                key=e.key,
                model=e.model_id,
                tasks=[TASK_NAMES.index(n) for n in e.question_tasks],
            )
            for e in entries
            if e.question_tasks
        ],
    )


def _question_views(site: RenderedSite, env, entries: list[ModelEntry], views: QuestionViews):
    """The one question-view page, with its data for the models that have a view, and its
    per-model-per-task data files (question_views)."""
    site.files.update(views.files)
    site.add_page(
        "questions.md",
        env.get_template("questions.md.j2").render(
            root=root_prefix("questions.md"),
            read=views.read,
            payload=question_view_index(entries).to_json(),
        ),
    )


def _nav_item(title: str, page: str) -> dict[str, Any]:
    if page != "tasks/index.md":
        return {title: page}
    return {title: [page] + [{TASKS[n].title: f"tasks/{n}.md"} for n in TASK_NAMES]}


def _model_pages(
    site: RenderedSite,
    env,
    inputs: SiteInputs,
    entries: list[ModelEntry],
    specialties: SpecialtyTable,
    software: dict[str, str | None],
    commit: str | None,
) -> None:
    template = env.get_template("model.md.j2")
    medians = task_medians(entries)
    ranked_count = sum(1 for e in entries if e.place)
    consistent_count = sum(1 for e in entries if e.consistent_place)
    task_counts = {n: sum(1 for e in entries if n in e.task_places) for n in TASK_NAMES}
    paths = {f.key: f.path for f in inputs.results}
    by_id = {e.model_id: e for e in entries}
    for entry in entries:
        site.add_page(
            entry.page,
            template.render(
                root=root_prefix(entry.page),
                md_root="../" * (len(PurePosixPath(entry.page).parts) - 1),
                ranked_count=ranked_count,
                consistent_count=consistent_count,
                task_counts=task_counts,
                card_yaml=_card_snippet(entry, commit),
                software=software[entry.key],
                other_revisions=[f for f in inputs.other_results if f.model_key == entry.model_key],
                **model_context(entry, medians, specialties, by_id),
            ),
        )
        site.copies[entry.results_download] = paths[entry.key]


def _task_pages(site: RenderedSite, env, entries: list[ModelEntry], inputs: SiteInputs) -> None:
    rules: RankingRules = env.globals["rules"]
    leaders = {}
    template = env.get_template("task.md.j2")
    for name in TASK_NAMES:
        ranked = sorted(
            (e for e in entries if name in e.task_places),
            key=lambda e, n=name: (-e.result.tasks[n].acc, e.model_id.lower()),
        )
        unranked = [
            (e, task_unranked_reason(e.result, name, rules.sample_site))
            for e in entries
            if name not in e.task_places and e.task(name) is not None
        ]
        leaders[name] = ranked[0] if ranked else None
        site.add_page(
            f"tasks/{name}.md",
            template.render(
                root=root_prefix(f"tasks/{name}.md"),
                spec=TASKS[name],
                fact=FACTS[name],
                ranked=ranked,
                unranked=unranked,
                references=[r for r in inputs.references if r.accuracy(name) is not None],
            ),
        )
    site.add_page(
        "tasks/index.md",
        env.get_template("tasks_index.md.j2").render(root="../", leaders=leaders),
    )


def _size_plot(entries: list[ModelEntry], inputs: SiteInputs) -> str:
    points = [
        svg_plots.ScatterPoint(e.model_id, e.params, e.average.value, f"models/{e.key}/")
        for e in entries
        if e.average and e.params
    ]
    chance = sum(FACTS[n].baseline.chance for n in TASK_NAMES) / len(TASK_NAMES)
    lines = [  # the plot is of loglik averages: references of that setting, one protocol each
        svg_plots.ReferenceLine(f"{r.name} (reported, {r.setting_kind})", r.one_protocol_average)
        for r in inputs.references
        if r.one_protocol_average is not None and r.track == "loglik"
    ]
    lines.append(svg_plots.ReferenceLine(f"chance {percent_label(chance)}", chance, kind="chance"))
    return svg_plots.size_vs_average(points, lines) if points else ""


def _majority_reference() -> tuple[str, str]:
    """PubMedQA's majority answer as accuracy and chance-normalised, in percent, as text."""
    baseline = FACTS["pubmedqa"].baseline
    majority = baseline.majority or 0.0
    return percent_text(majority), percent_text(baseline.normalized(majority))


def _card_snippet(entry: ModelEntry, commit: str | None = None) -> str:
    """A Hub model-card `model-index` block with this model's scores, built by huggingface_hub's
    own `EvalResult` and `eval_results_to_model_index`, so the Hub's `ModelCard` loads it.

    The source (name and url, which the Hub requires together) is the model's results file on
    the default branch, as the pages build under GitHub Actions knows it; elsewhere (a local
    build) the CI run that produced the scores, else no source.
    """
    from huggingface_hub.repocard_data import eval_results_to_model_index

    results = eval_results(entry.result.tasks, _results_url(entry, commit))
    index = eval_results_to_model_index(entry.model_id, results)
    return "\n".join(_yaml_block({"model-index": index}))


def _results_url(entry: ModelEntry, commit: str | None) -> str | None:
    """The results file at the built commit (a permalink: a re-evaluation does not move it)."""
    url = repository_url()
    if url:
        return Repository(url).file_on(commit or "HEAD", entry.results_file)
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
