"""Observables are typed and normalised as MISP stores them; what MISP would refuse is refused here."""

from __future__ import annotations

from typing import Any

import pytest
from pymisp.tools.attributevalidationtool import AttributeValidationTool

from coord_core.contracts.sessions import AttackSession, Download, LoginAttempt, Upload
from coord_core.intel.indicators import (
    MISP_TYPES_OF_KIND,
    Observable,
    Rejected,
    hash_observable,
    host_observable,
    interval_indicators,
    ip_observable,
    key_fingerprint_observable,
    session_observables,
    url_observables,
)
from tests.intel.support import T0


def _misp_accepts(observable: Observable) -> bool:
    """MISP's own check (AttributeValidationTool, as PyMISP ships it) after MISP's normalisation."""
    tool: Any = AttributeValidationTool  # untyped in PyMISP
    normalised = tool.modifyBeforeValidation(observable.misp_type, observable.value)
    return normalised == observable.value and tool.validate(observable.misp_type, normalised) is True


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("192.0.2.1", Observable("ip-src", "192.0.2.1")),
        (" 2001:DB8:0:0::1 ", Observable("ip-src", "2001:db8::1")),
    ],
)
def test_ip_addresses_normalise_like_misp(raw: str, expected: Observable) -> None:
    assert ip_observable(raw) == expected
    assert _misp_accepts(expected)


@pytest.mark.parametrize("raw", ["999.1.1.1", "1.2.3", "evil.example", "", "1.2.3.4; rm -rf /"])
def test_non_ips_are_refused_with_a_reason(raw: str) -> None:
    outcome = ip_observable(raw)
    assert isinstance(outcome, Rejected) and outcome.reason == "not an IP address"


def test_hashes_are_typed_by_length_and_lower_cased() -> None:
    assert hash_observable("A" * 64) == Observable("sha256", "a" * 64)
    assert hash_observable("b" * 32) == Observable("md5", "b" * 32)
    assert hash_observable("c" * 40) == Observable("sha1", "c" * 40)
    for bad in ("z" * 64, "a" * 63, "a" * 65, "<script>"):
        assert isinstance(hash_observable(bad), Rejected)


def test_urls_give_the_url_and_its_host() -> None:
    assert url_observables("http://203.0.113.5/bins/x86") == [
        Observable("url", "http://203.0.113.5/bins/x86"),
        Observable("ip-dst", "203.0.113.5"),
    ]
    assert url_observables("https://Evil.Example/x.sh")[1] == Observable("domain", "evil.example")
    assert url_observables("http://cdn.evil.example:8080/a")[1] == Observable("hostname", "cdn.evil.example")


@pytest.mark.parametrize(
    "raw",
    [
        "not a url",
        "/tmp/x.sh",
        "javascript:alert(1)",
        "http://",
        "http://exa mple.com/",
        "http://example.com/\x00x",
        "http://h/" + "a" * 3000,
    ],
)
def test_unusable_urls_are_refused(raw: str) -> None:
    found = url_observables(raw)
    assert len(found) == 1 and isinstance(found[0], Rejected)
    assert len(found[0].value) <= 201  # the error record keeps a bounded copy


def test_hosts_that_are_not_host_names_are_refused() -> None:
    assert isinstance(host_observable("under_score-only"), Rejected)
    assert isinstance(host_observable("a" * 300 + ".com"), Rejected)


def test_key_fingerprints() -> None:
    assert key_fingerprint_observable("B8:2F:" + ":".join(["aa"] * 14)) == Observable(
        "ssh-fingerprint", "b8:2f:" + ":".join(["aa"] * 14)
    )
    assert isinstance(key_fingerprint_observable("SHA256:abc"), Rejected)


def test_every_observable_of_a_rich_session_is_valid_for_misp() -> None:
    session = AttackSession(
        session_id="s1",
        sensor="x",
        src_ip="2001:db8::7",
        start=T0,
        end=T0,
        hassh="EC7378C1A92F5A8DDE7E8B7A1DDF33D1",
        logins=[LoginAttempt(username="root", key_fingerprint=":".join(["0f"] * 16))],
        commands=["uname -a", "echo \x1b[31m red", "cat /proc/cpuinfo | grep name"],
        downloads=[
            Download(url="http://198.51.100.9:8000/a.sh", shasum="F" * 64),
            Download(url="ftp://files.evil.example/b", failed=True),
            Download(url="garbage"),
        ],
        uploads=[Upload(filename="up", shasum="e" * 64)],
    )
    found = session_observables(session)
    observables = [o for o in found if isinstance(o, Observable)]
    rejected = [o for o in found if isinstance(o, Rejected)]
    assert [r.value for r in rejected] == ["garbage"]
    assert {o.misp_type for o in observables} == {
        "ip-src", "url", "ip-dst", "hostname", "sha256", "hassh-md5", "ssh-fingerprint", "text",
    }  # fmt: skip
    for observable in observables:
        assert _misp_accepts(observable), observable
    text = next(o for o in observables if o.misp_type == "text")
    assert "\x1b" not in text.value and text.value.count("\n") == 2


def test_interval_indicators_are_distinct_sorted_and_searchable() -> None:
    sessions = [
        AttackSession(
            session_id=f"s{i}",
            sensor="x",
            src_ip=ip,
            start=T0,
            end=T0,
            downloads=[Download(url="http://evil.example/x", shasum="a" * 64)],
        )
        for i, ip in enumerate(["192.0.2.1", "192.0.2.1", "192.0.2.2"])
    ]
    indicators = interval_indicators(sessions)
    assert [(i.kind, i.value) for i in indicators] == [
        ("domain", "evil.example"),
        ("ip-src", "192.0.2.1"),
        ("ip-src", "192.0.2.2"),
        ("sha256", "a" * 64),
        ("url", "http://evil.example/x"),
    ]
    assert all(i.kind in MISP_TYPES_OF_KIND for i in indicators)
