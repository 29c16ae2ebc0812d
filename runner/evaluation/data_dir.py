"""An offline data directory (`DIR/<task>.jsonl` or `.parquet`, rows in the Hub's columns):
fetch it from the pinned revisions, check it, and resolve the revisions to pin.

A self-hosted runner evaluates from such a pre-fetched, verified copy (`--data-dir`) instead of
the network. `medlb data fetch|check|pin` are thin wrappers around `fetch_tasks`,
`check_data_dir` and `pin_lines`; the Hub is reached only through the callables they are given
(`runner.hub` in use), so everything here is tested offline.
"""

from __future__ import annotations

import sys
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from runner.errors import UserError
from runner.evaluation.task_data import check_columns, load_task_rows, rows_sha256, write_task_rows
from runner.evaluation.tasks import TaskSpec, build_items
from runner.submissions.schema import COMMIT_SHA

Downloader = Callable[[TaskSpec], list[dict[str, Any]]]
Resolver = Callable[[TaskSpec], str]
# ---- fetch ------------------------------------------------------------------------------------


def fetch_tasks(
    specs: list[TaskSpec], out_dir: Path, download: Downloader
) -> list[tuple[TaskSpec, Path, str]]:
    """Download, validate and write each task; `download` is `hub.download_task_rows` in use.

    Every unpinned task is refused before anything is downloaded, so a run either writes all the
    requested files or stops with nothing half-done for the refused ones.
    """
    unpinned = [spec.name for spec in specs if spec.revision is None]
    if unpinned:
        pinned = [spec.name for spec in specs if spec.revision is not None]
        hint = f"; fetch the others with --tasks {','.join(pinned)}" if pinned else ""
        raise UserError(
            f"runner/evaluation/tasks.py pins no dataset revision for {', '.join(unpinned)}; "
            f"medlb reads no moving branch{hint}"
        )
    written = []
    for spec in specs:
        print(f"fetching {spec.name} from {spec.dataset}@{spec.revision} ...", file=sys.stderr)
        rows = download(spec)
        source = f"{spec.dataset}@{spec.revision}"
        _validate(spec, rows, source)
        if len(rows) != spec.n_total:
            raise UserError(
                f"{source}: split {spec.split!r} has {len(rows)} rows, the registry expects "
                f"{spec.n_total} (runner/evaluation/tasks.py n_total)"
            )
        written.append((spec, write_task_rows(out_dir, spec, rows), rows_sha256(rows)))
    return written


def _validate(spec: TaskSpec, rows: list[dict[str, Any]], source: str) -> None:
    check_columns(spec, rows, source)
    build_items(spec, rows, source=source)  # gold values, final_decision, ...


# ---- pin --------------------------------------------------------------------------------------


def pin_lines(specs: list[TaskSpec], explicit: bool, resolve: Resolver) -> list[str]:
    """One line per task: the revision to pin (resolved through `resolve`, which is
    `hub.resolve_dataset_revision` in use) or, when not asked for explicitly, the existing pin."""
    lines = []
    for spec in specs:
        if spec.revision is not None and not explicit:
            lines.append(f"{spec.name}: pinned at {spec.revision} ({spec.data_source})")
            continue
        sha = resolve(spec)
        if not COMMIT_SHA.fullmatch(sha):
            raise UserError(f"{spec.dataset}: the Hub answered {sha[:60]!r}, not a commit SHA")
        change = "" if spec.revision in (None, sha) else f" (pinned now: {spec.revision})"
        lines.append(
            f"{spec.name}: {spec.dataset} {spec.data_source} is at {sha}{change}; "
            "review it, then pin it in runner/evaluation/tasks.py"
        )
    return lines


# ---- check ------------------------------------------------------------------------------------


@dataclass(frozen=True)
class TaskFileReport:
    task: str
    rows: int | None  # None: the file could not be read
    expected: int
    sha256: str
    problem: str  # "" when the file is valid

    @property
    def complete(self) -> bool:
        return self.rows == self.expected


def check_task(spec: TaskSpec, data_dir: Path) -> TaskFileReport:
    try:
        loaded = load_task_rows(spec, data_dir)
        build_items(spec, loaded.rows, source=loaded.source)
    except UserError as err:
        return TaskFileReport(spec.name, None, spec.n_total, "", str(err))
    return TaskFileReport(spec.name, len(loaded.rows), spec.n_total, loaded.sha256, "")


def check_data_dir(data_dir: Path, specs: list[TaskSpec], *, require_complete: bool) -> None:
    """Print a table of every task's file (rows, expected rows, status, sha256) and the problems;
    a `UserError` when any file fails (or, with `require_complete`, holds a partial split)."""
    reports = [check_task(spec, data_dir) for spec in specs]
    width = max(len(report.task) for report in reports)
    print(f"{'task':<{width}}  {'rows':>5}  {'of':>5}  {'status':<8}  sha256")
    for report in reports:
        if report.problem:
            print(f"{report.task:<{width}}  {'-':>5}  {report.expected:>5}  error     -")
            continue
        status = "ok" if report.complete else "partial"
        print(
            f"{report.task:<{width}}  {report.rows:>5}  {report.expected:>5}  "
            f"{status:<8}  {report.sha256}"
        )
    for report in reports:
        if report.problem:
            print(f"error: {report.problem}", file=sys.stderr)
    failed = [r.task for r in reports if r.problem]
    if require_complete:
        failed += [r.task for r in reports if not r.problem and not r.complete]
    if failed:
        raise UserError(f"{data_dir}: {len(failed)} of {len(reports)} tasks failed the check")
