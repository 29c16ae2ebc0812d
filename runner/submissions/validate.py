"""The validation flow: every check of `runner.submissions.checks.CHECKS`, in order, per file.

Each file goes through the YAML itself, the schema, the path, then (with `changed_from`) what the
pull request changes and whether the revision is new, then the model on the Hub (or in
`model_dir`). A failed check never stops the report: every problem of the YAML and of each field
is its own result on its own line, the path is checked whenever `model` is valid, the model
checks run whenever `model` and `revision` are valid (or on `model_dir` always), and a check
whose input does not exist is marked skipped. `run_validation` is
`medlb validate`: it collects the reports, prints them (one log group per file under GitHub
Actions), annotates the diff, writes the job summary and returns the exit status: 0 valid,
1 invalid, 3 could not check (the Hub did not answer; re-run), 1 winning over 3.
"""

from __future__ import annotations

import sys
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from runner import github_actions
from runner.errors import EXIT_COULD_NOT_CHECK, EXIT_INVALID, UsageError
from runner.submissions import repo_checks
from runner.submissions.checks import HUB_CHECK_IDS, MODEL_CHECK_IDS, CheckResult, skipped
from runner.submissions.report import (
    FileReport,
    check_width,
    render_annotations,
    render_count,
    render_file_text,
    render_json,
    render_markdown,
)
from runner.submissions.safe_yaml import FileError
from runner.submissions.schema import (
    SUBMISSIONS_DIR,
    Submission,
    path_problem,
    read_submission_mapping,
    review_mapping,
)

_PARSE_FAILED = "the file did not parse"


@dataclass(frozen=True)
class ModelCheckMode:
    """Where the model checks look: the Hub (default), a local directory, or nowhere."""

    offline: bool = False
    model_dir: Path | None = None


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
    return exit_status(reports)


def exit_status(reports: list[FileReport]) -> int:
    """1 when any file is invalid (a verdict), else 3 when any could not be checked, else 0."""
    verdicts = {report.verdict for report in reports}
    if "invalid" in verdicts:
        return EXIT_INVALID
    if "unchecked" in verdicts:
        unchecked = sum(report.verdict == "unchecked" for report in reports)
        print(
            f"medlb: error: could not check {unchecked} file{'s' if unchecked > 1 else ''}: "
            "the Hub did not answer, which says nothing about the submission; re-run the check",
            file=sys.stderr,
        )
        return EXIT_COULD_NOT_CHECK
    return 0


def print_reports(reports: list[FileReport], *, as_json: bool) -> None:
    """The report on stdout; under GitHub Actions one log group per file, annotations on the
    problems' lines, and the job summary."""
    actions = github_actions.in_actions()
    if as_json:
        print(render_json(reports))
    width = check_width(reports)
    for report in reports:
        if not as_json:
            with github_actions.log_group(f"{report.path}: {report.verdict}"):
                print(render_file_text(report, width))
        for command in render_annotations(report) if actions else []:
            print(command, file=sys.stderr if as_json else sys.stdout)  # stdout: one JSON doc
    if not as_json:
        print(render_count(reports))
    if actions:
        github_actions.append_summary(render_markdown(reports))


