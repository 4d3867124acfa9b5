"""The later archetypes' stories hold in the generated truth and in the Cowrie events themselves."""

from __future__ import annotations

import ipaddress
import itertools
from collections import defaultdict
from typing import Any

import pytest
from geoip2fast import GeoIP2Fast

from coord_core.contracts.sessions import AttackSession
from coord_core.scenarios import ARCHETYPES, ActorTruth
from coord_core.scenarios.archetypes.botnets import HISTORY_WIPE
from coord_core.scenarios.archetypes.proxies import POPULAR_PROXY_TARGETS
from coord_core.scenarios.clients import GO_COMMON, GO_PLAIN, LIBSSH2_1_11_0, POPULAR_CLIENTS
from coord_core.scenarios.cowrie_events import session_events
from coord_core.scenarios.credentials import COMMON_CREDENTIALS, MIRAI_CREDENTIALS
from tests.scenarios.conftest import BuiltScenario, build_in_memory

HOUR_S = 3600.0
SEEDS = (11, 12, 13, 14, 15)
NEW = (
    "urlless_transfers",
    "history_wipe_waves",
    "ordered_list_walkers",
    "tunnel_relay",
    "proxy_checkers",
    "stealthy_partitioned_dictionary",
    "random_password_cell",
    "sequential_slash24_operator",
    "identical_credential_list",
    "public_default_list",
)
POPULAR_HASSH = {client.hassh for client, _ in POPULAR_CLIENTS}


@pytest.fixture(scope="module")
def geoip() -> GeoIP2Fast:
    return GeoIP2Fast(geoip2fast_data_file="geoip2fast-asn.dat.gz")


def _scenarios(mixed: BuiltScenario, archetype: str) -> list[BuiltScenario]:
    return [mixed, *(build_in_memory(archetype, seed) for seed in SEEDS)]


def _actors(scenario: BuiltScenario, archetype: str) -> list[ActorTruth]:
    found = [a for a in scenario.truth.actors if a.archetype == archetype]
    assert found, f"no {archetype} actor"
    return found


def _cases(mixed: BuiltScenario, archetype: str) -> list[tuple[BuiltScenario, ActorTruth]]:
    return [(s, a) for s in _scenarios(mixed, archetype) for a in _actors(s, archetype)]


def _sessions_of(scenario: BuiltScenario, actor: ActorTruth) -> list[AttackSession]:
    ids = {s.session_id for s in scenario.truth.sessions if s.actor_id == actor.actor_id}
    return sorted((s for s in scenario.sessions if s.session_id in ids), key=lambda s: s.start)


def _events_of(scenario: BuiltScenario, actor: ActorTruth) -> list[dict[str, Any]]:
    """The actor's Cowrie events exactly as the writer renders them (timestamps aside)."""
    return [
        fields
        for plan in scenario.generated.plans
        if plan.actor_id == actor.actor_id
        for _, fields in session_events(plan)
    ]


def _credentials(session: AttackSession) -> list[tuple[str, str]]:
    return [(login.username, login.password or "") for login in session.logins]


def _assert_strictly_in_turn(sessions: list[AttackSession], min_gap_s: float = 0.0) -> list[str]:
    """Sources never overlap (and are ``min_gap_s`` apart); returns them in order of use."""
    spans: dict[str, list[float]] = defaultdict(list)
    for s in sessions:
        spans[s.src_ip] += [s.start.timestamp(), s.end.timestamp()]
    ordered = sorted((min(v), max(v), ip) for ip, v in spans.items())
    for (_, end, _), (start, _, _) in itertools.pairwise(ordered):
        assert start >= end + min_gap_s, "sources overlap in time"
    return [ip for _, _, ip in ordered]


def test_every_new_archetype_is_catalogued_with_its_story() -> None:
    by_name = {a.name: a for a in ARCHETYPES}
    for name in NEW:
        assert name in by_name and by_name[name].tests.strip()


def test_urlless_transfers_log_downloads_without_a_url(mixed: BuiltScenario) -> None:
    styles: set[str] = set()
    digests_by_actor: dict[str, set[str]] = {}
    for scenario, actor in _cases(mixed, "urlless_transfers"):
        assert not actor.multi_source and len(actor.source_ips) == 1
        assert actor.expected_verdict == "coincidental"
        downloads = [e for e in _events_of(scenario, actor) if e["eventid"] == "cowrie.session.file_download"]
        assert downloads, "every session stores a file"
        for event in downloads:
            assert event["message"].startswith(("Saved redir contents", "Saved stdin contents"))
            assert event["outfile"].endswith(event["shasum"])
            if "url" in event:  # Cowrie 1.x: the redirection target is written as the url
                assert event["url"] == event["destfile"] and event["url"].startswith("/")
                styles.add("/dev/null" if event["url"] == "/dev/null" else "legacy")
            else:
                assert "duplicate" in event
                styles.add("stdin" if event["destfile"] == "" else "redir")
        for session in _sessions_of(scenario, actor):
            assert all(d.url == "" or d.url.startswith("/") for d in session.downloads)
        digests_by_actor[f"{scenario.truth.seed}/{scenario.truth.scenario}/{actor.actor_id}"] = {
            e["shasum"] for e in downloads
        }
    assert {"stdin", "redir", "legacy", "/dev/null"} <= styles, styles
    for (a, da), (b, db) in itertools.combinations(digests_by_actor.items(), 2):
        assert da.isdisjoint(db), (a, b)


