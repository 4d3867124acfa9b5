"""MISP as a threat-intel source: batched restSearch, Redis cache, rate limit, outages as failed lookups.

Runs against the MISP emulator, or a real MISP when MISP_URL/MISP_KEY are set; Redis is real.
"""

from __future__ import annotations

import hashlib
import ipaddress
import logging
import uuid
from collections.abc import Iterator
from dataclasses import dataclass, replace

import pytest
import redis
from pymisp import MISPEvent, PyMISP

from coord_core.adapters.misp_client import MispConnection
from coord_core.contracts.threat_intel import Indicator
from coord_core.embedded_services import free_port
from coord_core.intel.campaign_event import build_event
from coord_core.intel.export import ExportBatch
from coord_core.intel.live_publisher import LiveMispPublisher
from coord_core.intel.settings import MispExportSettings
from coord_core.intel.threat_intel import MispThreatIntel
from coord_core.store import redis_keys
from coord_core.store.cache_integrity import CacheSigner
from coord_core.store.rate_limiter import SlidingWindowRateLimiter
from tests.emulators.misp import MispEmulator
from tests.intel.support import occurrence, token, window

SIGNER = CacheSigner("i" * 48)


@dataclass(frozen=True)
class Known:
    """Values an outside event in MISP holds (unique per test, so a real MISP has no others)."""

    event_uuid: str
    ip: str
    host: str
    url: str
    sha256: str
    hassh: str


def _ip(seed: str, n: int = 0) -> str:
    base = int(ipaddress.ip_address("198.18.0.0"))
    return str(
        ipaddress.ip_address(base + (int(hashlib.sha256(f"{seed}{n}".encode()).hexdigest(), 16) % 131070))
    )


@pytest.fixture
def known(misp: PyMISP, cleanup: list[str]) -> Known:
    seed = token()
    values = Known(
        event_uuid=str(uuid.uuid4()),
        ip=_ip(seed),
        host=f"c2.{seed}.example.net",
        url=f"http://dl.{seed}.example.net/bins/x86",
        sha256=hashlib.sha256(seed.encode()).hexdigest(),
        hassh=hashlib.md5(seed.encode()).hexdigest(),
    )
    event = MISPEvent()
    event.uuid = values.event_uuid
    event.info = f"OSINT: Mirai variant {seed}"
    event.add_tag("tlp:green")
    event.add_tag('misp-galaxy:botnet="Mirai"')
    event.add_attribute(
        "ip-dst", values.ip, first_seen="2025-09-01T00:00:00+00:00", last_seen="2025-10-01T00:00:00+00:00"
    )
    event.add_attribute("hostname", values.host)
    event.add_attribute("filename|sha256", f"x86|{values.sha256}")
    event.add_attribute("hassh-md5", values.hassh)
    response = misp.add_event(event)
    assert "errors" not in response, response
    cleanup.append(values.event_uuid)
    return values


@pytest.fixture
def limiter_name(redis_client: redis.Redis[bytes]) -> Iterator[str]:
    name = f"misp-test-{uuid.uuid4().hex[:8]}"
    yield name
    redis_client.delete(redis_keys.rate_limit(name))


@pytest.fixture
def cached(redis_client: redis.Redis[bytes]) -> Iterator[list[Indicator]]:
    """Indicators whose cache entries the test created; deleted afterwards."""
    indicators: list[Indicator] = []
    yield indicators
    for indicator in indicators:
        redis_client.delete(redis_keys.threat_intel("misp", indicator.kind, indicator.value))


def _source(
    connection: MispConnection,
    redis_client: redis.Redis[bytes] | None,
    limiter_name: str,
    *,
    limit: int = 100,
    **options: object,
) -> MispThreatIntel:
    limiter = SlidingWindowRateLimiter(redis_client, limiter_name, limit=limit, window_s=60)
    options.setdefault("cache_signer", SIGNER)
    return MispThreatIntel(connection.open, redis_client=redis_client, limiter=limiter, **options)  # type: ignore[arg-type]


