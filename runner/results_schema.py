"""The results contract: what `medlb evaluate` writes and everything downstream reads.

One `EvaluationResult` per evaluated model revision, serialised as plain JSON with a schema
version (HELM's habit): `DIR/results.json` from `medlb evaluate`, published as
`results/<org>/<model>.json`. A run that failed publishes an `EvaluationFailure` as
`results/<org>/<model>.failure.json` instead, so the site can show the reason on its queue page.
Both are written atomically and read back through `load_*`, which turns a malformed file into
one `UserError` naming the file and the field.

Version 2 adds what goes beyond accuracy (ARCHITECTURE.md, "Beyond accuracy"): per task the
chance-normalised accuracy, the majority-class rate, the Brier score and reliability-diagram bins,
per-letter recall and RStd (letter tasks), and, for a `--rotations` run, the option-order
robustness scores; per result the averages of those and the reliability pooled over tasks.
Version-1 files still load: their version-2 fields are absent (None), and a validator keeps the
two versions apart (a version-2 file must have them, a version-1 file must not).

Version 3 adds the reasoning track (ARCHITECTURE.md, "The reasoning track"): `cot` (or
`cot_not_run`, why not), apart from the `loglik` track (`tasks`, `average`, unchanged), each with
its engine and cost; and optional intervals for ECE, Brier and per-letter recall. Older files
still load; neither may carry a version-3 field.
"""

from __future__ import annotations

import base64
import json
from datetime import datetime
from pathlib import Path
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError, model_validator

from runner.atomic_io import write_atomic
from runner.errors import UserError, describe_validation_error
from runner.precision import Precision

SCHEMA_VERSION = 3
SUPPORTED_VERSIONS = (1, 2, 3)
TRACKS = ("loglik", "cot")
Track = Literal["loglik", "cot"]


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


class Estimate(_Strict):
    """A score with its seeded percentile-bootstrap 95% interval."""

    value: float
    ci95: tuple[float, float]


class ReliabilityBin(_Strict):
    """One of ten equal-width confidence bins [b/10, (b+1)/10) (the last one closed)."""

    count: int = Field(ge=0)
    confidence: float | None  # mean top-choice probability of its items; None when empty
    accuracy: float | None  # share of its items answered right; None when empty


class PooledReliability(_Strict):
    """Reliability bins of every item of the tasks named, pooled (counts add up)."""

    tasks: list[str]
    n: int = Field(ge=1)
    ece: float = Field(ge=0.0, le=1.0)
    bins: list[ReliabilityBin]


class LetterBias(_Strict):
    """Rotation 0 of a letter task: recall per letter (A, B, C, D; None where no gold item has
    that letter) and RStd, their population standard deviation (Zheng et al. 2023)."""

    recall: list[float | None]
    rstd: Estimate
    recall_ci95: list[tuple[float, float] | None] | None = None


class RotationScores(_Strict):
    """Option-order robustness over the n rotations (ARCHITECTURE.md, "Option-order robustness")."""

    acc_by_rotation: list[Estimate]  # r = 0..n-1; r = 0 is the task's accuracy
    consistent: Estimate  # right under all n rotations
    flip_rate: Estimate  # the chosen option's content is not the same under all rotations
    debiased: Estimate  # accuracy of the option probabilities averaged over the rotations


class TaskRobustness(RotationScores):
    consistent_correct: str  # `encode_bits` of [right under all rotations, doc_id 0..n-1]
    seconds: float = Field(ge=0.0)  # scoring rotations 1..n-1 (and writing the predictions)
    prompt_tokens: int = Field(ge=0)  # tokens run for rotations 1..n-1


