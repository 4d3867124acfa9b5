"""Sealed cache entries: only an entry sealed with the key, for this purpose and binding, opens."""

from __future__ import annotations

from pathlib import Path

import pytest

from coord_core.store.cache_integrity import CacheEntryRejected, CacheSigner

SECRET = "s" * 40
BINDING = {"window": "2031-01-01T00:00Z", "input_fingerprint": "fp", "code_version": "v1"}


def test_a_sealed_entry_opens_with_its_binding_only() -> None:
    signer = CacheSigner(SECRET)
    entry = signer.seal("result", BINDING, b'{"a": 1}\n{"b": 2}')
    assert signer.unseal("result", BINDING, entry) == b'{"a": 1}\n{"b": 2}'
    assert signer.unseal("result", dict(reversed(list(BINDING.items()))), entry.decode())  # order-free
    for purpose, binding in (
        ("threat-intel", BINDING),
        ("result", {**BINDING, "window": "2031-01-01T01:00Z"}),
        ("result", {**BINDING, "code_version": "v2"}),
        ("result", {k: v for k, v in BINDING.items() if k != "code_version"}),
    ):
        with pytest.raises(CacheEntryRejected, match="digest does not match"):
            signer.unseal(purpose, binding, entry)


@pytest.mark.parametrize(
    "entry",
    [
        b'{"a": 1}',  # an unsealed value (as cached before entries were sealed)
        b"coord-sealed-v1 " + b"0" * 64,  # no payload line
        b"coord-sealed-v1 " + b"A" * 64 + b"\n{}",  # not a lower-case hex digest
        b"coord-sealed-v1 abc\n{}",
        b"",
    ],
)
def test_what_is_not_a_sealed_entry_is_rejected(entry: bytes) -> None:
    with pytest.raises(CacheEntryRejected, match="not a sealed entry"):
        CacheSigner(SECRET).unseal("result", BINDING, entry)


def test_altered_payloads_and_other_keys_are_rejected() -> None:
    entry = CacheSigner(SECRET).seal("result", BINDING, b'{"campaigns": []}')
    for forged in (
        entry[:-1],  # truncated
        entry.replace(b"[]", b"[1]"),  # edited
        CacheSigner("t" * 40).seal("result", BINDING, b'{"campaigns": []}'),  # made without the key
    ):
        with pytest.raises(CacheEntryRejected, match="digest does not match"):
            CacheSigner(SECRET).unseal("result", BINDING, forged)


def test_short_keys_are_refused_and_the_key_never_shows() -> None:
    with pytest.raises(ValueError, match="at least 32"):
        CacheSigner("short")
    signer = CacheSigner(SECRET)
    assert SECRET not in repr(signer) and SECRET not in str(signer)
    assert not hasattr(signer, "__dict__")


def test_local_runs_generate_one_private_signing_key_per_state_folder(tmp_path: Path) -> None:
    from coord_core.cli.local_airflow import cache_signing_secret

    first = cache_signing_secret(tmp_path / "state")
    assert len(first) == 64 and int(first, 16) >= 0
    assert (tmp_path / "state" / "cache-hmac-secret").stat().st_mode & 0o777 == 0o600
    assert cache_signing_secret(tmp_path / "state") == first  # local-run and local-ui agree
    assert cache_signing_secret(tmp_path / "other") != first
    CacheSigner(first)
