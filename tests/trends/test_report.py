"""The daily report on a synthetic history: spikes, new, returned and dormant campaigns, indicators."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

from coord_core.trends.indicators import indicator_movement
from coord_core.trends.report import build_daily_report
from coord_core.trends.series import ActivityPoint

DAY = date(2026, 3, 31)


def _point(campaign: str, day: date, sessions: int, sources: int = 2, new_sources: int = 0) -> ActivityPoint:
    start = datetime(day.year, day.month, day.day, 12, tzinfo=UTC)
    return ActivityPoint(campaign, start, start + timedelta(hours=1), sessions, sources, new_sources, 1, 0.9,
                         "coordinated_campaign")  # fmt: skip


def _history() -> list[ActivityPoint]:
    points = []
    for back in range(30, 0, -1):
        points.append(_point("steady", DAY - timedelta(days=back), 10 + back % 3))
    points.append(_point("steady", DAY, 60, sources=12, new_sources=10))
    points.append(_point("fresh", DAY, 5))
    points += [_point("paused", DAY - timedelta(days=back), 8) for back in range(20, 6, -1)]
    points.append(_point("paused", DAY, 9))
    points += [_point("gone", DAY - timedelta(days=back), 8) for back in range(15, 2, -1)]
    return points


def test_the_report_names_the_spike_the_new_the_returned_and_the_dormant_campaign() -> None:
    report = build_daily_report(DAY, _history(), [])
    spikes = {(s["campaign_id"], s["metric"], s["method"]) for s in report["spikes"]}
    assert spikes == {
        ("steady", "sessions", "median_iqr"),
        ("steady", "sessions", "mean_sigma"),
        ("steady", "sources", "median_iqr"),
        ("steady", "sources", "mean_sigma"),
    }
    assert report["new_campaigns"] == ["fresh"]
    assert report["returned_campaigns"] == ["paused"]
    assert report["dormant_campaigns"] == ["gone"]
    steady = next(c for c in report["campaigns"] if c["campaign_id"] == "steady")
    assert steady["today"] == {"sessions": 60, "sources": 12, "new_sources": 10, "sensors": 1}
    assert steady["growth"] is not None and steady["growth"] > 5
    # paused: 9 today against one 8-session day in the previous week (mean 8/7) grows most.
    assert [m["campaign_id"] for m in report["movers"][:2]] == ["paused", "steady"]
    assert report["parameters"]["spikes"]["window_days"] == 28


def test_the_report_is_deterministic() -> None:
    assert build_daily_report(DAY, _history(), []) == build_daily_report(DAY, list(reversed(_history())), [])


def test_indicators_new_rising_fading_by_class() -> None:
    rows = [("url:http://198.51.100.7/x.sh", DAY, 1)]  # new today
    rows += [("cred:root:zz9", DAY - timedelta(days=d), 2) for d in range(5)]  # 10 now
    rows += [("cred:root:zz9", DAY - timedelta(days=d), 1) for d in range(7, 9)]  # 2 before
    rows += [("template:wget _ ; sh _", DAY - timedelta(days=d), 2) for d in range(7, 12)]  # 10 before
    rows += [("template:wget _ ; sh _", DAY - timedelta(days=1), 1)]  # 1 now
    rows += [("hassh:abc", DAY, 5)]  # tooling is not an indicator class
    moves = indicator_movement(rows, DAY)
    assert [e["feature"] for e in moves["download_hosts"]["new"]] == ["url:http://198.51.100.7/x.sh"]
    assert [e["feature"] for e in moves["credentials"]["rising"]] == ["cred:root:zz9"]
    assert [e["feature"] for e in moves["command_templates"]["fading"]] == ["template:wget _ ; sh _"]
    assert "tooling" not in moves and all("hassh" not in str(m) for m in moves.values())
