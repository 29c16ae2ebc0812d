"""The statistics behind every interval the leaderboard prints, in one place.

Evaluation (`runner.evaluation.metrics`) and the site (`runner.sitegen`) both use these, so a
number in a results file and the interval drawn around it on a page come from the same formula.
numpy is imported only inside the bootstrap functions: the site is built without it
(ARCHITECTURE.md, "The site").

- `mean_stderr`: lm-eval's `acc_stderr`, the sample standard deviation over sqrt(n);
- `bootstrap_ci95`: a seeded percentile bootstrap of a mean of 0/1 outcomes;
- `Bootstrap`: the same resampling for any statistic of one sample or of several independent
  samples (the tasks of an average), drawn once and shared by every statistic of those items;
  `Bootstrap.centred_ci95` corrects the percentile interval of a statistic the resampling biases
  (RStd, ECE) so that it always contains the statistic's own value;
- `wilson_interval`: the Wilson score interval of a proportion, sensible for a handful of items;
- `mean_interval`: the mean of independent scores with a normal interval from their errors;
- `chance_normalized`: accuracy rescaled so that guessing scores 0 and all right 1
  (ARCHITECTURE.md, "Calibration").
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

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


def chance_normalized(acc: Any, options: int) -> Any:
    """(acc - 1/n) / (1 - 1/n): 0 for guessing uniformly among n options, 1 for all right.

    `acc` is a float, or a numpy array of per-item hits (element-wise, no numpy needed here)."""
    chance = 1.0 / options
    return (acc - chance) / (1.0 - chance)


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
    return Bootstrap.of_sizes([len(values)], resamples=resamples, seed=seed).mean_ci95([values])


@dataclass(frozen=True)
class Bootstrap:
    """Resampled item indices of one or more independent samples, for percentile intervals.

    `indices[g]` is a `[resamples, n_g]` matrix of indices into sample g, drawn with replacement
    from one seeded generator, sample after sample; so one sample of n items gets exactly the
    draws `bootstrap_ci95` uses, and every statistic of the same items (accuracy under each
    rotation, consistent accuracy, RStd, ...) is judged on the same resamples. Several samples
    are resampled each within itself (a stratified bootstrap): the interval of an average over
    tasks keeps every task's size fixed, as the average itself does.
    """

    indices: list[Any]  # numpy int arrays, one per sample

    @classmethod
    def of_sizes(
        cls,
        sizes: Sequence[int],
        *,
        resamples: int = BOOTSTRAP_RESAMPLES,
        seed: int = BOOTSTRAP_SEED,
    ) -> Bootstrap:
        import numpy as np

        rng = np.random.default_rng(seed)
        return cls([rng.integers(0, n, size=(resamples, n)) for n in sizes])

    def ci95(self, statistic: Callable[[list[Any]], Any]) -> tuple[float, float]:
        """Interval of `statistic`, which maps the index matrices to one value per resample."""
        import numpy as np

        low, high = np.percentile(statistic(self.indices), [2.5, 97.5])
        return float(low), float(high)

    def centred_ci95(
        self, statistic: Callable[[list[Any]], Any], estimate: float, *, floor: float = 0.0
    ) -> tuple[float, float]:
        """Bias-corrected percentile interval: the 2.5th and 97.5th percentiles of the
        resampled values, shifted by (median of the resampled values - `estimate`), not below
        `floor`.

        A spread of noisy measurements (RStd, a standard deviation of recalls; ECE, a sum of
        absolute gaps) is biased upward by resampling, which adds noise to the noise: a model
        with no letter preference has resampled RStds centred above its own, and a plain
        percentile interval can lie wholly above the estimate it qualifies (ARCHITECTURE.md,
        "Option-order robustness"). Shifting the resampled distribution so that its median is
        the estimate keeps the interval's width and contains the estimate by construction.
        """
        import numpy as np

        values = np.asarray(statistic(self.indices), dtype=np.float64)
        low, median, high = np.percentile(values, [2.5, 50.0, 97.5])
        shift = float(median) - estimate
        return max(floor, float(low) - shift), max(floor, float(high) - shift)

    def mean_ci95(self, samples: Sequence[Sequence[bool | float]]) -> tuple[float, float]:
        """Interval of the unweighted mean, over samples, of each sample's mean."""
        import numpy as np

        arrays = [np.asarray(values, dtype=np.float64) for values in samples]

        def mean_of_means(indices: list[Any]) -> Any:
            means = [a[i].mean(axis=1) for a, i in zip(arrays, indices, strict=True)]
            return means[0] if len(means) == 1 else np.mean(means, axis=0)

        return self.ci95(mean_of_means)


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


def mcnemar_exact_p(b: int, c: int) -> float:
    """Exact two-sided McNemar test of paired 0/1 outcomes from its discordant counts b and c:
    the binomial test of min(b, c) successes in b + c trials at p = 1/2, doubled, capped at 1
    (1.0 when there are no discordant pairs)."""
    n = b + c
    if n == 0:
        return 1.0
    tail = sum(math.comb(n, k) for k in range(min(b, c) + 1)) / 2**n
    return min(1.0, 2 * tail)