def _indicators(known: Known) -> list[Indicator]:
    return [
        Indicator(kind="ip-src", value=known.ip),
        Indicator(kind="domain", value=known.host.upper()),
        Indicator(kind="sha256", value=known.sha256),
        Indicator(kind="hassh", value=known.hassh),
        Indicator(kind="url", value=known.url),  # not in MISP: a miss
    ]


def test_hits_and_misses_with_event_context(
    known: Known, misp_connection: MispConnection, redis_client: redis.Redis[bytes], limiter_name: str,
    cached: list[Indicator],
) -> None:  # fmt: skip
    indicators = _indicators(known)
    cached.extend(indicators)
    lookup = _source(misp_connection, redis_client, limiter_name).lookup(indicators)
    assert not lookup.failed and lookup.error is None
    assert lookup.looked_up == 5 and lookup.from_cache == 0
    assert sorted(m.indicator.kind for m in lookup.matches) == ["domain", "hassh", "ip-src", "sha256"]
    for match in lookup.matches:
        assert match.source == "misp" and match.event_uuid == known.event_uuid
        assert match.event_info.startswith("OSINT: Mirai variant")
        assert {"tlp:green", 'misp-galaxy:botnet="Mirai"'} <= set(match.tags)
        assert match.attribute_uuid
    ip_match = next(m for m in lookup.matches if m.indicator.kind == "ip-src")
    assert ip_match.first_seen is not None and ip_match.first_seen.isoformat().startswith("2025-09-01")
    assert ip_match.last_seen is not None and ip_match.last_seen.isoformat().startswith("2025-10-01")
    domain = next(m for m in lookup.matches if m.indicator.kind == "domain")
    assert domain.indicator.value == known.host  # normalised the way MISP stores host names


def test_answers_are_cached_in_redis_with_a_ttl(
    known: Known, misp_connection: MispConnection, redis_client: redis.Redis[bytes], limiter_name: str,
    cached: list[Indicator],
) -> None:  # fmt: skip
    indicators = _indicators(known)
    cached.extend(i.model_copy(update={"value": i.value.lower()}) for i in indicators)
    first = _source(misp_connection, redis_client, limiter_name, cache_ttl_s=600).lookup(indicators)
    for indicator in cached:
        ttl = redis_client.ttl(redis_keys.threat_intel("misp", indicator.kind, indicator.value))
        assert 0 < ttl <= 600  # misses are cached too

    def unreachable() -> PyMISP:
        raise AssertionError("a fully cached lookup must not contact MISP")

    limiter = SlidingWindowRateLimiter(redis_client, limiter_name, limit=100, window_s=60)
    again = MispThreatIntel(unreachable, redis_client=redis_client, limiter=limiter, cache_signer=SIGNER)
    assert again.lookup(indicators).from_cache == 5
    assert again.lookup(indicators).matches == first.matches and again.cache_rejected == 0


def test_corrupted_and_forged_cached_answers_are_misses_looked_up_again(
    known: Known, misp_connection: MispConnection, redis_client: redis.Redis[bytes], limiter_name: str,
    cached: list[Indicator], caplog: pytest.LogCaptureFixture,
) -> None:  # fmt: skip
    ip, sha = Indicator(kind="ip-src", value=known.ip), Indicator(kind="sha256", value=known.sha256)
    other = Indicator(kind="ip-src", value=_ip(token()))
    cached.extend([ip, sha, other])
    truth = _source(misp_connection, redis_client, limiter_name).lookup([ip, sha, other])
    assert len(truth.matches) == 2
    ip_key, sha_key, other_key = (redis_keys.threat_intel("misp", i.kind, i.value) for i in (ip, sha, other))
    genuine_ip, genuine_sha, other_entry = redis_client.mget([ip_key, sha_key, other_key])
    assert genuine_ip and genuine_sha and other_entry
    # Forged answers that hide what MISP knows: well-formed lists of no matches.
    redis_client.set(sha_key, b"[]")  # valid schema, not sealed
    bad_ip_entries = {
        "corrupted": genuine_ip[:-7],
        "valid schema, wrong digest": genuine_ip.split(b"\n", 1)[0] + b"\n[]",
        "right digest for another indicator": other_entry,
        "sealed under another key": CacheSigner("z" * 48).seal(
            "threat-intel-answer", {"source": "misp", "kind": "ip-src", "value": known.ip}, b"[]"
        ),
    }
    with caplog.at_level(logging.WARNING, logger="coord_core.intel.threat_intel"):
        for n, (what, entry) in enumerate(bad_ip_entries.items(), start=1):
            redis_client.set(ip_key, entry)
            source = _source(misp_connection, redis_client, limiter_name)
            lookup = source.lookup([ip, sha, other])
            assert lookup.matches == truth.matches, what  # looked up again in MISP
            assert lookup.from_cache == (1 if n == 1 else 2), what  # only the genuine entries served
            assert source.cache_rejected == (2 if n == 1 else 1), what
            assert redis_client.get(ip_key) == genuine_ip, what  # the true answer cached again
    rejected = [r.getMessage() for r in caplog.records if "rejected" in r.getMessage()]
    assert len(rejected) == len(bad_ip_entries) + 1
    assert all(known.ip in m or "sha256" in m for m in rejected)


