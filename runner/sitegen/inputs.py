"""Everything the site reads, loaded and validated before a single page is written.

`results/<org>/<model>/<revision>.json` (evaluated; the old `results/<org>/<model>.json` still
loads), `….failure.json` beside them (failed runs), `submissions/<org>/<model>.yaml`
(submitted), `references/*.yaml` (paper-reported) and `flags/<org>/<model>.yaml` (maintainer
flags).

What is ranked is decided here (ARCHITECTURE.md, "Results and ranking"): a model's leaderboard
row is its result at the revision the default branch's submission file names, and nothing else.
Results of other revisions (an older revision, a pull request's run awaiting merge) are kept
apart, for the model page and the queue page. A results file that does not load is listed as
broken, with its reason, and the rest of the site builds: no single file stops every model's
page. Submissions, references and flags are the maintainers' own files and still stop the build
with a `UserError` naming the file and the field.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field
from pathlib import Path

from runner.errors import UserError
from runner.results_layout import found_files
from runner.results_schema import EvaluationFailure, EvaluationResult, load_failure, load_result
from runner.sitegen.flags import Flag, flag_targets, load_flags
from runner.sitegen.references import ReferenceModel, load_references
from runner.submissions.schema import Submission, load_submission

# Page names a static host or mkdocs treats as a folder's own page: a model named so would
# take over (or vanish into) its organisation's folder.
RESERVED_PAGE_NAMES = frozenset({"index", "readme"})


@dataclass(frozen=True)
class ResultFile:
    path: Path
    key: str  # the model's page key ("org/model", made unique: `page_keys`)
    result: EvaluationResult
    model_key: str = ""  # "org/model" as the results path spells it
    repo_path: str = ""  # "results/…": where the repository holds it

    @property
    def revision(self) -> str | None:
        return self.result.model.revision


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
class BrokenFile:
    """A results file the site could not use (repository-relative: `results/…`), and why."""

    path: str
    reason: str


@dataclass(frozen=True)
class SiteInputs:
    results: list[ResultFile]  # ranked: one per model, at its submitted revision
    failures: list[FailureFile]
    submissions: list[SubmissionFile]
    references: list[ReferenceModel]
    flags: dict[str, Flag] = field(default_factory=dict)  # by model id, case-folded
    warnings: list[str] = field(default_factory=list)  # one line each, printed by the build
    other_results: list[ResultFile] = field(default_factory=list)  # not the submitted revision
    broken: list[BrokenFile] = field(default_factory=list)

    def flag_of(self, model_id: str) -> Flag | None:
        return self.flags.get(model_id.casefold())


def collect_inputs(
    results_dir: Path,
    submissions_dir: Path,
    references_dir: Path,
    flags_dir: Path | None = None,
) -> SiteInputs:
    """Load every input file; a missing directory is an empty one (a fresh repository)."""
    submissions = [
        SubmissionFile(path, _key(submissions_dir, path, ".yaml"), load_submission(path))
        for path in _files(submissions_dir, "*.yaml")
    ]
    submitted = {s.key: s.submission.revision for s in submissions}
    loaded, failures, broken = _load_results(Path(results_dir))
    ranked, others = [], []
    for found in loaded:
        is_submitted = submitted.get(found.model_key) == found.revision
        if is_submitted and found.result.model.id != found.model_key:
            broken.append(BrokenFile(found.repo_path, f"names model {found.result.model.id}"))
            continue
        (ranked if is_submitted else others).append(found)
    duplicate = {f.model_key for f in ranked if sum(g.model_key == f.model_key for g in ranked) > 1}
    for found in [f for f in ranked if f.model_key in duplicate]:  # old and new layout both
        broken.append(BrokenFile(found.repo_path, "a second file of the same model and revision"))
    ranked = [f for f in ranked if f.model_key not in duplicate]
    keys = page_keys([f.model_key for f in ranked])
    ranked = [_with_key(f, keys[f.model_key]) for f in ranked]
    flags = load_flags(flags_dir) if flags_dir is not None else {}
    warnings = flag_targets(
        flags,
        flags_dir or Path(),
        evaluated={f.result.model.id for f in [*ranked, *others]},
        submitted={s.submission.model for s in submissions},
    )
    warnings += [f"{b.path}: broken, not on the site ({b.reason})" for b in broken]
    return SiteInputs(
        ranked,
        failures,
        submissions,
        load_references(references_dir),
        {model.casefold(): flag for model, flag in flags.items()},
        warnings,
        others,
        broken,
    )


def _load_results(
    results_dir: Path,
) -> tuple[list[ResultFile], list[FailureFile], list[BrokenFile]]:
    results, failures, broken = [], [], []
    for found in found_files(results_dir):
        repo_path = f"results/{found.path.relative_to(results_dir).as_posix()}"
        if found.problem is not None:
            broken.append(BrokenFile(repo_path, found.problem))
            continue
        try:
            if found.kind == "failure":
                failure = load_failure(found.path)
                _check_revision(found.revision, failure.revision)
                failures.append(FailureFile(found.path, found.model_key, failure))
                continue
            result = load_result(found.path)
            _check_revision(found.revision, result.model.revision)
        except UserError as err:
            broken.append(BrokenFile(repo_path, str(err).removeprefix(f"{found.path}: ")[:300]))
            continue
        results.append(ResultFile(found.path, found.model_key, result, found.model_key, repo_path))
    return results, failures, broken


def _check_revision(in_path: str | None, in_file: str | None) -> None:
    if in_path is not None and in_file != in_path:
        raise UserError(f"its path names revision {in_path[:12]}, the file {in_file}")


def page_keys(model_keys: list[str]) -> dict[str, str]:
    """Each model's page key: "org/model" itself unless that page could collide with another
    (names that differ only in case, on a case-insensitive host) or with a folder's own page
    (`RESERVED_PAGE_NAMES`); then the name gets a short hash of the exact id, which no other
    model's key can have."""
    folded: dict[str, int] = {}
    for key in model_keys:
        folded[key.casefold()] = folded.get(key.casefold(), 0) + 1
    keys = {}
    for key in model_keys:
        org, name = key.split("/")
        safe = name.casefold() not in RESERVED_PAGE_NAMES and folded[key.casefold()] == 1
        digest = hashlib.sha256(key.encode("utf-8")).hexdigest()[:8]
        keys[key] = key if safe else f"{org}/{name}--{digest}"
    return keys


def _with_key(found: ResultFile, key: str) -> ResultFile:
    return ResultFile(found.path, key, found.result, found.model_key, found.repo_path)


def _files(directory: Path, pattern: str) -> list[Path]:
    directory = Path(directory)
    return sorted(directory.rglob(pattern)) if directory.is_dir() else []


def _key(root: Path, path: Path, suffix: str) -> str:
    relative = path.relative_to(root).as_posix()
    return relative[: -len(suffix)]
