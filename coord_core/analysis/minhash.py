"""MinHash signatures and LSH banding over command templates (numpy, seeded).

Each distinct template is a set of token 3-gram shingles. A signature keeps, per seeded
permutation ``(a*x + b) mod p``, the smallest permuted shingle hash; two signatures agree at a
position with probability equal to the sets' Jaccard similarity. LSH banding proposes the pairs
worth estimating: templates whose signatures agree on every row of at least one band.
"""

from __future__ import annotations

import hashlib
from array import array
from collections.abc import Sequence

import numpy as np

from coord_core.analysis.distinct import distinct_sorted

_MERSENNE = np.uint64((1 << 61) - 1)
_MAX32 = np.uint64(0xFFFFFFFF)
_CHUNK_ROWS = 32_768  # shingle rows per permutation block (32k x 64 x 8 B = 16 MB)
_PAIR_BLOCK = 65_536
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
    flat = array("Q")  # shingle hashes, grouped by template in template order
    sizes = np.zeros(len(shingle_sets), dtype=np.int64)
    for t, shingles in enumerate(shingle_sets):
        distinct = set(shingles)
        sizes[t] = len(distinct)
        for sh in distinct:
            h = cache.get(sh)
            if h is None:
                h = cache[sh] = shingle_hash(sh)
            flat.append(h)
    del cache
    out = np.full((len(shingle_sets), permutations), np.uint32(0xFFFFFFFF), dtype=np.uint32)
    if not flat:
        return out
    values = np.frombuffer(flat, dtype=np.uint64)
    ends = np.cumsum(sizes)
    starts = ends - sizes
    nonempty = np.flatnonzero(sizes)
    nonempty_ends = ends[nonempty]
    buffer = np.empty((min(_CHUNK_ROWS, len(values)), permutations), dtype=np.uint64)
    # Whole templates per chunk, so each template's minimum is one reduceat over its rows.
    k = 0
    while k < len(nonempty):
        lo = int(starts[nonempty[k]])
        stop = int(np.searchsorted(nonempty_ends, lo + _CHUNK_ROWS, side="right"))
        stop = max(stop, k + 1)
        hi = int(nonempty_ends[stop - 1])
        if hi - lo > len(buffer):
            buffer = np.empty((hi - lo, permutations), dtype=np.uint64)
        permuted = buffer[: hi - lo]
        with np.errstate(over="ignore"):
            np.multiply(values[lo:hi, None], a[None, :], out=permuted)
            np.add(permuted, b[None, :], out=permuted)
        np.remainder(permuted, _MERSENNE, out=permuted)
        np.bitwise_and(permuted, _MAX32, out=permuted)
        templates = nonempty[k:stop]
        out[templates] = np.minimum.reduceat(permuted, starts[templates] - lo, axis=0)
        k = stop
    return out


def _bucket_pairs(block: np.ndarray) -> list[np.ndarray]:
    """Pairs (i, j) of rows with identical band values: all pairs among a bucket's first
    ``_BUCKET_PAIRS_CAP`` members (in row order), and its first member with each of the rest."""
    keys = block.view(np.dtype((np.void, block.dtype.itemsize * block.shape[1]))).ravel()
    _, inverse, counts = np.unique(keys, return_inverse=True, return_counts=True)
    if not (counts > 1).any():
        return []
    order = np.argsort(inverse, kind="stable")  # rows grouped by bucket, in row order
    bucket = inverse[order]
    first_at = np.concatenate(([0], np.cumsum(counts)))[bucket]
    position = np.arange(len(order)) - first_at  # rank of the row within its bucket
    out: list[np.ndarray] = []
    head = position < _BUCKET_PAIRS_CAP
    for d in range(1, min(int(counts.max()), _BUCKET_PAIRS_CAP)):
        same = (bucket[:-d] == bucket[d:]) & head[d:]
        if same.any():
            out.append(np.stack([order[:-d][same], order[d:][same]], axis=1))
    rest = ~head
    if rest.any():
        out.append(np.stack([order[first_at[rest]], order[rest]], axis=1))
    return out


def lsh_candidates(sig: np.ndarray, bands: int) -> np.ndarray:
    """Candidate template pairs (k x 2, i < j, sorted unique) that share a band bucket."""
    n, perms = sig.shape
    rows = max(1, perms // bands)
    pairs: list[np.ndarray] = []
    for band in range(bands):
        block = np.ascontiguousarray(sig[:, band * rows : (band + 1) * rows])
        if block.shape[1] == 0:
            break
        pairs.extend(_bucket_pairs(block))
    if not pairs:
        return np.empty((0, 2), dtype=np.int64)
    allp = np.concatenate(pairs).astype(np.int64)
    lo, hi = allp.min(axis=1), allp.max(axis=1)
    del allp
    keys = distinct_sorted((lo * n + hi)[lo != hi])  # one int64 per pair: sorted by (lo, hi)
    return np.stack([keys // n, keys % n], axis=1)


def estimated_jaccard(sig: np.ndarray, pairs: np.ndarray) -> np.ndarray:
    """Share of agreeing signature positions per pair (in blocks: pairs x permutations is large)."""
    out = np.empty(len(pairs), dtype=np.float64)
    for lo in range(0, len(pairs), _PAIR_BLOCK):
        block = pairs[lo : lo + _PAIR_BLOCK]
        out[lo : lo + len(block)] = (sig[block[:, 0]] == sig[block[:, 1]]).mean(axis=1)
    return out
