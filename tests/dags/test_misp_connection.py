"""``coord_misp`` as an Airflow connection: the URL, the key, TLS options, and nothing secret leaking."""

from __future__ import annotations

import json
import logging
from collections.abc import Iterator
from datetime import UTC, datetime

import pytest
import redis
from coord_airflow import connections

from coord_core.contracts.threat_intel import Indicator
from coord_core.intel.threat_intel import MispThreatIntel, UnconfiguredThreatIntel
from coord_core.pipeline.stores import CacheSigner
from coord_core.store import redis_keys
from tests.dags.airflow_env import with_cache_secret
from tests.emulators.misp import MispEmulator


@pytest.fixture
def no_misp(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    monkeypatch.delenv("AIRFLOW_CONN_COORD_MISP", raising=False)
    yield


def test_uri_connection_with_the_key_as_password(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("AIRFLOW_CONN_COORD_MISP", "http://:s3cr%2Ft@misp.internal:8443/misp?verify_ssl=false")
    misp = connections.misp_connection()
    assert misp.url == "http://misp.internal:8443/misp"
    assert misp.key == "s3cr/t" and misp.verify_ssl is False
    assert "s3cr" not in repr(misp) and misp.location == "http://misp.internal:8443/misp"
    assert misp.host == "misp.internal"


def test_json_connection_with_a_url_host_key_extra_and_a_ca(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv(
        "AIRFLOW_CONN_COORD_MISP",
        json.dumps({"conn_type": "generic", "host": "https://misp.example.org/",
                    "extra": {"key": "k3y", "ca_path": "/etc/ssl/misp-ca.pem", "timeout": 5}}),
    )  # fmt: skip
    misp = connections.misp_connection()
    assert (misp.url, misp.key, misp.verify_ssl, misp.ca_path, misp.timeout_s) == (
        "https://misp.example.org", "k3y", True, "/etc/ssl/misp-ca.pem", 5.0
    )  # fmt: skip


def test_a_connection_without_a_key_is_refused(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("AIRFLOW_CONN_COORD_MISP", "https://misp.example.org")
    with pytest.raises(ValueError, match="API key is empty"):
        connections.misp_connection()


def test_threat_intel_source_without_misp_reports_every_lookup_as_failed(no_misp: None) -> None:
    source = connections.threat_intel_source()
    assert isinstance(source, UnconfiguredThreatIntel)
    lookup = source.lookup([Indicator(kind="ip-src", value="192.0.2.1")])
    assert lookup.failed and lookup.error == "no coord_misp connection configured" and lookup.looked_up == 1


def test_threat_intel_source_from_the_connection(
    monkeypatch: pytest.MonkeyPatch, redis_client: redis.Redis[bytes], redis_server_url: str
) -> None:
    monkeypatch.setenv("AIRFLOW_CONN_COORD_REDIS", with_cache_secret(redis_server_url))
    with MispEmulator() as misp:
        host, port = misp.url.removeprefix("http://").split(":")
        monkeypatch.setenv(
            "AIRFLOW_CONN_COORD_MISP", f"http://:{misp.key}@{host}:{port}?rate_limit_per_minute=7"
        )
        source = connections.threat_intel_source(redis_client)
        assert isinstance(source, MispThreatIntel) and source._limiter.limit == 7
        value = f"198.18.{datetime.now(UTC).microsecond % 250}.1"
        lookup = source.lookup([Indicator(kind="ip-src", value=value)])
        assert not lookup.failed and lookup.matches == []
        key = redis_keys.threat_intel(f"misp:{misp.url}", "ip-src", value)
        assert source.identity == f"misp:{misp.url}" and redis_client.exists(key)  # cached per MISP
        redis_client.delete(key, "coord:ratelimit:misp")


def test_the_cache_signer_comes_from_coord_redis_and_its_secret_is_never_logged(
    monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    monkeypatch.delenv("AIRFLOW_CONN_COORD_REDIS", raising=False)
    assert connections.cache_signer() is None  # no Redis, no cache
    with caplog.at_level(logging.WARNING):
        monkeypatch.setenv("AIRFLOW_CONN_COORD_REDIS", "redis://127.0.0.1:6379/0")
        assert connections.cache_signer() is None
        assert "has no extra cache_hmac_secret: Redis caches are off" in caplog.text
        monkeypatch.setenv("AIRFLOW_CONN_COORD_REDIS", "redis://127.0.0.1:6379/0?cache_hmac_secret=tooshort")
        assert connections.cache_signer() is None
        assert "at least 32 characters" in caplog.text and "tooshort" not in caplog.text
        secret = "a1" * 32
        monkeypatch.setenv("AIRFLOW_CONN_COORD_REDIS", f"redis://127.0.0.1:6379/0?cache_hmac_secret={secret}")
        signer = connections.cache_signer()
    assert isinstance(signer, CacheSigner) and secret not in repr(signer)
    assert signer.unseal("p", {}, CacheSigner(secret).seal("p", {}, b"x")) == b"x"  # keyed by the extra
    assert secret not in caplog.text
