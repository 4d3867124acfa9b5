"""Turn "who tries what" into a timed session plan, with the pacing real clients show.

Gaps are log-normally jittered around an actor's own :class:`Pace` (a scripted bot is fast and
regular, a person slow and irregular). Cowrie's own behaviour is reproduced where it shows in
the logs: the banner a few milliseconds after connect, one exec channel per bot command, the
emulated architecture chosen by the honeypot, idle telnet connections closing on a timeout.
"""

from __future__ import annotations

import functools
import math
import random
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

from coord_core.contracts.campaigns import Verdict
from coord_core.scenarios.clients import ClientProfile, popular_client
from coord_core.scenarios.commands import Payload, recon_ok
from coord_core.scenarios.credentials import Credential
from coord_core.scenarios.networks import NetworkKind
from coord_core.scenarios.plan import (
    FORWARD_DATA_US,
    Command,
    Download,
    Forward,
    Login,
    SavedFile,
    Sensor,
    SessionPlan,
    Upload,
)
from coord_core.scenarios.world import MINUTE, SECOND, ActorRecord, Scale, World

# Cowrie answers ``uname`` & co. with an architecture it picks per session from this list.
COWRIE_ARCHES = (
    "bsd-aarch64-lsb",
    "bsd-mips-msb",
    "bsd-sparc64-msb",
    "bsd-x64-lsb",
    "linux-aarch64-lsb",
    "linux-arm-lsb",
    "linux-arm-msb",
    "linux-bfin-lsb",
    "linux-m68k-msb",
    "linux-mips-lsb",
    "linux-mips-msb",
    "linux-mips64-lsb",
    "linux-powerpc-msb",
    "linux-powerpc64-lsb",
    "linux-riscv64-lsb",
    "linux-s390x-msb",
    "linux-sh-lsb",
    "linux-sparc64-msb",
    "linux-x64-lsb",
    "linux-x86-lsb",
    "linux-xtensa-msb",
    "osx-x32-lsb",
    "osx-x64-lsb",
)

CommandSpec = str | tuple[str, tuple[Payload, ...]]


@dataclass(frozen=True, slots=True)
class Pace:
    """Mean gaps of one tool or operator, in seconds; each use is jittered by ``jitter``."""

    handshake_s: float = 0.6
    login_gap_s: float = 1.5
    command_gap_s: float = 0.4
    linger_s: float = 1.0
    jitter: float = 0.35

    def gap(self, rng: random.Random, mean_s: float) -> int:
        return max(1_000, int(mean_s * math.exp(rng.gauss(0.0, self.jitter)) * SECOND))


# The range each pace field is drawn from, uniformly and in this order (the order is part of what
# a seed produces): (a scripted client, someone typing).
_PACE_RANGES: dict[str, tuple[tuple[float, float], tuple[float, float]]] = {
    "handshake_s": ((0.15, 0.9), (0.3, 1.5)),
    "login_gap_s": ((0.4, 3.5), (3.0, 9.0)),
    "command_gap_s": ((0.25, 0.8), (3.0, 20.0)),
    "linger_s": ((0.2, 2.0), (2.0, 30.0)),
    "jitter": ((0.1, 0.35), (0.5, 0.9)),
}


def _drawn_pace(rng: random.Random, column: int) -> Pace:
    return Pace(**{name: rng.uniform(*ranges[column]) for name, ranges in _PACE_RANGES.items()})


def bot_pace(rng: random.Random) -> Pace:
    """A scripted client: quick, regular."""
    return _drawn_pace(rng, 0)


def human_pace(rng: random.Random) -> Pace:
    """Someone typing: slow, irregular."""
    return _drawn_pace(rng, 1)


