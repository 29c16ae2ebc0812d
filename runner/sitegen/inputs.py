"""Everything the site reads, loaded and validated before a single page is written.

`results/<org>/<model>.json` (evaluated), `results/<org>/<model>.failure.json` (failed runs),
`submissions/<org>/<model>.yaml` (submitted), `references/*.yaml` (paper-reported) and
`flags/<org>/<model>.yaml` (maintainer flags). A file that does not validate stops the build with
a `UserError` naming the file and the field, so a broken results file can never publish a
half-right leaderboard; a flag of a model without a result is checked by `flags.flag_targets`.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

from runner.results_schema import EvaluationFailure, EvaluationResult, load_failure, load_result
from runner.sitegen.flags import Flag, flag_targets, load_flags
from runner.sitegen.references import ReferenceModel, load_references
from runner.submissions.schema import Submission, load_submission

FAILURE_SUFFIX = ".failure.json"


@dataclass(frozen=True)
class ResultFile:
    path: Path
    key: str  # "org/model": the file's path under results/ without its suffix
    result: EvaluationResult


@dataclass(frozen=True)
class FailureFile:
    path: Path
    key: str
    failure: EvaluationFailure


@dataclass(frozen=True)
class SubmissionFile:
    path: Path
    key: str
    submission: Submission


@dataclass(frozen=True)
class SiteInputs:
    results: list[ResultFile]
    failures: list[FailureFile]
    submissions: list[SubmissionFile]
    references: list[ReferenceModel]
    flags: dict[str, Flag] = field(default_factory=dict)  # by model id
    warnings: list[str] = field(default_factory=list)  # one line each, printed by the build


def collect_inputs(
    results_dir: Path,
    submissions_dir: Path,
    references_dir: Path,
    flags_dir: Path | None = None,
) -> SiteInputs:
    """Load every input file; a missing directory is an empty one (a fresh repository)."""
    results, failures = [], []
    for path in _files(results_dir, "*.json"):
        if path.name.endswith(FAILURE_SUFFIX):
            key = _key(results_dir, path, FAILURE_SUFFIX)
            failures.append(FailureFile(path, key, load_failure(path)))
        else:
            results.append(ResultFile(path, _key(results_dir, path, ".json"), load_result(path)))
    submissions = [
        SubmissionFile(path, _key(submissions_dir, path, ".yaml"), load_submission(path))
        for path in _files(submissions_dir, "*.yaml")
    ]
    flags = load_flags(flags_dir) if flags_dir is not None else {}
    warnings = flag_targets(
        flags,
        flags_dir or Path(),
        evaluated={f.result.model.id for f in results},
        submitted={s.submission.model for s in submissions},
    )
    return SiteInputs(
        results, failures, submissions, load_references(references_dir), flags, warnings
    )


def _files(directory: Path, pattern: str) -> list[Path]:
    directory = Path(directory)
    return sorted(directory.rglob(pattern)) if directory.is_dir() else []


def _key(root: Path, path: Path, suffix: str) -> str:
    relative = path.relative_to(root).as_posix()
    return relative[: -len(suffix)]
