"""`medlb data fetch DIR` and `medlb data check DIR`: make and verify an offline data directory.

A data directory (`DIR/<task>.jsonl` or `.parquet`, rows in the Hub's columns) is what
`medlb evaluate --data-dir DIR` reads, so that a self-hosted runner evaluates from a pre-fetched,
verified copy instead of the network.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from runner.data import check_columns, load_task_rows, rows_sha256, write_task_rows
from runner.errors import UserError
from runner.submission import COMMIT_SHA
from runner.tasks import TASK_NAMES, TaskSpec, build_items, resolve_tasks

Downloader = Callable[[TaskSpec], list[dict[str, Any]]]

TASKS_HELP = f"comma-separated task names (default: all nine): {', '.join(TASK_NAMES)}"

FETCH_DESCRIPTION = """\
Download each task's split from the Hugging Face Hub at the commit pinned in the task registry
(runner/tasks.py) and write DIR/<task>.jsonl (rows in the Hub's own columns, split order, one JSON
object a line). Each file is validated (columns, types, gold values, row count) before it is
written, and written atomically. A task without a pinned revision is refused: medlb never reads
a moving branch. Needs network access and the `datasets` package.
"""

CHECK_DESCRIPTION = """\
Validate a data directory offline: for every task, DIR/<task>.jsonl or DIR/<task>.parquet exists,
every row has the columns the prompt reads with the Hub's types, every gold value is valid, and
the row count matches the registry (fewer rows is reported as "partial"). Prints rows, expected
rows and the sha256 of the rows (canonical JSON lines, the digest recorded in results.json).
"""

PIN_DESCRIPTION = """\
For maintainers, on a machine with network access: ask the Hub which commit each task's rows
would be read at today (the dataset repository's head, or for a loading-script dataset the head
of its parquet conversion, refs/convert/parquet) and print the line to put in runner/tasks.py.
Nothing is changed: review the dataset at that commit, then commit the pin. Tasks already pinned
are listed with their pin unless --tasks names them.
"""

DATA_EPILOG = """\
examples:
  medlb data fetch data/ --tasks medqa_4options,medmcqa   # on a machine with network access
  medlb data check data/ --require-complete               # offline, before evaluating
  medlb data pin --tasks pubmedqa                         # maintainers: resolve a revision
  medlb evaluate --model ./my-model --data-dir data/ --output out/
exit status: 0 success, 1 invalid or missing data (the message names the file), 2 usage error.
"""


def register(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser(
        "data",
        help="fetch or check an offline data directory (DIR/<task>.jsonl)",
        description="Make (fetch) or verify (check) the data directory that --data-dir reads.",
        epilog=DATA_EPILOG,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    actions = parser.add_subparsers(title="actions", metavar="ACTION")
    actions.required = True

    _add_action(
        actions,
        "fetch",
        help="download the pinned dataset revisions into DIR",
        description=FETCH_DESCRIPTION,
        dir_help="directory to write (created)",
        handler=_run_fetch,
    )
    check = _add_action(
        actions,
        "check",
        help="validate DIR offline and print row counts and sha256",
        description=CHECK_DESCRIPTION,
        dir_help="data directory to validate",
        handler=_run_check,
    )
    pin = actions.add_parser(
        "pin",
        help="print the Hub commit to pin for each task (maintainers; needs network)",
        description=PIN_DESCRIPTION,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    pin.add_argument("--tasks", metavar="A,B", help=TASKS_HELP)
    pin.set_defaults(handler=_run_pin)
    check.add_argument(
        "--require-complete",
        action="store_true",
        help="fail (exit 1) when a file has fewer rows than the full split, e.g. sample data",
    )


def _add_action(
    actions: argparse._SubParsersAction,
    name: str,
    *,
    help: str,
    description: str,
    dir_help: str,
    handler: Callable[[argparse.Namespace], int],
) -> argparse.ArgumentParser:
    """A `medlb data` action: DIR plus --tasks, the two arguments every action takes."""
    action = actions.add_parser(
        name,
        help=help,
        description=description,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    action.add_argument("dir", metavar="DIR", type=Path, help=dir_help)
    action.add_argument("--tasks", metavar="A,B", help=TASKS_HELP)
    action.set_defaults(handler=handler)
    return action


# ---- fetch ------------------------------------------------------------------------------------


def _run_fetch(args: argparse.Namespace) -> int:
    from runner.hub import download_task_rows

    for spec, path, sha in fetch_tasks(resolve_tasks(args.tasks), args.dir, download_task_rows):
        print(f"{spec.name}: {spec.n_total} rows -> {path} (sha256 {sha})")
    return 0


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
            f"runner/tasks.py pins no dataset revision for {', '.join(unpinned)}; "
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
                f"{spec.n_total} (runner/tasks.py n_total)"
            )
        written.append((spec, write_task_rows(out_dir, spec, rows), rows_sha256(rows)))
    return written


def _validate(spec: TaskSpec, rows: list[dict[str, Any]], source: str) -> None:
    check_columns(spec, rows, source)
    build_items(spec, rows, source=source)  # gold values, final_decision, ...


# ---- pin --------------------------------------------------------------------------------------

Resolver = Callable[[TaskSpec], str]


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
            "review it, then pin it in runner/tasks.py"
        )
    return lines


def _run_pin(args: argparse.Namespace) -> int:
    from runner.hub import resolve_dataset_revision

    specs = resolve_tasks(args.tasks)
    for line in pin_lines(specs, args.tasks is not None, resolve_dataset_revision):
        print(line)
    return 0


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


def _run_check(args: argparse.Namespace) -> int:
    reports = [check_task(spec, args.dir) for spec in resolve_tasks(args.tasks)]
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
    if args.require_complete:
        failed += [r.task for r in reports if not r.problem and not r.complete]
    if failed:
        raise UserError(f"{args.dir}: {len(failed)} of {len(reports)} tasks failed the check")
    return 0
