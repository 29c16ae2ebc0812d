"""What the site says about how it ranks, derived from the entries it ranked.

Every page that states a ranking rule (the leaderboard, the task pages, the specialties page,
About) renders it from one `RankingRules`, which is computed from the same `ModelEntry` list the
tables show, so the words cannot drift from the ranks (ARCHITECTURE.md, "Results and ranking").
The rankings by consistent accuracy and by the chance-normalised average rank the models ranked
by average that have those scores; the others are named with the reason.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from runner.sitegen.entries import ModelEntry


@dataclass(frozen=True)
class RankingRules:
    sample_site: bool  # no full-split result: sample-data results are ranked among themselves
    ranked: int  # evaluated models with a rank and an average
    unranked: tuple[tuple[str, str], ...]  # (model id, why not ranked), in leaderboard order
    consistent_ranked: int = 0  # models with a rank by consistent accuracy
    no_rotations: tuple[str, ...] = ()  # ranked by average, without rotation scores
    normalized_ranked: int = 0  # models with a rank by the chance-normalised average
    no_normalized: tuple[str, ...] = ()  # ranked by average, without chance-normalised scores
    flagged: int = 0  # evaluated models a maintainer has flagged

    @property
    def evaluated(self) -> int:
        return self.ranked + len(self.unranked)


def ranking_rules(entries: Sequence[ModelEntry], sample_site: bool) -> RankingRules:
    unranked = tuple(
        (e.model_id, e.unranked_reason or "not ranked") for e in entries if e.place is None
    )
    ranked = [e for e in entries if e.place is not None]
    return RankingRules(
        sample_site=sample_site,
        ranked=len(ranked),
        unranked=unranked,
        consistent_ranked=sum(1 for e in ranked if e.consistent_place is not None),
        no_rotations=tuple(e.model_id for e in ranked if e.consistent_place is None),
        normalized_ranked=sum(1 for e in ranked if e.normalized_place is not None),
        no_normalized=tuple(e.model_id for e in ranked if e.normalized_place is None),
        flagged=sum(1 for e in entries if e.flag is not None),
    )
