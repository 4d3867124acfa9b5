"""A threat-intel lookup as an ``Evidence`` of factor ``threat_intel`` (pure: same lookup, same evidence).

The score is the share of the looked-up indicators that the source already knew; the statistic
lists the matching events with their tags and how old their newest sighting is at ``as_of``.
A failed lookup gives score 0 with ``degraded: true`` and the reason, so the verdict can say
that this factor is missing rather than absent.
"""

from __future__ import annotations

from collections import defaultdict
from datetime import datetime

from coord_core.contracts.campaigns import Evidence
from coord_core.contracts.threat_intel import IntelMatch, ThreatIntelLookup

FACTOR = "threat_intel"
MAX_EVENTS = 20
MAX_VALUES_PER_EVENT = 20


def threat_intel_evidence(lookup: ThreatIntelLookup, *, evidence_id: str, as_of: datetime) -> Evidence:
    matched = sorted({(m.indicator.kind, m.indicator.value) for m in lookup.matches})
    by_event: dict[str, list[IntelMatch]] = defaultdict(list)
    for match in lookup.matches:
        by_event[match.event_uuid].append(match)
    events = []
    for event_uuid, found in by_event.items():
        seen = [moment for m in found if (moment := m.last_seen or m.first_seen) is not None]
        newest = max(seen) if seen else None
        values = sorted({f"{m.indicator.kind}:{m.indicator.value}" for m in found})
        events.append(
            {
                "event_uuid": event_uuid,
                "info": found[0].event_info,
                "tags": sorted({t for m in found for t in m.tags}),
                "indicators": len(values),
                "values": values[:MAX_VALUES_PER_EVENT],
                "last_seen": newest.isoformat() if newest else None,
                "age_days": round((as_of - newest).total_seconds() / 86400, 2) if newest else None,
            }
        )
    events.sort(key=lambda e: (-int(str(e["indicators"])), str(e["event_uuid"])))
    share = len(matched) / lookup.looked_up if lookup.looked_up else 0.0
    statistic: dict[str, object] = {
        "source": lookup.source,
        "looked_up": lookup.looked_up,
        "from_cache": lookup.from_cache,
        "matched_indicators": len(matched),
        "match_share": round(share, 4),
        "events": events[:MAX_EVENTS],
        "event_count": len(events),
        "degraded": lookup.failed,
    }
    if lookup.failed:
        statistic["reason"] = lookup.error or "unknown"
        return Evidence(
            evidence_id=evidence_id,
            factor=FACTOR,
            score=0.0,
            statistic=statistic,
            summary=f"threat intel from {lookup.source} unavailable: {(lookup.error or 'unknown')[:200]}",
        )
    return Evidence(
        evidence_id=evidence_id,
        factor=FACTOR,
        score=round(share, 4),
        statistic=statistic,
        summary=(
            f"{len(matched)} of {lookup.looked_up} indicator(s) already known to {lookup.source} "
            f"in {len(events)} event(s)"
        ),
    )
