"""`medlb demo`: run the whole pipeline on two tiny local models and serve the site."""

from __future__ import annotations

import argparse
from pathlib import Path

DESCRIPTION = """\
Run the leaderboard's whole pipeline offline, on the embedded default: build two tiny models
(one with a chat template, taught the reasoning track's "Final Answer: X" format in seconds; one
without), write and validate their submissions, evaluate both on the bundled sample questions
(the loglik track for both, the cot track for the one with a chat template), publish the results,
build the site (with the repository's paper-reported reference scores) and serve it on
localhost. Every step is the `medlb` command the GitHub workflows run, printed as it runs.
Takes about 20 s on an idle 2-core CPU and under two minutes on a busy one; no network is used.
"""

DEFAULT_WORKSPACE = Path(".medlb-demo")
# The checkout medlb is installed from (`pip install -e .`, as the Makefile does).
REPO_ROOT = Path(__file__).resolve().parents[2]


def register(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser(
        "demo",
        help="the whole pipeline on two tiny models, ending with a served site",
        description=DESCRIPTION,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument(
        "--workspace",
        type=Path,
        default=DEFAULT_WORKSPACE,
        metavar="DIR",
        help=f"where models, submissions, runs, results and the site go (default: "
        f"{DEFAULT_WORKSPACE}; re-running reuses finished evaluations)",
    )
    parser.add_argument(
        "--repo",
        type=Path,
        default=REPO_ROOT,
        metavar="DIR",
        help="the repository checkout whose mkdocs.yml, site/ and references/ (paper-reported "
        f"scores) the demo site uses (default: {REPO_ROOT})",
    )
    parser.add_argument(
        "--no-serve", action="store_true", help="build the site and stop (no web server)"
    )
    parser.add_argument(
        "--port",
        type=int,
        default=8000,
        help="localhost port to serve on; 0 picks a free one (default: 8000)",
    )
    parser.set_defaults(handler=_run)


def _run(args: argparse.Namespace) -> int:
    from runner.demo_pipeline import DemoWorkspace, demo_and_serve

    demo_and_serve(
        DemoWorkspace(args.workspace), args.repo, serve=not args.no_serve, port=args.port
    )
    return 0
