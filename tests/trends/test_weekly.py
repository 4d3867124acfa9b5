"""The weekly trend report from daily reports made by hand: totals against the week before, missing
days, every spike and new campaign with its day, the top campaigns by the week's sessions."""

from __future__ import annotations

from datetime import date, timedelta
from typing import Any

import pytest

from coord_core.trends.weekly import build_weekly_report, iso_week, week_days

MONDAY = date(2025, 10, 27)  # 2025-W44


def _daily(
    sessions: dict[str, int], *, spikes: tuple[str, ...] = (), new: tuple[str, ...] = ()
) -> dict[str, Any]:
    return {
        "totals": {
            "sessions": sum(sessions.values()),
            "campaigns_active": sum(1 for n in sessions.values() if n),
            "new_campaigns": len(new),
            "spikes": len(spikes),
        },
        "spikes": [
            {
                "campaign_id": c,
                "metric": "sessions",
                "method": "median_iqr",
                "value": 40.0,
                "baseline": 9.0,
                "threshold": 12.0,
            }
            for c in spikes
        ],
        "new_campaigns": list(new),
        "returned_campaigns": [],
        "dormant_campaigns": [],
        "campaigns": [
            {"campaign_id": c, "today": {"sessions": n}, "verdicts_today": ["coordinated_campaign"]}
            for c, n in sessions.items()
        ],
    }


def test_iso_weeks_and_their_days() -> None:
    assert iso_week(date(2025, 11, 2)) == "2025-W44" and iso_week(date(2025, 11, 3)) == "2025-W45"
    assert iso_week(date(2027, 1, 1)) == "2026-W53"
    assert week_days("2025-W44") == [MONDAY + timedelta(days=i) for i in range(7)]
    for bad in ("2025-W53", "2025-44", "2025-W00"):
        with pytest.raises(ValueError):
            week_days(bad)


def test_a_week_aggregates_its_days_against_the_week_before() -> None:
    daily = {
        MONDAY: _daily({"cmp-a": 10, "cmp-b": 5}),
        MONDAY + timedelta(days=1): _daily({"cmp-a": 12, "cmp-c": 30}, new=("cmp-c",), spikes=("cmp-c",)),
        MONDAY + timedelta(days=3): _daily({"cmp-a": 11, "cmp-c": 2}, spikes=("cmp-a",), new=("cmp-c",)),
    }
    previous = {
        MONDAY - timedelta(days=7): _daily({"cmp-a": 20}),
        MONDAY - timedelta(days=1): _daily({"cmp-a": 15}),
    }
    report = build_weekly_report("2025-W44", daily, previous)

    assert report["days_reported"] == ["2025-10-27", "2025-10-28", "2025-10-30"]
    assert report["days_missing"] == ["2025-10-29", "2025-10-31", "2025-11-01", "2025-11-02"]
    assert report["totals"] == {
        "sessions": 70, "previous_week_sessions": 35, "previous_week_days_reported": 2, "growth": 2.0,
        "new_campaigns": 2, "spikes": 2, "campaigns_active_max": 2,
    }  # fmt: skip
    assert [(s["day"], s["campaign_id"]) for s in report["spikes"]] == [
        ("2025-10-28", "cmp-c"),
        ("2025-10-30", "cmp-a"),
    ]
    assert report["new_campaigns"] == [{"campaign_id": "cmp-c", "day": "2025-10-28"}]  # its first day
    top = report["top_campaigns"]
    assert [(c["campaign_id"], c["sessions"], c["days_active"]) for c in top] == [
        ("cmp-a", 33, 3),
        ("cmp-c", 32, 2),
        ("cmp-b", 5, 1),
    ]
    assert top[0]["daily_sessions"] == {"2025-10-27": 10, "2025-10-28": 12, "2025-10-30": 11}
    assert top[1]["daily_sessions"] == {"2025-10-27": 0, "2025-10-28": 30, "2025-10-30": 2}


def test_a_week_without_a_week_before_has_no_growth() -> None:
    report = build_weekly_report("2025-W44", {MONDAY: _daily({"cmp-a": 3})}, {})
    assert report["totals"]["growth"] is None and report["totals"]["previous_week_sessions"] == 0
    assert build_weekly_report("2025-W44", {}, {})["totals"]["sessions"] == 0