def validate_changes(ref: str, cwd: Path, mode: ModelCheckMode) -> list[FileReport]:
    """What a pull request changed since `ref`: the scope verdict on every changed path, and
    every check on the one submission it may add or update."""
    root = repo_checks.repository_root(cwd)
    repo_checks.refuse_uncommitted_submissions(root)
    review = repo_checks.review_changes(repo_checks.changed_files(root, ref))
    base = repo_checks.GitRefFiles(root, ref)
    reports = []
    for path, scope in review.scope.items():
        if path in review.submissions:
            report = validate_file(root / path, path, mode, base=base, scope=scope)
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
    path: Path,
    display: str,
    mode: ModelCheckMode,
    *,
    base: repo_checks.BaseFiles | None = None,
    scope: CheckResult | None = None,
) -> FileReport:
    """Every check on one submission file, as a `FileReport`; with `base` (`--changed-from`) also
    the pull request's `scope` result and the resubmission check, in `CHECKS` order."""
    report = FileReport(display)
    file_results, submission, reason, target = _file_results(path, display)
    report.results += file_results
    if scope is not None:
        report.results.append(scope)  # "pr-scope" comes right after "path"
    if base is not None:
        if submission is None:
            report.results += skipped(["resubmission"], reason)
        else:
            report.results.append(repo_checks.resubmission_check(base, submission, display))
    # The model checks need only what they read (a valid `model` and `revision`, or --model-dir),
    # so a problem in another field never costs the submitter a second push to hear about them.
    report.results += _model_results(target, submission, mode, reason)
    return report


def _file_results(
    path: Path, display: str
) -> tuple[list[CheckResult], Submission | None, str, tuple[str, str] | None]:
    """The "yaml", "schema" and "path" results; the submission when the schema holds; why the
    checks that need it are skipped when it does not; and (model, revision) when both are valid,
    whatever else failed."""
    try:
        mapping = read_submission_mapping(path, display)
    except FileError as err:
        results = [CheckResult("yaml", "fail", p.reason, p.line) for p in err.problems]
        return results + skipped(["schema", "path"], _PARSE_FAILED), None, _PARSE_FAILED, None
    results = [CheckResult("yaml", "fail", p.reason, p.line) for p in mapping.problems]
    if not mapping.problems:
        summary = f"one mapping of {len(mapping.data)} keys, safely parsed"
        results.append(CheckResult("yaml", "pass", summary))
    review = review_mapping(mapping)
    results += [CheckResult("schema", "fail", p.reason, p.line) for p in review.problems]
    submission = review.submission
    if submission is not None:
        derived = f" from {submission.base_model}" if submission.base_model else ""
        evidence = (
            f"{submission.model} at {submission.revision[:12]}, {submission.precision}, "
            f"{submission.model_type}{derived}, license {submission.license}"
        )
        results.append(CheckResult("schema", "pass", evidence))
    results.append(_path_result(review.model, path, mapping.key_lines.get("model")))
    target = (review.model, review.revision) if review.model and review.revision else None
    return results, submission, "the schema check failed", target


def _path_result(model: str | None, path: Path, line: int | None) -> CheckResult:
    """The path rule needs only a valid `model`, so it runs even when other fields fail."""
    if model is None:
        return CheckResult("path", "skip", "`model` is not valid")
    problem = path_problem(model, path)
    if problem is not None:
        return CheckResult("path", "fail", problem, line or 1)
    return CheckResult("path", "pass", f"matches {model}")


def _model_results(
    target: tuple[str, str] | None,
    submission: Submission | None,
    mode: ModelCheckMode,
    reason: str,
) -> list[CheckResult]:
    """The Hub and model checks: on `--model-dir` always, on the Hub when `model` and `revision`
    are valid (`target`), else skipped with `reason`. The tracks are the submission's `tracks:`
    (None, the default, when the file did not validate)."""
    from runner.submissions import hub_checks, model_checks

    tracks = submission.tracks if submission is not None else None
    if mode.model_dir is not None:
        source = model_checks.local_model_source(mode.model_dir)
        local = skipped(HUB_CHECK_IDS, f"--model-dir: checking {mode.model_dir} instead")
        return local + model_checks.run_model_checks(source, tracks)
    if mode.offline:
        return skipped(HUB_CHECK_IDS + MODEL_CHECK_IDS, "--offline")
    if target is None:
        missing = "`model` or `revision` is not valid" if reason != _PARSE_FAILED else reason
        return skipped(HUB_CHECK_IDS + MODEL_CHECK_IDS, missing)
    return hub_checks.check_hub_model(*target, tracks)
