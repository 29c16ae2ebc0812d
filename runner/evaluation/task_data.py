"""The rows of a task's split: from a local data directory, or from the Hub at the pinned revision.

A data directory holds `<task>.jsonl` or `<task>.parquet` per task, rows in the Hub dataset's own
columns and in split order (a row's index is its `doc_id`). `medlb data fetch` writes such a
directory; `--data-dir` reads one; `SAMPLE_DATA_DIR` is the bundled one (12 hand-written questions
per task, in the Hub schemas) that the demo and the tests use.

Everything a user can get wrong in a data file (a missing file, a line that is not JSON, a missing
column, a column of the wrong type) is one `UserError` naming the file and the line or column.
Value checks (a gold index out of range, an unknown `final_decision`) happen in
`runner.evaluation.tasks.build_items`, which names the row.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal

from runner.atomic_io import write_atomic
from runner.errors import UserError
from runner.evaluation.tasks import TaskSpec
from runner.results_schema import RowsSource

SAMPLE_DATA_DIR = Path(__file__).parent / "sample_data"
DATA_SUFFIXES = (".jsonl", ".parquet")

ColumnType = Literal["str", "int", "list[str]"]

# The type of every column a prompt, gold or subject reads, across the four Hub datasets (column
# names do not clash between them). Checked on every row so that a wrong file fails here, with the
# column named, rather than deep inside prompt building.
COLUMN_TYPES: dict[str, ColumnType] = {
    # GBaker/MedQA-USMLE-4-options-hf
    "sent1": "str",
    "ending0": "str",
    "ending1": "str",
    "ending2": "str",
    "ending3": "str",
    "label": "int",
    # openlifescienceai/medmcqa
    "question": "str",
    "opa": "str",
    "opb": "str",
    "opc": "str",
    "opd": "str",
    "cop": "int",
    "subject_name": "str",
    # bigbio/pubmed_qa (source schema)
    "QUESTION": "str",
    "CONTEXTS": "list[str]",
    "final_decision": "str",
    # cais/mmlu ("question" above)
    "choices": "list[str]",
    "answer": "int",
}


@dataclass(frozen=True)
class TaskRows:
    """A task's rows in split order, where they came from, and a digest of exactly these rows."""

    rows: list[dict[str, Any]]
    source: str  # the file read, or "hf://<dataset>[/<config>]@<revision>"
    sha256: str  # `rows_sha256(rows)`: equal for a .jsonl and a .parquet holding the same rows
    path: Path | None = None  # the local file read; None: the Hub at the pinned revision


def load_task_rows(spec: TaskSpec, data_dir: Path | None) -> TaskRows:
    """The rows of `spec`'s split, from `data_dir/<task>.{jsonl,parquet}` or (None) the Hub."""
    path = None
    if data_dir is None:
        from runner import hub

        rows = hub.download_task_rows(spec)
        source = hub.dataset_url(spec)
    else:
        path = task_file(spec, Path(data_dir))
        rows = read_rows_file(path)
        source = str(path)
    check_columns(spec, rows, source)
    return TaskRows(rows=rows, source=source, sha256=rows_sha256(rows), path=path)


def rows_source(spec: TaskSpec, task_rows: TaskRows) -> RowsSource:
    """Where `task_rows` came from, for results.json: a local file is the pinned revision's rows
    only when its sha256 is the one the registry knows (`TaskSpec.rows_sha256`)."""
    if task_rows.path is None:
        return RowsSource(kind="hub", revision=spec.revision)
    known = None if spec.rows_sha256 is None else task_rows.sha256 == spec.rows_sha256
    return RowsSource(
        kind="local",
        path=str(task_rows.path),
        sha256_known=known,
        sample=task_rows.path.resolve().parent == SAMPLE_DATA_DIR.resolve(),
    )


