"""`medlb results migrate`: the old one-file-per-model results layout moved to one file per
revision (`runner.results_layout`)."""

from __future__ import annotations

import argparse
from pathlib import Path


def register_migrate(steps: argparse._SubParsersAction) -> None:
    p = steps.add_parser(
        "migrate",
        help="move results/<org>/<model>.json files to results/<org>/<model>/<revision>.json",
        description="Move every result and failure record of the old one-file-per-model layout "
        "to its revision's path (the revision named inside the file). Everything is checked "
        "before anything moves: a result naming no revision, or a new path already holding other "
        "bytes, is one line and exit 1 (a failure record naming none stays where it is). Commit "
        "the moves afterwards.",
    )
    p.add_argument(
        "--results-dir",
        type=Path,
        default=Path("results"),
        metavar="DIR",
        help="the repository's results directory (default: results)",
    )
    p.set_defaults(handler=_migrate)


def _migrate(args: argparse.Namespace) -> int:
    from runner.results_layout import migrate

    moves = migrate(args.results_dir)
    for source, target in moves:
        print(f"{source} -> {target}")
    print(f"migrated {len(moves)} file(s)")
    return 0
