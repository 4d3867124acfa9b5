"""Correlation between campaigns, as hypotheses with their evidence; never a merge.

Campaign identity (``store/campaign_identity``) already joins occurrences that share a signature
feature within a day of each other, unless the analysis kept them apart in one interval. What is
left are campaigns that share an indicator yet were kept apart: two groups with one download
host, or an actor that went quiet and came back more than a day later. The report names them:

- ``succession``: campaign B starts at most ``succession_days`` days after A's last active day and
  they share at least ``min_shared`` indicators (one campaign succeeding another);
- ``shared_indicators``: both active on overlapping days, sharing at least ``min_shared``
  indicators (over the report's lookback).

The evidence is the shared features (``kind:value``, attacker text), the days each campaign held
them, and the campaigns' active spans. An analyst decides; nothing is merged.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import date
from typing import Any

from coord_core.trends.indicators import INDICATOR_CLASSES

SUCCESSION = "succession"
SHARED_INDICATORS = "shared_indicators"


@dataclass(frozen=True)
class CorrelationRules:
    min_shared: int = 1
    succession_days: int = 3
    max_hypotheses: int = 20
    max_features_shown: int = 10


DEFAULT_CORRELATION = CorrelationRules()


def correlation_hypotheses(
    feature_days: Iterable[tuple[str, str, date]],
    active_days: Mapping[str, Iterable[date]],
    report_day: date,
    rules: CorrelationRules = DEFAULT_CORRELATION,
) -> list[dict[str, Any]]:
    """Hypotheses about pairs of campaigns, at least one of them active on ``report_day``."""
    held: dict[str, dict[str, set[date]]] = defaultdict(lambda: defaultdict(set))
    for campaign_id, feature, day in feature_days:
        if feature.split(":", 1)[0] in INDICATOR_CLASSES:
            held[campaign_id][feature].add(day)
    spans = {c: sorted(set(days)) for c, days in active_days.items() if days}
    holders: dict[str, set[str]] = defaultdict(set)
    for campaign_id, features in held.items():
        for feature in features:
            holders[feature].add(campaign_id)
    pairs: dict[tuple[str, str], set[str]] = defaultdict(set)
    for feature, campaigns in holders.items():
        ordered = sorted(campaigns)
        for i, a in enumerate(ordered):
            for b in ordered[i + 1 :]:
                pairs[(a, b)].add(feature)
    out: list[dict[str, Any]] = []
    for (a, b), shared in sorted(pairs.items()):
        if len(shared) < rules.min_shared or a not in spans or b not in spans:
            continue
        if report_day not in spans[a] and report_day not in spans[b]:
            continue
        first, second = sorted((a, b), key=lambda c: (spans[c][0], c))
        gap = (spans[second][0] - spans[first][-1]).days
        if 0 < gap <= rules.succession_days:
            kind = SUCCESSION
        elif gap <= 0:
            kind = SHARED_INDICATORS
        else:
            continue
        shown = sorted(shared)[: rules.max_features_shown]
        out.append(
            {
                "kind": kind,
                "campaigns": [first, second],
                "status": "hypothesis: not merged",
                "evidence": {
                    "shared_features": len(shared),
                    "features": [
                        {
                            "feature": f,
                            "days": {c: sorted(d.isoformat() for d in held[c][f]) for c in (first, second)},
                        }
                        for f in shown
                    ],
                    "active": {
                        c: {
                            "first": spans[c][0].isoformat(),
                            "last": spans[c][-1].isoformat(),
                            "days": len(spans[c]),
                        }
                        for c in (first, second)
                    },
                    "gap_days": gap,
                },
            }
        )
    out.sort(key=lambda h: (-h["evidence"]["shared_features"], h["kind"], h["campaigns"]))
    return out[: rules.max_hypotheses]
