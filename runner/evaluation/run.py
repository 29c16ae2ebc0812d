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

The tracks run one after the other in one run, on one loaded model: `loglik`
(`runner.evaluation.loglik_track`), then `cot` (`runner.evaluation.cot.track`), each with its own
predictions files, manifest records and resume; one `results.json` holds both.
"""

from __future__ import annotations

import hashlib
import json
import time
from dataclasses import dataclass, field
from datetime import UTC, datetime
from importlib.metadata import version
from pathlib import Path
from typing import Literal

from runner.errors import UsageError, UserError
from runner.evaluation.cot.engine import EngineName, ModelFiles, resolve_engine_name
from runner.evaluation.cot.track import CotRunContext, CotSettings, cot_tasks, run_cot_track
from runner.evaluation.engine import (
    LoadedModel,
    TokenBudget,
    check_device,
    check_model_source,
    default_token_budget,
    load_model_dir,
    resolve_model_dir,
    safetensors_param_count,
)
from runner.evaluation.engine.loading import _load_config, _load_tokenizer, lm_eval_max_length
from runner.evaluation.environment import ci_run_url, run_environment
from runner.evaluation.loglik_track import (
    kept_rows,
    loglik_cost,
    loglik_task_result,
    prepare_task,
    read_task_predictions,
    run_task,
    say,
)
from runner.evaluation.metrics import leaderboard_average
from runner.evaluation.predictions import PredictionRow
from runner.evaluation.run_manifest import RunIdentity, check_task_data, open_run
from runner.evaluation.task_results import result_averages
from runner.evaluation.tasks import TaskSpec
from runner.github_actions import append_summary, log_group
from runner.results_schema import EngineInfo, EvaluationResult, ModelInfo, RunInfo, save
from runner.untrusted_text import one_line

RESULTS_FILE = "results.json"
TRACK_CHOICES = ("loglik", "cot", "both")
Track = Literal["loglik", "cot", "both"]


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
    track: Track | None = None  # None: both when the tokenizer has a chat template, else loglik
    cot: CotSettings = field(default_factory=CotSettings)  # the reasoning track's settings


@dataclass(frozen=True)
class ModelChoice:
    """What `medlb evaluate` was told to evaluate: a submission file, or a model and revision."""

    submission: Path | None = None
    model: str | None = None  # a local directory or a Hub id
    revision: str | None = None
    dtype: str | None = None  # None: the submission's precision, else float32

    track: Track | None = None  # --track; None: the submission's `tracks:`, else automatic

    def resolve(self) -> tuple[str, str | None, str | None, str, Track | None]:
        """(model source, revision, results id, dtype, track)."""
        if (self.submission is None) == (self.model is None):
            raise UsageError("give either SUBMISSION.yaml or --model PATH_OR_HUB_ID (exactly one)")
        if self.model is not None:
            return self.model, self.revision, None, self.dtype or "float32", self.track
        if self.revision is not None:
            raise UsageError("--revision: a submission file pins its own revision")
        from runner.submissions.schema import load_submission

        submission = load_submission(self.submission)
        dtype = self.dtype or submission.precision
        track = self.track
        if track is None and submission.tracks:  # the author narrowed the tracks
            track = submission.tracks[0] if len(set(submission.tracks)) == 1 else "both"
        return submission.model, submission.revision, submission.model, dtype, track


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
    max_new_tokens: int = CotSettings.max_new_tokens,
    engine: EngineName = "auto",
) -> EvaluationResult:
    """`medlb evaluate`: run, print the score table, add it to the job summary in Actions."""
    from runner.evaluation.engine import default_device, quiet_transformers
    from runner.evaluation.summary import (
        cot_score_lines,
        cot_score_table,
        score_lines,
        score_table,
        score_title,
        summary_line,
    )

    model, revision, model_id, dtype, track = choice.resolve()
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
        track=track,
        cot=CotSettings(max_new_tokens=max_new_tokens, engine=engine),
    )
    quiet_transformers()
    result = run_evaluation(options)
    print(score_title(result), flush=True)
    if result.tasks:
        print(score_lines(result), flush=True)
    if robustness := summary_line(result.letter_tasks_average):
        print(robustness, flush=True)
    if cot := cot_score_lines(result):
        print(cot, flush=True)
    if result.cot_not_run:
        print(f"cot track not run: {result.cot_not_run}", flush=True)
    where = output_dir / RESULTS_FILE
    print(f"results: {where} (per-item predictions: {output_dir / 'predictions'}/)", flush=True)
    title = score_title(result, markdown=True)
    tables = [score_table(result) if result.tasks else None, cot_score_table(result)]
    body = "\n\n".join(table for table in tables if table)
    append_summary(f"### `medlb evaluate`: {title}\n\n{body}")
    return result


def run_evaluation(options: EvaluationOptions) -> EvaluationResult:
    started_at = datetime.now(UTC)
    clock = time.perf_counter()
    check_device(options.device, options.dtype)
    from_hub = check_model_source(options.model, options.revision)  # a typo fails at once
    prepared = [
        prepare_task(spec, options.data_dir, options.limit, options.rotations)
        for spec in options.tasks
    ]
    directory = resolve_model_dir(options.model, options.revision)
    params = safetensors_param_count(directory)  # headers read once: load, log line, results
    config = _load_config(directory)  # a broken config.json says so before the tokenizer does
    tokenizer = _load_tokenizer(directory)
    window = lm_eval_max_length(config, tokenizer)
    run_loglik, run_cot, cot_not_run = _tracks(options, tokenizer, window, directory)
    if run_cot:  # an engine that cannot run here fails now, not after the loglik track
        resolve_engine_name(options.cot.engine, options.device)
    manifest = open_run(options.output_dir, _identity(options, directory, from_hub))
    for task in prepared:
        check_task_data(options.output_dir, manifest, task.spec.name, task.data_sha256)

    lm: LoadedModel | None = None
    budget = options.token_budget
    rows_by_task: dict[str, list[PredictionRow]] = {}
    for task in prepared if run_loglik else []:
        if (kept := kept_rows(options.output_dir, manifest, task)) is not None:
            say(f"{task.spec.name}: kept from an earlier run ({task.relative_path} is complete)")
            rows_by_task[task.spec.name] = kept
            continue
        if lm is None:
            with log_group(f"load {options.model_id or options.model}"):
                lm = _load(options, directory, params)
            budget = budget or default_token_budget(lm, options.batch_size)
        with log_group(f"{task.spec.name}: {len(task.items)} items"):
            manifest = run_task(
                lm, task, manifest, options.output_dir, budget, progress=options.progress
            )
        rows_by_task[task.spec.name] = read_task_predictions(options.output_dir, task)

    tasks = {
        t.spec.name: loglik_task_result(manifest, t, rows_by_task[t.spec.name])
        for t in prepared
        if run_loglik
    }
    complete = options.limit is None and all(len(t.items) == t.n_total for t in prepared)
    environment = run_environment(options.device)
    gpus = environment.device_count if options.device == "cuda" else None
    cot = None
    if run_cot:
        context = CotRunContext(
            files=ModelFiles(directory, options.dtype, window, params),
            tokenizer=tokenizer,
            output_dir=options.output_dir,
            device=options.device,
            settings=options.cot,
            batch_size=options.batch_size,
            progress=options.progress,
            loaded=lm,
        )
        lm = None  # the context holds the model now, and may free it for another engine
        cot, manifest = run_cot_track(
            cot_tasks(prepared), manifest, context, rows_by_task, complete=complete, gpus=gpus
        )
    result = EvaluationResult(
        model=_model_info(options, directory, from_hub, params),
        environment=environment,
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
        **(
            result_averages(tasks, rows_by_task, complete=complete, rotations=options.rotations)
            if tasks
            else {"rotations": options.rotations}
        ),
        loglik_engine=EngineInfo(name="hf", version=version("transformers")) if tasks else None,
        loglik_cost=loglik_cost(manifest, list(tasks), gpus) if tasks else None,
        cot=cot,
        cot_not_run=cot_not_run,
    )
    save(options.output_dir / RESULTS_FILE, result)
    return result


def _tracks(
    options: EvaluationOptions, tokenizer: object, window: int, directory: Path
) -> tuple[bool, bool, str | None]:
    """(run loglik, run cot, why cot does not run). No --track: both where the tokenizer has a
    chat template that passes the sandboxed check and the window leaves room for the prompt,
    else loglik alone; --track cot where cot cannot run is an error."""
    from runner.evaluation.cot.chat import chat_template_text

    track, max_new_tokens = options.track, options.cot.max_new_tokens
    if track is not None and track not in TRACK_CHOICES:
        raise UsageError(f"--track: {track!r} is not one of {', '.join(TRACK_CHOICES)}")
    if track == "loglik":
        return True, False, "not asked for (--track loglik)"
    reason = None
    if chat_template_text(tokenizer) is None:
        reason = "the tokenizer has no chat template (tokenizer_config.json chat_template)"
    elif max_new_tokens >= window:
        reason = (
            f"--max-new-tokens {max_new_tokens} leaves no room for the prompt in the model's "
            f"{window}-token context window"
        )
    if reason is None:
        reason = _template_refused(directory)
    if reason is None:
        return track != "cot", True, None
    if track == "cot":
        raise UserError(f"--track cot: {reason}")
    return True, False, reason


def _template_refused(directory: Path) -> str | None:
    """Why the chat template may not render prompts here, or None: the validator's check again
    (transformers' sandbox, in a child process, 2 s and 64 KB on a sample message), because the
    template rendered in this process is the repository's, not what validation saw
    (ARCHITECTURE.md, "The reasoning track")."""
    from runner.submissions.chat_template import check_chat_template

    checked = check_chat_template(directory)
    if checked.status == "pass":
        return None
    return one_line(f"the chat template failed the sandboxed check: {checked.message}")[:300]


def _load(options: EvaluationOptions, directory: Path, params: int) -> LoadedModel:
    """Load the model and say what was loaded (the "load" log group's content)."""
    clock = time.perf_counter()
    lm = load_model_dir(directory, device=options.device, dtype=options.dtype, params=params)
    name = options.model_id or options.model
    label = f"{name}@{options.revision}" if options.revision else str(directory.resolve())
    say(
        f"loaded {label}: {lm.architecture or 'causal LM'}, "
        f"{f'{params:,}' if params else 'unknown'} parameters, {lm.dtype} on {options.device}, "
        f"max length {lm.max_length} tokens, in {time.perf_counter() - clock:.1f}s"
    )
    return lm


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
