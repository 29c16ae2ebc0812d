"""`medlb`: the command line. Each subcommand lives in `runner.commands.<name>`.

A command module exposes `register(subparsers)`, which adds its parser(s) and sets `handler`, a
function `(argparse.Namespace) -> int`. Command modules import heavy libraries (torch,
transformers, mkdocs) inside their handlers, so `medlb --help` stays instant.

What every command shares lives here, once: a `UserError` becomes one `medlb: error:` line (and,
under GitHub Actions, an `::error::` annotation and a job-summary section), and a reader that
goes away (`medlb … | head`) ends the command quietly.
"""

from __future__ import annotations

import argparse
import importlib
import os
import sys

from runner import __version__, github_actions
from runner.errors import EXIT_COULD_NOT_CHECK, UserError
from runner.untrusted_text import one_line

# The table of subcommands, in the order `medlb --help` lists them.
COMMANDS: tuple[str, ...] = ("validate", "evaluate", "data", "results", "site", "demo", "doctor")

DESCRIPTION = """\
Open Medical-LLM Leaderboard.

Submissions (submissions/<org>/<model>.yaml) are validated, evaluated zero-shot on nine medical
multiple-choice tasks on two tracks, each identical to lm-evaluation-harness (`loglik`:
log-likelihood scoring; `cot`: chain of thought with the model's chat template, for models that
have one), and published as a static site. Run `medlb demo` to see the whole pipeline on tiny
local models.
"""

EPILOG = """\
exit status: 0 success, 1 invalid input (the message names the file and field), 2 usage error,
3 could not check (the Hugging Face Hub did not answer: no verdict, re-run later).
Run `medlb COMMAND --help` for a command's options.
"""

# A process ended by SIGPIPE exits with 128 + 13; a closed pipe ends medlb the same way.
EXIT_BROKEN_PIPE = 141


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="medlb",
        description=DESCRIPTION,
        epilog=EPILOG,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("--version", action="version", version=f"medlb {__version__}")
    subparsers = parser.add_subparsers(title="commands", metavar="COMMAND", dest="command")
    subparsers.required = True
    for name in COMMANDS:
        importlib.import_module(f"runner.commands.{name}").register(subparsers)
    return parser


def main(argv: list[str] | None = None) -> int:
    try:
        parser = build_parser()
        args = parser.parse_args(argv)
        try:
            return int(args.handler(args) or 0)
        except UserError as err:
            # A refused intake writes nothing, not even an annotation or a job summary: its one
            # line is the whole answer (ARCHITECTURE.md, "Trust boundary").
            actions = not getattr(args, "writes_nothing_on_failure", False)
            report_failure(f"medlb {args.command}", err, actions=actions)
            return err.exit_code
        except KeyboardInterrupt:
            hint = getattr(args, "resume_hint", None)
            print("medlb: interrupted" + (f"; {hint}" if hint else ""), file=sys.stderr)
            return 130
    except BrokenPipeError:
        _discard_stdout()
        return EXIT_BROKEN_PIPE


def report_failure(command: str, err: UserError, *, actions: bool = True) -> None:
    """The one line on stderr; under GitHub Actions (unless `actions` is False) also an
    annotation and a summary section."""
    message = one_line(str(err))  # it may repeat untrusted text: no line of its own in a log
    print(f"medlb: error: {message}", file=sys.stderr, flush=True)
    if not (actions and github_actions.in_actions()):
        return
    if err.exit_code == EXIT_COULD_NOT_CHECK:
        title = f"{command} could not run: a service did not answer (re-run; not a verdict)"
    else:
        title = f"{command} failed"
    print(github_actions.error_line(message, title=title), flush=True)
    github_actions.append_summary(
        f"### ❌ {title}\n\n{github_actions.markdown_text(message)}\n\nexit status {err.exit_code}"
    )


def _discard_stdout() -> None:
    """The reader of stdout went away: nothing more can be shown, so point stdout at
    /dev/null, which keeps the interpreter's final flush from raising again."""
    try:
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
    except (OSError, ValueError):  # stdout is not a file (a test's capture)
        pass


if __name__ == "__main__":  # `python -m runner.cli …` works like `medlb …`
    sys.exit(main())