def test_history_wipe_waves_run_one_script_in_waves_from_many_networks(
    mixed: BuiltScenario, geoip: GeoIP2Fast
) -> None:
    for scenario, actor in _cases(mixed, "history_wipe_waves"):
        assert actor.multi_source and actor.expected_verdict == "coordinated_campaign"
        sessions = _sessions_of(scenario, actor)
        assert len({s.src_ip for s in sessions}) == len(sessions), "one login per address"
        scripts = {tuple(s.commands) for s in sessions}
        assert len(scripts) == 1
        (script,) = scripts
        assert len(script) == 5 and script[0].startswith("unset HIST")
        assert {"HISTFILE", "HISTSIZE=0", "HISTFILESIZE=0"} <= set(script[0].replace(";", " ").split())
        assert {s.client_version for s in sessions} and len({s.client_version for s in sessions}) == 1
        assert all(len(s.logins) == 1 and s.login_success for s in sessions)
        waves: list[list[AttackSession]] = [[sessions[0]]]
        for before, after in itertools.pairwise(sessions):
            if (after.start - before.start).total_seconds() >= 1.5 * HOUR_S:
                waves.append([])
            waves[-1].append(after)
        assert len(waves) >= 2
        for wave in waves:
            assert len(wave) >= 15
            assert len({geoip.lookup(s.src_ip).asn_name for s in wave}) >= 5
    assert HISTORY_WIPE.startswith("unset HISTORY HISTFILE HISTSAVE HISTZONE HISTORY HISTLOG WATCH")


def test_ordered_list_walkers_take_consecutive_slices_of_one_list(mixed: BuiltScenario) -> None:
    common = set(COMMON_CREDENTIALS)
    for scenario, actor in _cases(mixed, "ordered_list_walkers"):
        sessions = _sessions_of(scenario, actor)
        assert len(sessions) == len(actor.source_ips) >= 3, "one session per source"
        slices = [_credentials(s) for s in sessions]
        assert all(3 <= len(piece) <= 5 for piece in slices)
        walked = [pair for piece in slices for pair in piece]
        assert len(walked) == len(set(walked)) and not set(walked) & common
        # The list cycles through its accounts in fixed blocks: only the list's own order,
        # read across sources in time order, shows that period.
        usernames = [username for username, _ in walked]
        runs = [len(list(group)) for _, group in itertools.groupby(usernames)]
        assert len(set(runs[1:-1])) <= 1, runs
        hassh = {s.hassh for s in sessions}
        assert len(hassh) == 1 and not hassh & POPULAR_HASSH


def test_tunnel_relay_sends_identical_bytes_to_one_uncommon_destination(mixed: BuiltScenario) -> None:
    popular_hosts = {host for host, _ in POPULAR_PROXY_TARGETS}
    for scenario, actor in _cases(mixed, "tunnel_relay"):
        assert actor.multi_source and len(actor.source_ips) >= 2
        events = _events_of(scenario, actor)
        requests = [e for e in events if e["eventid"] == "cowrie.direct-tcpip.request"]
        data = [e for e in events if e["eventid"] == "cowrie.direct-tcpip.data"]
        assert requests and len(data) == len(requests)
        asked = {(e["dst_ip"], e["dst_port"]) for e in requests}
        assert asked == {(e["dst_ip"], e["dst_port"]) for e in data}
        ((host, port),) = asked
        assert host not in popular_hosts and port not in (22, 25, 80, 443, 465, 587)
        ipaddress.ip_address(host)
        assert len({e["data"] for e in data}) == 1
        (payload,) = {e["data"] for e in data}
        assert payload.startswith(("b'", 'b"')) and len(payload) > 10
        sessions = _sessions_of(scenario, actor)
        assert {s.src_ip for s in sessions if s.tcpip_requests} == set(actor.source_ips)
        assert all(not s.commands for s in sessions)


def test_proxy_checkers_are_independent_with_similar_but_own_requests(mixed: BuiltScenario) -> None:
    targets = set(POPULAR_PROXY_TARGETS)
    for scenario in _scenarios(mixed, "proxy_checkers"):
        actors = _actors(scenario, "proxy_checkers")
        assert len(actors) >= 3 and not any(a.multi_source for a in actors)
        payloads: dict[str, set[str]] = {}
        for actor in actors:
            assert len(actor.source_ips) == 1
            data = [e for e in _events_of(scenario, actor) if e["eventid"] == "cowrie.direct-tcpip.data"]
            assert data
            assert {(e["dst_ip"], e["dst_port"]) for e in data} <= targets
            payloads[actor.actor_id] = {e["data"] for e in data}
        tls = [p for ps in payloads.values() for p in ps if p.startswith(("b'\\x16", 'b"\\x16'))]
        assert len(tls) == len(set(tls)), "a TLS hello's random fields never repeat"
        assert len({frozenset(ps) for ps in payloads.values()}) > 1


