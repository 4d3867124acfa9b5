"""The compiled schema's address reading gives what ``canonical_ip`` gives, or refuses what it refuses."""

from __future__ import annotations

import random

from coord_core.contracts.event_lines import _CANONICAL_IPS, _canonical_ip
from coord_core.contracts.events import canonical_ip

_PARTS = ["0", "00", "1", "01", "9", "10", "99", "100", "199", "255", "256", "300", "0x1", "1e1", " ",
          "\t", "\n", "\x00", "١", "²", "-1", "+1", "", ".", ":", "::1", "fe80::1%eth0", "::ffff:1.2.3.4",
          "a"]  # fmt: skip


def _read(read: object, value: str) -> object:
    try:
        return read(value)  # type: ignore[operator]
    except ValueError as exc:
        return type(exc)


def test_addresses_read_as_canonical_ip_reads_them() -> None:
    draw = random.Random(5)
    for _ in range(20_000):
        dots = ".".join(draw.choice(_PARTS) for _ in range(draw.randint(1, 6)))
        value = draw.choice(["", " ", "\n"]) + dots + draw.choice(["", "", " ", "\n", ".", "x"])
        _CANONICAL_IPS.clear()
        assert _read(_canonical_ip, value) == _read(canonical_ip, value), value
    for value in ("1.2.3.4", "255.255.255.255", "0.0.0.0", "01.2.3.4", "1.2.3", " 1.2.3.4", "1.2.3.4\x00"):
        _CANONICAL_IPS.clear()
        assert _read(_canonical_ip, value) == _read(canonical_ip, value), value
