"""Proposals -> groups of sources, strongest evidence first, refusing joins that conflict.

Union-find over sources. Proposals are applied from the heaviest down; a join is refused when
each side has its own non-public hosts, wallets or build markers that the other never used (two
operators running one public script, miner recipe or bot source), judged on what defines each
group (used by at least a fifth of its sources), so one source's extra host cannot veto a botnet.
A join of two established groups (two or more sources each) by a pair link needs a margin over
the threshold, and a group-level test never pulls sources out of a group it only partly covers:
weak links do not chain groups together.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field

import numpy as np

from coord_core.analysis import features as fk
from coord_core.analysis.frame import SessionFrame
from coord_core.analysis.linking import Proposal

DEFINING_SHARE = 0.2
ESTABLISHED_JOIN_MARGIN = 4.0  # log-odds a pair link needs above the threshold to join two groups


@dataclass(frozen=True)
class Join:
    """One accepted union: ``a`` joined ``b`` on the strength of ``proposal``."""

    proposal: int
    a: int
    b: int


@dataclass
class Grouping:
    groups: list[np.ndarray]  # sorted source indices, groups of >= 2 sources
    joins: list[list[Join]]  # per group, the joins that built it
    refused: int = 0
    refused_examples: list[tuple[int, int, int]] = field(default_factory=list)


class _Forest:
    """Union-find over sources (plain lists: this runs once per proposal member, in Python)."""

    def __init__(self, frame: SessionFrame) -> None:
        n = frame.n_sources
        self.parent = list(range(n))
        self.size = [1] * n
        self.hosts: dict[int, Counter[int]] = {}
        for spec in fk.EXCLUSIVE_KINDS:
            host_cols, owned = frame.owned_columns(spec)
            for src in np.flatnonzero(np.diff(owned.indptr)).tolist():
                feats = host_cols[owned.indices[owned.indptr[src] : owned.indptr[src + 1]]]
                self.hosts.setdefault(src, Counter()).update(feats.tolist())

    def find(self, i: int) -> int:
        parent = self.parent
        root = i
        while parent[root] != root:
            root = parent[root]
        while parent[i] != root:
            parent[i], i = root, parent[i]
        return root

    def roots(self) -> np.ndarray:
        """Every source's root (pointer jumping: the same answer as ``find`` for each)."""
        parent = np.asarray(self.parent, dtype=np.int64)
        while True:
            jumped = parent[parent]
            if np.array_equal(jumped, parent):
                return parent
            parent = jumped

    def _dominant(self, root: int) -> set[int]:
        """The hosts/wallets that define a group: a lone source's own, or used by at least two
        of its sources and a fifth of them (a botnet whose loader only some bots fetch)."""
        counts = self.hosts.get(root)
        if not counts:
            return set()
        size = int(self.size[root])
        if size == 1:
            return set(counts)
        return {h for h, c in counts.items() if c >= 2 and DEFINING_SHARE * size <= c}

    def conflict(self, ra: int, rb: int) -> bool:
        ha, hb = self.hosts.get(ra), self.hosts.get(rb)
        if not ha or not hb:
            return False
        return bool(self._dominant(ra) - hb.keys()) and bool(self._dominant(rb) - ha.keys())

    def union(self, ra: int, rb: int) -> int:
        keep, drop = (ra, rb) if (self.size[ra], -ra) >= (self.size[rb], -rb) else (rb, ra)
        self.parent[drop] = keep
        self.size[keep] += self.size[drop]
        moved = self.hosts.pop(drop, None)
        if moved:
            self.hosts.setdefault(keep, Counter()).update(moved)
        return keep


def group_sources(frame: SessionFrame, proposals: list[Proposal], threshold: float) -> Grouping:
    forest = _Forest(frame)
    accepted: list[Join] = []
    refused = 0
    examples: list[tuple[int, int, int]] = []
    for index, proposal in enumerate(proposals):
        members = [int(s) for s in proposal.sources]
        pair_link = len(members) == 2 and proposal.detector in ("pair_likeness", "credential_overlap")
        covered: Counter[int] = Counter(forest.find(m) for m in members)
        statistical = proposal.detector != "shared_artefact" and len(members) > 2
        if statistical:
            # A group-level test that touches only a few sources of an established group does
            # not bridge it to anything: those few stay where stronger evidence put them, and
            # the rest go on only if they are most of what the test found.
            kept = [
                m
                for m in members
                if forest.size[forest.find(m)] < 2
                or 2 * covered[forest.find(m)] >= forest.size[forest.find(m)]
            ]
            refused += len(members) - len(kept)
            if 2 * len(kept) < len(members):
                continue
            members = kept
        held = Counter(forest.find(m) for m in members)
        # Anchor on the group holding most of the proposal's sources (lowest root on ties).
        anchor_root = min(held, key=lambda r: (-held[r], r))
        anchor = next(m for m in members if forest.find(m) == anchor_root)
        for other in members:
            ra, rb = forest.find(anchor), forest.find(other)
            if ra == rb:
                continue
            if forest.conflict(ra, rb):
                refused += 1
                if len(examples) < 20:
                    examples.append((index, anchor, other))
                continue
            if (
                pair_link
                and forest.size[ra] >= 2
                and forest.size[rb] >= 2
                and proposal.weight < threshold + ESTABLISHED_JOIN_MARGIN
            ):
                refused += 1
                continue
            forest.union(ra, rb)
            accepted.append(Join(index, anchor, other))
    roots = forest.roots()
    by_root: dict[int, list[int]] = {}
    for src, root in enumerate(roots):
        by_root.setdefault(int(root), []).append(src)
    groups = sorted(
        (np.array(m, dtype=np.int64) for m in by_root.values() if len(m) >= 2), key=lambda g: int(g[0])
    )
    group_of = {int(src): gi for gi, g in enumerate(groups) for src in g}
    joins: list[list[Join]] = [[] for _ in groups]
    for join in accepted:
        joins[group_of[join.a]].append(join)
    return Grouping(groups=groups, joins=joins, refused=refused, refused_examples=examples)
