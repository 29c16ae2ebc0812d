"""Calibration of the normalised choice probabilities, and accuracy measured against chance.

The probabilities are the softmax over an item's choices of their log-likelihoods; the confidence
is the top choice's probability. Definitions and references: ARCHITECTURE.md, "Calibration".

- reliability bins: ten equal-width confidence bins, each with its item count, mean confidence
  and accuracy (what a reliability diagram draws); ECE is their |accuracy - confidence| weighted
  by the bin's share of items;
- Brier score (Brier 1950): the mean over items of sum_k (p_k - [k = gold])^2, in [0, 2];
- chance-normalised accuracy: (acc - 1/n) / (1 - 1/n) for n choices, 0 at chance, 1 when perfect
  (`runner.stats.chance_normalized`, re-exported here: the site computes it too, without numpy);
- majority-class rate: the share of the commonest gold answer (PubMedQA's "always yes" line);
- `calibration_intervals`: 95% intervals of ECE (bias-corrected percentile, as RStd's: resampling
  inflates ECE) and of the Brier score (percentile), from resampling the task's items.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Mapping, Sequence

import numpy as np

from runner.results_schema import PooledReliability, ReliabilityBin
from runner.stats import Bootstrap
from runner.stats import chance_normalized as chance_normalized

ECE_BINS = 10


def choice_probabilities(choice_logprobs: Sequence[Sequence[float]]) -> list[np.ndarray]:
    """Softmax over each item's choices (items may have different numbers of choices)."""
    out = []
    for row in choice_logprobs:
        logits = np.asarray(row, dtype=np.float64)
        weights = np.exp(logits - logits.max())
        out.append(weights / weights.sum())
    return out


def _confidence_and_hits(
    choice_logprobs: Sequence[Sequence[float]], golds: Sequence[int]
) -> tuple[np.ndarray, np.ndarray]:
    probs = choice_probabilities(choice_logprobs)
    confidence = np.array([p.max() for p in probs])
    hit = np.array([int(p.argmax()) == g for p, g in zip(probs, golds, strict=True)], dtype=float)
    return confidence, hit


def reliability_bins(
    choice_logprobs: Sequence[Sequence[float]], golds: Sequence[int], *, bins: int = ECE_BINS
) -> list[ReliabilityBin]:
    """`bins` equal-width confidence bins on [0, 1]: count, mean confidence, accuracy."""
    confidence, hit = _confidence_and_hits(choice_logprobs, golds)
    which = np.minimum((confidence * bins).astype(int), bins - 1)
    out = []
    for b in range(bins):
        members = which == b
        if members.any():
            out.append(
                ReliabilityBin(
                    count=int(members.sum()),
                    confidence=float(confidence[members].mean()),
                    accuracy=float(hit[members].mean()),
                )
            )
        else:
            out.append(ReliabilityBin(count=0, confidence=None, accuracy=None))
    return out


def ece_of_bins(bins: Sequence[ReliabilityBin]) -> float:
    """Expected calibration error: sum of |accuracy - mean confidence| weighted by bin size."""
    n = sum(b.count for b in bins)
    total = 0.0
    for b in bins:
        if b.count:
            total += abs(b.accuracy - b.confidence) * b.count / n  # type: ignore[operator]
    return float(min(1.0, total))


def expected_calibration_error(
    choice_logprobs: Sequence[Sequence[float]], golds: Sequence[int], *, bins: int = ECE_BINS
) -> float:
    """ECE of the normalised choice probabilities: confidence = the top choice's probability,
    `bins` equal-width bins on [0, 1], sum of |accuracy - mean confidence| weighted by bin size."""
    return ece_of_bins(reliability_bins(choice_logprobs, golds, bins=bins))


def brier_score(choice_logprobs: Sequence[Sequence[float]], golds: Sequence[int]) -> float:
    """Mean over items of sum_k (p_k - [k = gold])^2 (Brier 1950, all choices), in [0, 2]."""
    return float(sum(_item_brier(choice_logprobs, golds))) / len(golds)


def _item_brier(choice_logprobs: Sequence[Sequence[float]], golds: Sequence[int]) -> list[float]:
    out = []
    for p, gold in zip(choice_probabilities(choice_logprobs), golds, strict=True):
        target = np.zeros_like(p)
        target[gold] = 1.0
        out.append(float(((p - target) ** 2).sum()))
    return out


def calibration_intervals(
    choice_logprobs: Sequence[Sequence[float]],
    golds: Sequence[int],
    bootstrap: Bootstrap,
    *,
    bins: int = ECE_BINS,
) -> tuple[tuple[float, float], tuple[float, float]]:
    """95% intervals of (ECE, Brier) from `bootstrap`'s resamples of these items.

    ECE's is bias-corrected (`Bootstrap.centred_ci95`): the ECE of a resample, a sum of absolute
    gaps, is inflated by the resampling noise, so its plain percentile interval can miss the
    estimate. The Brier score is a mean of per-item scores: its percentile interval is used."""
    confidence, hit = _confidence_and_hits(choice_logprobs, golds)
    which = np.minimum((confidence * bins).astype(int), bins - 1)
    n = len(golds)

    def resampled_ece(indices: list[np.ndarray]) -> np.ndarray:
        drawn = indices[0]
        slots = which[drawn] + bins * np.arange(drawn.shape[0])[:, None]
        size = drawn.shape[0] * bins
        gaps = np.bincount(slots.ravel(), weights=hit[drawn].ravel(), minlength=size)
        gaps -= np.bincount(slots.ravel(), weights=confidence[drawn].ravel(), minlength=size)
        return np.minimum(1.0, np.abs(gaps.reshape(-1, bins)).sum(axis=1) / n)

    ece = ece_of_bins(reliability_bins(choice_logprobs, golds, bins=bins))
    ece_ci = bootstrap.centred_ci95(resampled_ece, ece)
    low, high = bootstrap.mean_ci95([_item_brier(choice_logprobs, golds)])
    return (min(ece_ci[0], 1.0), min(ece_ci[1], 1.0)), (low, high)


def pooled_reliability(bins_by_task: Mapping[str, Sequence[ReliabilityBin]]) -> PooledReliability:
    """The bins of all the tasks' items taken together: counts add, means are count-weighted."""
    pooled = []
    for same_bin in zip(*bins_by_task.values(), strict=True):
        count = sum(b.count for b in same_bin)
        if not count:
            pooled.append(ReliabilityBin(count=0, confidence=None, accuracy=None))
            continue
        filled = [b for b in same_bin if b.count]
        pooled.append(
            ReliabilityBin(
                count=count,
                confidence=sum(b.confidence * b.count for b in filled) / count,  # type: ignore[operator]
                accuracy=sum(b.accuracy * b.count for b in filled) / count,  # type: ignore[operator]
            )
        )
    return PooledReliability(
        tasks=list(bins_by_task),
        n=sum(b.count for b in pooled),
        ece=ece_of_bins(pooled),
        bins=pooled,
    )


def majority_class_rate(golds: Sequence[int]) -> float:
    """Accuracy of always giving the commonest gold answer of these items."""
    return Counter(golds).most_common(1)[0][1] / len(golds)
