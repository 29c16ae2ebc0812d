"""Ranks that admit uncertainty: a model shares a rank with every model it cannot be told from.

A model's rank is 1 + the number of models whose 95% interval lies entirely above its own (the
"rank upper bound" rule of LMSYS's Chatbot Arena). Models whose intervals overlap therefore can
share a rank, and `tied` counts how many others overlap, which the site shows as a marker.
Both counts come from two sorted lists and binary search: O(n log n) for any number of models.
"""

from __future__ import annotations

from bisect import bisect_left, bisect_right
from collections.abc import Sequence
from dataclasses import dataclass

from runner.stats import Interval


@dataclass(frozen=True)
class RankPlace:
    rank: int  # 1 + models significantly better
    tied: int  # other models whose interval overlaps this one


def rank_places(intervals: Sequence[Interval]) -> list[RankPlace]:
    """The `RankPlace` of every interval, in input order."""
    lows = sorted(iv.low for iv in intervals)
    highs = sorted(iv.high for iv in intervals)
    n = len(intervals)
    places = []
    for iv in intervals:
        better = n - bisect_right(lows, iv.high)  # whole interval above this one
        worse = bisect_left(highs, iv.low)  # whole interval below this one
        places.append(RankPlace(rank=1 + better, tied=n - 1 - better - worse))
    return places
