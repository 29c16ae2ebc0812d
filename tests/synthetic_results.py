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
        data_sha256=hashlib.sha256(f"{base.data_sha256}:{n}".encode()).hexdigest(),
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
