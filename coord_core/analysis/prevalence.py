"""How common a value is across days: chance sharing judged against history, not the window alone.

A value that sources from several unrelated networks use day after day (a public tool's
script, a public list's credentials, a proxy-check target) is shared by chance however rare it
looks in one window; a value that appears in a burst is evidence however many hold it. A
value is *endemic* when it was held by two or more sources from two or more /16 networks on at
least half of the history's days (and on at least ``MIN_DAYS`` of them): its sharing then
weighs as a common value's (``frame.endemic``, read by ``linking``).

Only the kinds that a public tool or list makes common are judged this way. Exact artefacts
(payload hashes, URLs, hosts, keys, wallets) stay specific whatever their history: a
long-lived botnet's dropper is still one botnet's.
"""

from __future__ import annotations

import hashlib
import math
from collections.abc import Mapping
from dataclasses import dataclass, field

import numpy as np
import scipy.sparse as sp

from coord_core.analysis import features as fk
from coord_core.analysis.distinct import distinct_sorted
from coord_core.analysis.frame import SessionFrame

DAY_SECONDS = 86_400.0
MIN_DAYS = 3
HISTORY_KINDS: tuple[fk.KindSpec, ...] = (
    fk.TEMPLATE,
    fk.CRED_SEQUENCE,
    fk.CREDENTIAL,
    fk.PASSWORD_STEM,
    fk.SECRET,
    fk.TUNNEL_PAYLOAD,
    fk.TCPIP,
)


def feature_key(name: str) -> str:
    """Bounded key of a feature name (names carry attacker text)."""
    return hashlib.sha256(name.encode("utf-8", "backslashreplace")).hexdigest()[:24]


@dataclass(frozen=True)
class Prevalence:
    """Per feature key, the days of history on which unrelated networks shared it."""

    days_observed: int
    days_seen: Mapping[str, int] = field(default_factory=dict)
    source: str = "none"  # where the history came from: "input days", "postgres", "none"

    def endemic_keys(self) -> frozenset[str]:
        if self.days_observed < MIN_DAYS:
            return frozenset()
        needed = max(MIN_DAYS, math.ceil(self.days_observed / 2))
        return frozenset(key for key, days in self.days_seen.items() if days >= needed)

    def digest(self) -> str:
        """Identifies what of the history the analysis uses (its endemic values): the same input,
        parameters, code and digest give the same result, whatever else the history held."""
        h = hashlib.sha256()
        for key in sorted(self.endemic_keys()):
            h.update(f"{key};".encode())
        return h.hexdigest()[:32]

    def describe(self) -> dict[str, object]:
        """What a result records of its history (only what changes the analysis)."""
        return {"source": self.source, "endemic_values": len(self.endemic_keys()), "digest": self.digest()}


def apply(frame: SessionFrame, prevalence: Prevalence) -> int:
    """Mark the frame's endemic features (``frame.endemic``); returns how many were marked."""
    endemic = prevalence.endemic_keys()
    mask = np.zeros(len(frame.feature_names), dtype=bool)
    if endemic:
        cols, _ = frame.kind_columns(*HISTORY_KINDS)
        for fid in cols.tolist():
            mask[fid] = feature_key(frame.feature_names[fid]) in endemic
    frame.endemic = mask
    return int(mask.sum())


def daily_observations(frame: SessionFrame) -> dict[int, dict[str, tuple[int, int]]]:
    """Per UTC day (epoch day number): feature key -> (sources, /16 networks) for the history
    kinds' values held by two or more sources that day. What a run stores for later runs."""
    if frame.n_sessions == 0:
        return {}
    cols, history = frame.kind_columns(*HISTORY_KINDS)
    if len(cols) == 0:
        return {}
    days = np.floor(frame.start / DAY_SECONDS).astype(np.int64)
    day_values, day_index = np.unique(days, return_inverse=True)
    active = sp.csr_matrix(
        (np.ones(frame.n_sessions), (day_index, frame.source)),
        shape=(len(day_values), frame.n_sources),
    )
    active.sum_duplicates()
    active.data[:] = 1.0  # a source active on a day counts once, however many sessions
    sub = history.tocsc()
    net16 = np.where(
        frame.source_is_v6, -1 - np.arange(frame.n_sources), frame.source_ipv4.astype(np.int64) >> 16
    )
    _, net_id = np.unique(net16, return_inverse=True)
    n_nets = int(net_id.max()) + 1 if len(net_id) else 1
    out: dict[int, dict[str, tuple[int, int]]] = {}
    keys_of: dict[int, str] = {}  # a value seen on many days is hashed once
    for d, day in enumerate(day_values.tolist()):
        present = active[d].indices
        held = sub[present].tocsc()
        holders = np.diff(held.indptr)
        shared = np.flatnonzero(holders >= 2)
        if len(shared) == 0:
            out[int(day)] = {}
            continue
        # Distinct networks per value, all values at once: unique (value, network) keys.
        col_of = np.repeat(np.arange(held.shape[1]), holders)
        keys = distinct_sorted(col_of * n_nets + net_id[present[held.indices]])
        networks = np.bincount(keys // n_nets, minlength=held.shape[1])
        today: dict[str, tuple[int, int]] = {}
        for c in shared.tolist():
            key = keys_of.get(c)
            if key is None:
                key = keys_of[c] = feature_key(frame.feature_names[int(cols[c])])
            today[key] = (int(holders[c]), int(networks[c]))
        out[int(day)] = today
    return out


def from_observations(observations: Mapping[int, Mapping[str, tuple[int, int]]], source: str) -> Prevalence:
    """History from daily observations: a day counts for a value shared across networks."""
    days_seen: dict[str, int] = {}
    for seen in observations.values():
        for key, (_, networks) in seen.items():
            if networks >= 2:
                days_seen[key] = days_seen.get(key, 0) + 1
    return Prevalence(days_observed=len(observations), days_seen=days_seen, source=source)


def own_days(frame: SessionFrame) -> Prevalence:
    """The input's own span, day by day, as history (``coord analyze`` on files)."""
    return from_observations(daily_observations(frame), "input days")
