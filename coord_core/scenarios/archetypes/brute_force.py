"""Password guessing: stealthy distributed dictionaries, synchronised waves, one busy source."""

from __future__ import annotations

import string

from coord_core.contracts.campaigns import Verdict
from coord_core.scenarios import commands as cmd
from coord_core.scenarios.clients import GO_COMMON, GO_PLAIN, LIBSSH2_1_11_0, popular_client, rare_client
from coord_core.scenarios.credentials import (
    SERVICE_USERNAMES,
    Credential,
    handed_out,
    long_tail_password,
    mutated_wordlist,
    popular_credential,
)
from coord_core.scenarios.networks import NetworkKind
from coord_core.scenarios.schedule import burst, stretch, visit, within
from coord_core.scenarios.timeline import Source, bot_pace, new_source
from coord_core.scenarios.world import HOUR, MINUTE, ActorRecord, Scale, World, one_actor


@one_actor(
    Verdict.COORDINATED_CAMPAIGN,
    "each source tries <= 3 consecutive entries of one shared dictionary, same usernames",
)
def distributed_brute_force(world: World, actor: ActorRecord, scale: Scale) -> None:
    """Stealthy distributed brute force.

    Tens to hundreds of sources share one ordered, rule-expanded dictionary and each tries at
    most three consecutive entries of it (disjoint slices, walked in list order over several
    hours) with the same usernames, then leaves: no success, no commands, nothing a per-source
    rate limit would notice. All run the same tool, often the commonest Go client.
    """
    rng = world.rng
    sources = scale.count(rng, 30, 80)
    per_source = [rng.choice((3, 3, 3, 2)) for _ in range(sources)]
    wordlist = mutated_wordlist(rng, sum(per_source))
    usernames = rng.sample(("root", "admin", "ubuntu", "user", "test", "oracle"), rng.choice((1, 1, 2)))
    client = popular_client(rng)
    base = bot_pace(rng)
    times = within(world, stretch(world, min_us=6 * HOUR, max_us=20 * HOUR), sources)
    for guesses, at in zip(handed_out(wordlist, per_source), times, strict=True):
        networks = {NetworkKind.RESIDENTIAL: 0.5, NetworkKind.CLOUD: 0.35, NetworkKind.HOSTING: 0.15}
        source = new_source(world, actor, networks, pace=base, client=client)
        source.session(at, credentials=[(usernames[i % len(usernames)], p) for i, p in enumerate(guesses)])


@one_actor(
    Verdict.COORDINATED_CAMPAIGN,
    "sources start within minutes, each tries 1-2 pairs of one leaked service-account list",
)
def credential_stuffing_wave(world: World, actor: ActorRecord, scale: Scale) -> None:
    """A synchronised credential-stuffing wave.

    Many rented machines start within the same few minutes, each trying one or two
    username/password pairs from a leaked list of service accounts (every pair tried once);
    the few that get in only echo a marker to confirm a working shell. Timing and the list are
    the tie; the client is one popular build.
    """
    rng = world.rng
    sources = scale.count(rng, 20, 60)
    passwords = mutated_wordlist(rng, 2 * sources)
    leaked: list[Credential] = [(rng.choice(SERVICE_USERNAMES[5:]), password) for password in passwords]
    client = popular_client(rng)
    base = bot_pace(rng)
    echo = "echo " + "".join(rng.choice(string.ascii_lowercase) for _ in range(6))
    cursor = 0
    for at in burst(world, sources, width_us=rng.randint(2 * MINUTE, 6 * MINUTE)):
        ip = world.ip_of_kind({NetworkKind.CLOUD: 0.8, NetworkKind.HOSTING: 0.2})
        count = rng.choice((1, 2))
        pairs = leaked[cursor : cursor + count]
        cursor += count
        succeeds = rng.random() < 0.15
        source = Source(world, actor, ip, world.src_port_picker(), base, client)
        source.session(
            at, credentials=pairs, success_at=len(pairs) - 1 if succeeds else None, commands=[echo]
        )


@one_actor(Verdict.COINCIDENTAL, "one source address with many sessions: not a multi-source campaign")
def single_source_heavy(world: World, actor: ActorRecord, scale: Scale) -> None:
    """One source, many sessions.

    A single host brute-forces for hours from a large dictionary, a few guesses per
    connection, and runs a short recon when a guess works. One address is one source, so this
    is not a multi-source campaign however busy it is.
    """
    rng = world.rng
    ip = world.ip_of_kind({NetworkKind.HOSTING: 0.4, NetworkKind.CLOUD: 0.4, NetworkKind.RESIDENTIAL: 0.2})
    port = world.src_port_picker()
    client = popular_client(rng)
    source = Source(world, actor, ip, port, bot_pace(rng), client)
    username = rng.choice(("root", "root", "admin", "ubuntu"))
    sensor = world.sensor()
    for at in visit(world, world.any_time(), scale.count(rng, 30, 120), mean_gap_s=rng.uniform(20, 120)):
        attempts = rng.randint(1, 5)
        credentials = [
            (username if rng.random() < 0.7 else popular_credential(rng)[0], long_tail_password(rng))
            for _ in range(attempts)
        ]
        succeeds = rng.random() < 0.04
        source.session(
            at,
            sensor=sensor if rng.random() < 0.8 else None,
            credentials=credentials,
            success_at=attempts - 1 if succeeds else None,
            commands=cmd.recon_commands(rng, 1, 3),
        )