def plan_session(
    world: World,
    actor: ActorRecord,
    *,
    src_ip: str,
    start_us: int,
    pace: Pace,
    src_port: Callable[[], int],
    sensor: Sensor | None = None,
    protocol: str = "ssh",
    client: ClientProfile | None = None,
    banner: str | None = None,
    kex: bool = True,
    credentials: Sequence[Credential] = (),
    success_at: int | None = None,
    commands: Sequence[CommandSpec] = (),
    exec_mode: bool = True,
    uploads: Sequence[tuple[str, str]] = (),
    forwards: Sequence[tuple[str, int, bytes]] = (),
    saved: Sequence[tuple[int, str, str, str]] = (),
) -> SessionPlan:
    """Plan one session and add it to the world.

    ``credentials`` are tried in order; the attempt at ``success_at`` succeeds and ends the
    guessing. Commands, uploads and forwards happen only after a successful login. ``saved``
    names files the commands wrote without a URL: (index of the command, style, path, SHA-256),
    see :class:`SavedFile`. An SSH client
    without ``credentials`` just connects (and announces itself when ``client``/``banner`` is
    given); a telnet one idles until Cowrie's timeout.
    """
    rng = world.rng
    sensor = sensor or world.sensor()
    plan = SessionPlan(
        actor_id=actor.actor_id,
        session_id=world.session_id(),
        sensor=sensor,
        src_ip=src_ip,
        src_port=src_port(),
        protocol=protocol,
        connect_us=start_us,
        close_us=start_us,
    )
    now = start_us
    if protocol == "ssh" and (client is not None or banner is not None):
        plan.banner = banner if banner is not None else client.version if client else None
        plan.banner_us = now + rng.randint(1_500, 9_000)
        now = plan.banner_us
        if client is not None and kex:
            plan.client = client
            plan.kex_us = now + pace.gap(rng, pace.handshake_s)
            now = plan.kex_us
    logins: list[Login] = []
    for index, (username, password) in enumerate(credentials):
        gap = pace.login_gap_s * (2.5 if protocol == "telnet" else 1.0)
        now += pace.gap(rng, gap if logins else gap * 1.3)
        success = index == success_at
        logins.append(Login(now, username, password, success))
        if success:
            break
    plan.logins = tuple(logins)
    if logins and logins[-1].success:
        now = _after_login(
            world,
            plan,
            now,
            pace=pace,
            commands=commands,
            exec_mode=exec_mode,
            uploads=uploads,
            forwards=forwards,
            saved=saved,
        )
    if logins:
        close = now + pace.gap(rng, pace.linger_s)
    elif protocol == "telnet":
        close = now + (rng.randint(118, 121) * SECOND if rng.random() < 0.35 else rng.randint(9, 32) * SECOND)
        close += rng.randrange(SECOND)
    else:
        close = now + pace.gap(rng, 1.6)
    plan.close_us = min(close, start_us + 25 * MINUTE)
    _truncate_to_close(plan)
    world.add(actor, plan)
    return plan


@dataclass(frozen=True)
class Source:
    """One attacking address of an actor: where it connects from (the address, its OS's source
    ports), how it types, usually its SSH client and sometimes the one sensor it keeps to; every
    session it plans carries them."""

    world: World
    actor: ActorRecord
    ip: str
    src_port: Callable[[], int]
    pace: Pace
    client: ClientProfile | None = None
    sensor: Sensor | None = None

    def session(self, start_us: int, **plan: Any) -> SessionPlan:
        """Plan one session of this source; ``plan`` holds :func:`plan_session`'s other keywords
        (a ``client`` or ``sensor`` there overrides the source's)."""
        return plan_session(
            self.world,
            self.actor,
            src_ip=self.ip,
            start_us=start_us,
            pace=self.pace,
            src_port=self.src_port,
            **{"client": self.client, "sensor": self.sensor, **plan},
        )


def new_source(
    world: World,
    actor: ActorRecord,
    networks: dict[NetworkKind, float],
    *,
    pace: Pace,
    client: ClientProfile | None = None,
) -> Source:
    """A source at a free address in a network drawn by ``networks``, with its own source ports."""
    ip = world.ip_of_kind(networks)
    return Source(world, actor, ip, world.src_port_picker(), pace, client)


