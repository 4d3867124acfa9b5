"""Per-campaign activity: points per interval, daily totals, and growth / dormancy / return."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import date, datetime, timedelta

# A campaign with no activity for this many days is dormant; active again after it, returned.
DORMANT_DAYS = 3
# Growth compares the day with the mean of this many previous days.
GROWTH_DAYS = 7


@dataclass(frozen=True)
class ActivityPoint:
    """One campaign in one interval: what it did there."""

    campaign_id: str
    interval_start: datetime
    interval_end: datetime
    sessions: int
    sources: int
    new_sources: int
    sensors: int
    confidence: float
    verdict: str

    @property
    def day(self) -> date:
        return self.interval_start.date()


@dataclass(frozen=True)
class DailySeries:
    """A campaign's daily totals from ``first_day`` to the report day (days without activity are 0)."""

    campaign_id: str
    first_day: date
    sessions: tuple[int, ...]
    sources: tuple[int, ...]
    new_sources: tuple[int, ...]
    sensors: tuple[int, ...]

    @property
    def days(self) -> list[date]:
        return [self.first_day + timedelta(days=i) for i in range(len(self.sessions))]


def daily_series(points: Iterable[ActivityPoint], report_day: date) -> dict[str, DailySeries]:
    """Daily sums per campaign (sources and sensors summed over intervals: an upper bound per day)."""
    by_campaign: dict[str, dict[date, list[ActivityPoint]]] = defaultdict(lambda: defaultdict(list))
    for point in points:
        if point.day <= report_day:
            by_campaign[point.campaign_id][point.day].append(point)
    out = {}
    for campaign_id, by_day in sorted(by_campaign.items()):
        first = min(by_day)
        days = [first + timedelta(days=i) for i in range((report_day - first).days + 1)]

        def total(field: str, days: Sequence[date] = days, by_day: dict = by_day) -> tuple[int, ...]:  # type: ignore[type-arg]
            return tuple(sum(getattr(p, field) for p in by_day.get(d, ())) for d in days)

        out[campaign_id] = DailySeries(
            campaign_id, first, total("sessions"), total("sources"), total("new_sources"), total("sensors")
        )
    return out


def campaign_status(series: DailySeries) -> dict[str, object]:
    """New, active, dormant or returned on the last day, and growth against the previous week."""
    sessions = series.sessions
    today = sessions[-1]
    active_days = [i for i, n in enumerate(sessions) if n > 0]
    previous = [i for i in active_days if i < len(sessions) - 1]
    if len(sessions) == 1:
        state = "new"
    elif today > 0 and previous and (len(sessions) - 1 - previous[-1]) > DORMANT_DAYS:
        state = "returned"
    elif today > 0:
        state = "active"
    elif active_days and (len(sessions) - 1 - active_days[-1]) >= DORMANT_DAYS:
        state = "dormant"
    else:
        state = "quiet"
    week = sessions[-1 - GROWTH_DAYS : -1]
    week_mean = sum(week) / len(week) if week else 0.0
    growth = round(today / week_mean, 3) if week_mean > 0 else None
    return {
        "state": state,
        "sessions_today": today,
        "previous_week_mean": round(week_mean, 3),
        "growth": growth,
    }
