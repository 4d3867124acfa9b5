"""Actors that change addresses: rotation inside one /24, across clouds, and waves after a pause."""

from __future__ import annotations

import ipaddress
import string

from coord_core.contracts.campaigns import Verdict
from coord_core.scenarios import commands as cmd
from coord_core.scenarios.clients import popular_client, rare_client
from coord_core.scenarios.credentials import SERVICE_USERNAMES, mutated_wordlist, popular_credential
from coord_core.scenarios.networks import NetworkKind
from coord_core.scenarios.schedule import Slot, burst, in_turn, visit, waves, within
from coord_core.scenarios.timeline import CommandSpec, Source, bot_pace
from coord_core.scenarios.world import HOUR, MINUTE, SECOND, ActorRecord, Scale, World, one_actor

_RARE_LINES = (
    "cat /etc/shadow | head -n 3",
    "ls -la /root/.ssh/",
    "cat /etc/passwd | grep -v nologin",
    "history -c",
    "sudo -l",
    "cat ~/.bash_history | tail -n 20",
    "find / -name '*.pem' 2>/dev/null | head",
    "netstat -tulpn | head -n 20",
)


def _operator_script(world: World) -> list[str]:
    rng = world.rng
    script = cmd.recon_commands(rng, 2, 4)
    script.insert(rng.randrange(len(script) + 1), rng.choice(_RARE_LINES))
    script.append(rng.choice(_RARE_LINES))
    return script


def _addresses_in_one_slash24(world: World, count: int) -> list[str]:
    """``count`` free addresses of one /24 of a small hoster (another /24 when one is too full)."""
    for _ in range(50):
        block = world.networks.pick(world.rng, NetworkKind.HOSTING).slash24(world.rng)
        addresses = [ip for ip in (world.ip_in_prefix(block) for _ in range(count)) if ip is not None]
        if len(addresses) >= 2:
            return addresses
    raise ValueError("no /24 of a hosting network has two free addresses left")


@one_actor(
    Verdict.SINGLE_ACTOR_MULTI_SOURCE,
    "addresses of one /24 used in turn, same rare client, dictionary and script",
)
def slash24_rotation(world: World, actor: ActorRecord, scale: Scale) -> None:
    """One operator rotating through addresses of one /24 at a small hoster.

    The addresses take turns: one works for a while, stops, the next begins (little overlap in
    time). All use the same uncommon client build (its own HASSH), walk the same private
    dictionary in order from where the previous address stopped, and run the same follow-up
    script with a couple of unusual lines when a guess works.
    """
    rng = world.rng
    client = rare_client(rng)
    base = bot_pace(rng)
    script = _operator_script(world)
    username = rng.choice(("root", "admin", "ubuntu", "oracle"))
    addresses = _addresses_in_one_slash24(world, max(3, scale.count(rng, 4, 10)))
    slots = in_turn(world, len(addresses), min_us=10 * MINUTE, max_us=50 * MINUTE)
    dictionary = mutated_wordlist(rng, 4 * 12 * len(slots))
    cursor = 0
    for ip, slot in zip(addresses, slots, strict=True):
        source = Source(world, actor, ip, world.src_port_picker(), base, client)
        for at in within(world, slot, rng.randint(3, 12)):
            attempts = rng.randint(1, 4)
            guesses = dictionary[cursor : cursor + attempts]
            cursor += attempts
            source.session(
                at,
                credentials=[(username, password) for password in guesses],
                success_at=len(guesses) - 1 if rng.random() < 0.25 else None,
                commands=script,
            )


