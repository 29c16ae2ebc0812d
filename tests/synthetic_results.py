"""Synthetic results for the site's tests and benchmark (`site_fixtures.synthesize_results`).

A synthetic model answers the bundled sample questions (tiled up to the full splits' sizes when
asked): per item, a log-likelihood for every option under every rotation of the options. Its
results file is then computed from those predictions rows by `runner.evaluation.task_results`,
as `medlb evaluate` computes it, so every number in it (accuracy, intervals, subjects,
calibration, letter bias, robustness, averages) is consistent with the others.
"""

from __future__ import annotations

import contextlib
import functools
import hashlib
import random
from dataclasses import dataclass

SYNTHETIC_BOOTSTRAP_RESAMPLES = 200  # fewer than a real run's 1,000: generation speed only


@dataclass(frozen=True)
class SampleItems:
    """One task's bundled sample questions: gold, subject and number of options per item."""

    golds: list[int]
    subjects: list[str | None]
    options: int
    letters: bool  # a letter-choice task (rotations apply)


@dataclass(frozen=True)
class SyntheticModel:
    """How a synthetic model answers: the log-likelihood of option k under rotation r is
    skill·[k is right] + a belief about k drawn once (the same under every order) + bias·[k sits
    at the favourite letter under rotation r] + noise. A biased model answers by position, a
    skilled one by content."""

    skill: float
    bias: float
    favourite: int  # a letter (0 = A); PubMedQA's bias goes to its first answer, "yes"
    noise: float

    @classmethod
    def draw(cls, rng: random.Random) -> SyntheticModel:
        return cls(
            rng.uniform(0.0, 2.4), rng.uniform(0.0, 1.6), rng.randrange(4), rng.uniform(0.2, 0.6)
        )

    def predictions(self, items: SampleItems, n: int, *, rotations: bool, rng: random.Random):
        """`n` predictions rows (items tiled), with `rotation_logprobs` for a letter task."""
        import numpy as np

        from runner.evaluation.predictions import PredictionRow

        generator = np.random.default_rng(rng.getrandbits(64))
        k = items.options
        orders = k if items.letters and rotations else 1
        golds = np.array([items.golds[j % len(items.golds)] for j in range(n)])
        right = np.arange(k)[None, :] == golds[:, None]
        belief = self.skill * right + generator.normal(size=(n, k))
        # option o sits at letter (o - r) mod k under rotation r
        letter = (np.arange(k)[None, :] - np.arange(orders)[:, None]) % k
        favourite = self.favourite if items.letters else 0
        scores = (
            belief[:, None, :]
            + self.bias * (letter == favourite)[None, :, :]
            + self.noise * generator.normal(size=(n, orders, k))
        )
        logprobs = scores - np.log(np.exp(scores).sum(axis=-1, keepdims=True)) - 1.0
        preds = np.argmax(logprobs[:, 0], axis=-1)
        # numpy rows rather than lists of floats: the same values, read many times faster
        return [
            PredictionRow(
                doc_id=j,
                choice_logprobs=logprobs[j, 0],
                pred=int(preds[j]),
                gold=int(golds[j]),
                rotation_logprobs=logprobs[j, 1:] if orders > 1 else None,
            )
            for j in range(n)
        ]


def task_result_of(name: str, base, rows, items: SampleItems, n: int, *, rotations: bool):
    """The task's entry as `medlb evaluate` computes it from predictions rows."""
    from runner.evaluation.run_manifest import TaskRecord
    from runner.evaluation.task_results import task_result
    from runner.evaluation.tasks import TASKS

    digest = hashlib.sha256(b"".join(row.choice_logprobs.tobytes() for row in rows)).hexdigest()
    letters = rotations and items.letters
    record = TaskRecord(
        # the sample questions themselves when not tiled (their question texts apply)
        data_sha256=base.data_sha256
        if n == base.n
        else hashlib.sha256(f"{base.data_sha256}:{n}".encode()).hexdigest(),
        n=n,
        seconds=base.seconds * n / base.n,
        model_tokens=base.prompt_tokens * n // base.n,
        multi_token_items=0,
        predictions_sha256=digest,
        rotation_seconds=3 * base.seconds * n / base.n if letters else None,
        rotation_model_tokens=3 * base.prompt_tokens * n // base.n if letters else None,
    )
    return task_result(
        TASKS[name],
        rows,
        [items.subjects[j % len(items.subjects)] for j in range(n)],
        data_sha256=record.data_sha256,
        n_total=n,
        record=record,
        rows_source=base.rows_source,
    )


