"""`medlb demo`: run the whole pipeline on two tiny local models and serve the site."""

from __future__ import annotations

import argparse
import time
from pathlib import Path

from runner.errors import UsageError

DESCRIPTION = """\
Run the leaderboard's whole pipeline offline, on the embedded default: build two tiny models,
write and validate their submissions, evaluate both on the bundled sample questions, publish the
results, build the site (with the repository's paper-reported reference scores) and serve it on
localhost. Every step is the `medlb` command the GitHub workflows run, printed as it runs.
Takes well under a minute on a laptop CPU; no network is used.
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
    from runner.demo import STAGES, DemoWorkspace, run_demo

    if not 0 <= args.port < 65536:
        raise UsageError(f"--port: {args.port} is not a TCP port")
    started = time.perf_counter()
    if not (args.repo / "mkdocs.yml").is_file():
        raise UsageError(f"--repo {args.repo}: no mkdocs.yml (run from a clone of the repository)")
    site = run_demo(DemoWorkspace(args.workspace), args.repo)
    took = time.perf_counter() - started
    if args.no_serve:
        print(f"[{STAGES}/{STAGES}] Done in {took:.0f} s; the site is in {site} (not served).")
        return 0
    print(f"[{STAGES}/{STAGES}] Built in {took:.0f} s. Open the URL below to browse the demo site.")
    from runner.sitegen.serve import serve_directory

    try:
        serve_directory(site, "127.0.0.1", args.port)
    except OSError as err:
        raise UsageError(f"--port {args.port}: cannot listen ({err.strerror})") from None
    return 0
