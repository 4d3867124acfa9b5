"""Background noise: the many unrelated single-source attackers that fill every honeypot log.

Each background actor is one address with one behaviour, in the proportions a T-Pot or DShield
sensor sees (the real sample: two thirds Go scanners trying one password, a quarter telnet
knocks, a few intruders running recon). They share what everyone shares (the popular clients
and HASSH, the top passwords, the common recon lines), so similarity alone never implies a
campaign. None of them is multi-source.
"""

from __future__ import annotations

from collections.abc import Callable

from coord_core.contracts.campaigns import Verdict
from coord_core.scenarios import commands as cmd
from coord_core.scenarios.clients import NON_SSH_BANNERS, ClientProfile, popular_client, rare_client
from coord_core.scenarios.credentials import (
    MIRAI_CREDENTIALS,
    SERVICE_USERNAMES,
    SOLANA_CREDENTIALS,
    Credential,
    long_tail_password,
    popular_credential,
)
from coord_core.scenarios.networks import NetworkKind
from coord_core.scenarios.schedule import spread, visit
from coord_core.scenarios.timeline import CommandSpec, Pace, Source, bot_pace, human_pace
from coord_core.scenarios.weighted import WeightedTable
from coord_core.scenarios.world import World

_NETWORKS = {NetworkKind.CLOUD: 0.4, NetworkKind.HOSTING: 0.15, NetworkKind.RESIDENTIAL: 0.45}


def _source(world: World, behaviour: str, pace: Pace) -> Source:
    """One background attacker: its own actor, address and ports; three in four keep to one sensor."""
    actor = world.new_actor("background", Verdict.COINCIDENTAL, behaviour)
    ip = world.ip_of_kind(_NETWORKS)
    port = world.src_port_picker()
    home = world.sensor() if world.rng.random() < 0.75 else None
    return Source(world, actor, ip, port, pace, sensor=home)


def _guess(world: World) -> Credential:
    rng = world.rng
    if rng.random() < 0.55:
        return popular_credential(rng)
    username = "root" if rng.random() < 0.6 else rng.choice(SERVICE_USERNAMES)
    return (username, long_tail_password(rng))


def _count(world: World, mean_extra: float, cap: int) -> int:
    """1 + a geometric number of further sessions, capped."""
    extra = int(world.rng.expovariate(1.0 / mean_extra)) if mean_extra > 0 else 0
    return min(1 + extra, cap)


def _popular_bot(world: World, behaviour: str) -> tuple[Source, ClientProfile]:
    """A scripted background attacker and the popular client it announces every time."""
    source = _source(world, behaviour, bot_pace(world.rng))
    return source, popular_client(world.rng)


def _spread_sessions(world: World, budget: int, mean_extra: float, cap: int) -> list[int]:
    """Start times over the whole window for 1 + a geometric number of further sessions (capped,
    and never more than ``budget``)."""
    return spread(world, min(budget, _count(world, mean_extra, cap)))


def _go_scanner(world: World, budget: int) -> int:
    rng = world.rng
    source, client = _popular_bot(world, "scanner trying one or two passwords per connection")
    times = visit(
        world, world.any_time(), min(budget, _count(world, 2.0, 60)), mean_gap_s=rng.uniform(20, 240)
    )
    for at in times:
        if rng.random() < 0.08:
            source.session(at, client=client)
            continue
        attempts = 1 if rng.random() < 0.8 else 2
        source.session(at, client=client, credentials=[_guess(world) for _ in range(attempts)])
    return len(times)


def _telnet_knock(world: World, budget: int) -> int:
    source = _source(world, "telnet connect and idle", bot_pace(world.rng))
    times = _spread_sessions(world, budget, 0.8, 6)
    for at in times:
        source.session(at, protocol="telnet")
    return len(times)


def _ssh_knock(world: World, budget: int) -> int:
    rng = world.rng
    source, client = _popular_bot(world, "ssh connect, maybe banner, no login")
    times = _spread_sessions(world, budget, 0.6, 5)
    for at in times:
        roll = rng.random()
        if roll < 0.5:
            source.session(at)
        elif roll < 0.65:
            source.session(at, banner=rng.choice(NON_SSH_BANNERS))
        else:
            source.session(at, client=client, kex=roll > 0.75)
    return len(times)