def independent_actors(
    note: str,
    networks: dict[NetworkKind, float],
    tool: Callable[[random.Random], ClientProfile] = popular_client,
) -> Callable[
    [Callable[[World, Callable[[], Source], Scale], None]], Callable[[World, Scale], list[ActorRecord]]
]:
    """Declare a look-alike archetype: a crowd of unrelated attackers, each its own coincidental
    actor (named after the archetype) with its own address in ``networks``, client drawn by
    ``tool`` and pace. The decorated function calls ``join()`` for each attacker it plans; the
    archetype returns their actors."""

    def declare(
        plan: Callable[[World, Callable[[], Source], Scale], None],
    ) -> Callable[[World, Scale], list[ActorRecord]]:
        @functools.wraps(plan)
        def build(world: World, scale: Scale) -> list[ActorRecord]:
            actors: list[ActorRecord] = []

            def join() -> Source:
                actor = world.new_actor(plan.__name__, Verdict.COINCIDENTAL, note)
                actors.append(actor)
                ip = world.ip_of_kind(networks)
                port = world.src_port_picker()
                client = tool(world.rng)
                return Source(world, actor, ip, port, bot_pace(world.rng), client)

            plan(world, join, scale)
            return actors

        return build

    return declare


def _after_login(
    world: World,
    plan: SessionPlan,
    now: int,
    *,
    pace: Pace,
    commands: Sequence[CommandSpec],
    exec_mode: bool,
    uploads: Sequence[tuple[str, str]],
    forwards: Sequence[tuple[str, int, bytes]],
    saved: Sequence[tuple[int, str, str, str]] = (),
) -> int:
    rng = world.rng
    if plan.protocol == "ssh":
        plan.arch = rng.choice(COWRIE_ARCHES)
    plan.exec_mode = exec_mode and plan.protocol == "ssh"
    plan.shell_us = now + rng.randint(250_000, 700_000)
    now = plan.shell_us
    planned: list[Command] = []
    for spec in commands:
        line, payloads = (spec, ()) if isinstance(spec, str) else spec
        at = now + (rng.randint(300, 900) if plan.exec_mode else 0)
        cursor = at + rng.randint(400, 1_200)
        downloads = []
        for payload in payloads:
            cursor += rng.randint(40_000, 900_000)
            downloads.append(Download(cursor, payload))
        done = cursor + rng.randint(100_000, 260_000)
        planned.append(Command(at, line, recon_ok(line), done, tuple(downloads)))
        now = (done if plan.exec_mode else cursor) + pace.gap(rng, pace.command_gap_s)
    plan.commands = tuple(planned)
    # Cowrie stores redirected output and standard input when the command's channel closes,
    # just before its TTY log is closed.
    plan.saved = tuple(
        SavedFile(planned[index].done_us - 700 + offset, style, path, sha256)
        for offset, (index, style, path, sha256) in enumerate(saved)
        if index < len(planned)
    )
    files: list[Upload] = []
    for filename, sha256 in uploads:
        now += pace.gap(rng, 1.2)
        files.append(Upload(now, filename, sha256))
    plan.uploads = tuple(files)
    proxied: list[Forward] = []
    for dst_ip, dst_port, data in forwards:
        now += rng.randint(60_000, 200_000)
        proxied.append(Forward(now, dst_ip, dst_port, data))
        now += FORWARD_DATA_US
    plan.forwards = tuple(proxied)
    return now


def _truncate_to_close(plan: SessionPlan) -> None:
    """A session capped at its maximum length loses what would have happened after the cap."""
    close = plan.close_us
    plan.logins = tuple(login for login in plan.logins if login.at_us < close)
    if not any(login.success for login in plan.logins):
        plan.commands, plan.uploads, plan.forwards, plan.saved, plan.arch = (), (), (), (), ""
        return
    plan.commands = tuple(
        Command(
            c.at_us,
            c.line,
            c.known,
            min(c.done_us, close - 1),
            tuple(d for d in c.downloads if d.at_us < close),
        )
        for c in plan.commands
        if c.at_us < close
    )
    plan.uploads = tuple(u for u in plan.uploads if u.at_us < close)
    plan.saved = tuple(f for f in plan.saved if f.at_us < close - 1)
    plan.forwards = tuple(f for f in plan.forwards if f.at_us + FORWARD_DATA_US < close)
