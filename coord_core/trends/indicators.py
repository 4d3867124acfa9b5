"""Indicator movement: which signature features are newly seen, rising or fading, by class.

Input: per feature (``kind:value``, as the analysis names them) and day, how many campaigns held
it. Rules over the last ``window`` days (default 7) against the ``window`` days before:
new — held on the report day and on none of the previous ``lookback_days`` days;
rising — held before, and campaign-days now >= 2 x before and >= ``min_count``;
fading — campaign-days before >= ``min_count`` and now <= half of before.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date, timedelta
from typing import Any

# Indicator classes by the analysis' feature kinds (coord_core/analysis/features.py).
INDICATOR_CLASSES = {
    "cred": "credentials",
    "cred_seq": "credentials",
    "pw_stem": "credentials",
    "template": "command_templates",
    "host": "download_hosts",
    "url": "download_hosts",
    "tcpip": "tunnelled_destinations",
    "tunnel_payload": "tunnelled_destinations",
    "payload": "payloads",
    "ssh_key": "payloads",
    "wallet": "payloads",
}


@dataclass(frozen=True)
class IndicatorRules:
    window: int = 7
    lookback_days: int = 28
    min_count: int = 3
    max_per_class: int = 20


DEFAULT_RULES = IndicatorRules()


def indicator_movement(
    rows: Iterable[tuple[str, date, int]], report_day: date, rules: IndicatorRules = DEFAULT_RULES
) -> dict[str, dict[str, list[dict[str, Any]]]]:
    """Per class: ``new``, ``rising`` and ``fading`` features, most campaign-days first."""
    counts: dict[str, dict[date, int]] = defaultdict(dict)
    for feature, day, campaigns in rows:
        counts[feature][day] = counts[feature].get(day, 0) + int(campaigns)
    now_from = report_day - timedelta(days=rules.window - 1)
    before_from = now_from - timedelta(days=rules.window)
    lookback_from = report_day - timedelta(days=rules.lookback_days)
    out: dict[str, dict[str, list[dict[str, Any]]]] = {}
    for feature, by_day in sorted(counts.items()):
        kind = feature.split(":", 1)[0]
        klass = INDICATOR_CLASSES.get(kind)
        if klass is None:
            continue
        now = sum(n for d, n in by_day.items() if now_from <= d <= report_day)
        before = sum(n for d, n in by_day.items() if before_from <= d < now_from)
        earlier = any(lookback_from <= d < report_day for d in by_day)
        entry: dict[str, Any] = {"feature": feature, "campaign_days": now, "previous": before}
        moves = out.setdefault(klass, {"new": [], "rising": [], "fading": []})
        if report_day in by_day and not earlier:
            moves["new"].append(entry)
        elif now >= max(rules.min_count, 2 * before) and before > 0:
            moves["rising"].append(entry)
        elif before >= rules.min_count and now * 2 <= before:
            moves["fading"].append(entry)
    for moves in out.values():
        for name, entries in moves.items():
            entries.sort(key=lambda e: (-e["campaign_days"], e["feature"]))
            moves[name] = entries[: rules.max_per_class]
    return out
