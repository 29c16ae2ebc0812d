"""`medlb data fetch DIR` and `medlb data check DIR`: make and verify an offline data directory.

A data directory (`DIR/<task>.jsonl` or `.parquet`, rows in the Hub's columns) is what
`medlb evaluate --data-dir DIR` reads, so that a self-hosted runner evaluates from a pre-fetched,
verified copy instead of the network.
"""

from __future__ import annotations

import argparse
from collections.abc import Callable
from pathlib import Path

from runner.evaluation.tasks import TASK_NAMES, resolve_tasks

TASKS_HELP = f"comma-separated task names (default: all nine): {', '.join(TASK_NAMES)}"

FETCH_DESCRIPTION = """\
Download each task's split from the Hugging Face Hub at the commit pinned in the task registry
(runner/evaluation/tasks.py) and write DIR/<task>.jsonl (rows in the Hub's own columns, split
order, one JSON object a line). Each file is validated (columns, types, gold values, row count)
before it is written, and written atomically. A task without a pinned revision is refused: medlb
never reads a moving branch. Needs network access and the `datasets` package.
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
of its parquet conversion, refs/convert/parquet) and print the line to put in
runner/evaluation/tasks.py.
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


# ---- handlers: arguments in, one domain call (runner.evaluation.data_dir) ---------------------


def _run_fetch(args: argparse.Namespace) -> int:
    from runner.evaluation.data_dir import fetch_tasks
    from runner.hub import download_task_rows

    for spec, path, sha in fetch_tasks(resolve_tasks(args.tasks), args.dir, download_task_rows):
        print(f"{spec.name}: {spec.n_total} rows -> {path} (sha256 {sha})")
    return 0


def _run_pin(args: argparse.Namespace) -> int:
    from runner.evaluation.data_dir import pin_lines
    from runner.hub import resolve_dataset_revision

    specs = resolve_tasks(args.tasks)
    for line in pin_lines(specs, args.tasks is not None, resolve_dataset_revision):
        print(line)
    return 0


def _run_check(args: argparse.Namespace) -> int:
    from runner.evaluation.data_dir import check_data_dir

    check_data_dir(args.dir, resolve_tasks(args.tasks), require_complete=args.require_complete)
    return 0