@one_actor(
    Verdict.COORDINATED_CAMPAIGN,
    "connect-only knocks, then login-only sessions with one shared odd credential pair",
)
def silent_credential_check(world: World, actor: ActorRecord, scale: Scale) -> None:
    """Sessions with no commands at all.

    A group checks which honeypots accept one stolen credential pair: each source first knocks
    (connects and closes, sometimes after reading the banner), later logs in with the pair and
    leaves without typing anything. Connect-only and login-only sessions, one odd pair.
    """
    rng = world.rng
    alphabet = string.ascii_letters + string.digits + "\\>#)([]{}!%"
    pair = (
        rng.choice(("user", "admin", "support", "root")),
        "".join(rng.choice(alphabet) for _ in range(20)),
    )
    client = popular_client(rng)
    base = bot_pace(rng)
    hours = stretch(world, min_us=2 * HOUR, max_us=6 * HOUR)
    for _ in range(scale.count(rng, 8, 25)):
        networks = {NetworkKind.HOSTING: 0.35, NetworkKind.CLOUD: 0.35, NetworkKind.RESIDENTIAL: 0.3}
        source = new_source(world, actor, networks, pace=base, client=client)
        knock, *logins = within(world, hours, rng.randint(2, 3))
        banner = rng.random() < 0.5
        source.session(knock, client=client if banner else None, kex=False)
        for at in logins:
            source.session(at, credentials=[pair], success_at=0)


@one_actor(
    Verdict.COORDINATED_CAMPAIGN,
    "each source tries the next 3-5 entries of one ordered list of uncommon pairs",
)
def ordered_list_walkers(world: World, actor: ActorRecord, scale: Scale) -> None:
    """Sources walking one private list of unusual credentials, in order, a few entries each.

    The operator's tool hands each source the next three to five entries of one ordered list
    of uncommon username/password pairs (service accounts with rule-mangled passwords); each
    source connects once, tries its slice and leaves. Sources come one after another over
    several hours, so the list advances with time across sources. One uncommon client build.
    """
    rng = world.rng
    sources = scale.count(rng, 10, 30)
    per_source = [rng.randint(3, 5) for _ in range(sources)]
    passwords = mutated_wordlist(rng, sum(per_source))
    accounts = rng.sample(SERVICE_USERNAMES[5:], rng.randint(2, 4))
    block = rng.randint(3, 8)  # the list cycles through its accounts in blocks of passwords
    ordered: list[Credential] = [
        (accounts[(i // block) % len(accounts)], password) for i, password in enumerate(passwords)
    ]
    client = rare_client(rng)
    base = bot_pace(rng)
    times = within(world, stretch(world, min_us=3 * HOUR, max_us=9 * HOUR), sources)
    for entries, at in zip(handed_out(ordered, per_source), times, strict=True):
        networks = {NetworkKind.CLOUD: 0.45, NetworkKind.HOSTING: 0.3, NetworkKind.RESIDENTIAL: 0.25}
        new_source(world, actor, networks, pace=base, client=client).session(at, credentials=entries)


@one_actor(
    Verdict.COORDINATED_CAMPAIGN,
    "30-60 sources, 2-3 entries each of one dictionary, common client, within ~1.5 h",
)
def stealthy_partitioned_dictionary(world: World, actor: ActorRecord, scale: Scale) -> None:
    """A short, quiet dictionary attack split over a botnet, hidden behind a common client.

    Thirty to sixty sources each receive a partition of two or three entries of one shared
    dictionary (partitions handed out in no particular order), try them once against one
    username and leave, all within about an hour and a half. The client is a popular build
    (the commonest Go or libssh2 offer), so the dictionary partitions and the burst are the tie.
    """
    rng = world.rng
    sources = round(rng.randint(30, 60) * max(1.0, scale.factor))
    per_source = [rng.choice((2, 3, 3)) for _ in range(sources)]
    words = mutated_wordlist(rng, sum(per_source))
    partitions = handed_out(words, per_source)
    rng.shuffle(partitions)
    username = rng.choice(("root", "root", "admin", "ubuntu"))
    client = rng.choice((GO_COMMON, GO_COMMON, GO_PLAIN, LIBSSH2_1_11_0))
    base = bot_pace(rng)
    width = rng.randint(60 * MINUTE, 100 * MINUTE)
    for partition, at in zip(partitions, burst(world, sources, width_us=width), strict=True):
        networks = {NetworkKind.RESIDENTIAL: 0.6, NetworkKind.CLOUD: 0.25, NetworkKind.HOSTING: 0.15}
        new_source(world, actor, networks, pace=base, client=client).session(
            at, credentials=[(username, password) for password in partition]
        )
