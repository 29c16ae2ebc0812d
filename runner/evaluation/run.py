"""One evaluation run: tasks -> items -> engine -> `predictions/<task>.jsonl` + `results.json`.

The order is chosen so that mistakes cost nothing and a crash costs little:
1. every task's data is read and turned into items before the model loads (a bad data file fails
   in a second, not after a 10-minute download);
2. the output directory's run manifest (`runner.evaluation.run_manifest`) must agree with this
   run, else the run refuses instead of mixing two runs in one directory;
3. tasks whose predictions file is complete and recorded are kept as they are (resume); the model
   is loaded only if some task is left;
4. each task's predictions are written atomically as soon as it finishes; the scores in
   `results.json` are computed from those files, so a resumed run and an uninterrupted one
   report the same numbers.
"""

from __future__ import annotations

import hashlib
import json
import os
import platform
import subprocess
import sys
import time
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

from runner import __version__
from runner.atomic_io import write_atomic
from runner.errors import UsageError
from runner.evaluation import predictions
from runner.evaluation.engine import (
    LoadedModel,
    TokenBudget,
    check_device,
    default_token_budget,
    load_model_dir,
    resolve_model_dir,
    safetensors_param_count,
    score_task,
)
from runner.evaluation.metrics import leaderboard_average, task_metrics
from runner.evaluation.run_manifest import (
    RunIdentity,
    RunManifest,
    TaskRecord,
    check_task_data,
    open_run,
)
from runner.evaluation.run_manifest import record_task as record_finished_task
from runner.evaluation.tasks import Item, TaskSpec, build_items
from runner.github_actions import append_summary, log_group
from runner.results_schema import (
    Environment,
    EvaluationResult,
    ModelInfo,
    RowsSource,
    RunInfo,
    SubjectScore,
    TaskResult,
    save,
)

RESULTS_FILE = "results.json"


@dataclass(frozen=True)
class EvaluationOptions:
    """What `medlb evaluate` was asked to do (already validated by the command line)."""

    model: str  # a local directory or a Hub id
    revision: str | None  # Hub commit SHA (required for a Hub id)
    tasks: list[TaskSpec]
    output_dir: Path
    data_dir: Path | None = None  # None: the Hub at the pinned revisions
    limit: int | None = None  # first N items of each task (partial, never ranked)
    device: str = "cpu"
    dtype: str = "float32"
    batch_size: int | None = None  # None: a token budget per batch ("auto")
    model_id: str | None = None  # the name results carry; default: Hub id or directory name
    token_budget: TokenBudget | None = None  # overrides `batch_size` (tests simulate memory)
    progress: bool = True


@dataclass(frozen=True)
class ModelChoice:
    """What `medlb evaluate` was told to evaluate: a submission file, or a model and revision."""

    submission: Path | None = None
    model: str | None = None  # a local directory or a Hub id
    revision: str | None = None
    dtype: str | None = None  # None: the submission's precision, else float32

    def resolve(self) -> tuple[str, str | None, str | None, str]:
        """(model source, revision, results id, dtype)."""
        if (self.submission is None) == (self.model is None):
            raise UsageError("give either SUBMISSION.yaml or --model PATH_OR_HUB_ID (exactly one)")
        if self.model is not None:
            return self.model, self.revision, None, self.dtype or "float32"
        if self.revision is not None:
            raise UsageError("--revision: a submission file pins its own revision")
        from runner.submissions.schema import load_submission

        submission = load_submission(self.submission)
        dtype = self.dtype or submission.precision
        return submission.model, submission.revision, submission.model, dtype


def evaluate_and_report(
    choice: ModelChoice,
    *,
    tasks: list[TaskSpec],
    output_dir: Path,
    data_dir: Path | None = None,
    limit: int | None = None,
    device: str | None = None,
    batch_size: int | None = None,
    progress: bool = True,
) -> EvaluationResult:
    """`medlb evaluate`: run, print the score table, add it to the job summary in Actions."""
    from runner.evaluation.engine import default_device, quiet_transformers
    from runner.evaluation.summary import score_lines, score_table, score_title

    model, revision, model_id, dtype = choice.resolve()
    options = EvaluationOptions(
        model=model,
        revision=revision,
        model_id=model_id,
        tasks=tasks,
        output_dir=output_dir,
        data_dir=data_dir,
        limit=limit,
        device=device or default_device(),
        dtype=dtype,
        batch_size=batch_size,
        progress=progress,
    )
    quiet_transformers()
    result = run_evaluation(options)
    print(f"{score_title(result)}\n{score_lines(result)}", flush=True)
    title = score_title(result, markdown=True)
    append_summary(f"### `medlb evaluate`: {title}\n\n{score_table(result)}")
    return result


