"""Ranks that admit uncertainty: each model's rank range, the ranks its 95% interval allows.

A model's best rank is 1 + the number of models whose 95% interval lies entirely above its own
(the "rank upper bound" rule LMArena publishes), its worst rank N − the number wholly below it;
`tied` counts the others that overlap it, so worst = best + tied. Two models whose intervals
overlap always have ranges that meet (neither is wholly above the other), which is what the site
says of them, and nothing more: their best ranks may differ. The counts come from two sorted
lists and binary search: O(n log n) for any number of models.
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

    @property
    def worst(self) -> int:
        """N − the models whose interval lies wholly below this one."""
        return self.rank + self.tied


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
