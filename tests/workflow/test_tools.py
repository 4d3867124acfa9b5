"""The tool coordinator: threat-intel sources that match, fail or raise; answers cached."""

from __future__ import annotations

from datetime import UTC, datetime

from coord_core.contracts.campaigns import Verdict
from coord_core.contracts.sessions import AttackSession
from coord_core.contracts.threat_intel import Indicator, IntelMatch, ThreatIntelLookup
from coord_core.pipeline.analyze import analyze_sessions
from tests.analysis.builders import DROPPER_SHA
from tests.workflow.support import dropper_window

SEEN = datetime(2025, 10, 20, tzinfo=UTC)


class KnowsTheDropper:
    """An intel source that knows one payload hash (what MISP would answer for it)."""

    name = "known-bad"
    identity = "known-bad"

    def __init__(self) -> None:
        self.asked: list[list[Indicator]] = []

    def lookup(self, indicators: list[Indicator]) -> ThreatIntelLookup:
        self.asked.append(indicators)
        matches = [
            IntelMatch(
                indicator=i,
                source=self.name,
                event_uuid="ev-1",
                event_info="Loader campaign",
                tags=["tlp:amber", "malware:loader"],
                last_seen=SEEN,
            )
            for i in indicators
            if i.kind == "sha256" and i.value == DROPPER_SHA
        ]
        return ThreatIntelLookup(source=self.name, looked_up=len(indicators), matches=matches)


class Outage:
    name = "down"
    identity = "down"

    def lookup(self, indicators: list[Indicator]) -> ThreatIntelLookup:
        return ThreatIntelLookup(source=self.name, failed=True, error="connection refused")


class Raises:
    name = "broken"
    identity = "broken"

    def lookup(self, indicators: list[Indicator]) -> ThreatIntelLookup:
        raise RuntimeError("adapter bug")


def _window() -> list[AttackSession]:
    return dropper_window(21, bots=5, background_sources=20)


def test_intel_matches_become_evidence_and_failures_are_recorded_not_raised() -> None:
    known = KnowsTheDropper()
    result = analyze_sessions(_window(), {}, intel_sources=[known, Outage(), Raises()])
    (campaign,) = [c for c in result.campaigns if c.verdict is not Verdict.COINCIDENTAL]
    intel = {e.evidence_id: e for e in campaign.evidence if e.factor == "threat_intel"}
    assert set(intel) == {f"{campaign.campaign_id}:threat_intel:{n}" for n in ("known-bad", "down", "broken")}
    known_bad = intel[f"{campaign.campaign_id}:threat_intel:known-bad"]
    (event,) = known_bad.statistic["events"]
    assert event["event_uuid"] == "ev-1" and event["info"] == "Loader campaign"
    assert event["tags"] == ["malware:loader", "tlp:amber"]
    assert event["values"] == [f"sha256:{DROPPER_SHA}"]
    # Age is counted at the campaign's own last activity, not the wall clock.
    assert event["age_days"] == round((campaign.last_seen - SEEN).total_seconds() / 86400, 2)
    assert known_bad.statistic["matched_indicators"] == 1 and not known_bad.statistic["degraded"]
    assert 0 < known_bad.score < 1  # one of the campaign's indicators was known
    for failed in ("down", "broken"):
        degraded = intel[f"{campaign.campaign_id}:threat_intel:{failed}"]
        assert degraded.score == 0.0 and degraded.statistic["degraded"] is True
    assert "connection refused" in intel[f"{campaign.campaign_id}:threat_intel:down"].statistic["reason"]
    reports = {r.tool: r for r in result.tools}
    assert reports["intel:known-bad"].status == "ok" and reports["intel:known-bad"].matches == 1
    assert reports["intel:down"].status == "failed" and reports["intel:down"].error == "connection refused"
    assert reports["intel:broken"].status == "failed" and "adapter bug" in (
        reports["intel:broken"].error or ""
    )
    assert reports["scanner_lists"].status == "ok" and reports["asn_geo"].status == "ok"
    # It was asked about the group's sources and artefacts, typed as MISP types them.
    kinds = {i.kind for i in known.asked[0]}
    assert {"ip-src", "sha256", "url"} <= kinds


def test_a_failed_source_leaves_the_same_campaigns() -> None:
    window = _window()
    healthy = analyze_sessions(window, {})
    degraded = analyze_sessions(window, {}, intel_sources=[Outage()])
    assert [c.session_ids for c in healthy.campaigns] == [c.session_ids for c in degraded.campaigns]
    assert [c.verdict for c in healthy.campaigns] == [c.verdict for c in degraded.campaigns]
