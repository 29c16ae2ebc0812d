"""`medlb validate`: accept or reject submission files (runner.submissions.validate)."""

from __future__ import annotations

import argparse
from pathlib import Path

DESCRIPTION = """\
Validate submission files (submissions/<org>/<model>.yaml).

Checks, in order: safe YAML; schema; file path; with --changed-from, the pull request's scope and
that the revision is new; then the model: public and not gated on the Hub, revision is a commit,
safetensors weights, no custom code, config and tokenizer load with transformers' Auto classes,
the model class instantiates on the meta device, parameter count from safetensors headers.
Model checks download only config and tokenizer files and safetensors headers, never weights.

One run reports every problem of a file, each on its own line with what to write instead: the
YAML, every field, and the path (checked whenever `model` is valid).

With no FILES and no --changed-from, every file under ./submissions is validated.
"""

EPILOG = """\
exit status: 0 every file valid, 1 at least one invalid, 2 usage error, 3 could not check (the
Hub did not answer or rate-limited: no verdict on any file; re-run later). 1 wins over 3.
Under GitHub Actions (GITHUB_ACTIONS=true) each problem is also an ::error annotation on its line,
each file's report is a log group, and a summary table (file, verdict, first problem; every check
folded) is appended to $GITHUB_STEP_SUMMARY.
"""


def register(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser(
        "validate",
        help="check submission files (schema, path, PR scope, model on the Hub)",
        description=DESCRIPTION,
        epilog=EPILOG,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument(
        "files",
        nargs="*",
        metavar="FILE",
        help="submission files or folders to validate (default: every file under ./submissions)",
    )
    parser.add_argument(
        "--changed-from",
        metavar="GIT_REF",
        help="validate what HEAD's commits changed since GIT_REF (git diff GIT_REF...HEAD): "
        "reject changes outside submissions/, deletions, renames, more than one submission "
        "and revisions already submitted or evaluated on GIT_REF; refused (exit 2) while "
        "submissions/ has uncommitted or untracked files, which a pull request would not hold",
    )
    parser.add_argument(
        "--offline",
        action="store_true",
        help="skip the checks that need the Hub (access, revision and, without --model-dir, "
        "the model checks); everything else still runs",
    )
    parser.add_argument(
        "--model-dir",
        type=Path,
        metavar="DIR",
        help="run the model checks on this local model directory instead of the Hub "
        "(one FILE only; the Hub access checks are skipped)",
    )
    parser.add_argument(
        "--json",
        action="store_true",
        help="print a machine-readable JSON report on stdout instead of the text report",
    )
    parser.set_defaults(handler=_run)


def _run(args: argparse.Namespace) -> int:
    from runner.submissions.validate import run_validation

    return run_validation(
        [Path(name) for name in args.files],
        changed_from=args.changed_from,
        offline=args.offline,
        model_dir=args.model_dir,
        as_json=args.json,
    )