@contextlib.contextmanager
def fewer_resamples():
    """Synthetic results come by the thousand: their intervals are bootstraps of their own items
    with fewer resamples than a real run's 1,000 (generation speed only)."""
    from unittest import mock

    from runner import stats

    class FewerResamples(stats.Bootstrap):
        @classmethod
        def of_sizes(
            cls, sizes, *, resamples=SYNTHETIC_BOOTSTRAP_RESAMPLES, seed=stats.BOOTSTRAP_SEED
        ):
            return stats.Bootstrap.of_sizes(sizes, resamples=resamples, seed=seed)

    ci95 = functools.partial(stats.bootstrap_ci95, resamples=SYNTHETIC_BOOTSTRAP_RESAMPLES)
    with (
        mock.patch("runner.evaluation.robustness.Bootstrap", FewerResamples),
        mock.patch("runner.evaluation.task_results.Bootstrap", FewerResamples),
        mock.patch("runner.evaluation.metrics.bootstrap_ci95", ci95),
    ):
        yield


def sample_items() -> dict[str, SampleItems]:
    """Every task's bundled sample questions, in item order."""
    from runner.evaluation.task_data import load_task_rows
    from runner.evaluation.tasks import TASKS
    from runner.evaluation.tiny_models import SAMPLE_DATA_DIR

    out = {}
    for name, spec in TASKS.items():
        rows = load_task_rows(spec, SAMPLE_DATA_DIR).rows
        out[name] = SampleItems(
            golds=[spec.doc_to_gold(row) for row in rows],
            subjects=[spec.doc_to_subject(row) for row in rows],
            options=len(spec.doc_to_choices(rows[0])),
            letters=spec.letter_choices,
        )
    return out


# ---- the reasoning track (schema version 3, ARCHITECTURE.md, "The reasoning track") ----

COT_MAX_NEW_TOKENS = 4096
COT_ENGINES = (("hf", "4.57.1"), ("vllm", "0.11.0"))


@dataclass(frozen=True)
class SyntheticReasoner:
    """How a synthetic model answers on the `cot` track, against its own `loglik` choices: it
    keeps a right loglik answer with probability `keep`, fixes a wrong one with `fix`, gives no
    "Final Answer" line with `silent` (scored wrong), a third of those by hitting the limit."""

    keep: float
    fix: float
    silent: float
    tokens: int  # typical output tokens of a finished answer

    @classmethod
    def draw(cls, rng: random.Random) -> SyntheticReasoner:
        return cls(
            rng.uniform(0.75, 0.97),
            rng.uniform(0.05, 0.45),
            rng.uniform(0.0, 0.08),
            rng.randrange(120, 900),
        )

    def items(self, rows, items: SampleItems, rng: random.Random) -> list[dict]:
        """Per-item `cot` rows (DESIGN §10's fields), beside the loglik rows of the same items."""
        import numpy as np

        generator = np.random.default_rng(rng.getrandbits(64))
        n, k = len(rows), items.options
        pred = np.array([row.pred for row in rows])
        gold = np.array([row.gold for row in rows])
        loglik_right = pred == gold
        silent = generator.random(n) < self.silent
        right = ~silent & (generator.random(n) < np.where(loglik_right, self.keep, self.fix))
        wrong = (gold + generator.integers(1, k, size=n)) % k  # any option but the gold
        truncated = silent & (generator.random(n) < 1 / 3)
        typical = np.maximum(8, generator.normal(self.tokens, 60, size=n).astype(int))
        tokens = np.where(truncated, COT_MAX_NEW_TOKENS, typical)
        return [
            {
                "doc_id": row.doc_id,
                "answer": None if silent[j] else int(gold[j] if right[j] else wrong[j]),
                "gold": row.gold,
                "correct": bool(right[j]),
                "loglik_correct": bool(loglik_right[j]),
                "loglik_answer": row.pred,
                "output_tokens": int(tokens[j]),
                "truncated": bool(truncated[j]),
            }
            for j, row in enumerate(rows)
        ]


def answer_text(index: int | None, items: SampleItems) -> str | None:
    """A choice as the `cot` rows spell it: a letter, or PubMedQA's word."""
    if index is None:
        return None
    return "ABCD"[index] if items.letters else ("yes", "no", "maybe")[index]


def generation_text(item: dict, items: SampleItems) -> str:
    """A short synthetic generation ending (unless silent) with its Final Answer line."""
    answer = answer_text(item["answer"], items)
    steps = "Let us think step by step about each option in turn."
    if answer is None:
        return steps + (" The evidence is" if item["truncated"] else " It is unclear.")
    return f"{steps}\nFinal Answer: {answer}"


def cot_rows_jsonl(cot_items: list[dict], items: SampleItems) -> bytes:
    """The `predictions/cot/<task>.jsonl` bytes of these items (DESIGN §10's per-item fields)."""
    import json

    lines = [
        json.dumps(
            {
                "doc_id": item["doc_id"],
                "generation": generation_text(item, items),
                "answer": answer_text(item["answer"], items),
                "gold": answer_text(item["gold"], items),
                "correct": item["correct"],
                "output_tokens": item["output_tokens"],
                "truncated": item["truncated"],
            }
        )
        for item in cot_items
    ]
    return ("\n".join(lines) + "\n").encode("utf-8")


