"""The daily report on a synthetic history: spikes, new, returned and dormant campaigns, indicators."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

from coord_core.trends.correlation import correlation_hypotheses
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
        ("steady", "sessions", "seasonal_hourly"),  # its 12:00 slot, against 12:00 of earlier days
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


def _hourly(campaign: str, day: date, hour: int, sessions: int) -> ActivityPoint:
    start = datetime(day.year, day.month, day.day, hour, tzinfo=UTC)
    return ActivityPoint(campaign, start, start + timedelta(hours=1), sessions, sessions, 0, 1, 0.9,
                         "coordinated_campaign")  # fmt: skip


def test_a_burst_in_a_usually_quiet_hour_is_a_seasonal_spike_not_a_daily_one() -> None:
    # Every day 20 sessions at 12:00 and 1 at 03:00; on DAY 9 at 12:00 and 12 at 03:00: the same
    # daily total, so only the seasonal-hourly baseline sees the burst (in its hour).
    points = []
    for back in range(20, 0, -1):
        day = DAY - timedelta(days=back)
        points += [_hourly("shift", day, 12, 20 + back % 2), _hourly("shift", day, 3, 1)]
    points += [_hourly("shift", DAY, 12, 9), _hourly("shift", DAY, 3, 12)]
    report = build_daily_report(DAY, points, [])
    assert [(s["method"], s["hour"], s["value"]) for s in report["spikes"]] == [("seasonal_hourly", 3, 12.0)]
    assert report["parameters"]["seasonal"] == {
        "window_days": 28, "k": 2.0, "min_history_days": 7, "min_count": 3.0, "max_interval_hours": 6.0,
    }  # fmt: skip
    # Daily intervals have no hour to judge: the same counts in one interval a day give nothing.
    daily = [
        ActivityPoint(
            p.campaign_id,
            p.interval_start.replace(hour=0),
            p.interval_start.replace(hour=0) + timedelta(days=1),
            p.sessions,
            p.sources,
            0,
            1,
            0.9,
            p.verdict,
        )
        for p in points
    ]
    assert build_daily_report(DAY, daily, [])["spikes"] == []


def test_campaigns_sharing_an_indicator_are_hypotheses_with_evidence_never_merged() -> None:
    days = {
        "a": [DAY - timedelta(days=d) for d in range(10, 4, -1)],  # active until DAY-5
        "b": [DAY - timedelta(days=d) for d in range(3, -1, -1)],  # starts 2 days later
        "c": [DAY - timedelta(days=d) for d in range(2, -1, -1)],  # overlaps b
        "d": [DAY],  # shares only tooling with b
    }
    features = [("a", "host:198.51.100.9", d) for d in days["a"]]
    features += [("b", "host:198.51.100.9", d) for d in days["b"]] + [("b", "cred:root:Zq9", DAY)]
    features += [("c", "cred:root:Zq9", DAY)]
    features += [("b", "hassh:abc", DAY), ("d", "hassh:abc", DAY)]
    hypotheses = correlation_hypotheses(features, days, DAY)
    kinds = {(h["kind"], tuple(h["campaigns"])) for h in hypotheses}
    assert kinds == {("succession", ("a", "b")), ("shared_indicators", ("b", "c"))}
    succession = next(h for h in hypotheses if h["kind"] == "succession")
    assert succession["status"] == "hypothesis: not merged"
    assert succession["evidence"]["gap_days"] == 2
    assert succession["evidence"]["features"][0]["feature"] == "host:198.51.100.9"
    assert succession["evidence"]["active"]["a"]["last"] == (DAY - timedelta(days=5)).isoformat()
    # A longer pause is no succession.
    later = {**days, "b": [DAY]}
    assert all(h["kind"] != "succession" for h in correlation_hypotheses(features, later, DAY))
