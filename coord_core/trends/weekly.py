"""The weekly trend report: the stored daily reports of one ISO week (Monday to Sunday, UTC)
aggregated, against the week before.

Built from the daily reports only (never from the campaigns again), so the week says exactly what
its days said: per day its totals; the week's sessions against the previous week's; every spike,
new, returned and gone-dormant campaign of the week with its day; the top campaigns by the week's
sessions. A daily report lists at most its 50 busiest campaigns, so the top of the week is taken
among the campaigns some day listed (``campaigns_listed_only`` says so); the totals are the days'
own totals, complete.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Mapping
from datetime import date, timedelta
from typing import Any

WEEKLY_SCHEMA_VERSION = 1
TOP_CAMPAIGNS = 20
MAX_LISTED = 200


def iso_week(day: date) -> str:
    """``YYYY-Www`` of the ISO week holding ``day``."""
    year, week, _ = day.isocalendar()
    return f"{year}-W{week:02d}"


def week_days(week: str) -> list[date]:
    """The seven days (Monday first) of an ISO week ``YYYY-Www``; ValueError when it is not one."""
    monday = date.fromisoformat(f"{week}-1")
    if iso_week(monday) != week:
        raise ValueError(f"{week!r} is not an ISO week (YYYY-Www)")
    return [monday + timedelta(days=i) for i in range(7)]


def build_weekly_report(
    week: str, daily: Mapping[date, dict[str, Any]], previous: Mapping[date, dict[str, Any]]
) -> dict[str, Any]:
    """The report of ISO ``week`` from its stored daily reports (``daily``, by day) and the previous
    week's (``previous``); deterministic."""
    days = week_days(week)
    held = [d for d in days if d in daily]
    per_day: list[dict[str, Any]] = [{"day": d.isoformat(), **_day_totals(daily[d])} for d in held]
    sessions = sum(row["sessions"] for row in per_day)
    before = sum(_day_totals(r)["sessions"] for r in previous.values())
    spikes = [{"day": d.isoformat(), **s} for d in held for s in daily[d].get("spikes", [])]
    listed_sessions: dict[str, dict[str, int]] = defaultdict(dict)
    verdicts: dict[str, set[str]] = defaultdict(set)
    for d in held:
        for c in daily[d].get("campaigns", []):
            listed_sessions[c["campaign_id"]][d.isoformat()] = int(c["today"]["sessions"])
            verdicts[c["campaign_id"]].update(c.get("verdicts_today", []))
    ranked = sorted(listed_sessions.items(), key=lambda kv: (-sum(kv[1].values()), kv[0]))
    top = [
        {
            "campaign_id": cid,
            "sessions": sum(by_day.values()),
            "days_active": sum(1 for n in by_day.values() if n > 0),
            "verdicts": sorted(verdicts[cid]),
            "daily_sessions": {d.isoformat(): by_day.get(d.isoformat(), 0) for d in held},
        }
        for cid, by_day in ranked[:TOP_CAMPAIGNS]
    ]
    return {
        "schema_version": WEEKLY_SCHEMA_VERSION,
        "week": week,
        "first_day": days[0].isoformat(),
        "last_day": days[-1].isoformat(),
        "days_reported": [d.isoformat() for d in held],
        "days_missing": [d.isoformat() for d in days if d not in daily],
        "totals": {
            "sessions": sessions,
            "previous_week_sessions": before,
            "previous_week_days_reported": len(previous),
            "growth": round(sessions / before, 3) if before > 0 else None,
            "new_campaigns": sum(row["new_campaigns"] for row in per_day),
            "spikes": len(spikes),
            "campaigns_active_max": max((row["campaigns_active"] for row in per_day), default=0),
        },
        "per_day": per_day,
        "spikes": sorted(spikes, key=lambda s: (s["day"], s["campaign_id"], s["metric"], s["method"]))[
            :MAX_LISTED
        ],
        "spikes_truncated": max(0, len(spikes) - MAX_LISTED),
        "new_campaigns": _by_day(held, daily, "new_campaigns"),
        "returned_campaigns": _by_day(held, daily, "returned_campaigns"),
        "dormant_campaigns": _by_day(held, daily, "dormant_campaigns"),
        "top_campaigns": top,
        "campaigns_listed_only": True,
    }


def _day_totals(report: dict[str, Any]) -> dict[str, int]:
    totals = report.get("totals", {})
    return {
        "sessions": int(totals.get("sessions", 0)),
        "campaigns_active": int(totals.get("campaigns_active", 0)),
        "new_campaigns": int(totals.get("new_campaigns", 0)),
        "spikes": int(totals.get("spikes", 0)),
    }


def _by_day(held: list[date], daily: Mapping[date, dict[str, Any]], key: str) -> list[dict[str, str]]:
    """The campaigns a list of the daily reports names, each with the first day it did."""
    first: dict[str, str] = {}
    for d in held:
        for cid in daily[d].get(key, []):
            first.setdefault(cid, d.isoformat())
    return [
        {"campaign_id": cid, "day": day} for cid, day in sorted(first.items(), key=lambda kv: (kv[1], kv[0]))
    ][:MAX_LISTED]
