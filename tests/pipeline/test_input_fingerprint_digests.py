"""The input fingerprint is SHA-256 over the sessions' digests in byte order, one after another."""

from __future__ import annotations

import hashlib
import random

from coord_core.pipeline.analyze import InputFingerprint


def _one_update_each(digests: list[bytes]) -> str:
    digest = hashlib.sha256()
    for one in sorted(digests):
        digest.update(one)
    return digest.hexdigest()


def test_digests_sorted_as_bytes_sort() -> None:
    draw = random.Random(1)
    edges = [
        b"\x00" * 32,
        b"\x00" * 31 + b"\x01",
        b"\x01" + b"\x00" * 31,
        b"\xff" * 32,
        b"\x7f" + b"\x80" * 31,
    ]
    for n in (0, 1, 2, 7, 300):
        digests = [bytes(draw.choice([0, 1, 127, 128, 255]) for _ in range(32)) for _ in range(n)]
        digests += [draw.randbytes(32) for _ in range(n)] + edges + digests[: n // 3]
        fingerprint = InputFingerprint()
        for one in digests:
            fingerprint._digests += one
        assert fingerprint.hexdigest() == _one_update_each(digests)
