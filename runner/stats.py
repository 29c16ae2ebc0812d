"""The statistics behind every interval the leaderboard prints, in one place.

Evaluation (`runner.evaluation.metrics`) and the site (`runner.sitegen`) both use these, so a
number in a results file and the interval drawn around it on a page come from the same formula.
numpy is imported only by `bootstrap_ci95`: the site is built without it (ARCHITECTURE.md,
"The site").

- `mean_stderr`: lm-eval's `acc_stderr`, the sample standard deviation over sqrt(n);
- `bootstrap_ci95`: a seeded percentile bootstrap of a mean of 0/1 outcomes;
- `wilson_interval`: the Wilson score interval of a proportion, sensible for a handful of items;
- `mean_interval`: the mean of independent scores with a normal interval from their errors.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

Z95 = 1.959963984540054  # two-sided 95% normal quantile
BOOTSTRAP_RESAMPLES = 1000
BOOTSTRAP_SEED = 1234


@dataclass(frozen=True)
class Interval:
    """A point estimate with its 95% interval."""

    value: float
    low: float
    high: float


def accuracy(correct: Sequence[bool]) -> float:
    return sum(correct) / len(correct)


def mean_stderr(correct: Sequence[bool | float]) -> float:
    """lm-eval's `mean_stderr`: sample std (n - 1) / sqrt(n); 0.0 for one item (undefined)."""
    n = len(correct)
    if n < 2:
        return 0.0
    mean = sum(float(c) for c in correct) / n
    variance = sum((float(c) - mean) ** 2 for c in correct) / (n - 1)
    return math.sqrt(variance) / math.sqrt(n)


def bootstrap_ci95(
    values: Sequence[bool | float],
    *,
    resamples: int = BOOTSTRAP_RESAMPLES,
    seed: int = BOOTSTRAP_SEED,
) -> tuple[float, float]:
    """95% percentile-bootstrap interval of the mean; seeded, so a rerun gives the same one."""
    import numpy as np

    array = np.asarray(values, dtype=np.float64)
    rng = np.random.default_rng(seed)
    means = array[rng.integers(0, len(array), size=(resamples, len(array)))].mean(axis=1)
    low, high = np.percentile(means, [2.5, 97.5])
    return float(low), float(high)


def wilson_interval(acc: float, n: int) -> tuple[float, float]:
    """Wilson score interval: sensible even for a subject with a handful of questions."""
    z2 = Z95 * Z95
    centre = (acc + z2 / (2 * n)) / (1 + z2 / n)
    half = Z95 * math.sqrt(acc * (1 - acc) / n + z2 / (4 * n * n)) / (1 + z2 / n)
    return max(0.0, centre - half), min(1.0, centre + half)


def mean_interval(values: Sequence[float], stderrs: Sequence[float]) -> Interval:
    """Mean of independent task scores with a normal 95% interval from their standard errors.

    The tasks are disjoint question sets, so their errors are independent and the variance of
    the unweighted mean is sum(se_i^2) / k^2.
    """
    k = len(values)
    mean = sum(values) / k
    half = Z95 * math.sqrt(sum(se * se for se in stderrs)) / k
    return Interval(mean, max(0.0, mean - half), min(1.0, mean + half))
