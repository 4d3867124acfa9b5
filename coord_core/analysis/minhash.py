"""MinHash signatures and LSH banding over command templates (numpy, seeded).

Each distinct template is a set of token 3-gram shingles. A signature keeps, per seeded
permutation ``(a*x + b) mod p``, the smallest permuted shingle hash; two signatures agree at a
position with probability equal to the sets' Jaccard similarity. LSH banding proposes the pairs
worth estimating: templates whose signatures agree on every row of at least one band.
"""

from __future__ import annotations

import hashlib
from collections.abc import Sequence

import numpy as np

_MERSENNE = np.uint64((1 << 61) - 1)
_MAX32 = np.uint64(0xFFFFFFFF)
_CHUNK_ROWS = 200_000
_BUCKET_PAIRS_CAP = 64  # members of a crowded bucket are compared with its first members only


def shingle_hash(shingle: str) -> int:
    return int.from_bytes(
        hashlib.blake2b(shingle.encode("utf-8", "backslashreplace"), digest_size=4).digest(), "little"
    )


def signatures(shingle_sets: Sequence[Sequence[str]], permutations: int, seed: int) -> np.ndarray:
    """(templates x permutations) uint32 MinHash signatures; an empty set gets all-max."""
    rng = np.random.default_rng(seed)
    a = rng.integers(1, int(_MERSENNE), size=permutations, dtype=np.uint64)
    b = rng.integers(0, int(_MERSENNE), size=permutations, dtype=np.uint64)
    cache: dict[str, int] = {}
    flat: list[int] = []
    owner: list[int] = []
    for t, shingles in enumerate(shingle_sets):
        for sh in set(shingles):
            h = cache.get(sh)
            if h is None:
                h = cache[sh] = shingle_hash(sh)
            flat.append(h)
            owner.append(t)
    out = np.full((len(shingle_sets), permutations), np.uint32(0xFFFFFFFF), dtype=np.uint32)
    if not flat:
        return out
    values = np.asarray(flat, dtype=np.uint64)
    owners = np.asarray(owner, dtype=np.int64)
    for lo in range(0, len(values), _CHUNK_ROWS):
        hv = values[lo : lo + _CHUNK_ROWS, None]
        with np.errstate(over="ignore"):
            permuted = ((hv * a[None, :] + b[None, :]) % _MERSENNE) & _MAX32
        np.minimum.at(out, owners[lo : lo + _CHUNK_ROWS], permuted.astype(np.uint32))
    return out


def lsh_candidates(sig: np.ndarray, bands: int) -> np.ndarray:
    """Candidate template pairs (k x 2, i < j, sorted unique) that share a band bucket."""
    perms = sig.shape[1]
    rows = max(1, perms // bands)
    pairs: list[np.ndarray] = []
    for band in range(bands):
        block = np.ascontiguousarray(sig[:, band * rows : (band + 1) * rows])
        if block.shape[1] == 0:
            break
        keys = block.view(np.dtype((np.void, block.dtype.itemsize * block.shape[1]))).ravel()
        _, inverse, counts = np.unique(keys, return_inverse=True, return_counts=True)
        crowded = np.flatnonzero(counts > 1)
        if crowded.size == 0:
            continue
        order = np.argsort(inverse, kind="stable")
        starts = np.concatenate(([0], np.cumsum(counts)))
        for bucket in crowded:
            members = order[starts[bucket] : starts[bucket + 1]]
            head = members[:_BUCKET_PAIRS_CAP]
            ii, jj = np.triu_indices(len(head), k=1)
            pairs.append(np.stack([head[ii], head[jj]], axis=1))
            if len(members) > _BUCKET_PAIRS_CAP:
                rest = members[_BUCKET_PAIRS_CAP:]
                pairs.append(np.stack([np.full(len(rest), head[0]), rest], axis=1))
    if not pairs:
        return np.empty((0, 2), dtype=np.int64)
    allp = np.concatenate(pairs).astype(np.int64)
    allp.sort(axis=1)
    allp = allp[allp[:, 0] != allp[:, 1]]
    return np.unique(allp, axis=0)


def estimated_jaccard(sig: np.ndarray, pairs: np.ndarray) -> np.ndarray:
    if len(pairs) == 0:
        return np.empty(0)
    return np.asarray((sig[pairs[:, 0]] == sig[pairs[:, 1]]).mean(axis=1), dtype=np.float64)
