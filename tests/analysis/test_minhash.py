"""MinHash signatures and LSH banding match their definitions (checked by brute force)."""

from __future__ import annotations

import itertools
import random

import numpy as np
import pytest

from coord_core.analysis import minhash
from coord_core.analysis.minhash import estimated_jaccard, lsh_candidates, shingle_hash, signatures


def _by_definition(sets: list[list[str]], permutations: int, seed: int) -> np.ndarray:
    rng = np.random.default_rng(seed)
    a = rng.integers(1, (1 << 61) - 1, size=permutations, dtype=np.uint64)
    b = rng.integers(0, (1 << 61) - 1, size=permutations, dtype=np.uint64)
    out = np.full((len(sets), permutations), 0xFFFFFFFF, dtype=np.uint32)
    for t, shingles in enumerate(sets):
        for sh in set(shingles):
            h = shingle_hash(sh)
            for k in range(permutations):
                permuted = ((h * int(a[k]) % 2**64 + int(b[k])) % 2**64 % ((1 << 61) - 1)) & 0xFFFFFFFF
                out[t, k] = min(int(out[t, k]), permuted)
    return out


def test_signatures_are_the_minimum_permuted_hash_even_across_blocks(monkeypatch: pytest.MonkeyPatch) -> None:
    rng = random.Random(4)
    vocab = [f"wget http://h{i}/x" for i in range(40)]
    sets = [[rng.choice(vocab) for _ in range(rng.choice([0, 1, 3, 9]))] for _ in range(60)]
    expected = _by_definition(sets, 16, 9)
    assert np.array_equal(signatures(sets, 16, 9), expected)
    # Tiny blocks: templates straddle no block boundary, and one bigger than a block still works.
    monkeypatch.setattr(minhash, "_CHUNK_ROWS", 4)
    assert np.array_equal(signatures(sets, 16, 9), expected)


def test_lsh_candidates_are_the_rows_sharing_a_band_with_crowded_buckets_capped() -> None:
    rng = np.random.default_rng(2)
    sig = rng.integers(0, 3, size=(800, 8), dtype=np.uint32)  # few values: big buckets
    got = {tuple(p) for p in lsh_candidates(sig, 4).tolist()}
    expected: set[tuple[int, int]] = set()
    overflowing = False
    for band in range(4):
        buckets: dict[bytes, list[int]] = {}
        for row in range(len(sig)):
            buckets.setdefault(sig[row, band * 2 : band * 2 + 2].tobytes(), []).append(row)
        for members in buckets.values():
            overflowing = overflowing or len(members) > minhash._BUCKET_PAIRS_CAP
            head = members[: minhash._BUCKET_PAIRS_CAP]
            expected.update(itertools.combinations(head, 2))
            expected.update((head[0], m) for m in members[minhash._BUCKET_PAIRS_CAP :])
    assert got == expected and overflowing  # some buckets exceed the cap
    pairs = lsh_candidates(sig, 4)
    assert np.array_equal(pairs, np.unique(pairs, axis=0)) and (pairs[:, 0] < pairs[:, 1]).all()
    jac = estimated_jaccard(sig, pairs)
    assert np.allclose(jac, (sig[pairs[:, 0]] == sig[pairs[:, 1]]).mean(axis=1))
