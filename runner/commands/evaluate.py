"""`medlb evaluate`: score a model on the leaderboard tasks; write predictions and results.json."""

from __future__ import annotations

import argparse
import sys
import textwrap
from pathlib import Path

from runner import github_actions
from runner.errors import UsageError
from runner.evaluation.cot.engine import ENGINE_NAMES
from runner.evaluation.tasks import TASK_NAMES
from runner.precision import PRECISIONS

DESCRIPTION = """\
Evaluate a causal LM zero-shot on the leaderboard's nine tasks on one or two tracks, kept apart:

  loglik  log-likelihood scoring of the choices, identical to lm-evaluation-harness 0.4
          (`lm_eval --model hf`);
  cot     zero-shot chain of thought: the question as one user message through the model's
          chat template, a greedy generation of at most --max-new-tokens tokens, and the last
          "Final Answer: X" line read as the answer (lm-eval's `generate_until` with
          --apply_chat_template, token for token). Only for a tokenizer with a chat template.

and write

  OUTPUT/predictions/<task>.jsonl   one line per item: doc_id, choice_logprobs, pred, gold
                                    (and rotation_logprobs with --rotations)
  OUTPUT/predictions/cot/<task>.jsonl
                                    cot: doc_id, generation, answer, gold, correct,
                                    output_tokens, truncated
  OUTPUT/results.json               both tracks (schema version 3: runner/results_schema.py).
                                    loglik: accuracy, stderr, 95% CI, per-subject accuracy,
                                    calibration (ECE, Brier, reliability bins), chance-normalised
                                    accuracy, per-letter recall and RStd, robustness (with
                                    --rotations), per-item correctness and provenance;
                                    cot: accuracy with its interval, no-answer and truncation
                                    rates, output tokens, agreement with loglik (2x2 table,
                                    McNemar p), engine and cost, or why cot did not run
  OUTPUT/run.json                   what the directory holds, for resuming

--rotations: every question of the eight letter-choice tasks (all but PubMedQA) is also scored
with its n options rotated r = 1..n-1 places (original option (j + r) mod n shown at letter j),
which gives consistent accuracy (right under every rotation), the answer-flip rate and a
debiased accuracy. Scoring those tasks costs about n = 4 times as long; rotation 0 (the
leaderboard's accuracy) is exactly what a run without --rotations scores.

Re-running with the same --output resumes, track by track: finished tasks are kept, not
recomputed; a run whose model, revision, dtype, device, --limit, --rotations or data differ from
the directory's is refused, and so is a cot run whose engine, --max-new-tokens or chat template
differ from the directory's cot predictions.
"""

EPILOG = f"""\
tasks (--tasks):
{textwrap.fill(", ".join(TASK_NAMES), width=92, initial_indent="  ", subsequent_indent="  ")}

examples:
  medlb evaluate submissions/org/model.yaml --output out/
  medlb evaluate --model ./my-model --tasks medqa_4options,pubmedqa --limit 50 --output out/
  medlb evaluate --model ./my-model --rotations --output out/
  medlb evaluate --model ./my-chat-model --track cot --max-new-tokens 2048 --output out/
exit status: 0 success, 1 invalid input (data, model, output directory), 2 usage error,
3 the Hub did not answer (re-run later).
Under GitHub Actions a failure is also an ::error annotation and a job-summary section.
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
        help="comma-separated task names (default: all nine; listed below)",
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
        choices=PRECISIONS,
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
        "--rotations",
        action="store_true",
        help="also score the letter-choice tasks under every rotation of their options "
        "(robustness metrics; about 4x their scoring time)",
    )
    parser.add_argument(
        "--track",
        choices=("loglik", "cot", "both"),
        help="which tracks to run (default: the submission's `tracks:`, else both when the "
        "tokenizer has a chat template, else loglik, and results.json says why cot did not run)",
    )
    parser.add_argument(
        "--max-new-tokens",
        default="4096",
        metavar="N",
        help="cot: generate at most N tokens per question (default 4096; recorded in the "
        "result; the prompt is left-truncated to the context window minus N)",
    )
    parser.add_argument(
        "--engine",
        choices=ENGINE_NAMES,
        default="auto",
        help="cot: hf (transformers generate, the reference), vllm (CUDA only, from the GPU "
        "lock file) or auto (default: vllm on CUDA where installed, else hf); recorded",
    )
    parser.add_argument(
        "--output",
        type=Path,
        required=True,
        metavar="DIR",
        help="output directory (created; re-use it to resume an interrupted run)",
    )
    parser.add_argument(
        "--no-progress",
        action="store_true",
        help="no progress bar on stderr (already off under GitHub Actions and when stderr is "
        "not a terminal)",
    )
    parser.set_defaults(
        handler=_run,
        resume_hint="run the same command again (same --output) to resume: finished tasks are kept",
    )


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


def _progress_bars(no_progress: bool) -> bool:
    """Bars redraw a line in place: right on a terminal, noise in a CI log or a file."""
    return not no_progress and not github_actions.in_actions() and sys.stderr.isatty()


def _run(args: argparse.Namespace) -> int:
    from runner.evaluation.run import ModelChoice, evaluate_and_report
    from runner.evaluation.tasks import resolve_tasks

    evaluate_and_report(
        ModelChoice(args.submission, args.model, args.revision, args.dtype, args.track),
        tasks=resolve_tasks(args.tasks),
        output_dir=args.output,
        data_dir=args.data_dir,
        limit=_positive_int("--limit", args.limit),
        device=args.device,
        batch_size=_batch_size(args.batch_size),
        progress=_progress_bars(args.no_progress),
        rotations=args.rotations,
        max_new_tokens=_positive_int("--max-new-tokens", args.max_new_tokens),
        engine=args.engine,
    )
    return 0
