"""`medlb validate`: accept or reject submission files, saying what was checked and why.

Each file goes through the checks of `runner.model_checks.CHECKS` in order: the YAML itself, the
schema, the path, then (with `--changed-from`) what the pull request changes and whether the
revision is new, then the model on the Hub (or in `--model-dir`). A failed check never stops the
report: later checks run when their input exists and are marked skipped otherwise.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import TYPE_CHECKING

from runner.errors import UsageError

if TYPE_CHECKING:  # the modules themselves load in the handler, keeping `medlb --help` fast
    from runner.validation_report import FileReport

DESCRIPTION = """\
Validate submission files (submissions/<org>/<model>.yaml).

Checks, in order: safe YAML; schema; file path; with --changed-from, the pull request's scope and
that the revision is new; then the model: public and not gated on the Hub, revision is a commit,
safetensors weights, no custom code, config and tokenizer load with transformers' Auto classes,
the model class instantiates on the meta device, parameter count from safetensors headers.
Model checks download only config and tokenizer files and safetensors headers, never weights.

With no FILES and no --changed-from, every file under ./submissions is validated.
"""

EPILOG = """\
exit status: 0 every file valid, 1 at least one invalid, 2 usage error.
Under GitHub Actions (GITHUB_ACTIONS=true) failures are also printed as ::error annotations and a
Markdown summary is appended to $GITHUB_STEP_SUMMARY.
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
        "and revisions already submitted or evaluated on GIT_REF; uncommitted files are ignored",
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
    from runner import github_actions, validation_report

    if args.changed_from and args.files:
        raise UsageError("give FILE arguments or --changed-from, not both")
    if args.model_dir is not None:
        if len(args.files) != 1:
            raise UsageError("--model-dir needs exactly one FILE")
        if not args.model_dir.is_dir():
            raise UsageError(f"--model-dir {args.model_dir}: not a directory")
    reports = _collect_reports(args)

    actions = github_actions.in_actions()
    annotations = validation_report.render_annotations(reports) if actions else []
    if args.json:
        print(validation_report.render_json(reports))
    else:
        print(validation_report.render_text(reports))
    for command in annotations:  # stderr under --json, so stdout stays one JSON document
        print(command, file=sys.stderr if args.json else sys.stdout)
    if actions:
        github_actions.append_summary(validation_report.render_markdown(reports))
    return 0 if all(report.valid for report in reports) else 1


def _collect_reports(args: argparse.Namespace) -> list[FileReport]:
    from runner import repo_checks
    from runner.model_checks import CheckResult
    from runner.validation_report import FileReport

    if args.changed_from:
        root = repo_checks.repository_root(Path.cwd())
        review = repo_checks.review_changes(repo_checks.changed_files(root, args.changed_from))
        reports = []
        for path, scope in review.scope.items():
            if path in review.submissions:
                report = validate_file(root / path, path, args, pr=(root, args.changed_from))
                after_path = [r.check for r in report.results].index("path") + 1
                report.results.insert(after_path, scope)  # in CHECKS order
            else:
                report = FileReport(path, [scope])
            reports.append(report)
        if not reports:
            nothing = CheckResult(
                "pr-scope", "pass", f"HEAD changes no files since {args.changed_from}"
            )
            return [FileReport("(no changes)", [nothing])]
        return reports
    from runner.submission import SUBMISSIONS_DIR

    if not args.files and not Path(SUBMISSIONS_DIR).is_dir():
        raise UsageError("no FILE given and no ./submissions directory here")
    named = [Path(name) for name in args.files] or [Path(SUBMISSIONS_DIR)]
    paths = [path for name in named for path in _expand(name)]
    return [validate_file(path, str(path), args, pr=None) for path in paths]


def _expand(path: Path) -> list[Path]:
    """A directory stands for every *.yaml/*.yml below it; a file (or anything else) for itself."""
    if not path.is_dir():
        return [path]
    files = sorted(p for p in path.rglob("*") if p.suffix in (".yaml", ".yml"))
    if not files:
        raise UsageError(f"{path}: holds no *.yaml submission files")
    return files


def validate_file(
    path: Path, display: str, args: argparse.Namespace, *, pr: tuple[Path, str] | None
) -> FileReport:
    """Every check on one submission file, as a `FileReport`."""
    from runner import model_checks, repo_checks
    from runner.model_checks import CHECKS, CheckResult, skipped
    from runner.safe_yaml import FileError, load_yaml_mapping
    from runner.submission import check_submission_path, submission_from_mapping
    from runner.validation_report import FileReport

    report = FileReport(display)
    later = [check.id for check in CHECKS if check.stage in ("hub", "model")]
    if pr is not None:
        later.insert(0, "resubmission")
    try:
        mapping = load_yaml_mapping(path, display)
    except FileError as err:
        report.results.append(CheckResult("yaml", "fail", err.reason, err.line))
        report.results += skipped(["schema", "path", *later], "the file did not parse")
        return report
    report.results.append(
        CheckResult("yaml", "pass", f"one mapping of {len(mapping.data)} keys, safely parsed")
    )
    try:
        submission = submission_from_mapping(mapping, display)
    except FileError as err:
        report.results.append(CheckResult("schema", "fail", err.reason, err.line))
        report.results += skipped(["path", *later], "the schema check failed")
        return report
    derived = f" from {submission.base_model}" if submission.base_model else ""
    report.results.append(
        CheckResult(
            "schema",
            "pass",
            f"{submission.model} at {submission.revision[:12]}, {submission.precision}, "
            f"{submission.model_type}{derived}, license {submission.license}",
        )
    )
    try:
        check_submission_path(submission, path, display)
        report.results.append(CheckResult("path", "pass", f"matches {submission.model}"))
    except FileError as err:
        report.results.append(CheckResult("path", "fail", err.reason, err.line))
    if pr is not None:
        report.results.append(repo_checks.check_resubmission(pr[0], pr[1], submission, display))
        later.remove("resubmission")
    if args.model_dir is not None:
        report.results += skipped(
            model_checks.HUB_CHECK_IDS, f"--model-dir: checking {args.model_dir} instead"
        )
        source = model_checks.local_model_source(args.model_dir)
        report.results += model_checks.run_model_checks(source)
    elif args.offline:
        report.results += skipped(later, "--offline")
    else:
        report.results += model_checks.check_hub_model(submission.model, submission.revision)
    return report