def test_stealthy_partitioned_dictionary_is_quiet_short_and_common_looking(mixed: BuiltScenario) -> None:
    common_clients = {GO_COMMON.hassh, GO_PLAIN.hassh, LIBSSH2_1_11_0.hassh}
    for scenario, actor in _cases(mixed, "stealthy_partitioned_dictionary"):
        sessions = _sessions_of(scenario, actor)
        assert 30 <= len(actor.source_ips) == len(sessions) <= 60
        guesses = [_credentials(s) for s in sessions]
        assert all(2 <= len(g) <= 3 for g in guesses)
        passwords = [p for g in guesses for _, p in g]
        assert len(passwords) == len(set(passwords))
        assert not set(passwords) & {p for _, p in COMMON_CREDENTIALS}
        assert len({u for g in guesses for u, _ in g}) == 1
        assert all(not s.commands and not s.login_success for s in sessions)
        assert {s.hassh for s in sessions} <= common_clients and len({s.hassh for s in sessions}) == 1
        assert (sessions[-1].start - sessions[0].start).total_seconds() <= 100 * 60


def test_random_password_cell_shares_one_long_random_password(mixed: BuiltScenario) -> None:
    for scenario, actor in _cases(mixed, "random_password_cell"):
        assert 3 <= len(actor.source_ips) <= 5
        sessions = _sessions_of(scenario, actor)
        passwords = {login.password for s in sessions for login in s.logins}
        assert len(passwords) == 1
        (password,) = passwords
        assert password is not None and 14 <= len(password) <= 18
        assert all(not s.commands and len(s.logins) == 1 for s in sessions)
        others = {
            login.password
            for s in scenario.sessions
            if s.session_id not in {x.session_id for x in sessions}
            for login in s.logins
        }
        assert password not in others


def test_identical_credential_list_is_one_list_from_one_slash24_in_turn(mixed: BuiltScenario) -> None:
    for scenario, actor in _cases(mixed, "identical_credential_list"):
        assert actor.expected_verdict == "single_actor_multi_source"
        assert 2 <= len(actor.source_ips) <= 3
        assert len({ipaddress.ip_network(f"{ip}/24", strict=False) for ip in actor.source_ips}) == 1
        sessions = _sessions_of(scenario, actor)
        order = _assert_strictly_in_turn(sessions, min_gap_s=HOUR_S)
        lists = [[pair for s in sessions if s.src_ip == ip for pair in _credentials(s)] for ip in order]
        assert all(lst == lists[0] for lst in lists)
        assert 100 <= len(lists[0]) <= 160 and len(set(lists[0])) == len(lists[0])


def test_sequential_slash24_operator_steps_through_consecutive_addresses(mixed: BuiltScenario) -> None:
    for scenario, actor in _cases(mixed, "sequential_slash24_operator"):
        assert actor.expected_verdict == "single_actor_multi_source"
        sessions = _sessions_of(scenario, actor)
        order = _assert_strictly_in_turn(sessions)
        numbers = [int(ipaddress.ip_address(ip)) for ip in order]
        assert len(numbers) >= 3 and numbers == list(range(numbers[0], numbers[0] + len(numbers)))
        assert len({ipaddress.ip_network(f"{ip}/24", strict=False) for ip in order}) == 1
        hassh = {s.hassh for s in sessions}
        assert len(hassh) == 1 and not hassh & POPULAR_HASSH
        assert len({tuple(s.commands) for s in sessions if s.commands}) == 1


def test_public_default_list_actors_walk_one_public_list_from_its_top(mixed: BuiltScenario) -> None:
    for scenario in _scenarios(mixed, "public_default_list"):
        actors = _actors(scenario, "public_default_list")
        assert len(actors) >= 2 and not any(a.multi_source for a in actors)
        used: set[str] = set()
        for actor in actors:
            assert len(actor.source_ips) == 1
            walked = [pair for s in _sessions_of(scenario, actor) for pair in _credentials(s)]
            mirai = [(u, p) for u, p in MIRAI_CREDENTIALS]
            common = [(u, p) for u, p in COMMON_CREDENTIALS]
            if walked == mirai[: len(walked)]:
                used.add("mirai")
            elif walked == common[: len(walked)]:
                used.add("common")
            else:
                raise AssertionError(f"{actor.actor_id} does not walk a public list from the top")
        assert len(used) == 1
        ips = {ip for a in actors for ip in a.source_ips}
        assert len({ipaddress.ip_network(f"{ip}/16", strict=False) for ip in ips}) >= 2
