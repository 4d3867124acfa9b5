"""The daily trend report: top campaigns, movers, new and returning campaigns, spikes, indicators."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import asdict
from datetime import date, timedelta
from typing import Any

from coord_core.trends.correlation import DEFAULT_CORRELATION, CorrelationRules, correlation_hypotheses
from coord_core.trends.indicators import DEFAULT_RULES, IndicatorRules, indicator_movement
from coord_core.trends.seasonal import DEFAULT_SEASONAL, SeasonalParameters, seasonal_spikes
from coord_core.trends.series import (
    DORMANT_DAYS,
    ActivityPoint,
    DailySeries,
    campaign_status,
    daily_series,
)
from coord_core.trends.spikes import DEFAULT_SPIKES, SpikeParameters, spikes_at

REPORT_SCHEMA_VERSION = 2  # 2: seasonal_hourly spikes (with their hour), correlations
MAX_CAMPAIGNS = 50


def lookback_days(spikes: SpikeParameters, rules: IndicatorRules) -> int:
    """How many days before the report day the report has to read."""
    return max(spikes.window_days, rules.lookback_days, 2 * rules.window)


def build_daily_report(
    report_day: date,
    points: Iterable[ActivityPoint],
    feature_rows: Iterable[tuple[str, date, int]],
    *,
    spikes: SpikeParameters = DEFAULT_SPIKES,
    rules: IndicatorRules = DEFAULT_RULES,
    seasonal: SeasonalParameters = DEFAULT_SEASONAL,
    campaign_features: Iterable[tuple[str, str, date]] = (),
    correlation: CorrelationRules = DEFAULT_CORRELATION,
) -> dict[str, Any]:
    """The report of ``report_day`` (UTC) from the activity up to and including it; deterministic.

    ``campaign_features`` (campaign id, feature, day) feed the correlation hypotheses."""
    points = list(points)
    series = daily_series(points, report_day)
    today_points = [p for p in points if p.day == report_day]
    campaigns = []
    spike_rows = []
    for s in series.values():
        status = campaign_status(s)
        if status["state"] in ("quiet", "dormant") and not _ended_recently(s):
            continue
        found = _spikes_today(s, spikes) + seasonal_spikes(
            s.campaign_id, points, s.first_day, report_day, seasonal
        )
        spike_rows.extend(found)
        campaigns.append(_campaign_entry(s, status, today_points, found))
    campaigns.sort(key=lambda c: (-c["today"]["sessions"], c["campaign_id"]))
    movers = sorted(
        (c for c in campaigns if c["growth"] is not None),
        key=lambda c: (-c["growth"], c["campaign_id"]),
    )
    return {
        "schema_version": REPORT_SCHEMA_VERSION,
        "day": report_day.isoformat(),
        "parameters": {
            "spikes": asdict(spikes),
            "seasonal": asdict(seasonal),
            "indicators": asdict(rules),
            "correlation": asdict(correlation),
        },
        "totals": {
            "campaigns_active": sum(1 for c in campaigns if c["today"]["sessions"] > 0),
            "sessions": sum(p.sessions for p in today_points),
            "new_campaigns": sum(1 for c in campaigns if c["state"] == "new"),
            "spikes": len(spike_rows),
        },
        "spikes": sorted(
            spike_rows, key=lambda r: (r["campaign_id"], r["metric"], r["method"], r.get("hour", -1))
        ),
        "new_campaigns": [c["campaign_id"] for c in campaigns if c["state"] == "new"],
        "returned_campaigns": [c["campaign_id"] for c in campaigns if c["state"] == "returned"],
        "dormant_campaigns": [c["campaign_id"] for c in campaigns if c["state"] == "dormant"],
        "movers": [{"campaign_id": c["campaign_id"], "growth": c["growth"]} for c in movers[:10]],
        "campaigns": campaigns[:MAX_CAMPAIGNS],
        "campaigns_truncated": max(0, len(campaigns) - MAX_CAMPAIGNS),
        "indicators": indicator_movement(feature_rows, report_day, rules),
        "correlations": correlation_hypotheses(
            campaign_features,
            {
                s.campaign_id: [d for d, n in zip(s.days, s.sessions, strict=True) if n > 0]
                for s in series.values()
            },
            report_day,
            correlation,
        ),
    }


def _ended_recently(s: DailySeries) -> bool:
    """Dormant since exactly the dormancy threshold: reported once, on the day it goes dormant."""
    last_active = max(i for i, n in enumerate(s.sessions) if n > 0)
    return len(s.sessions) - 1 - last_active == DORMANT_DAYS


def _spikes_today(s: DailySeries, params: SpikeParameters) -> list[dict[str, Any]]:
    index = len(s.sessions) - 1
    rows = []
    for metric, values in (("sessions", s.sessions), ("sources", s.sources)):
        for spike in spikes_at(values, index, params):
            rows.append(
                {
                    "campaign_id": s.campaign_id,
                    "metric": metric,
                    "method": spike.method,
                    "value": spike.value,
                    "baseline": spike.baseline,
                    "threshold": spike.threshold,
                }
            )
    return rows


def _campaign_entry(
    s: DailySeries,
    status: dict[str, Any],
    today_points: Sequence[ActivityPoint],
    spikes: list[dict[str, Any]],
) -> dict[str, Any]:
    mine = sorted((p for p in today_points if p.campaign_id == s.campaign_id), key=lambda p: p.interval_start)
    return {
        "campaign_id": s.campaign_id,
        "state": status["state"],
        "growth": status["growth"],
        "previous_week_mean_sessions": status["previous_week_mean"],
        "first_day": s.first_day.isoformat(),
        "max_confidence_today": max((p.confidence for p in mine), default=None),
        "verdicts_today": sorted({p.verdict for p in mine}),
        "today": {
            "sessions": s.sessions[-1],
            "sources": s.sources[-1],
            "new_sources": s.new_sources[-1],
            "sensors": s.sensors[-1],
        },
        "intervals": [
            {
                "start": p.interval_start.isoformat(),
                "end": p.interval_end.isoformat(),
                "sessions": p.sessions,
                "sources": p.sources,
                "new_sources": p.new_sources,
                "sensors": p.sensors,
            }
            for p in mine
        ],
        "daily_sessions": {
            (s.first_day + timedelta(days=i)).isoformat(): n
            for i, n in enumerate(s.sessions)
            if i >= len(s.sessions) - 28
        },
        "spike_methods": sorted({r["method"] for r in spikes}),
    }
