"""`medlb evaluate`: score a model on the leaderboard tasks; write predictions and results.json."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from runner.errors import UsageError

DESCRIPTION = """\
Evaluate a causal LM zero-shot on the leaderboard's multiple-choice tasks with log-likelihood
scoring identical to lm-evaluation-harness 0.4 (`lm_eval --model hf`), and write

  OUTPUT/predictions/<task>.jsonl   one line per item: doc_id, choice_logprobs, pred, gold
  OUTPUT/results.json               accuracy, stderr, 95% CI, per-subject accuracy, calibration,
                                    per-item correctness and provenance (schema: runner/results.py)
  OUTPUT/run.json                   what the directory holds, for resuming

Re-running with the same --output resumes: finished tasks are kept, not recomputed; a run whose
model, revision, dtype, device, --limit or data differ from the directory's is refused.
"""

EPILOG = """\
examples:
  medlb evaluate submissions/org/model.yaml --output out/
  medlb evaluate --model ./my-model --tasks medqa_4options,pubmedqa --limit 50 --output out/
exit status: 0 success, 1 invalid input (data, model, output directory), 2 usage error.
"""


def register(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser(
        "evaluate",
        help="evaluate a model on the nine tasks (resumable)",
        description=DESCRIPTION,
        epilog=EPILOG,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument(
        "submission",
        nargs="?",
        type=Path,
        metavar="SUBMISSION.yaml",
        help="a submission file: its model, revision and precision are evaluated",
    )
    parser.add_argument(
        "--model",
        metavar="PATH_OR_HUB_ID",
        help="a local model directory (safetensors) or a Hub id; instead of a submission file",
    )
    parser.add_argument(
        "--revision",
        metavar="SHA",
        help="the Hub commit to evaluate (required with a Hub id; not for a directory)",
    )
    parser.add_argument(
        "--tasks",
        metavar="a,b",
        help="comma-separated task names (default: all nine)",
    )
    parser.add_argument(
        "--data-dir",
        type=Path,
        metavar="DIR",
        help="read DIR/<task>.jsonl or .parquet (Hub columns) instead of the Hub",
    )
    parser.add_argument(
        "--limit",
        metavar="N",
        help="evaluate only the first N items of each task (a partial run: no leaderboard average)",
    )
    parser.add_argument(
        "--device",
        choices=("cpu", "cuda"),
        help="where to run (default: cuda when a GPU is visible, else cpu)",
    )
    parser.add_argument(
        "--dtype",
        choices=("float32", "bfloat16", "float16"),
        help="weights and activations (default: the submission's precision, else float32)",
    )
    parser.add_argument(
        "--batch-size",
        default="auto",
        metavar="auto|N",
        help="auto (default): pack batches by a token budget that halves on out-of-memory; "
        "N: at most N sequences per batch",
    )
    parser.add_argument(
        "--output",
        type=Path,
        required=True,
        metavar="DIR",
        help="output directory (created; re-use it to resume an interrupted run)",
    )
    parser.add_argument(
        "--no-progress", action="store_true", help="no progress bar on stderr (CI logs)"
    )
    parser.set_defaults(handler=_run)


def _positive_int(flag: str, text: str | None) -> int | None:
    """Checked here, not by argparse, so a bad value is one `medlb: error:` line."""
    if text is None:
        return None
    try:
        value = int(text)
    except ValueError:
        raise UsageError(f"{flag}: {text!r} is not a whole number") from None
    if value < 1:
        raise UsageError(f"{flag}: must be at least 1, got {value}")
    return value


def _batch_size(text: str) -> int | None:
    return None if text == "auto" else _positive_int("--batch-size", text)


def _run(args: argparse.Namespace) -> int:
    from runner.evaluate import EvaluationOptions, run_evaluation
    from runner.tasks import resolve_tasks

    model, revision, model_id, dtype = _model_to_evaluate(args)
    options = EvaluationOptions(
        model=model,
        revision=revision,
        model_id=model_id,
        tasks=resolve_tasks(args.tasks),
        output_dir=args.output,
        data_dir=args.data_dir,
        limit=_positive_int("--limit", args.limit),
        device=args.device or _default_device(),
        dtype=dtype,
        batch_size=_batch_size(args.batch_size),
        progress=not args.no_progress,
    )
    _quiet_transformers()
    result = run_evaluation(options)
    _print_table(result)
    from runner import github_actions, score_report

    heading = f"### `medlb evaluate`: `{result.model.id}`"
    github_actions.append_summary(f"{heading}\n\n{score_report.score_table(result)}")
    return 0


def _model_to_evaluate(args: argparse.Namespace) -> tuple[str, str | None, str | None, str]:
    """(model source, revision, results id, dtype) from a submission file or --model."""
    if (args.submission is None) == (args.model is None):
        raise UsageError("give either SUBMISSION.yaml or --model PATH_OR_HUB_ID (exactly one)")
    if args.model is not None:
        return args.model, args.revision, None, args.dtype or "float32"
    if args.revision is not None:
        raise UsageError("--revision: a submission file pins its own revision")
    from runner.submission import load_submission

    submission = load_submission(args.submission)
    dtype = args.dtype or submission.precision
    return submission.model, submission.revision, submission.model, dtype


def _default_device() -> str:
    import torch

    return "cuda" if torch.cuda.is_available() else "cpu"


def _quiet_transformers() -> None:
    # Long prompts trigger "sequence length is longer than the maximum" warnings; the engine
    # truncates exactly as lm-eval does, so they only add noise to CI logs.
    from transformers.utils import logging

    logging.set_verbosity_error()
    logging.disable_progress_bar()


def _print_table(result) -> None:
    print(f"{'task':<28} {'n':>6} {'acc':>7} {'± stderr':>9}  95% CI")
    for name, task in result.tasks.items():
        low, high = task.ci95
        print(
            f"{name:<28} {task.n:>6} {task.acc:>7.4f} {task.stderr:>9.4f}  [{low:.4f}, {high:.4f}]"
        )
    average = (
        "n/a (not all nine tasks in full)" if result.average is None else f"{result.average:.4f}"
    )
    print(f"{'average':<28} {'':>6} {average}")
    sys.stdout.flush()
