"""Small crafted windows of sessions for the detector tests (what each hard case looks like)."""

from __future__ import annotations

import hashlib
import random
from datetime import UTC, datetime, timedelta

from coord_core.contracts.sessions import AttackSession, Download, LoginAttempt
from tests import factories

T0 = datetime(2025, 10, 24, 8, 0, tzinfo=UTC)
GO_CLIENT = "SSH-2.0-Go"
GO_HASSH = "0a07365cc01fa9fc82608ba4019af499"
# A public tool's script: unrelated users everywhere run it, every day.
PUBLIC_SCRIPT = [
    "cd /tmp; cat /proc/cpuinfo | grep 'model name' | head -1",
    "nproc; free -g | awk 'NR==2{print $2}'; lscpu | grep -i 'l3 cache'",
    "crontab -l 2>/dev/null | grep -v '^#' | head -20",
    "ps aux --sort=-%cpu | head -15 | awk '{print $11}'",
]
# A dropper several crafted bots fetch (detector, workflow and checkpoint tests).
DROPPER = "http://203.0.113.77/bins/x86"
DROPPER_SHA = "9f" * 32
TOP_PASSWORDS = ["123456", "admin", "root", "12345", "password", "1234", "123", "ubuntu", "test", "qwerty"]


def sid(*parts: object) -> str:
    return hashlib.sha256("|".join(map(str, parts)).encode()).hexdigest()[:12]


def session(
    ip: str,
    at_s: float,
    *,
    duration_s: float = 20.0,
    logins: list[tuple[str, str]] | None = None,
    success: bool = False,
    commands: list[str] | None = None,
    downloads: list[tuple[str, str | None]] | None = None,
    client: str | None = GO_CLIENT,
    hassh: str | None = GO_HASSH,
    port: int = 22,
    key: object = "",
) -> AttackSession:
    attempts = [LoginAttempt(username=u, password=p) for u, p in (logins or [])]
    if success and attempts:
        attempts[-1] = LoginAttempt(
            username=attempts[-1].username, password=attempts[-1].password, success=True
        )
    return factories.attack_session(
        sid(ip, at_s, key),
        ip,
        T0 + timedelta(seconds=at_s),
        seconds=duration_s,
        sensor="sensor-a",
        event_count=2 + len(attempts) + len(commands or []),
        dst_ip="10.0.0.2",
        dst_port=port,
        protocol="ssh" if port == 22 else "telnet",
        duration=duration_s,
        client_version=client,
        hassh=hassh,
        logins=attempts,
        commands=commands or [],
        downloads=[Download(url=u, shasum=h) for u, h in (downloads or [])],
    )


def random_ip(rng: random.Random) -> str:
    """A public-looking IPv4 address in a random /16 (documentation and private ranges avoided)."""
    while True:
        a = rng.randint(11, 223)
        if a not in (100, 127, 169, 172, 192, 198, 203):
            return f"{a}.{rng.randint(0, 255)}.{rng.randint(0, 255)}.{rng.randint(1, 254)}"


def background(rng: random.Random, sources: int, span_s: float = 3600.0) -> list[AttackSession]:
    """Independent brute-forcers that all use the most common client, HASSH and top passwords."""
    out: list[AttackSession] = []
    for _ in range(sources):
        ip = random_ip(rng)
        base = rng.uniform(0, span_s)
        for k in range(rng.randint(2, 6)):
            tried = rng.sample(TOP_PASSWORDS, rng.randint(3, 6))
            out.append(session(ip, base + 30 * k, logins=[("root", p) for p in tried], key=k))
    return out