class LetterTasksAverage(_Strict):
    """Unweighted means over the eight letter tasks; intervals from a stratified bootstrap."""

    rstd: Estimate
    rotations: RotationScores | None  # None unless the run scored rotations


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
    # ---- version 2 (None in version-1 files) ----
    options: int | None = Field(default=None, ge=2)  # choices per item: chance is 1/options
    chance_normalized: Estimate | None = None  # (acc - 1/options) / (1 - 1/options)
    majority_class_rate: float | None = Field(default=None, ge=0.0, le=1.0)  # commonest gold
    brier: float | None = Field(default=None, ge=0.0, le=2.0)  # multi-class Brier score
    reliability: list[ReliabilityBin] | None = None  # ten bins, as ECE uses them
    letter_bias: LetterBias | None = None  # letter tasks only
    robustness: TaskRobustness | None = None  # letter tasks of a --rotations run only
    # ---- version 3 (optional) ----
    ece_ci95: tuple[float, float] | None = None  # percentile bootstrap over items
    brier_ci95: tuple[float, float] | None = None


_V2_TASK_FIELDS = ("options", "chance_normalized", "majority_class_rate", "brier", "reliability")


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


class EngineInfo(_Strict):
    """What produced a track's scores: transformers (`hf`, the reference) or vLLM (GPU only)."""

    name: Literal["hf", "vllm"]
    version: str  # transformers' or vLLM's version


class TrackCost(_Strict):
    """What a track cost on the machine that ran it: measured, never estimated from constants."""

    seconds: float = Field(ge=0.0)  # wall time of the track's tasks
    gpu_seconds: float | None = Field(default=None, ge=0.0)  # seconds x GPUs; None on CPU
    prompt_tokens: int = Field(ge=0)
    output_tokens: int = Field(ge=0)  # generated tokens (0 for loglik)
    energy_wh: float | None = Field(default=None, ge=0.0)  # NVML's energy counter; None if absent


class CotAgreement(_Strict):
    """Per task, the `cot` answer against the `loglik` choice on the same items (a 2x2 table)."""

    both_right: int = Field(ge=0)
    cot_fixes: int = Field(ge=0)  # loglik wrong, cot right
    cot_breaks: int = Field(ge=0)  # loglik right, cot wrong
    both_wrong: int = Field(ge=0)
    same_answer: int = Field(ge=0)  # items whose cot answer is the loglik choice
    mcnemar_p: float = Field(ge=0.0, le=1.0)  # exact two-sided McNemar on the discordant pairs


class CotTaskResult(_Strict):
    """One task on the reasoning track (ARCHITECTURE.md, "The reasoning track")."""

    task: str
    dataset: str
    dataset_config: str | None
    dataset_revision: str | None  # as TaskResult.dataset_revision
    split: str
    data_sha256: str
    rows_source: RowsSource | None = None
    n: int = Field(ge=1)
    n_total: int = Field(ge=1)
    acc: float = Field(ge=0.0, le=1.0)  # exact match of the extracted answer; no answer = wrong
    stderr: float = Field(ge=0.0)
    ci95: tuple[float, float]
    no_answer_rate: float = Field(ge=0.0, le=1.0)  # no "Final Answer" match
    truncation_rate: float = Field(ge=0.0, le=1.0)  # hit max_new_tokens
    mean_output_tokens: float = Field(ge=0.0)
    output_tokens: int = Field(ge=0)
    subjects: dict[str, SubjectScore]
    correct: str  # encode_bits of [answer == gold for doc_id 0..n-1]
    predictions_sha256: str  # sha256 of predictions/cot/<task>.jsonl
    agreement: CotAgreement | None = None  # None when the loglik track did not run this task
    prompt_tokens: int = Field(ge=0)
    seconds: float = Field(ge=0.0)


class CotTrack(_Strict):
    """The zero-shot chain-of-thought track: its settings are part of what the score means."""

    engine: EngineInfo
    max_new_tokens: int = Field(ge=1)
    chat_template_sha256: str  # sha256 of the template text rendered
    tasks: dict[str, CotTaskResult]
    average: float | None  # unweighted mean of the nine accuracies; None unless all nine in full
    average_ci95: tuple[float, float] | None = None  # stratified bootstrap, like the others
    no_answer_rate: float = Field(ge=0.0, le=1.0)  # over every item of every task
    truncation_rate: float = Field(ge=0.0, le=1.0)
    mean_output_tokens: float = Field(ge=0.0)
    cost: TrackCost


