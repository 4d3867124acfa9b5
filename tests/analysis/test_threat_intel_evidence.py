"""A lookup becomes ``threat_intel`` evidence: matches, events, tags, age; a failure is degraded evidence."""

from __future__ import annotations

import json
from datetime import UTC, datetime

from coord_core.analysis.intel_evidence import threat_intel_evidence
from coord_core.contracts.campaigns import Evidence
from coord_core.contracts.threat_intel import Indicator, IntelMatch, ThreatIntelLookup

AS_OF = datetime(2025, 10, 24, 12, tzinfo=UTC)
IP = Indicator(kind="ip-src", value="192.0.2.1")
SHA = Indicator(kind="sha256", value="a" * 64)


def _match(indicator: Indicator, event: str, last_seen: datetime | None, tags: list[str]) -> IntelMatch:
    return IntelMatch(
        indicator=indicator,
        source="misp",
        event_uuid=event,
        event_info=f"event {event}",
        attribute_uuid=f"attr-{event}-{indicator.kind}",
        tags=tags,
        last_seen=last_seen,
    )


def test_matches_give_a_share_of_known_indicators_with_event_context() -> None:
    lookup = ThreatIntelLookup(
        source="misp",
        looked_up=4,
        from_cache=1,
        matches=[
            _match(
                IP, "e1", datetime(2025, 10, 14, 12, tzinfo=UTC), ["tlp:green", 'misp-galaxy:botnet="Mirai"']
            ),
            _match(SHA, "e1", datetime(2025, 10, 20, 12, tzinfo=UTC), ["tlp:green"]),
            _match(IP, "e2", None, []),
        ],
    )
    evidence = threat_intel_evidence(lookup, evidence_id="cmp-x:threat_intel", as_of=AS_OF)
    assert isinstance(evidence, Evidence) and evidence.factor == "threat_intel"
    assert evidence.score == 0.5  # 2 of 4 indicators known
    stat = evidence.statistic
    assert stat["matched_indicators"] == 2 and stat["looked_up"] == 4 and stat["from_cache"] == 1
    assert stat["degraded"] is False and stat["event_count"] == 2
    first = stat["events"][0]
    assert first["event_uuid"] == "e1" and first["indicators"] == 2
    assert first["tags"] == ['misp-galaxy:botnet="Mirai"', "tlp:green"]
    assert first["age_days"] == 4.0 and first["last_seen"] == "2025-10-20T12:00:00+00:00"
    assert stat["events"][1]["age_days"] is None
    assert evidence.summary == "2 of 4 indicator(s) already known to misp in 2 event(s)"
    json.dumps(evidence.model_dump(mode="json"))  # storable as the contract's JSON


def test_the_same_lookup_gives_the_same_evidence_whatever_the_match_order() -> None:
    matches = [_match(IP, "e2", None, []), _match(SHA, "e1", AS_OF, ["t"]), _match(IP, "e1", AS_OF, ["t"])]
    one = ThreatIntelLookup(source="misp", looked_up=2, matches=matches)
    two = ThreatIntelLookup(source="misp", looked_up=2, matches=list(reversed(matches)))
    assert threat_intel_evidence(one, evidence_id="x", as_of=AS_OF) == threat_intel_evidence(
        two, evidence_id="x", as_of=AS_OF
    )


def test_nothing_known_scores_zero_without_being_degraded() -> None:
    evidence = threat_intel_evidence(
        ThreatIntelLookup(source="misp", looked_up=3), evidence_id="x", as_of=AS_OF
    )
    assert evidence.score == 0.0 and evidence.statistic["degraded"] is False
    assert evidence.summary.startswith("0 of 3")


def test_a_failed_lookup_is_degraded_evidence_with_its_reason() -> None:
    lookup = ThreatIntelLookup(
        source="misp",
        looked_up=5,
        matches=[_match(IP, "e1", AS_OF, [])],
        failed=True,
        error="cannot reach MISP: ConnectionError: refused",
    )
    evidence = threat_intel_evidence(lookup, evidence_id="x", as_of=AS_OF)
    assert evidence.score == 0.0
    assert evidence.statistic["degraded"] is True
    assert evidence.statistic["reason"] == "cannot reach MISP: ConnectionError: refused"
    assert evidence.statistic["matched_indicators"] == 1  # what was found before the failure is kept
    assert "unavailable" in evidence.summary and "cannot reach MISP" in evidence.summary