@one_actor(
    Verdict.SINGLE_ACTOR_MULTI_SOURCE,
    "machines in different hosting ASNs used in turn, same rare client, script and upload",
)
def cloud_rotation(world: World, actor: ActorRecord, scale: Scale) -> None:
    """One operator renting short-lived machines in different clouds, one after another.

    Each machine (AWS, DigitalOcean, Vultr, Tencent, ... a different provider and AS each time)
    works for a while and is dropped for the next. Everywhere the same rare client build, the
    same GPU-hunting script, and the same tool uploaded over SFTP when a login works.
    """
    rng = world.rng
    providers = world.networks.providers(NetworkKind.CLOUD)
    chosen = rng.sample(providers, min(len(providers), max(3, scale.count(rng, 4, 8))))
    client = rare_client(rng)
    base = bot_pace(rng)
    script = [*rng.sample(cmd.GPU_PROBE, rng.randint(3, len(cmd.GPU_PROBE))), *cmd.recon_commands(rng, 1, 2)]
    tool = (rng.choice(("x86_64.tgz", "kworker.tar.gz", "dbus.tgz", "sys.tar")), cmd.sha256_hex(rng))
    slots = in_turn(world, len(chosen), min_us=15 * MINUTE, max_us=70 * MINUTE)
    for provider, slot in zip(chosen, slots, strict=True):
        ip = world.ip_in(rng.choice(world.networks.by_provider[provider]))
        machine = Source(world, actor, ip, world.src_port_picker(), base, client)
        for at in within(world, slot, rng.randint(2, 8)):
            attempts = rng.randint(1, 3)
            succeeds = rng.random() < 0.55
            machine.session(
                at,
                credentials=[popular_credential(rng) for _ in range(attempts)],
                success_at=attempts - 1 if succeeds else None,
                commands=script,
                uploads=[tool],
            )


@one_actor(
    Verdict.COORDINATED_CAMPAIGN, "waves hours apart from disjoint addresses, same payload host and hash"
)
def paused_campaign(world: World, actor: ActorRecord, scale: Scale) -> None:
    """A campaign that pauses and comes back from new addresses.

    A first wave of sources works in parallel for an hour or two, goes quiet for hours, and a
    second (sometimes third) wave of addresses never seen before resumes with the same payload
    host and file. The script's file name may change between waves; host and hash do not.
    """
    rng = world.rng
    host = world.payload_host({NetworkKind.HOSTING: 1.0})
    digest = cmd.sha256_hex(rng)
    variant = rng.randrange(3)
    client = popular_client(rng)
    base = bot_pace(rng)
    for wave in waves(world, width_us=(45 * MINUTE, 2 * HOUR), pause_us=(3 * HOUR, 7 * HOUR)):
        script = cmd.drop_name(rng)
        payload = cmd.Payload(f"http://{host}/{script}", digest)
        width = wave.end_us - wave.start_us
        for start in burst(world, scale.count(rng, 6, 15), width_us=width, at_us=wave.start_us):
            ip = world.ip_of_kind(
                {NetworkKind.CLOUD: 0.5, NetworkKind.HOSTING: 0.2, NetworkKind.RESIDENTIAL: 0.3}
            )
            attempts = rng.randint(1, 3)
            commands: list[CommandSpec] = [*cmd.recon_commands(rng, 0, 2)]
            commands.append((cmd.dropper_line(host, script, variant), (payload,)))
            bot = Source(world, actor, ip, world.src_port_picker(), base, client)
            bot.session(
                start,
                credentials=[popular_credential(rng) for _ in range(attempts)],
                success_at=attempts - 1,
                commands=commands,
            )


