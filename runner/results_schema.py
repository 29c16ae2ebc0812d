"""The results contract: what `medlb evaluate` writes and everything downstream reads.

One `EvaluationResult` per evaluated model revision, serialised as plain JSON with a schema
version (HELM's habit): `DIR/results.json` from `medlb evaluate`, published as
`results/<org>/<model>.json`. A run that failed publishes an `EvaluationFailure` as
`results/<org>/<model>.failure.json` instead, so the site can show the reason on its queue page.
Both are written atomically and read back through `load_*`, which turns a malformed file into
one `UserError` naming the file and the field.
"""

from __future__ import annotations

import base64
import json
from datetime import datetime
from pathlib import Path
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError

from runner.atomic_io import write_atomic
from runner.errors import UserError, describe_validation_error
from runner.precision import Precision

SCHEMA_VERSION = 1


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class SubjectScore(_Strict):
    n: int = Field(ge=1)
    acc: float = Field(ge=0.0, le=1.0)


class RowsSource(_Strict):
    """Where a task's rows were read: the Hub at a commit, or a local file (`--data-dir`).

    A local file is tied to the pinned Hub revision only by its sha256: `sha256_known` says
    whether the rows' sha256 equals the one the task registry knows for that revision (None
    while the registry knows none). Optional in `TaskResult`, so results written before these
    fields existed still load.
    """

    kind: Literal["hub", "local"]
    revision: str | None = None  # hub: the dataset commit read
    path: str | None = None  # local: the file read, as given on the command line
    sha256_known: bool | None = None  # local: data_sha256 == the registry's rows_sha256
    sample: bool = False  # local: medlb's bundled sample questions (never rankable)


class TaskResult(_Strict):
    """One task's scores and the provenance needed to reproduce them."""

    task: str
    dataset: str  # Hub dataset id, e.g. "cais/mmlu"
    dataset_config: str | None
    # The Hub commit the rows are known to be: the pinned revision for rows read from the Hub,
    # or from a local file whose sha256 is the registry's for that revision; None otherwise
    # (unpinned, or local rows not known to be the pinned ones: see `rows_source`)
    dataset_revision: str | None
    split: str
    data_sha256: str  # sha256 of the rows as evaluated (canonical JSON lines), hub or local copy
    n: int = Field(ge=1)  # items evaluated
    n_total: int = Field(ge=1)  # items in the split (n < n_total only under --limit)
    acc: float = Field(ge=0.0, le=1.0)
    stderr: float = Field(ge=0.0)  # sample standard error of the mean, as lm-eval reports it
    ci95: tuple[float, float]  # seeded percentile bootstrap
    ece: float = Field(ge=0.0, le=1.0)  # expected calibration error of softmax over choices
    subjects: dict[str, SubjectScore]  # per-specialty accuracy (MedMCQA subject_name, MMLU subset)
    correct: str  # per-item correctness, `encode_bits` of [pred == gold for doc_id 0..n-1]
    predictions_sha256: str  # sha256 of predictions/<task>.jsonl
    multi_token_items: int = Field(ge=0)  # items that needed full continuation scoring
    prompt_tokens: int = Field(ge=0)  # tokens run through the model (unpadded), for tokens/s
    seconds: float = Field(ge=0.0)
    rows_source: RowsSource | None = None  # None: written before rows were traced


class ModelInfo(_Strict):
    id: str  # Hub id ("org/name") or, for a local run, the directory's name
    source: Literal["hub", "local"]
    revision: str | None  # Hub commit SHA; None for a local directory
    precision: Precision
    params: int | None = None  # from safetensors metadata
    architecture: str | None = None  # config.architectures[0]
    vocab_size: int | None = None


class Environment(_Strict):
    medlb_version: str
    medlb_git_sha: str | None
    python: str
    torch: str
    transformers: str
    device: str  # "cpu" or the GPU's name
    device_count: int = 1


class RunInfo(_Strict):
    started_at: datetime
    finished_at: datetime
    seconds: float = Field(ge=0.0)
    batch_size: str  # "auto" (token budget) or the fixed count used
    limit: int | None = None  # --limit N: partial, never ranked
    ci_run_url: str | None = None


class EvaluationResult(_Strict):
    schema_version: Literal[1] = SCHEMA_VERSION
    model: ModelInfo
    environment: Environment
    run: RunInfo
    tasks: dict[str, TaskResult]
    average: (
        float | None
    )  # unweighted mean of the nine accuracies; None unless all nine ran in full


class EvaluationFailure(_Strict):
    schema_version: Literal[1] = SCHEMA_VERSION
    model: str
    revision: str
    stage: Literal["validation", "loading", "evaluation", "publishing"]
    reason: str = Field(max_length=2000)
    failed_at: datetime
    ci_run_url: str | None = None


def encode_bits(bits: list[bool]) -> str:
    """Pack booleans MSB-first into bytes and base64 them (1,273 items -> 216 characters)."""
    packed = bytearray((len(bits) + 7) // 8)
    for i, bit in enumerate(bits):
        if bit:
            packed[i // 8] |= 0x80 >> (i % 8)
    return base64.b64encode(bytes(packed)).decode("ascii")


def decode_bits(text: str, n: int) -> list[bool]:
    packed = base64.b64decode(text.encode("ascii"), validate=True)
    if len(packed) != (n + 7) // 8:
        raise ValueError(f"bitstring holds {len(packed) * 8} bits, expected {n}")
    return [bool(packed[i // 8] & (0x80 >> (i % 8))) for i in range(n)]


def _load(path: Path, model: type[BaseModel]) -> BaseModel:
    path = Path(path)
    try:
        raw = path.read_bytes()
    except OSError as err:
        raise UserError(f"{path}: cannot read results file ({err.strerror})") from None
    try:
        data = json.loads(raw.decode("utf-8"))
    except (UnicodeDecodeError, json.JSONDecodeError) as err:
        raise UserError(f"{path}: not a JSON document ({str(err)[:120]})") from None
    if isinstance(data, dict) and data.get("schema_version") not in (None, SCHEMA_VERSION):
        raise UserError(
            f"{path}: schema_version {data.get('schema_version')!r} is not supported "
            f"(this medlb reads version {SCHEMA_VERSION})"
        )
    try:
        return model.model_validate(data)
    except ValidationError as err:
        raise UserError(f"{path}: {describe_validation_error(err)}") from None


def load_result(path: Path) -> EvaluationResult:
    return _load(path, EvaluationResult)  # type: ignore[return-value]


def load_failure(path: Path) -> EvaluationFailure:
    return _load(path, EvaluationFailure)  # type: ignore[return-value]


def save(path: Path, record: EvaluationResult | EvaluationFailure) -> None:
    write_atomic(Path(path), record.model_dump_json(indent=2) + "\n")
