"""The validation flow: every check of `runner.submissions.checks.CHECKS`, in order, per file.

Each file goes through the YAML itself, the schema, the path, then (with `changed_from`) what the
pull request changes and whether the revision is new, then the model on the Hub (or in
`model_dir`). A failed check never stops the report: later checks run when their input exists and
are marked skipped otherwise. `run_validation` is `medlb validate`: it collects the reports,
prints them and, under GitHub Actions, annotates the diff and writes the job summary.
"""

from __future__ import annotations

import sys
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from runner import github_actions
from runner.errors import UsageError
from runner.submissions import repo_checks
from runner.submissions.checks import CHECKS, HUB_CHECK_IDS, CheckResult, skipped
from runner.submissions.report import (
    FileReport,
    render_annotations,
    render_json,
    render_markdown,
    render_text,
)
from runner.submissions.safe_yaml import FileError, load_yaml_mapping
from runner.submissions.schema import (
    SUBMISSIONS_DIR,
    check_submission_path,
    submission_from_mapping,
)


@dataclass(frozen=True)
class ModelCheckMode:
    """Where the model checks look: the Hub (default), a local directory, or nowhere."""

    offline: bool = False
    model_dir: Path | None = None


@dataclass(frozen=True)
class PullRequestBase:
    """The repository and the base ref a pull request is compared with (`--changed-from`)."""

    root: Path
    ref: str


def run_validation(
    files: Sequence[Path],
    *,
    changed_from: str | None = None,
    offline: bool = False,
    model_dir: Path | None = None,
    as_json: bool = False,
) -> int:
    """`medlb validate`: validate, print the report, annotate under Actions; the exit status."""
    if changed_from and files:
        raise UsageError("give FILE arguments or --changed-from, not both")
    if model_dir is not None:
        if len(files) != 1:
            raise UsageError("--model-dir needs exactly one FILE")
        if not model_dir.is_dir():
            raise UsageError(f"--model-dir {model_dir}: not a directory")
    mode = ModelCheckMode(offline=offline, model_dir=model_dir)
    if changed_from:
        reports = validate_changes(changed_from, Path.cwd(), mode)
    else:
        reports = validate_paths(files, mode)
    print_reports(reports, as_json=as_json)
    return 0 if all(report.valid for report in reports) else 1


def print_reports(reports: list[FileReport], *, as_json: bool) -> None:
    """The report on stdout; under GitHub Actions also annotations and the job summary."""
    actions = github_actions.in_actions()
    annotations = render_annotations(reports) if actions else []
    print(render_json(reports) if as_json else render_text(reports))
    for command in annotations:  # stderr under --json, so stdout stays one JSON document
        print(command, file=sys.stderr if as_json else sys.stdout)
    if actions:
        github_actions.append_summary(render_markdown(reports))


def validate_changes(ref: str, cwd: Path, mode: ModelCheckMode) -> list[FileReport]:
    """What a pull request changed since `ref`: the scope verdict on every changed path, and
    every check on the one submission it may add or update."""
    root = repo_checks.repository_root(cwd)
    review = repo_checks.review_changes(repo_checks.changed_files(root, ref))
    base = PullRequestBase(root, ref)
    reports = []
    for path, scope in review.scope.items():
        if path in review.submissions:
            report = validate_file(root / path, path, mode, pr=base)
            after_path = [r.check for r in report.results].index("path") + 1
            report.results.insert(after_path, scope)  # in CHECKS order
        else:
            report = FileReport(path, [scope])
        reports.append(report)
    if not reports:
        nothing = CheckResult("pr-scope", "pass", f"HEAD changes no files since {ref}")
        return [FileReport("(no changes)", [nothing])]
    return reports


def validate_paths(names: Sequence[Path], mode: ModelCheckMode) -> list[FileReport]:
    """Every named file, every *.yaml/*.yml below a named folder; no names: ./submissions."""
    if not names and not Path(SUBMISSIONS_DIR).is_dir():
        raise UsageError("no FILE given and no ./submissions directory here")
    named = list(names) or [Path(SUBMISSIONS_DIR)]
    paths = [path for name in named for path in _expand(name)]
    return [validate_file(path, str(path), mode) for path in paths]


def _expand(path: Path) -> list[Path]:
    """A directory stands for every *.yaml/*.yml below it; a file (or anything else) for itself."""
    if not path.is_dir():
        return [path]
    files = sorted(p for p in path.rglob("*") if p.suffix in (".yaml", ".yml"))
    if not files:
        raise UsageError(f"{path}: holds no *.yaml submission files")
    return files


def validate_file(
    path: Path, display: str, mode: ModelCheckMode, *, pr: PullRequestBase | None = None
) -> FileReport:
    """Every check on one submission file, as a `FileReport`."""
    from runner.submissions import hub_checks, model_checks

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
        report.results.append(repo_checks.check_resubmission(pr.root, pr.ref, submission, display))
        later.remove("resubmission")
    if mode.model_dir is not None:
        report.results += skipped(HUB_CHECK_IDS, f"--model-dir: checking {mode.model_dir} instead")
        source = model_checks.local_model_source(mode.model_dir)
        report.results += model_checks.run_model_checks(source)
    elif mode.offline:
        report.results += skipped(later, "--offline")
    else:
        report.results += hub_checks.check_hub_model(submission.model, submission.revision)
    return report
