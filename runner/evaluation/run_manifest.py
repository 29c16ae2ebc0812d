"""`DIR/run.json`: what an output directory holds, so that a re-run resumes instead of mixing.

`medlb evaluate --output DIR` writes it before the first task. A re-run with the same DIR reads it:
if the model, revision, weights, dtype, device, --limit or --rotations differ, or a task's data
changed, or (reasoning track) the engine, --max-new-tokens or the chat template differ, the run
refuses (mixing two runs' predictions in one results file would be silently wrong). Otherwise
every task whose predictions file is complete and matches the recorded sha256 is kept as it is.

A finished task is recorded here *before* its predictions file is renamed into place: the
predictions file is the commit point, so a kill in between leaves a record without a file, and
that task simply runs again.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError

from runner.atomic_io import write_atomic
from runner.errors import UserError, describe_validation_error

MANIFEST_NAME = "run.json"


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class RunIdentity(_Strict):
    """Everything that changes the predictions' bytes (the batch size does not)."""

    model: str  # Hub id, or the local directory's absolute path
    revision: str | None  # Hub commit; None for a local directory
    model_sha256: str | None  # local directory: hash of its files; Hub: the revision pins them
    dtype: str
    device: str  # "cpu" or "cuda"
    limit: int | None
    # --rotations: letter tasks also scored under every option rotation. Absent from manifests
    # written before rotations existed, which hold runs without them.
    rotations: bool = False


class TaskRecord(_Strict):
    data_sha256: str
    n: int = Field(ge=1)
    seconds: float = Field(ge=0.0)
    model_tokens: int = Field(ge=0)
    multi_token_items: int = Field(ge=0)
    predictions_sha256: str
    # CPU time of the process (all threads) beside `seconds`, which is wall time: on a machine
    # shared with other jobs it is the steadier measure of the work done (bench/README.md).
    cpu_seconds: float | None = Field(default=None, ge=0.0)
    # --rotations, letter tasks: the rotations' own scoring (`seconds` is rotation 0's).
    rotation_seconds: float | None = Field(default=None, ge=0.0)
    rotation_cpu_seconds: float | None = Field(default=None, ge=0.0)
    rotation_model_tokens: int | None = Field(default=None, ge=0)
    energy_wh: float | None = Field(default=None, ge=0.0)  # NVML's counter; None where absent


class CotIdentity(_Strict):
    """The reasoning track's settings: a directory holds `cot` predictions of one setting only
    (ARCHITECTURE.md, "The reasoning track")."""

    engine: Literal["hf", "vllm"]
    max_new_tokens: int = Field(ge=1)
    chat_template_sha256: str


class CotTaskRecord(_Strict):
    data_sha256: str
    n: int = Field(ge=1)
    seconds: float = Field(ge=0.0)
    prompt_tokens: int = Field(ge=0)
    output_tokens: int = Field(ge=0)
    predictions_sha256: str
    energy_wh: float | None = Field(default=None, ge=0.0)


class RunManifest(_Strict):
    manifest_version: int = 1
    identity: RunIdentity
    tasks: dict[str, TaskRecord] = Field(default_factory=dict)
    cot: CotIdentity | None = None  # set by the first run of the reasoning track
    cot_tasks: dict[str, CotTaskRecord] = Field(default_factory=dict)


def manifest_path(output_dir: Path) -> Path:
    return Path(output_dir) / MANIFEST_NAME


def open_run(output_dir: Path, identity: RunIdentity) -> RunManifest:
    """The directory's manifest for `identity`: a fresh one, or the existing one if it agrees."""
    path = manifest_path(output_dir)
    if not path.exists():
        manifest = RunManifest(identity=identity)
        save(output_dir, manifest)
        return manifest
    manifest = _load(path)
    for field_name in RunIdentity.model_fields:
        before = getattr(manifest.identity, field_name)
        now = getattr(identity, field_name)
        if before != now:
            raise UserError(
                f"{path}: this output directory holds a run with {field_name}={before!r}, "
                f"not {now!r}; use another --output (or delete it) instead of mixing two runs"
            )
    return manifest


def open_cot(output_dir: Path, manifest: RunManifest, identity: CotIdentity) -> RunManifest:
    """The manifest with the reasoning track's settings: recorded by the first `cot` run, the
    same for every later one."""
    if manifest.cot is None:
        updated = manifest.model_copy(update={"cot": identity})
        save(output_dir, updated)
        return updated
    for field_name in CotIdentity.model_fields:
        before, now = getattr(manifest.cot, field_name), getattr(identity, field_name)
        if before != now:
            raise UserError(
                f"{manifest_path(output_dir)}: this output directory holds cot predictions with "
                f"{field_name}={before!r}, not {now!r}; use another --output (or delete it) "
                "instead of mixing two settings"
            )
    return manifest


def check_task_data(
    output_dir: Path, manifest: RunManifest, task: str, data_sha256: str, *, cot: bool = False
) -> None:
    """Refuse when a task's rows differ from those its recorded predictions were made from."""
    record = (manifest.cot_tasks if cot else manifest.tasks).get(task)
    if record is not None and record.data_sha256 != data_sha256:
        raise UserError(
            f"{manifest_path(output_dir)}: the data of task {task} changed since its predictions "
            f"were written (sha256 {record.data_sha256[:12]}… now {data_sha256[:12]}…); "
            "use another --output"
        )


def record_task(
    output_dir: Path, manifest: RunManifest, task: str, record: TaskRecord
) -> RunManifest:
    updated = manifest.model_copy(update={"tasks": {**manifest.tasks, task: record}})
    save(output_dir, updated)
    return updated


def record_cot_task(
    output_dir: Path, manifest: RunManifest, task: str, record: CotTaskRecord
) -> RunManifest:
    updated = manifest.model_copy(update={"cot_tasks": {**manifest.cot_tasks, task: record}})
    save(output_dir, updated)
    return updated


def save(output_dir: Path, manifest: RunManifest) -> None:
    write_atomic(manifest_path(output_dir), manifest.model_dump_json(indent=2) + "\n")


def _load(path: Path) -> RunManifest:
    try:
        return RunManifest.model_validate(json.loads(path.read_text(encoding="utf-8")))
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as err:
        raise UserError(f"{path}: unreadable run manifest ({str(err)[:120]})") from None
    except ValidationError as err:
        raise UserError(f"{path}: {describe_validation_error(err)}") from None
