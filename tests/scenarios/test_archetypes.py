"""Each archetype's story holds in the data: checked against independent references."""

from __future__ import annotations

import ipaddress
import itertools
import json
import re
from collections import defaultdict
from pathlib import Path
from urllib.parse import urlsplit

import pytest
from geoip2fast import GeoIP2Fast
from pymispwarninglists.api import WarningLists

from coord_core.contracts.sessions import AttackSession
from coord_core.scenarios import ActorTruth
from coord_core.scenarios.networks import NetworkKind, default_catalogue
from tests.scenarios.conftest import BuiltScenario, build_in_memory

HOUR_S = 3600.0
SEEDS = (11, 12, 13, 14, 15)


def _cases(mixed: BuiltScenario, archetype: str) -> list[tuple[BuiltScenario, ActorTruth]]:
    """Every actor of the archetype in ``mixed`` and in the archetype's own scenario (tiny) for
    several seeds: a claim must hold whatever the seed draws."""
    scenarios = [mixed, *(build_in_memory(archetype, seed) for seed in SEEDS)]
    return [(scenario, actor) for scenario in scenarios for actor in _actors(scenario, archetype)]


def _actors(scenario: BuiltScenario, archetype: str) -> list[ActorTruth]:
    found = [a for a in scenario.truth.actors if a.archetype == archetype]
    assert found, f"no {archetype} actor"
    return found


def _sessions_of(scenario: BuiltScenario, actor: ActorTruth) -> list[AttackSession]:
    ids = {s.session_id for s in scenario.truth.sessions if s.actor_id == actor.actor_id}
    return [s for s in scenario.sessions if s.session_id in ids]


@pytest.fixture(scope="module")
def geoip() -> GeoIP2Fast:
    return GeoIP2Fast(geoip2fast_data_file="geoip2fast-asn.dat.gz")


@pytest.fixture(scope="module")
def scanner_lists() -> WarningLists:
    """Every bundled warning list whose folder says it is about scanning, loaded by the package."""
    import pymispwarninglists

    root = Path(pymispwarninglists.__file__).parent / "data" / "misp-warninglists" / "lists"
    docs = [json.loads(p.read_text()) for p in sorted(root.glob("*scanning*/list.json"))]
    return WarningLists(slow_search=True, lists=docs)


def test_research_scanners_come_from_published_scanner_ranges(
    mixed: BuiltScenario, scanner_lists: WarningLists
) -> None:
    for scenario, actor in _cases(mixed, "research_scanners"):
        assert actor.benign and not actor.multi_source
        for ip in actor.source_ips:
            names = {wl.name for wl in scanner_lists.search(ip)}
            assert actor.scanner_list in names, (ip, names)
        for session in _sessions_of(scenario, actor):
            assert not session.logins and not session.commands


def test_scanners_never_form_a_campaign_in_the_truth(mixed: BuiltScenario) -> None:
    assert all(not a.multi_source for a in mixed.truth.actors if a.benign)
    assert all(not a.benign for a in mixed.truth.actors if a.archetype != "research_scanners")


def test_slash24_rotation_stays_in_one_slash24_and_takes_turns(mixed: BuiltScenario) -> None:
    for scenario, actor in _cases(mixed, "slash24_rotation"):
        nets = {ipaddress.ip_network(f"{ip}/24", strict=False) for ip in actor.source_ips}
        assert len(nets) == 1 and len(actor.source_ips) >= 2
        assert actor.expected_verdict == "single_actor_multi_source"
        _assert_in_turn(_sessions_of(scenario, actor))


def _assert_in_turn(sessions: list[AttackSession]) -> None:
    spans: dict[str, list[float]] = defaultdict(list)
    for s in sessions:
        spans[s.src_ip] += [s.start.timestamp(), s.end.timestamp()]
    ordered = sorted((min(v), max(v)) for v in spans.values())
    for (_, end), (start, _) in itertools.pairwise(ordered):
        assert start > end - 120, "sources of a rotating actor overlap by more than two minutes"


def test_cloud_rotation_uses_a_different_hosting_as_for_every_source(
    mixed: BuiltScenario, geoip: GeoIP2Fast
) -> None:
    cloud_names = {n.asn_name for n in default_catalogue().by_kind[NetworkKind.CLOUD]}
    for scenario, actor in _cases(mixed, "cloud_rotation"):
        names = [geoip.lookup(ip).asn_name for ip in actor.source_ips]
        assert len(names) >= 3
        assert len(set(names)) == len(names), names
        assert set(names) <= cloud_names
        assert {s.hassh for s in _sessions_of(scenario, actor) if s.hassh} and len(
            {s.hassh for s in _sessions_of(scenario, actor) if s.hassh}
        ) == 1
        _assert_in_turn(_sessions_of(scenario, actor))


def test_botnet_sources_resolve_to_the_networks_they_claim(mixed: BuiltScenario, geoip: GeoIP2Fast) -> None:
    known = {n.asn_name for n in default_catalogue().networks}
    for _, actor in _cases(mixed, "mirai_telnet"):
        assert all(geoip.lookup(ip).asn_name in known for ip in actor.source_ips)