@dataclass(frozen=True)
class _PreparedTask:
    spec: TaskSpec
    items: list[Item]
    n_total: int  # rows in the data (items == rows unless --limit)
    data_sha256: str
    rows_source: RowsSource  # where the rows came from (results.json provenance)

    @property
    def relative_path(self) -> str:
        return f"predictions/{self.spec.name}.jsonl"


def run_evaluation(options: EvaluationOptions) -> EvaluationResult:
    started_at = datetime.now(UTC)
    clock = time.perf_counter()
    check_device(options.device, options.dtype)
    prepared = [_prepare(spec, options) for spec in options.tasks]
    from_hub = not Path(options.model).is_dir()
    directory = resolve_model_dir(options.model, options.revision)
    manifest = open_run(options.output_dir, _identity(options, directory, from_hub))
    for task in prepared:
        check_task_data(options.output_dir, manifest, task.spec.name, task.data_sha256)

    lm: LoadedModel | None = None
    budget = options.token_budget
    for task in prepared:
        if _finished(options.output_dir, manifest, task):
            _say(f"{task.spec.name}: kept from an earlier run ({task.relative_path} is complete)")
            continue
        if lm is None:
            with log_group(f"load {options.model_id or options.model}"):
                lm = _load(options, directory)
            budget = budget or default_token_budget(lm, options.batch_size)
        with log_group(f"{task.spec.name}: {len(task.items)} items"):
            manifest = _run_task(lm, task, manifest, options, budget)

    tasks = {t.spec.name: _task_result(options.output_dir, manifest, t) for t in prepared}
    complete = options.limit is None and all(t.n == t.n_total for t in tasks.values())
    result = EvaluationResult(
        model=_model_info(options, directory, from_hub),
        environment=_environment(options.device),
        run=RunInfo(
            started_at=started_at,
            finished_at=datetime.now(UTC),
            seconds=round(time.perf_counter() - clock, 3),
            batch_size="auto" if options.batch_size is None else str(options.batch_size),
            limit=options.limit,
            ci_run_url=_ci_run_url(),
        ),
        tasks=tasks,
        average=leaderboard_average({n: t.acc for n, t in tasks.items()}, complete=complete),
    )
    save(options.output_dir / RESULTS_FILE, result)
    return result


def _load(options: EvaluationOptions, directory: Path) -> LoadedModel:
    """Load the model and say what was loaded (the "load" log group's content)."""
    clock = time.perf_counter()
    lm = load_model_dir(directory, device=options.device, dtype=options.dtype)
    params = safetensors_param_count(directory)
    name = options.model_id or options.model
    label = f"{name}@{options.revision}" if options.revision else str(directory.resolve())
    _say(
        f"loaded {label}: {lm.architecture or 'causal LM'}, "
        f"{f'{params:,}' if params else 'unknown'} parameters, {lm.dtype} on {options.device}, "
        f"max length {lm.max_length} tokens, in {time.perf_counter() - clock:.1f}s"
    )
    return lm


def _prepare(spec: TaskSpec, options: EvaluationOptions) -> _PreparedTask:
    from runner.evaluation.task_data import load_task_rows, rows_source

    task_rows = load_task_rows(spec, options.data_dir)
    rows = task_rows.rows if options.limit is None else task_rows.rows[: options.limit]
    return _PreparedTask(
        spec=spec,
        items=build_items(spec, rows, source=task_rows.source),
        n_total=len(task_rows.rows),
        data_sha256=task_rows.sha256,
        rows_source=rows_source(spec, task_rows),
    )


def _identity(options: EvaluationOptions, directory: Path, from_hub: bool) -> RunIdentity:
    return RunIdentity(
        model=options.model if from_hub else str(directory.resolve()),
        revision=options.revision if from_hub else None,
        model_sha256=None if from_hub else _directory_sha256(directory),
        dtype=options.dtype,
        device=options.device,
        limit=options.limit,
    )


def _directory_sha256(directory: Path) -> str:
    """A local model's identity: its files' names and bytes (weights, config, tokenizer)."""
    digest = hashlib.sha256()
    for path in sorted(p for p in directory.iterdir() if p.is_file()):
        digest.update(path.name.encode() + b"\0")
        with path.open("rb") as handle:
            while chunk := handle.read(1 << 22):
                digest.update(chunk)
    return digest.hexdigest()


def _finished(output_dir: Path, manifest: RunManifest, task: _PreparedTask) -> bool:
    record = manifest.tasks.get(task.spec.name)
    path = predictions.predictions_path(output_dir, task.spec.name)
    if record is None or not path.is_file():
        return False
    return (
        predictions.sha256(path.read_bytes()) == record.predictions_sha256
        and predictions.read_matching(path, task.items) is not None
    )