def task_file(spec: TaskSpec, data_dir: Path) -> Path:
    """`data_dir/<task>.jsonl` or `.parquet`: exactly one of them must exist."""
    if not data_dir.is_dir():
        raise UserError(
            f"{data_dir}: data directory not found; `medlb data fetch {data_dir}` downloads the "
            f"nine tasks (network), or --data-dir {SAMPLE_DATA_DIR} runs the bundled sample "
            "questions (not rankable); without --data-dir the rows are read from the Hub"
        )
    found = [data_dir / f"{spec.name}{suffix}" for suffix in DATA_SUFFIXES]
    present = [path for path in found if path.is_file()]
    if not present:
        raise UserError(
            f"{found[0]}: data file not found (expected {spec.name}.jsonl or {spec.name}.parquet "
            f"in {data_dir}; `medlb data fetch {data_dir}` downloads them)"
        )
    if len(present) > 1:
        raise UserError(
            f"{present[0]}: both {present[0].name} and {present[1].name} exist; keep one"
        )
    return present[0]


def read_rows_file(path: Path) -> list[dict[str, Any]]:
    """Rows of a `.jsonl` (one JSON object a line; blank lines ignored) or `.parquet` file."""
    if path.suffix == ".parquet":
        return _read_parquet(path)
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as err:
        raise UserError(f"{path}: cannot read data file ({err.strerror})") from None
    except UnicodeDecodeError as err:
        raise UserError(f"{path}: not UTF-8 text (byte {err.start})") from None
    rows = []
    for line_no, line in enumerate(text.splitlines(), start=1):
        if not line.strip():
            continue
        try:
            row = json.loads(line)
        except json.JSONDecodeError as err:
            raise UserError(f"{path}: line {line_no}: not valid JSON ({err.msg})") from None
        if not isinstance(row, dict):
            raise UserError(f"{path}: line {line_no}: expected a JSON object, got {_kind(row)}")
        rows.append(row)
    return rows


def _read_parquet(path: Path) -> list[dict[str, Any]]:
    import pyarrow as pa
    import pyarrow.parquet as pq

    try:
        return pq.read_table(path).to_pylist()
    except (OSError, pa.ArrowException) as err:
        raise UserError(f"{path}: cannot read parquet file ({str(err)[:160]})") from None


def check_columns(spec: TaskSpec, rows: list[dict[str, Any]], source: str) -> None:
    """Every column `spec` reads is present in every row, with the Hub dataset's type."""
    if not rows:
        raise UserError(f"{source}: no rows")
    for index, row in enumerate(rows):
        for column in spec.columns:
            if column not in row:
                raise UserError(f"{source}: row {index}: missing column {column!r}")
            expected = COLUMN_TYPES[column]
            if not _has_type(row[column], expected):
                raise UserError(
                    f"{source}: row {index}: column {column!r} must be {expected}, "
                    f"got {_kind(row[column])}"
                )


def _has_type(value: object, expected: ColumnType) -> bool:
    if expected == "str":
        return isinstance(value, str)
    if expected == "int":
        return isinstance(value, int) and not isinstance(value, bool)
    return isinstance(value, list) and all(isinstance(v, str) for v in value)


def _kind(value: object) -> str:
    names = {dict: "object", list: "array", str: "string", bool: "boolean", type(None): "null"}
    return names.get(type(value), type(value).__name__)


def canonical_jsonl(rows: Iterable[Mapping[str, Any]]) -> str:
    """Rows as JSON lines with sorted keys and no optional whitespace: the form that is hashed."""
    return "".join(
        json.dumps(row, ensure_ascii=False, sort_keys=True, separators=(",", ":")) + "\n"
        for row in rows
    )


def rows_sha256(rows: Iterable[Mapping[str, Any]]) -> str:
    return hashlib.sha256(canonical_jsonl(rows).encode("utf-8")).hexdigest()


def write_task_rows(data_dir: Path, spec: TaskSpec, rows: list[dict[str, Any]]) -> Path:
    """Write `data_dir/<task>.jsonl` atomically, in canonical form (its sha256 is the rows')."""
    path = Path(data_dir) / f"{spec.name}.jsonl"
    write_atomic(path, canonical_jsonl(rows))
    return path