def test_distributed_brute_force_each_source_tries_at_most_three_from_one_list(
    mixed: BuiltScenario,
) -> None:
    for scenario, actor in _cases(mixed, "distributed_brute_force"):
        sessions = _sessions_of(scenario, actor)
        assert len(actor.source_ips) >= 10
        by_ip: dict[str, list[str]] = defaultdict(list)
        usernames: set[str] = set()
        for s in sorted(sessions, key=lambda s: s.start):
            assert not s.commands and not s.login_success
            by_ip[s.src_ip] += [login.password or "" for login in s.logins]
            usernames |= {login.username for login in s.logins}
        assert all(1 <= len(p) <= 3 for p in by_ip.values())
        everything = [p for ps in by_ip.values() for p in ps]
        assert len(everything) == len(set(everything)), "slices overlap"
        assert len(usernames) <= 2


def test_paused_campaign_returns_from_new_addresses_after_hours(mixed: BuiltScenario) -> None:
    for scenario, actor in _cases(mixed, "paused_campaign"):
        starts = sorted((s.start.timestamp(), s.src_ip) for s in _sessions_of(scenario, actor))
        gaps = [(b[0] - a[0], i) for i, (a, b) in enumerate(itertools.pairwise(starts))]
        gap, at = max(gaps)
        assert gap >= 2.5 * HOUR_S
        before = {ip for _, ip in starts[: at + 1]}
        after = {ip for _, ip in starts[at + 1 :]}
        assert before and after and before.isdisjoint(after)
        hashes = {d.shasum for s in _sessions_of(scenario, actor) for d in s.downloads}
        assert len(hashes) == 1


def test_shared_exploit_actors_share_the_public_script_and_nothing_else(mixed: BuiltScenario) -> None:
    for scenario in (mixed, *(build_in_memory("shared_exploit_two_actors", seed) for seed in SEEDS)):
        first, second = _actors(scenario, "shared_exploit_two_actors")[:2]
        urls_a, hassh_a = _urls_and_hassh(scenario, first)
        urls_b, hassh_b = _urls_and_hassh(scenario, second)
        shared = urls_a & urls_b
        assert shared and all("raw.githubusercontent.com" in url for url in shared)
        assert urls_a - shared and urls_b - shared
        assert hassh_a.isdisjoint(hassh_b)
        assert set(first.source_ips).isdisjoint(second.source_ips)


def _urls_and_hassh(scenario: BuiltScenario, actor: ActorTruth) -> tuple[set[str], set[str]]:
    sessions = _sessions_of(scenario, actor)
    return {d.url for s in sessions for d in s.downloads}, {s.hassh for s in sessions if s.hassh}


def test_look_alikes_are_independent_and_collide_in_time(mixed: BuiltScenario) -> None:
    for scenario in (mixed, *(build_in_memory("common_tool_collision", seed) for seed in SEEDS)):
        actors = _actors(scenario, "common_tool_collision")
        assert len(actors) >= 3 and not any(a.multi_source for a in actors)
        starts = [s.start.timestamp() for a in actors for s in _sessions_of(scenario, a)]
        assert max(starts) - min(starts) <= 15 * 60
        hassh = {s.hassh for a in actors for s in _sessions_of(scenario, a) if s.hassh}
        assert hassh <= {"0a07365cc01fa9fc82608ba4019af499", "98f63c4d9c87edbd97ed4747fa031019"}


def test_silent_campaign_types_nothing(mixed: BuiltScenario) -> None:
    for scenario, actor in _cases(mixed, "silent_credential_check"):
        sessions = _sessions_of(scenario, actor)
        assert all(not s.commands for s in sessions)
        assert any(not s.logins for s in sessions) and any(s.logins for s in sessions)


def test_single_source_heavy_is_one_address_not_a_campaign(mixed: BuiltScenario) -> None:
    for _, actor in _cases(mixed, "single_source_heavy"):
        assert len(actor.source_ips) == 1 and not actor.multi_source and actor.session_count >= 10


def test_copies_of_an_archetype_in_a_big_window_are_told_apart_by_their_artefacts() -> None:
    """A fair truth: two botnets of one kind in one window differ in what defines them."""
    scenario = build_in_memory("mixed", 77, size="large")
    public = {"raw.githubusercontent.com", "github.com"}

    def defining(actor: ActorTruth) -> set[str]:
        sessions = _sessions_of(scenario, actor)
        hosts = {urlsplit(d.url).hostname or "" for s in sessions for d in s.downloads} - public
        echo_files = {m for s in sessions for c in s.commands for m in re.findall(r"/dev/(\.\w+)", c)}
        odd_passwords = (
            {login.password or "" for s in sessions for login in s.logins}
            if actor.archetype == "single_password_botnet"
            else set()
        )
        return hosts | echo_files | odd_passwords

    by_archetype: dict[str, list[set[str]]] = defaultdict(list)
    for actor in scenario.truth.actors:
        if actor.multi_source:
            by_archetype[actor.archetype].append(defining(actor))
    copies = {name: sets for name, sets in by_archetype.items() if len(sets) >= 2}
    assert {"dropper_botnet", "mirai_telnet", "single_password_botnet", "paused_campaign"} <= set(copies)
    for name, sets in copies.items():
        for a, b in itertools.combinations(sets, 2):
            assert a.isdisjoint(b), (name, a & b)