def _run_task(
    lm: LoadedModel,
    task: _PreparedTask,
    manifest: RunManifest,
    options: EvaluationOptions,
    budget: TokenBudget | None,
) -> RunManifest:
    clock = time.perf_counter()
    scores = score_task(
        lm, task.items, token_budget=budget, progress=task.spec.name if options.progress else None
    )
    data = predictions.render(task.items, scores.choice_logprobs)
    record = TaskRecord(
        data_sha256=task.data_sha256,
        n=len(task.items),
        seconds=round(time.perf_counter() - clock, 3),
        model_tokens=scores.model_tokens,
        multi_token_items=scores.multi_token_items,
        predictions_sha256=predictions.sha256(data),
    )
    # Record first, then rename the predictions into place: the file is the commit point.
    manifest = record_finished_task(options.output_dir, manifest, task.spec.name, record)
    write_atomic(predictions.predictions_path(options.output_dir, task.spec.name), data)
    _say(
        f"{task.spec.name}: {len(task.items)} items, {record.seconds:.1f}s -> {task.relative_path}"
    )
    return manifest


def _task_result(output_dir: Path, manifest: RunManifest, task: _PreparedTask) -> TaskResult:
    """Scores from the predictions file as written, so resumed and fresh runs agree exactly."""
    path = predictions.predictions_path(output_dir, task.spec.name)
    rows = predictions.read_matching(path, task.items)
    if rows is None:  # written by this run a moment ago; only outside interference gets here
        raise RuntimeError(f"{path} changed while the run was finishing")
    record = manifest.tasks[task.spec.name]
    metrics = task_metrics(
        [row.choice_logprobs for row in rows],
        [item.gold for item in task.items],
        [item.subject for item in task.items],
    )
    spec, source = task.spec, task.rows_source
    # Rows from a local file are the pinned revision's only when their sha256 says so.
    pinned = source.kind == "hub" or source.sha256_known is True
    return TaskResult(
        task=spec.name,
        dataset=spec.dataset,
        dataset_config=spec.config,
        dataset_revision=spec.revision if pinned else None,
        split=spec.split,
        data_sha256=task.data_sha256,
        n=metrics.n,
        n_total=task.n_total,
        acc=metrics.acc,
        stderr=metrics.stderr,
        ci95=metrics.ci95,
        ece=metrics.ece,
        subjects={name: SubjectScore(n=s.n, acc=s.acc) for name, s in metrics.subjects.items()},
        correct=metrics.correct_bits,
        predictions_sha256=record.predictions_sha256,
        multi_token_items=record.multi_token_items,
        prompt_tokens=record.model_tokens,
        seconds=record.seconds,
        rows_source=source,
    )


def _model_info(options: EvaluationOptions, directory: Path, from_hub: bool) -> ModelInfo:
    config = json.loads((directory / "config.json").read_text(encoding="utf-8"))
    text_config = config.get("text_config") or config
    return ModelInfo(
        id=options.model_id or (options.model if from_hub else directory.resolve().name),
        source="hub" if from_hub else "local",
        revision=options.revision if from_hub else None,
        precision=options.dtype,
        params=safetensors_param_count(directory),
        architecture=(config.get("architectures") or [None])[0],
        vocab_size=text_config.get("vocab_size"),
    )


def _environment(device: str) -> Environment:
    import torch
    import transformers

    on_gpu = device == "cuda"
    return Environment(
        medlb_version=__version__,
        medlb_git_sha=_git_sha(),
        python=platform.python_version(),
        torch=torch.__version__,
        transformers=transformers.__version__,
        device=torch.cuda.get_device_name(0) if on_gpu else "cpu",
        device_count=torch.cuda.device_count() if on_gpu else 1,
    )


def _git_sha() -> str | None:
    """The commit of the medlb checkout that ran (GitHub's env var first, then git itself)."""
    if os.environ.get("GITHUB_SHA"):
        return os.environ["GITHUB_SHA"]
    try:
        out = subprocess.run(
            ["git", "rev-parse", "HEAD"],
            cwd=Path(__file__).parent,
            capture_output=True,
            text=True,
            timeout=5,
            check=True,
        )
    except (OSError, subprocess.SubprocessError):
        return None
    return out.stdout.strip() or None


def _ci_run_url() -> str | None:
    parts = [os.environ.get(k) for k in ("GITHUB_SERVER_URL", "GITHUB_REPOSITORY", "GITHUB_RUN_ID")]
    return f"{parts[0]}/{parts[1]}/actions/runs/{parts[2]}" if all(parts) else None


def _say(message: str) -> None:
    print(f"medlb: {message}", file=sys.stderr, flush=True)