def test_without_a_signing_key_answers_are_not_cached(
    known: Known, misp_connection: MispConnection, redis_client: redis.Redis[bytes], limiter_name: str,
    cached: list[Indicator],
) -> None:  # fmt: skip
    indicator = Indicator(kind="ip-src", value=known.ip)
    cached.append(indicator)
    key = redis_keys.threat_intel("misp", indicator.kind, indicator.value)
    redis_client.set(key, b"[]")  # a planted answer is not read either
    lookup = _source(misp_connection, redis_client, limiter_name, cache_signer=None).lookup([indicator])
    assert lookup.from_cache == 0 and [m.event_uuid for m in lookup.matches] == [known.event_uuid]
    assert redis_client.get(key) == b"[]"


def test_events_this_project_exported_are_not_evidence(
    known: Known, misp_connection: MispConnection, redis_client: redis.Redis[bytes], limiter_name: str,
    cached: list[Indicator], cleanup: list[str],
) -> None:  # fmt: skip
    own = build_event(
        f"cmp-{token()}", [occurrence(f"cmp-{token()}", 0, [known.ip, "192.0.2.200"])], MispExportSettings()
    )
    cleanup.append(own.uuid)
    LiveMispPublisher(misp_connection.open, MispExportSettings(), location="test").publish(
        ExportBatch(window(0), (own,))
    )
    indicator = Indicator(kind="ip-src", value=known.ip)
    cached.append(indicator)
    lookup = _source(misp_connection, redis_client, limiter_name).lookup([indicator])
    assert {m.event_uuid for m in lookup.matches} == {known.event_uuid}  # the outside event only


def test_batches_and_pages(
    emulator: MispEmulator, misp: PyMISP, misp_connection: MispConnection, redis_client: redis.Redis[bytes],
    limiter_name: str, cached: list[Indicator], cleanup: list[str],
) -> None:  # fmt: skip
    seed = token()
    ips = [_ip(seed, n) for n in range(5)]
    for copy in range(3):  # the first IP is in three events
        event = MISPEvent()
        event.info = f"report {seed} {copy}"
        for ip in ips if copy == 0 else ips[:1]:
            event.add_attribute("ip-src", ip)
        cleanup.append(event.uuid)
        assert "errors" not in misp.add_event(event)
    indicators = [Indicator(kind="ip-src", value=ip) for ip in ips]
    cached.extend(indicators)
    before = len(emulator.calls("POST", "/attributes/restSearch"))
    lookup = _source(misp_connection, redis_client, limiter_name, batch_size=2, page_size=2).lookup(
        indicators
    )
    assert not lookup.failed
    assert len([m for m in lookup.matches if m.indicator.value == ips[0]]) == 3
    assert {m.indicator.value for m in lookup.matches} == set(ips)
    searches = emulator.calls("POST", "/attributes/restSearch")[before:]
    pages: dict[tuple[str, ...], list[int]] = {}
    for search in searches:
        pages.setdefault(tuple(search.body["value"]), []).append(search.body["page"])
    assert sorted(len(batch) for batch in pages) == [1, 2, 2]  # five values in batches of two
    assert all(numbers == list(range(1, len(numbers) + 1)) for numbers in pages.values())
    assert len(searches) == 6  # a full page is followed by the next until one comes back short
    assert all(s.body["returnFormat"] == "json" and s.body["includeEventTags"] == 1 for s in searches)


