"""Where published results live: one file per model *revision* (ARCHITECTURE.md, "Results and
ranking").

    results/<org>/<model>/<revision>.json           an evaluation of that revision
    results/<org>/<model>/<revision>.failure.json   a run of that revision that failed

Publishing adds its revision's file and never touches another revision's, so no run (a
stranger's PR naming an older revision, a forgotten run approved late) can replace a score that
was published for another revision; which revision is *ranked* is decided by the default
branch's submission file, not by the results directory. The layout before this one kept one file
per model (`results/<org>/<model>.json`, `.failure.json`); such files still load, and
`medlb results migrate` moves them into this layout.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Literal

from runner.atomic_io import write_atomic
from runner.errors import UserError

RESULTS_DIR = "results"
RESULT_SUFFIX = ".json"
FAILURE_SUFFIX = ".failure.json"
_REVISION = re.compile(r"[0-9a-f]{40}")

Kind = Literal["result", "failure"]


def _parts(model_id: str) -> tuple[str, str]:
    org, name = model_id.split("/")
    return org, name


def result_path(results_dir: Path, model_id: str, revision: str) -> Path:
    org, name = _parts(model_id)
    return Path(results_dir) / org / name / f"{revision}{RESULT_SUFFIX}"


def failure_path(results_dir: Path, model_id: str, revision: str) -> Path:
    """A failed run of `revision`; a submission that names no valid revision (a maintainer's
    dispatch of a file that does not validate) keeps the model's one failure record."""
    if not _REVISION.fullmatch(revision):
        return legacy_failure_path(results_dir, model_id)
    org, name = _parts(model_id)
    return Path(results_dir) / org / name / f"{revision}{FAILURE_SUFFIX}"


def legacy_failure_path(results_dir: Path, model_id: str) -> Path:
    org, name = _parts(model_id)
    return Path(results_dir) / org / f"{name}{FAILURE_SUFFIX}"


@dataclass(frozen=True)
class FoundFile:
    """A file under results/: what it is by its path alone (its contents are not read)."""

    path: Path
    kind: Kind
    model_key: str  # "org/model", as the path spells it
    revision: str | None  # None in the old one-file-per-model layout
    problem: str | None = None  # why this path is not one the layout allows

    @property
    def legacy(self) -> bool:
        return self.revision is None and self.problem is None


def classify(results_dir: Path, path: Path) -> FoundFile:
    """What `path` (a *.json file under `results_dir`) is in either layout."""
    parts = Path(path).relative_to(results_dir).parts
    name = parts[-1]
    kind: Kind = "failure" if name.endswith(FAILURE_SUFFIX) else "result"
    stem = name[: -len(FAILURE_SUFFIX if kind == "failure" else RESULT_SUFFIX)]
    if len(parts) == 2:
        return FoundFile(Path(path), kind, f"{parts[0]}/{stem}", None)
    if len(parts) == 3 and _REVISION.fullmatch(stem):
        return FoundFile(Path(path), kind, f"{parts[0]}/{parts[1]}", stem)
    return FoundFile(
        Path(path),
        kind,
        "/".join(parts[:2]),
        None,
        problem="not results/<org>/<model>/<40-hex revision>.json (or .failure.json)",
    )


def found_files(results_dir: Path) -> list[FoundFile]:
    """Every *.json file under `results_dir`, sorted; a missing directory holds none."""
    root = Path(results_dir)
    if not root.is_dir():
        return []
    return [classify(root, path) for path in sorted(root.rglob("*.json")) if path.is_file()]


def _record_revision(data: bytes, kind: Kind) -> str | None:
    try:
        document = json.loads(data.decode("utf-8"))
    except (UnicodeDecodeError, json.JSONDecodeError, RecursionError):
        return None
    if not isinstance(document, dict):
        return None
    revision = document.get("revision")
    if kind == "result":
        model = document.get("model")
        revision = model.get("revision") if isinstance(model, dict) else None
    return revision if isinstance(revision, str) and _REVISION.fullmatch(revision) else None


def migrate(results_dir: Path) -> list[tuple[Path, Path]]:
    """Move every old one-file-per-model file to its revision's path; the moves made.

    Checked first, moved after: a result that names no revision, or a file whose new path already
    holds other bytes, stops the migration with one line before anything moves.
    """
    moves: list[tuple[Path, Path, bytes]] = []
    for found in found_files(results_dir):
        if not found.legacy:
            continue
        data = found.path.read_bytes()
        revision = _record_revision(data, found.kind)
        if revision is None and found.kind == "failure":
            continue  # a file that named no revision: its failure record stays the model's one
        if revision is None:
            raise UserError(f"{found.path}: names no 40-hex revision; cannot be migrated")
        path_of = result_path if found.kind == "result" else failure_path
        target = path_of(Path(results_dir), found.model_key, revision)
        if target.exists() and target.read_bytes() != data:
            raise UserError(f"{found.path}: {target} already exists with other contents")
        moves.append((found.path, target, data))
    for source, target, data in moves:
        write_atomic(target, data)
        source.unlink()
    return [(source, target) for source, target, _ in moves]