def _brute_forcer(world: World, budget: int) -> int:
    rng = world.rng
    source = _source(world, "dictionary brute force, several guesses per connection", bot_pace(rng))
    client = popular_client(rng) if rng.random() < 0.95 else rare_client(rng)
    username = rng.choice(("root", "root", "admin", rng.choice(SERVICE_USERNAMES)))
    count = min(budget, rng.randint(2, 12))
    times = visit(world, world.any_time(), count, mean_gap_s=rng.uniform(5, 90))
    for at in times:
        attempts = rng.randint(2, 6)
        credentials = [
            (username, long_tail_password(rng)) if rng.random() < 0.6 else popular_credential(rng)
            for _ in range(attempts)
        ]
        succeeds = rng.random() < 0.03
        source.session(
            at,
            client=client,
            credentials=credentials,
            success_at=attempts - 1 if succeeds else None,
            commands=cmd.recon_commands(rng, 1, 3),
        )
    return len(times)


def _intruder(world: World, budget: int) -> int:
    rng = world.rng
    interactive = rng.random() < 0.1
    pace = human_pace(rng) if interactive else bot_pace(rng)
    source = _source(world, "logs in and looks around", pace)
    client = popular_client(rng)
    own_payload = None
    if rng.random() < 0.25:
        host = world.payload_host({NetworkKind.HOSTING: 0.6, NetworkKind.CLOUD: 0.4})
        script = cmd.drop_name(rng)
        own_payload = (host, script, rng.randrange(3), cmd.sha256_hex(rng))
    times = _spread_sessions(world, budget, 0.7, 6)
    for at in times:
        attempts = rng.randint(1, 3)
        commands: list[CommandSpec] = [*cmd.recon_commands(rng, 1, 4 if not interactive else 8)]
        if own_payload is not None:
            host, script, variant, digest = own_payload
            payload = cmd.Payload(f"http://{host}/{script}", digest if rng.random() < 0.85 else None)
            commands.append((cmd.dropper_line(host, script, variant), (payload,)))
        source.session(
            at,
            client=client,
            credentials=[_guess(world) for _ in range(attempts)],
            success_at=attempts - 1,
            commands=commands,
            exec_mode=not interactive,
        )
    return len(times)


def _solana_hunter(world: World, budget: int) -> int:
    rng = world.rng
    source, client = _popular_bot(world, "crypto-validator account guessing")
    times = visit(world, world.any_time(), min(budget, rng.randint(1, 4)), mean_gap_s=60)
    for at in times:
        source.session(at, client=client, credentials=rng.sample(SOLANA_CREDENTIALS, rng.randint(2, 5)))
    return len(times)


def _telnet_guesser(world: World, budget: int) -> int:
    rng = world.rng
    source = _source(world, "telnet default-credential guessing", bot_pace(rng))
    times = _spread_sessions(world, budget, 1.0, 8)
    for at in times:
        attempts = rng.randint(1, 3)
        source.session(at, protocol="telnet", credentials=rng.sample(MIRAI_CREDENTIALS, attempts))
    return len(times)


def _proxy_abuser(world: World, budget: int) -> int:
    rng = world.rng
    source, client = _popular_bot(world, "uses the honeypot as a TCP proxy")
    times = _spread_sessions(world, budget, 1.0, 5)
    for at in times:
        target = world.networks.pick(rng, NetworkKind.CLOUD).address(rng)
        forwards = [(target, rng.choice((25, 587, 465, 80, 443)), rng.choice((b"E", b"G", b"\x16")))]
        source.session(at, client=client, credentials=[_guess(world)], success_at=0, forwards=forwards)
    return len(times)


# Weights per actor, chosen so that session shares match a real sensor's: about 55% one- or
# two-guess scanner sessions, 20% idle telnet knocks, 8% multi-guess brute force, 6% intrusions.
_BEHAVIOURS: tuple[tuple[Callable[[World, int], int], float], ...] = (
    (_go_scanner, 0.183),
    (_telnet_knock, 0.111),
    (_ssh_knock, 0.0375),
    (_brute_forcer, 0.0114),
    (_intruder, 0.035),
    (_solana_hunter, 0.006),
    (_telnet_guesser, 0.015),
    (_proxy_abuser, 0.0025),
)
_BEHAVIOUR_TABLE = WeightedTable(_BEHAVIOURS)


def background(world: World, sessions: int) -> None:
    """Add unrelated single-source attackers until exactly ``sessions`` more sessions exist."""
    remaining = sessions
    while remaining > 0:
        behaviour = _BEHAVIOUR_TABLE.draw(world.rng)
        remaining -= behaviour(world, remaining)
