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

With `--rotations` a letter task is scored twice: its own items exactly as without rotations (one
`score_task` call, so rotation 0's bytes do not change), then all its rotated items in a second
call (one batching, one shared prefix across every rotation).
"""

from __future__ import annotations

import hashlib
import json
import sys
import time
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

from runner.atomic_io import write_atomic
from runner.errors import UsageError
from runner.evaluation import predictions
from runner.evaluation.engine import (
    LoadedModel,
    TokenBudget,
    check_device,
    check_model_source,
    default_token_budget,
    load_model_dir,
    resolve_model_dir,
    safetensors_param_count,
    score_task,
)
from runner.evaluation.environment import ci_run_url, run_environment
from runner.evaluation.metrics import leaderboard_average
from runner.evaluation.rotations import to_original_order
from runner.evaluation.run_manifest import (
    RunIdentity,
    RunManifest,
    TaskRecord,
    check_task_data,
    open_run,
)
from runner.evaluation.run_manifest import record_task as record_finished_task
from runner.evaluation.task_results import result_averages, task_result
from runner.evaluation.tasks import Item, TaskSpec, build_items, build_rotated_items
from runner.github_actions import append_summary, log_group
from runner.results_schema import (
    EvaluationResult,
    ModelInfo,
    RowsSource,
    RunInfo,
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
    rotations: bool = False  # also score the letter tasks under every option rotation


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
    rotations: bool = False,
) -> EvaluationResult:
    """`medlb evaluate`: run, print the score table, add it to the job summary in Actions."""
    from runner.evaluation.engine import default_device, quiet_transformers
    from runner.evaluation.summary import score_lines, score_table, score_title, summary_line

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
        rotations=rotations,
    )
    quiet_transformers()
    result = run_evaluation(options)
    print(f"{score_title(result)}\n{score_lines(result)}", flush=True)
    if robustness := summary_line(result.letter_tasks_average):
        print(robustness, flush=True)
    where = output_dir / RESULTS_FILE
    print(f"results: {where} (per-item predictions: {output_dir / 'predictions'}/)", flush=True)
    title = score_title(result, markdown=True)
    append_summary(f"### `medlb evaluate`: {title}\n\n{score_table(result)}")
    return result


@dataclass(frozen=True)
class _PreparedTask:
    spec: TaskSpec
    items: list[Item]
    rotated: list[Item]  # rotations 1..n-1 of every item (--rotations, letter tasks), else []
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
    from_hub = check_model_source(options.model, options.revision)  # a typo fails at once
    prepared = [_prepare(spec, options) for spec in options.tasks]
    directory = resolve_model_dir(options.model, options.revision)
    params = safetensors_param_count(directory)  # headers read once: load, log line, results
    manifest = open_run(options.output_dir, _identity(options, directory, from_hub))
    for task in prepared:
        check_task_data(options.output_dir, manifest, task.spec.name, task.data_sha256)

    lm: LoadedModel | None = None
    budget = options.token_budget
    rows_by_task: dict[str, list[predictions.PredictionRow]] = {}
    for task in prepared:
        if (kept := _kept_rows(options.output_dir, manifest, task)) is not None:
            _say(f"{task.spec.name}: kept from an earlier run ({task.relative_path} is complete)")
            rows_by_task[task.spec.name] = kept
            continue
        if lm is None:
            with log_group(f"load {options.model_id or options.model}"):
                lm = _load(options, directory, params)
            budget = budget or default_token_budget(lm, options.batch_size)
        with log_group(f"{task.spec.name}: {len(task.items)} items"):
            manifest = _run_task(lm, task, manifest, options, budget)
        rows_by_task[task.spec.name] = _read_predictions(options.output_dir, task)

    tasks = {t.spec.name: _task_result(manifest, t, rows_by_task[t.spec.name]) for t in prepared}
    complete = options.limit is None and all(t.n == t.n_total for t in tasks.values())
    result = EvaluationResult(
        model=_model_info(options, directory, from_hub, params),
        environment=run_environment(options.device),
        run=RunInfo(
            started_at=started_at,
            finished_at=datetime.now(UTC),
            seconds=round(time.perf_counter() - clock, 3),
            batch_size="auto" if options.batch_size is None else str(options.batch_size),
            limit=options.limit,
            ci_run_url=ci_run_url(),
        ),
        tasks=tasks,
        average=leaderboard_average({n: t.acc for n, t in tasks.items()}, complete=complete),
        **result_averages(tasks, rows_by_task, complete=complete, rotations=options.rotations),
    )
    save(options.output_dir / RESULTS_FILE, result)
    return result


def _load(options: EvaluationOptions, directory: Path, params: int) -> LoadedModel:
    """Load the model and say what was loaded (the "load" log group's content)."""
    clock = time.perf_counter()
    lm = load_model_dir(directory, device=options.device, dtype=options.dtype, params=params)
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
    rotate = options.rotations and spec.letter_choices
    return _PreparedTask(
        spec=spec,
        items=build_items(spec, rows, source=task_rows.source),
        rotated=build_rotated_items(spec, rows, source=task_rows.source) if rotate else [],
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
        rotations=options.rotations,
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


def _kept_rows(
    output_dir: Path, manifest: RunManifest, task: _PreparedTask
) -> list[predictions.PredictionRow] | None:
    """The rows of a task an earlier run finished (its file complete and recorded), else None;
    the bytes are read once, hashed, then parsed."""
    record = manifest.tasks.get(task.spec.name)
    path = predictions.predictions_path(output_dir, task.spec.name)
    if record is None or not path.is_file():
        return None
    data = path.read_bytes()
    if predictions.sha256(data) != record.predictions_sha256:
        return None
    return predictions.parse_matching(data, task.items, rotations=bool(task.rotated))


def _run_task(
    lm: LoadedModel,
    task: _PreparedTask,
    manifest: RunManifest,
    options: EvaluationOptions,
    budget: TokenBudget | None,
) -> RunManifest:
    label = task.spec.name if options.progress else None
    clock, cpu = time.perf_counter(), time.process_time()
    scores = score_task(lm, task.items, token_budget=budget, progress=label)
    scored, scored_cpu = time.perf_counter(), time.process_time()
    rotated = None
    if task.rotated:
        rotated = score_task(
            lm, task.rotated, token_budget=budget, progress=label and f"{label} rotations"
        )
    data = predictions.render(
        task.items,
        scores.choice_logprobs,
        None if rotated is None else to_original_order(task.items, rotated.choice_logprobs),
    )
    done, done_cpu = time.perf_counter(), time.process_time()
    record = TaskRecord(
        data_sha256=task.data_sha256,
        n=len(task.items),
        # Rotation 0's time alone, so that the rotations' cost can be read from one run.
        seconds=round((done if rotated is None else scored) - clock, 3),
        cpu_seconds=round((done_cpu if rotated is None else scored_cpu) - cpu, 3),
        model_tokens=scores.model_tokens,
        multi_token_items=scores.multi_token_items,
        predictions_sha256=predictions.sha256(data),
        rotation_seconds=None if rotated is None else round(done - scored, 3),
        rotation_cpu_seconds=None if rotated is None else round(done_cpu - scored_cpu, 3),
        rotation_model_tokens=None if rotated is None else rotated.model_tokens,
    )
    # Record first, then rename the predictions into place: the file is the commit point.
    manifest = record_finished_task(options.output_dir, manifest, task.spec.name, record)
    write_atomic(predictions.predictions_path(options.output_dir, task.spec.name), data)
    _say(f"{task.spec.name}: {len(task.items)} items, {done - clock:.1f}s -> {task.relative_path}")
    return manifest


def _read_predictions(output_dir: Path, task: _PreparedTask) -> list[predictions.PredictionRow]:
    path = predictions.predictions_path(output_dir, task.spec.name)
    rows = predictions.read_matching(path, task.items, rotations=bool(task.rotated))
    if rows is None:  # written by this run a moment ago; only outside interference gets here
        raise RuntimeError(f"{path} changed while the run was finishing")
    return rows


def _task_result(
    manifest: RunManifest,
    task: _PreparedTask,
    rows: list[predictions.PredictionRow],
) -> TaskResult:
    """Scores from the predictions file as written, so resumed and fresh runs agree exactly."""
    return task_result(
        task.spec,
        rows,
        [item.subject for item in task.items],
        data_sha256=task.data_sha256,
        n_total=task.n_total,
        record=manifest.tasks[task.spec.name],
        rows_source=task.rows_source,
    )


def _model_info(
    options: EvaluationOptions, directory: Path, from_hub: bool, params: int
) -> ModelInfo:
    config = json.loads((directory / "config.json").read_text(encoding="utf-8"))
    text_config = config.get("text_config") or config
    return ModelInfo(
        id=options.model_id or (options.model if from_hub else directory.resolve().name),
        source="hub" if from_hub else "local",
        revision=options.revision if from_hub else None,
        precision=options.dtype,
        params=params,
        architecture=(config.get("architectures") or [None])[0],
        vocab_size=text_config.get("vocab_size"),
    )


def _say(message: str) -> None:
    print(f"medlb: {message}", file=sys.stderr, flush=True)