def mcnemar_exact_p(fixes: int, breaks: int) -> float:
    """Exact two-sided McNemar test on the discordant pairs (a binomial test at 1/2)."""
    from fractions import Fraction
    from math import comb

    n = fixes + breaks
    if n == 0:
        return 1.0
    tail = sum(comb(n, i) for i in range(min(fixes, breaks) + 1))
    return float(min(Fraction(1), Fraction(2 * tail, 2**n)))


def cot_task_result(name: str, base, cot_items: list[dict], items: SampleItems, predictions: str):
    """A task's `CotTaskResult` computed from its synthetic `cot` items."""
    from runner import stats
    from runner.evaluation.metrics import subject_accuracy
    from runner.results_schema import CotAgreement, CotTaskResult, SubjectScore, encode_bits

    n = len(cot_items)
    correct = [item["correct"] for item in cot_items]
    loglik = [item["loglik_correct"] for item in cot_items]
    pairs = list(zip(loglik, correct, strict=True))
    fixes, breaks = pairs.count((False, True)), pairs.count((True, False))
    tokens = [item["output_tokens"] for item in cot_items]
    tiled = [items.subjects[j % len(items.subjects)] for j in range(n)]
    subjects = subject_accuracy(correct, tiled)
    return CotTaskResult(
        task=name,
        dataset=base.dataset,
        dataset_config=base.dataset_config,
        dataset_revision=base.dataset_revision,
        split=base.split,
        data_sha256=base.data_sha256,
        rows_source=base.rows_source,
        n=n,
        n_total=base.n_total,
        acc=stats.accuracy(correct),
        stderr=stats.mean_stderr(correct),
        ci95=stats.bootstrap_ci95(correct, resamples=SYNTHETIC_BOOTSTRAP_RESAMPLES),
        no_answer_rate=sum(item["answer"] is None for item in cot_items) / n,
        truncation_rate=sum(item["truncated"] for item in cot_items) / n,
        mean_output_tokens=sum(tokens) / n,
        output_tokens=sum(tokens),
        subjects={k: SubjectScore(n=s.n, acc=s.acc) for k, s in subjects.items()},
        correct=encode_bits(correct),
        predictions_sha256=predictions,
        agreement=CotAgreement(
            both_right=pairs.count((True, True)),
            cot_fixes=fixes,
            cot_breaks=breaks,
            both_wrong=pairs.count((False, False)),
            same_answer=sum(item["answer"] == item["loglik_answer"] for item in cot_items),
            mcnemar_p=mcnemar_exact_p(fixes, breaks),
        ),
        prompt_tokens=base.prompt_tokens,
        seconds=sum(tokens) / 400.0,
    )


def cot_track(tasks: dict, cot_items: dict[str, list[dict]], rng: random.Random, *, complete: bool):
    """The result's `CotTrack` from its tasks' `CotTaskResult`s (and their items)."""
    from runner import stats
    from runner.evaluation.metrics import leaderboard_average
    from runner.results_schema import CotTrack, EngineInfo, TrackCost

    every = [item for name in tasks for item in cot_items[name]]
    samples = [[item["correct"] for item in cot_items[name]] for name in tasks]
    average = leaderboard_average({k: t.acc for k, t in tasks.items()}, complete=complete)
    bootstrap = stats.Bootstrap.of_sizes(
        [len(s) for s in samples], resamples=SYNTHETIC_BOOTSTRAP_RESAMPLES
    )
    engine, version = rng.choice(COT_ENGINES)
    seconds = sum(t.seconds for t in tasks.values())
    return CotTrack(
        engine=EngineInfo(name=engine, version=version),
        max_new_tokens=COT_MAX_NEW_TOKENS,
        chat_template_sha256=f"{rng.getrandbits(256):064x}",
        tasks=tasks,
        average=average,
        average_ci95=bootstrap.mean_ci95(samples) if average is not None else None,
        no_answer_rate=sum(item["answer"] is None for item in every) / len(every),
        truncation_rate=sum(item["truncated"] for item in every) / len(every),
        mean_output_tokens=sum(item["output_tokens"] for item in every) / len(every),
        cost=TrackCost(
            seconds=seconds,
            gpu_seconds=seconds if engine == "vllm" else None,
            prompt_tokens=sum(t.prompt_tokens for t in tasks.values()),
            output_tokens=sum(t.output_tokens for t in tasks.values()),
            energy_wh=round(seconds * 0.09, 3) if engine == "vllm" else None,
        ),
    )
