"""Score stored daily trend reports against a generated history's truth: spike recall, false alarms.

A stored campaign is the generated campaign most of its member sessions belong to (by the truth's
session -> actor map); one with a majority from no generated campaign (background attackers the
analysis grouped) is "unrelated". Per spike method, a campaign-day is flagged when that day's report
lists a spike by the method, on either metric (and, seasonal, in any hour), for a stored campaign
of the generated one (``any``: by ``median_iqr`` or ``mean_sigma``). Then:

- recall: true spike days (the truth's, campaign-days planned at >= SPIKE_FACTOR x base) flagged;
- false alarms: flagged campaign-days of generated campaigns on their days at base rate, over the
  days the detectors could judge (at least ``min_history_days`` after the campaign's first day);
- unrelated flags: flagged campaign-days of unrelated stored campaigns (no truth to judge them by:
  counted, not called right or wrong).
"""

from __future__ import annotations

from collections import Counter, defaultdict
from collections.abc import Iterable, Mapping
from datetime import date, timedelta
from typing import Any

from coord_core.scenarios.history import HistoryTruth
from coord_core.trends.seasonal import SEASONAL_HOURLY
from coord_core.trends.spikes import DEFAULT_SPIKES
from coord_core.trends.spikes import METHODS as DAILY_METHODS

ANY = "any"  # either daily method (median_iqr or mean_sigma)
METHODS = (*DAILY_METHODS, SEASONAL_HOURLY)


def campaign_actors(
    members: Iterable[tuple[str, str]], session_actors: Mapping[str, str], generated: set[str]
) -> dict[str, str | None]:
    """Stored campaign id -> the generated campaign (actor id) most of its sessions belong to, or None."""
    votes: dict[str, Counter[str]] = defaultdict(Counter)
    for campaign_id, session_id in members:
        votes[campaign_id][session_actors.get(session_id, "")] += 1
    out: dict[str, str | None] = {}
    for campaign_id, counter in sorted(votes.items()):
        actor, n = max(counter.items(), key=lambda item: (item[1], item[0]))
        out[campaign_id] = actor if actor in generated and n * 2 > sum(counter.values()) else None
    return out


def score_history(
    truth: HistoryTruth,
    reports: Mapping[date, Mapping[str, Any]],
    actors_of: Mapping[str, str | None],
    *,
    min_history_days: int = DEFAULT_SPIKES.min_history_days,
) -> dict[str, Any]:
    """Recall and false alarms per method; deterministic (sorted keys and lists)."""
    generated = {c.actor_id: c for c in truth.campaigns}
    first_judged = truth.start + timedelta(days=min_history_days)
    true_days = {
        (c.actor_id, date.fromisoformat(d))
        for c in truth.campaigns
        for d in c.spike_days
        if date.fromisoformat(d) >= first_judged
    }
    quiet_days = {
        (c.actor_id, day)
        for c in truth.campaigns
        for d, m in c.multipliers.items()
        if (day := date.fromisoformat(d)) >= first_judged and day in reports and m < truth.spike_factor
    }
    flagged: dict[str, set[tuple[str, date]]] = {m: set() for m in (*METHODS, ANY)}
    unrelated: dict[str, set[tuple[str, date]]] = {m: set() for m in (*METHODS, ANY)}
    for day, report in reports.items():
        for spike in report.get("spikes", []):
            actor = actors_of.get(spike["campaign_id"])
            for method in (spike["method"], ANY) if spike["method"] in DAILY_METHODS else (spike["method"],):
                if actor is None:
                    unrelated[method].add((spike["campaign_id"], day))
                else:
                    flagged[method].add((actor, day))
    methods = {}
    for method in (*METHODS, ANY):
        hits = flagged[method] & true_days
        false = flagged[method] & quiet_days
        methods[method] = {
            "true_spike_days": len(true_days),
            "found": len(hits),
            "recall": round(len(hits) / len(true_days), 3) if true_days else None,
            "missed": sorted(f"{a}@{d.isoformat()}" for a, d in true_days - hits),
            "false_alarms": len(false),
            "judged_quiet_days": len(quiet_days),
            "false_alarm_rate": round(len(false) / len(quiet_days), 4) if quiet_days else None,
            "false_alarm_days": sorted(f"{a}@{d.isoformat()}" for a, d in false),
            "unrelated_campaign_flags": len(unrelated[method]),
        }
    stored_per_actor = Counter(a for a in actors_of.values() if a is not None)
    return {
        "days_reported": len(reports),
        "generated_campaigns": {
            a: {"kind": c.kind, "stored_campaign_ids": stored_per_actor.get(a, 0)}
            for a, c in sorted(generated.items())
        },
        "unrelated_stored_campaigns": sum(1 for a in actors_of.values() if a is None),
        "methods": methods,
    }