class EvaluationResult(_Strict):
    schema_version: Literal[1, 2, 3] = SCHEMA_VERSION
    model: ModelInfo
    environment: Environment
    run: RunInfo
    tasks: dict[str, TaskResult]
    average: (
        float | None
    )  # unweighted mean of the nine accuracies; None unless all nine ran in full
    # ---- version 2 ----
    rotations: bool = False  # letter tasks also scored under every option rotation
    chance_normalized_average: Estimate | None = None  # nine tasks, like `average`
    letter_tasks_average: LetterTasksAverage | None = None  # the eight letter tasks in full
    reliability_pooled: PooledReliability | None = None  # every task of this result
    # ---- version 3: the tracks (the fields above are the `loglik` track) ----
    loglik_engine: EngineInfo | None = None  # None before version 3: transformers
    loglik_cost: TrackCost | None = None
    cot: CotTrack | None = None
    cot_not_run: str | None = Field(default=None, max_length=300)  # why there is no cot track

    @property
    def tracks(self) -> tuple[Track, ...]:
        """The tracks this result holds scores for."""
        return (("loglik",) if self.tasks else ()) + (("cot",) if self.cot else ())

    @model_validator(mode="after")
    def _fields_of_its_version(self) -> EvaluationResult:
        """A version-2/3 file has every version-2 field it must; a version-1 file has none;
        only a version-3 file has version-3 fields."""
        if self.schema_version < 3:
            self._no_version_3_fields()
        elif self.cot is not None and self.cot_not_run is not None:
            raise ValueError("cot_not_run: only when there is no cot track")
        required = {
            f"tasks.{name}.{field}": getattr(task, field)
            for name, task in self.tasks.items()
            for field in _V2_TASK_FIELDS
        }
        if self.tasks or self.schema_version < 3:  # a version-3 result may hold cot alone
            required["reliability_pooled"] = self.reliability_pooled
        if self.schema_version == 1:
            optional = {
                f"tasks.{name}.{field}": getattr(task, field)
                for name, task in self.tasks.items()
                for field in ("letter_bias", "robustness")
            }
            optional["chance_normalized_average"] = self.chance_normalized_average
            optional["letter_tasks_average"] = self.letter_tasks_average
            optional["rotations"] = self.rotations or None
            present = [key for key, value in {**required, **optional}.items() if value is not None]
            if present:
                raise ValueError(f"{present[0]}: not a field of schema version 1")
            return self
        missing = [key for key, value in required.items() if value is None]
        if missing:
            raise ValueError(f"{missing[0]}: required in schema version 2")
        for name, task in self.tasks.items():
            if (task.robustness is not None) != (self.rotations and task.letter_bias is not None):
                raise ValueError(
                    f"tasks.{name}.robustness: present exactly for the letter tasks of a "
                    "run with rotations"
                )
        return self

    def _no_version_3_fields(self) -> None:
        fields = {
            "loglik_engine": self.loglik_engine,
            "loglik_cost": self.loglik_cost,
            "cot": self.cot,
            "cot_not_run": self.cot_not_run,
        }
        for name, task in self.tasks.items():
            fields[f"tasks.{name}.ece_ci95"] = task.ece_ci95
            fields[f"tasks.{name}.brier_ci95"] = task.brier_ci95
            if task.letter_bias is not None:
                fields[f"tasks.{name}.letter_bias.recall_ci95"] = task.letter_bias.recall_ci95
        present = [key for key, value in fields.items() if value is not None]
        if present:
            raise ValueError(f"{present[0]}: not a field of schema version {self.schema_version}")


class EvaluationFailure(_Strict):
    schema_version: Literal[1, 2, 3] = SCHEMA_VERSION
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
    if isinstance(data, dict) and data.get("schema_version") not in (None, *SUPPORTED_VERSIONS):
        raise UserError(
            f"{path}: schema_version {data.get('schema_version')!r} is not supported "
            f"(this medlb reads versions {', '.join(map(str, SUPPORTED_VERSIONS))})"
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