def test_misp_down_is_a_failed_lookup_not_an_error(
    redis_client: redis.Redis[bytes], limiter_name: str
) -> None:
    dead = MispConnection(url=f"http://127.0.0.1:{free_port()}", key="k" * 40, timeout_s=1)
    lookup = _source(dead, redis_client, limiter_name).lookup([Indicator(kind="ip-src", value="192.0.2.1")])
    assert lookup.failed and lookup.error is not None and lookup.error.startswith("cannot reach MISP")
    assert lookup.matches == [] and lookup.looked_up == 1
    assert (
        redis_client.get(redis_keys.threat_intel("misp", "ip-src", "192.0.2.1")) is None
    )  # failures are not cached


@pytest.mark.parametrize("fault", ["status", "timeout"])
def test_http_errors_and_timeouts_fail_the_lookup_and_keep_earlier_batches(
    fault: str, emulator: MispEmulator, known: Known, misp_connection: MispConnection,
    redis_client: redis.Redis[bytes], limiter_name: str, cached: list[Indicator],
) -> None:  # fmt: skip
    # Batches go in value order: the known IP (198.18/15) is searched before 198.20.255.254.
    indicators = [Indicator(kind="ip-src", value=known.ip), Indicator(kind="ip-src", value="198.20.255.254")]
    cached.extend(indicators)
    source = _source(replace(misp_connection, timeout_s=0.5), redis_client, limiter_name, batch_size=1)
    source._client_or_fail()  # connect first, so that the fault hits the second search
    emulator.clear_faults()
    # The first batch passes; the second gets the fault.
    emulator.inject_delay(1, 0.0, path_contains="/attributes/restSearch")
    if fault == "status":
        emulator.inject_faults(1, 500, path_contains="/attributes/restSearch")
    else:
        emulator.inject_delay(1, 2.0, path_contains="/attributes/restSearch")
    lookup = source.lookup(indicators)
    assert lookup.failed and lookup.error is not None
    assert ("MISPServerError" if fault == "status" else "Timeout") in lookup.error
    assert [m.indicator.value for m in lookup.matches] == [known.ip]
    assert redis_client.get(redis_keys.threat_intel("misp", "ip-src", known.ip)) is not None
    assert redis_client.get(redis_keys.threat_intel("misp", "ip-src", indicators[1].value)) is None


def test_a_full_rate_limit_fails_the_rest_of_the_lookup(
    known: Known, misp_connection: MispConnection, redis_client: redis.Redis[bytes], limiter_name: str,
    cached: list[Indicator],
) -> None:  # fmt: skip
    indicators = [Indicator(kind="ip-src", value=known.ip), Indicator(kind="sha256", value=known.sha256)]
    cached.extend(indicators)
    source = _source(misp_connection, redis_client, limiter_name, limit=1, permit_wait_s=0.2)
    lookup = source.lookup(indicators)
    assert lookup.failed and lookup.error is not None and "rate limit" in lookup.error
    assert [m.indicator.kind for m in lookup.matches] == ["ip-src"]  # the first batch got the permit


def test_redis_down_looks_up_without_the_cache(
    known: Known, misp_connection: MispConnection, limiter_name: str, caplog: pytest.LogCaptureFixture
) -> None:
    dead = redis.Redis(host="127.0.0.1", port=free_port(), socket_connect_timeout=0.3)
    with caplog.at_level(logging.WARNING):
        lookup = _source(misp_connection, dead, limiter_name).lookup(
            [Indicator(kind="ip-src", value=known.ip)]
        )
    assert not lookup.failed and [m.event_uuid for m in lookup.matches] == [known.event_uuid]
    assert any("cache unavailable" in r.getMessage() for r in caplog.records)
    assert any("rate limiter" in r.getMessage() for r in caplog.records)
