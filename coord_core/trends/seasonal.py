"""Seasonal-hourly spike detection: each hour of the day judged against the same hour of earlier days.

Attack traffic has a daily rhythm (bots on consumer lines follow their owners' day); a day-level
baseline hides a burst in a usually quiet hour and flags a usually busy hour as nothing. This
method (``seasonal_hourly``) compares a campaign's sessions in an hour-of-day slot (the start
hour of intervals of at most ``max_interval_hours``; longer intervals have no hour to judge) with
the same slot on each of the previous ``window_days`` days since the campaign's first day (a day
without activity in the slot counts 0): a spike when above median + ``k``·IQR, with at least
``min_history_days`` earlier days and a count of at least ``min_count``.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date, timedelta
from typing import Any

from coord_core.trends.series import ActivityPoint
from coord_core.trends.spikes import median_iqr_threshold

SEASONAL_HOURLY = "seasonal_hourly"


@dataclass(frozen=True)
class SeasonalParameters:
    window_days: int = 28
    k: float = 2.0
    min_history_days: int = 7
    min_count: float = 3.0
    max_interval_hours: float = 6.0


DEFAULT_SEASONAL = SeasonalParameters()


def seasonal_spikes(
    campaign_id: str,
    points: Iterable[ActivityPoint],
    first_day: date,
    report_day: date,
    params: SeasonalParameters = DEFAULT_SEASONAL,
) -> list[dict[str, Any]]:
    """The report day's slots of one campaign above their seasonal threshold, by hour."""
    slots: dict[tuple[date, int], int] = defaultdict(int)
    limit = timedelta(hours=params.max_interval_hours)
    for p in points:
        if (
            p.campaign_id == campaign_id
            and p.interval_end - p.interval_start <= limit
            and p.day <= report_day
        ):
            slots[(p.day, p.interval_start.hour)] += p.sessions
    found = []
    for hour in sorted({h for d, h in slots if d == report_day}):
        value = slots[(report_day, hour)]
        history = [
            slots.get((report_day - timedelta(days=i), hour), 0)
            for i in range(1, params.window_days + 1)
            if report_day - timedelta(days=i) >= first_day
        ]
        if len(history) < params.min_history_days or value < params.min_count:
            continue
        median, threshold = median_iqr_threshold(history, params.k)
        if value > threshold:
            found.append(
                {
                    "campaign_id": campaign_id,
                    "metric": "sessions",
                    "method": SEASONAL_HOURLY,
                    "hour": hour,
                    "value": float(value),
                    "baseline": round(median, 6),
                    "threshold": round(threshold, 6),
                }
            )
    return found
