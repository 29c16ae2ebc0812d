"""`medlb site build` / `medlb site serve`: the static leaderboard site (runner/sitegen)."""

from __future__ import annotations

import argparse
from pathlib import Path

DESCRIPTION = """\
Build the leaderboard site: read results/, submissions/, references/ and flags/, render Markdown
pages from the jinja2 templates in site/templates, and run `mkdocs build --strict` with mkdocs.yml.
A malformed input file stops the build with its name and field; the previous site stays. A flag
of a submitted model without a result yet is a warning; a flag of an unknown model is an error.
"""

DEFAULT_OUT = Path(".site-build/html")
DEFAULT_PAGES = Path(".site-build/docs")
INPUT_DIRS = (  # flag, default directory, what it holds
    ("--results", "results", "results/<org>/<model>.json and .failure.json files"),
    ("--submissions", "submissions", "<org>/<model>.yaml files; those without results are pending"),
    ("--references", "references", "paper-reported scores of closed models, *.yaml"),
    ("--flags", "flags", "maintainer flags, <org>/<model>.yaml: the site marks those models"),
)


def register(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser(
        "site",
        help="build or serve the static leaderboard site",
        description=DESCRIPTION,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    actions = parser.add_subparsers(title="actions", metavar="ACTION")
    actions.required = True

    build = actions.add_parser(
        "build", help="generate the pages and build the HTML", description=DESCRIPTION
    )
    _add_build_options(build)
    build.set_defaults(handler=_build)

    serve = actions.add_parser(
        "serve",
        help="build, then serve the HTML on localhost",
        description="Build the site (same options as `build`), then serve it until Ctrl-C.",
    )
    _add_build_options(serve)
    serve.add_argument(
        "--host", default="127.0.0.1", help="address to listen on (default: 127.0.0.1)"
    )
    serve.add_argument(
        "--port",
        type=int,
        default=8000,
        help="port to listen on; 0 picks a free one (default: 8000)",
    )
    serve.set_defaults(handler=_serve)


def _add_build_options(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--out",
        type=Path,
        default=DEFAULT_OUT,
        metavar="DIR",
        help=f"where the HTML goes; replaced only when the build succeeds (default: {DEFAULT_OUT})",
    )
    parser.add_argument(
        "--pages-dir",
        type=Path,
        default=DEFAULT_PAGES,
        metavar="DIR",
        help=f"where the generated Markdown goes, mkdocs' docs_dir (default: {DEFAULT_PAGES})",
    )
    for flag, default, what in INPUT_DIRS:
        parser.add_argument(
            flag,
            type=Path,
            default=Path(default),
            metavar="DIR",
            help=f"{what} (default: {default})",
        )
    parser.add_argument(
        "--details",
        type=Path,
        metavar="DIR",
        help="a checkout of the details branch (<org>/<model>/<revision>/predictions/"
        "<task>.jsonl): each file is checked against the predictions_sha256 of its result and "
        "becomes a question view; a model without details gets none, said on its page "
        "(default: no question views)",
    )
    parser.add_argument(
        "--config",
        type=Path,
        default=Path("mkdocs.yml"),
        metavar="FILE",
        help="the mkdocs configuration; the site's templates are read from site/ beside it "
        "(default: mkdocs.yml)",
    )
    parser.add_argument(
        "--repo-url",
        metavar="URL",
        help="the GitHub repository readers open pull requests on, https://github.com/OWNER/NAME "
        "(default: repo_url in the mkdocs configuration)",
    )
    parser.add_argument(
        "--quiet",
        action="store_true",
        help="print nothing but errors and warnings (default: print timings)",
    )


def _options(args: argparse.Namespace):
    from runner.sitegen.build import BuildOptions

    return BuildOptions(
        config_file=args.config,
        out_dir=args.out,
        pages_dir=args.pages_dir,
        results_dir=args.results,
        submissions_dir=args.submissions,
        references_dir=args.references,
        repo_url=args.repo_url,
        details_dir=args.details,
        flags_dir=args.flags,
    )


def _build(args: argparse.Namespace) -> int:
    from runner.sitegen.build import build_and_report

    build_and_report(_options(args), quiet=args.quiet)
    return 0


def _serve(args: argparse.Namespace) -> int:
    from runner.sitegen.build import build_and_serve

    build_and_serve(_options(args), quiet=args.quiet, host=args.host, port=args.port)
    return 0