@one_actor(
    Verdict.SINGLE_ACTOR_MULTI_SOURCE,
    "addresses of one /24, hours apart, each tries the identical ordered list of 100-160 pairs",
)
def identical_credential_list(world: World, actor: ActorRecord, scale: Scale) -> None:
    """Two or three addresses of one /24 running the same private list, hours apart.

    One operator's brute forcer works through its own list of 100-160 username/password pairs
    in a fixed order, a few pairs per connection, from one address of a small hoster's /24;
    hours later it runs the identical list again from a neighbouring address (and sometimes a
    third). The runs never overlap. Construction: same /24, in turn, hence one actor using
    several sources (``single_actor_multi_source``); the identical ordered list is the tie,
    the client a popular build.
    """
    rng = world.rng
    addresses = _addresses_in_one_slash24(world, rng.choice((2, 2, 3)))
    length = rng.randint(100, 160)
    usernames = ["root", *rng.sample(SERVICE_USERNAMES[1:], rng.randint(1, 3))]
    private = [(rng.choice(usernames), password) for password in mutated_wordlist(rng, length)]
    client = popular_client(rng)
    base = bot_pace(rng)
    per_connection = rng.randint(4, 8)
    runs = len(addresses)
    pause = rng.randint(2 * HOUR, 5 * HOUR)
    at = world.time_between(world.start_us, world.end_us - runs * (pause + HOUR))
    for ip in addresses:
        source = Source(world, actor, ip, world.src_port_picker(), base, client)
        chunks = [private[i : i + per_connection] for i in range(0, length, per_connection)]
        times = visit(world, at, len(chunks), mean_gap_s=rng.uniform(3, 15))
        for chunk, start in zip(chunks, times, strict=False):
            source.session(start, credentials=chunk)
        at = max(times) + pause


def _consecutive_addresses(world: World, count: int) -> list[str]:
    """``count`` consecutive free host addresses in one /24 of a hosting network."""
    rng = world.rng
    for _ in range(1000):
        network = world.networks.pick(rng, NetworkKind.HOSTING)
        block = network.prefix if network.prefix.prefixlen >= 24 else network.slash24(rng)
        if block.num_addresses < count + 2:
            continue
        first = rng.randint(1, block.num_addresses - count - 1)
        base = int(block.network_address)
        candidates = [str(ipaddress.IPv4Address(base + first + i)) for i in range(count)]
        if world.claim_ips(candidates):
            return candidates
    raise ValueError("no /24 of a hosting network has a free run of consecutive addresses")


@one_actor(
    Verdict.SINGLE_ACTOR_MULTI_SOURCE,
    "consecutive addresses of one /24 used one after another, rare client, own script",
)
def sequential_slash24_operator(world: World, actor: ActorRecord, scale: Scale) -> None:
    """One operator stepping through consecutive addresses of one /24, one at a time.

    The operator has a block at a small hoster and uses its addresses in order (.37, .38, .39,
    ...), each for a while before moving to the next, never two at once. Everywhere the same
    rare client build and the operator's own script after the login, with a line of its own.
    """
    rng = world.rng
    client = rare_client(rng)
    base = bot_pace(rng)
    script = _operator_script(world)
    marker = "".join(rng.choice(string.ascii_lowercase + string.digits) for _ in range(8))
    script.append(f"mkdir -p /tmp/.{marker} && cd /tmp/.{marker} && ls -la")
    # One operator's block: a handful of addresses however big the window (a bigger window has
    # more operators, not longer runs).
    addresses = _consecutive_addresses(world, min(8, max(3, scale.count(rng, 3, 8))))
    lengths = [rng.randint(10 * MINUTE, 40 * MINUTE) for _ in addresses]
    gaps = [rng.randint(MINUTE, 15 * MINUTE) for _ in addresses]
    total = sum(lengths) + sum(gaps) + 30 * MINUTE
    cursor = world.time_between(world.start_us, world.end_us - total)
    for ip, length, gap in zip(addresses, lengths, gaps, strict=True):
        source = Source(world, actor, ip, world.src_port_picker(), base, client)
        slot = Slot(cursor, cursor + length)
        last_end = cursor
        for at in within(world, slot, rng.randint(2, 6)):
            attempts = rng.randint(1, 3)
            plan = source.session(
                world.clamp(max(at, last_end + SECOND)),
                credentials=[popular_credential(rng) for _ in range(attempts)],
                success_at=attempts - 1 if rng.random() < 0.7 else None,
                commands=script,
            )
            last_end = plan.close_us
        cursor = max(cursor + length, last_end) + gap
