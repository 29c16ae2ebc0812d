"""The one statistics module: the intervals results files carry and the site draws."""

from __future__ import annotations

import math

import pytest

from runner import stats


def test_bootstrap_interval_is_seeded_and_close_to_the_normal_one():
    correct = [i % 3 == 0 for i in range(600)]  # acc = 1/3
    first = stats.bootstrap_ci95(correct)
    assert first == stats.bootstrap_ci95(correct)  # same seed, same interval
    assert stats.bootstrap_ci95(correct, seed=7) != first
    acc, stderr = stats.accuracy(correct), stats.mean_stderr(correct)
    low, high = first
    assert low < acc < high
    assert low == pytest.approx(acc - 1.96 * stderr, abs=0.01)
    assert high == pytest.approx(acc + 1.96 * stderr, abs=0.01)


def test_wilson_interval_matches_the_closed_form_and_stays_inside_0_1():
    # 8 of 10: the textbook Wilson interval is (0.4902, 0.9433).
    low, high = stats.wilson_interval(0.8, 10)
    assert (round(low, 4), round(high, 4)) == (0.4902, 0.9433)
    assert stats.wilson_interval(1.0, 3)[1] == 1.0
    assert stats.wilson_interval(0.0, 3)[0] == pytest.approx(0.0, abs=1e-12)


def test_mean_interval_adds_independent_variances():
    interval = stats.mean_interval([0.5, 0.7], [0.03, 0.04])
    half = stats.Z95 * math.sqrt(0.03**2 + 0.04**2) / 2
    assert interval.value == pytest.approx(0.6)
    assert (interval.low, interval.high) == pytest.approx((0.6 - half, 0.6 + half))
