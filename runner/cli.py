"""`medlb`: the command line. Each subcommand lives in `runner.commands.<name>`.

A command module exposes `register(subparsers)`, which adds its parser(s) and sets `handler`, a
function `(argparse.Namespace) -> int`. Command modules import heavy libraries (torch,
transformers, mkdocs) inside their handlers, so `medlb --help` stays instant.
"""

from __future__ import annotations

import argparse
import importlib
import sys

from runner import __version__
from runner.errors import UserError

# The table of subcommands, in the order `medlb --help` lists them.
COMMANDS: tuple[str, ...] = ("validate", "evaluate", "data", "results", "site", "demo")

DESCRIPTION = """\
Open Medical-LLM Leaderboard.

Submissions (submissions/<org>/<model>.yaml) are validated, evaluated zero-shot on nine medical
multiple-choice tasks with log-likelihood scoring identical to lm-evaluation-harness, and published
as a static site. Run `medlb demo` to see the whole pipeline on tiny local models.
"""

EPILOG = """\
exit status: 0 success, 1 invalid input (the message names the file and field), 2 usage error.
Run `medlb COMMAND --help` for a command's options.
"""


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="medlb",
        description=DESCRIPTION,
        epilog=EPILOG,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("--version", action="version", version=f"medlb {__version__}")
    subparsers = parser.add_subparsers(title="commands", metavar="COMMAND")
    subparsers.required = True
    for name in COMMANDS:
        importlib.import_module(f"runner.commands.{name}").register(subparsers)
    return parser


def main(argv: list[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    try:
        return int(args.handler(args) or 0)
    except UserError as err:
        print(f"medlb: error: {err}", file=sys.stderr)
        return err.exit_code
    except KeyboardInterrupt:
        print("medlb: interrupted", file=sys.stderr)
        return 130
