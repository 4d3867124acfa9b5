"""The one set of test factories: crafted sessions and campaigns of the shape any correct analyzer gives.

Test support modules keep their domain presets (a bot of the dropper botnet, a narrated
campaign, a detector test's session) as thin calls of these two.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime, timedelta
from typing import Any

from coord_core.contracts.campaigns import Campaign, Evidence, Link, Verdict
from coord_core.contracts.sessions import AttackSession, Download, LoginAttempt


def attack_session(
    session_id: str,
    src_ip: str,
    start: datetime,
    *,
    seconds: float,
    sensor: str,
    event_count: int,
    logins: Sequence[LoginAttempt] = (),
    commands: Sequence[str] = (),
    downloads: Sequence[Download] = (),
    **fields: Any,
) -> AttackSession:
    """A session seen whole in the window (its connect and close), lasting ``seconds``."""
    return AttackSession(
        session_id=session_id,
        sensor=sensor,
        src_ip=src_ip,
        start=start,
        end=start + timedelta(seconds=seconds),
        logins=list(logins),
        commands=list(commands),
        downloads=list(downloads),
        event_count=event_count,
        has_connect=True,
        has_close=True,
        **fields,
    )


def campaign(
    cid: str,
    sessions: Sequence[AttackSession],
    evidence: Sequence[Evidence],
    *,
    verdict: Verdict,
    confidence: float,
    signature: Sequence[str],
    links: Sequence[Link] = (),
) -> Campaign:
    """A campaign over ``sessions``: members, addresses and first/last seen follow from them."""
    return Campaign(
        campaign_id=cid,
        verdict=verdict,
        confidence=confidence,
        session_ids=sorted(s.session_id for s in sessions),
        source_ips=sorted({s.src_ip for s in sessions}),
        first_seen=min(s.start for s in sessions),
        last_seen=max(s.end for s in sessions),
        evidence=list(evidence),
        links=list(links),
        signature=list(signature),
    )
