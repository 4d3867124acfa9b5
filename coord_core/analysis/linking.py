"""Detectors that propose links between sources, each with its log-likelihood weight.

A proposal joins a set of sources (a hyperedge: every holder of one artefact, a dictionary
group) or a pair (scored over everything the two share). Weights are log-odds that the sources
are one campaign; the linking threshold adds ln(sources in window)/2, the prior odds against
any given pair, so a bigger window needs stronger evidence per link.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any, Protocol, TypeVar

import numpy as np
import scipy.sparse as sp
from scipy.sparse.csgraph import connected_components

from coord_core.analysis import features as fk
from coord_core.analysis.bursts import scan_bursts
from coord_core.analysis.common_values import COMMON_COMMANDS
from coord_core.analysis.credentials import (
    CredentialModel,
    credential_model,
    dictionary_groups,
    guess_bursts,
    overlap_weights,
    shared_rare_credentials,
)
from coord_core.analysis.distinct import distinct_sorted
from coord_core.analysis.frame import SessionFrame
from coord_core.analysis.minhash import estimated_jaccard, lsh_candidates, signatures
from coord_core.analysis.normalise import shingles
from coord_core.analysis.parameters import AnalysisParameters
from coord_core.analysis.tails import binom_logsf

TEMPLATE_CAP = 26.0
BEHAVIOUR_NEEDED_FOR_INFRA = 2.0  # infrastructure counts only next to specific behavioural likeness


@dataclass(frozen=True)
class Proposal:
    """Evidence that ``sources`` belong together, from one detector."""

    # shared_artefact | command_similarity | credential_overlap | dictionary_partition | pair_likeness
    detector: str
    weight: float
    sources: np.ndarray
    features: tuple[str, ...]
    statistic: dict[str, Any] = field(default_factory=dict)

    def sort_key(self) -> tuple[float, int, str, tuple[int, ...]]:
        return (-self.weight, len(self.sources), self.detector, tuple(int(s) for s in self.sources[:4]))


def link_threshold(frame: SessionFrame, params: AnalysisParameters) -> float:
    return params.link_base + params.link_scale * math.log(max(frame.n_sources, 2))


def rarity_weights(frame: SessionFrame) -> np.ndarray:
    """Per-feature weight of a shared value for the rarity-weighted kinds (0 elsewhere)."""
    n = max(frame.n_sources, 1)
    share = frame.feature_sources / n
    weights = np.zeros(len(frame.feature_names))
    for spec in fk.KINDS:
        if spec.cap <= 0:
            continue
        mask = frame.feature_kind == fk.KIND_INDEX[spec.name]
        weights[mask] = spec.rarity_weight(share[mask])
    # A /24 crowded with sources is a hosting block shared by many customers.
    net24 = frame.feature_kind == fk.KIND_INDEX[fk.PREFIX24.name]
    weights[net24] = np.clip(6.0 - np.log(np.maximum(1.0, frame.feature_sources[net24] / 8.0)), 0.0, 6.0)
    return weights


# Templates that open with the same lines are one toolkit's variants (METHODOLOGY 2.2): a toolkit
# keeps its opening and varies later (optional steps, a loader per CPU, random file names).
OPENING_LINES = 3
# A line every toolkit runs: in the window's count, or known before it (``COMMON_COMMANDS``).
COMMON_LINE_FACTOR = 0.15


def _literal_tokens(line: str) -> set[str]:
    return {tok for tok in line.split() if not (tok.startswith("<") and tok.endswith(">"))}


def _distinct_templates(frame: SessionFrame) -> dict[int, tuple[str, ...]]:
    """Each template feature's lines (one entry per toolkit in the window)."""
    distinct: dict[int, tuple[str, ...]] = {}
    for profile, fid in zip(frame.templates, frame.template_feature.tolist(), strict=True):
        distinct.setdefault(int(fid), profile.template)
    return distinct


def line_information(distinct: dict[int, tuple[str, ...]]) -> dict[str, float]:
    """What typing one line says: its literal tokens, discounted by how many of the window's
    toolkits contain it (a recon one-liner every toolkit runs says little); a toolkit's variants,
    templates with one opening, count once, so a botnet does not discount itself by varying."""
    families: dict[tuple[str, ...], set[str]] = {}
    for template in distinct.values():
        families.setdefault(template[:OPENING_LINES], set()).update(template)
    n_toolkits = len(families)
    line_toolkits: dict[str, int] = {}
    for lines in families.values():
        for line in lines:
            line_toolkits[line] = line_toolkits.get(line, 0) + 1
    return {
        line: (0.5 * len(_literal_tokens(line)) + 1.0)
        * (
            COMMON_LINE_FACTOR
            if line in COMMON_COMMANDS
            else float(np.clip(math.log(n_toolkits / count) / math.log(20.0), COMMON_LINE_FACTOR, 1.0))
            if n_toolkits >= 20
            else 1.0
        )
        for line, count in line_toolkits.items()
    }


def template_weights(frame: SessionFrame) -> np.ndarray:
    """How much running the same command template says, per template feature (0 elsewhere).

    A template's information is the sum over its lines of the line's information: a script of
    unusual lines is a toolkit fingerprint; a sequence of the recon one-liners every toolkit runs
    is not, however long. Commonness is counted over toolkits, never over the sources running
    one, so a botnet does not discount its own script by being big.
    """
    weights = np.zeros(len(frame.feature_names))
    if not frame.templates:
        return weights
    distinct = _distinct_templates(frame)
    info = line_information(distinct)
    for fid, template in distinct.items():
        weights[fid] = min(TEMPLATE_CAP, sum(info[line] for line in dict.fromkeys(template)))
    return weights


def artefact_proposals(frame: SessionFrame) -> list[Proposal]:
    out: list[Proposal] = []
    endemic = frame.endemic_mask()
    for spec in fk.LINKING_ARTEFACTS:
        kid = fk.KIND_INDEX[spec.name]
        for fid in np.flatnonzero((frame.feature_kind == kid) & (frame.feature_sources >= 2) & ~endemic):
            holders = frame.holders(int(fid))
            out.append(
                Proposal(
                    detector="shared_artefact",
                    weight=spec.weight,
                    sources=holders,
                    features=(frame.feature_names[fid],),
                    statistic={"kind": spec.name, "sources": len(holders)},
                )
            )
    return out


def _in_order(script: tuple[str, ...], bigger: tuple[str, ...]) -> bool:
    """Whether ``script``'s lines come in ``bigger`` in the same order (steps skipped, none moved)."""
    remaining = iter(bigger)
    return all(line in remaining for line in script)


def script_supersets(frame: SessionFrame, fids: np.ndarray) -> dict[int, list[int]]:
    """Per template feature, the other templates that contain every one of its lines, in order.

    A toolkit with optional or randomised steps types a different subset of its script in each
    session; every line of a smaller script found in a bigger one, in the same order, is the same
    toolkit running more of it, so the smaller script's evidence covers the bigger script's
    holders too. Order matters: two Mirai-family builds type the same loader lines after their own
    preambles (``sh; shell`` against ``enable; system; shell; sh``).
    """
    distinct = _distinct_templates(frame)
    lines_of = {fid: frozenset(template) for fid, template in distinct.items()}
    with_line: dict[str, set[int]] = {}
    for fid, lines in lines_of.items():
        for line in lines:
            found = with_line.get(line)
            if found is None:
                with_line[line] = {fid}
            else:
                found.add(fid)
    out: dict[int, list[int]] = {}
    for fid in fids.tolist():
        script = lines_of.get(fid)
        if not script:
            continue
        # The templates holding every line: the holders of its lines intersected, fewest first.
        holding = sorted([with_line[line] for line in script], key=len)
        common = holding[0].intersection(*holding[1:]) if len(holding) > 1 else holding[0]
        if len(common) < 2:
            continue  # the template alone
        size = len(script)
        wider = [
            other
            for other in common
            if len(lines_of[other]) > size and _in_order(distinct[fid], distinct[other])
        ]
        if wider:
            out[fid] = sorted(wider)
    return out


def _family_holders(frame: SessionFrame, tids: np.ndarray, weak: np.ndarray) -> np.ndarray:
    """Per template, the sources that ran all its lines in its order within its own toolkit.

    A template that goes past its toolkit's opening (METHODOLOGY 2.2) is held, for the group
    test, by every source whose script has the same opening and contains its lines in order: the
    toolkit running more of its script. A template that is only an opening counts its exact
    holders (an opening is what every variant of a toolkit family types), and so does any
    template outside its toolkit's variants: recon lines that unrelated scripts share are never
    counted.
    """
    counts: np.ndarray = np.array(frame.feature_sources[tids], dtype=np.int64)
    distinct = _distinct_templates(frame)
    longer = np.array([len(distinct.get(int(f), ())) > OPENING_LINES for f in tids.tolist()], dtype=bool)
    candidates = tids[weak & longer]
    if len(candidates) == 0:
        return counts
    position = {int(f): k for k, f in enumerate(tids.tolist())}
    for fid, wider in script_supersets(frame, candidates).items():
        opening = distinct[fid][:OPENING_LINES]
        family = [f for f in wider if distinct[f][:OPENING_LINES] == opening]
        if family:
            holders = np.concatenate([frame.holders(fid), *(frame.holders(f) for f in family)])
            counts[position[fid]] = len(distinct_sorted(holders))
    return counts


def split_by_build(frame: SessionFrame, holders: np.ndarray) -> list[np.ndarray]:
    """A script's holders, one part per build: sources joined through the markers they typed (see
    ``fk.MARKER``) form a build, and those who typed none go with every part. Two Mirai-family
    builds type the same loader lines; each build's bots are one campaign, not the lines' holders."""
    cols, by_marker = frame.owned_columns(fk.MARKER)
    if len(cols) == 0 or len(holders) < 2:
        return [holders]
    sub = by_marker[holders].tocsr()
    marked = np.flatnonzero(np.diff(sub.indptr))
    if len(marked) < 2:
        return [holders]
    # Holders and markers as one bipartite graph: its components among the marked are the builds.
    rows = np.repeat(np.arange(len(holders)), np.diff(sub.indptr))
    n = len(holders)
    graph = sp.coo_matrix((np.ones(len(rows)), (rows, sub.indices + n)), shape=(n + len(cols),) * 2)
    _, labels = connected_components(graph, directed=False)
    builds = np.unique(labels[marked])
    if len(builds) < 2:
        return [holders]
    unmarked = holders[np.diff(sub.indptr) == 0]
    return [
        distinct_sorted(np.concatenate([holders[marked[labels[marked] == build]], unmarked]))
        for build in builds
    ]


def template_proposals(
    frame: SessionFrame, weights: np.ndarray, threshold: float, params: AnalysisParameters
) -> list[Proposal]:
    """Strong shared templates, and near-duplicate templates found with MinHash-LSH."""
    out: list[Proposal] = []
    tmask = frame.feature_kind == fk.KIND_INDEX[fk.TEMPLATE.name]
    tids = np.flatnonzero(tmask)
    command_sources = max(int((frame.source_commands > 0).sum()), 1)
    info = weights[tids]
    # Too little in it for one pair, but are this many holders beyond chance? Under the null each
    # command-running source runs it with probability exp(-weight) (history already says an
    # endemic template is common: it is not tested). Binomial tail, Bonferroni over templates.
    weak = (info < threshold) & ~frame.endemic_mask()[tids]
    in_family = _family_holders(frame, tids, weak)
    tested = weak & (in_family >= 3)
    group_weight = np.zeros(len(tids))
    group_p = np.ones(len(tids))
    if tested.any():
        rate = np.minimum(np.exp(-info[tested]), 1.0)
        log_p = binom_logsf(in_family[tested] - 1, command_sources, rate) + math.log(max(len(tids), 1))
        group_weight[tested] = np.minimum(-log_p, TEMPLATE_CAP)
        group_p[tested] = np.exp(np.clip(log_p, -690.0, 0.0))
    strong = info >= threshold
    linked = np.flatnonzero(strong | ((in_family >= 2) & (group_weight >= threshold)))
    # A toolkit with optional steps types a subset of its script per session: a script that links
    # (strong, or held beyond chance) covers the sources that ran it inside a bigger script, and
    # one held by a single source may still link through those.
    supersets = script_supersets(frame, tids[linked]) if len(linked) else {}
    for k in linked.tolist():
        fid = int(tids[k])
        holders = frame.holders(fid)
        wider = supersets.get(fid, [])
        if wider:
            holders = distinct_sorted(np.concatenate([holders, *(frame.holders(f) for f in wider)]))
        if len(holders) < 2:
            continue
        weight = float(info[k])
        extra: dict[str, Any] = {}
        if weight < threshold:
            weight = float(group_weight[k])
            extra["p_value"] = round(float(group_p[k]), 12)
        for build in split_by_build(frame, holders):
            if len(build) < 2:
                continue
            statistic = {"jaccard": 1.0, "sources": len(build), "templates": 1 + len(wider), **extra}
            out.append(
                Proposal(
                    detector="command_similarity",
                    weight=weight,
                    sources=build,
                    features=(frame.feature_names[fid],),
                    statistic=statistic,
                )
            )
    if len(tids) < 2:
        return out
    tokens_of: dict[int, tuple[str, ...]] = {}
    for profile, fid in zip(frame.templates, frame.template_feature.tolist(), strict=True):
        tokens_of.setdefault(int(fid), profile.tokens)
    token_sets = [shingles(tokens_of.get(int(f), ())) for f in tids]
    sig = signatures(token_sets, params.minhash_permutations, params.seed)
    pairs = lsh_candidates(sig, params.lsh_bands)
    if len(pairs) == 0:
        return out
    jac = estimated_jaccard(sig, pairs)
    keep = jac >= params.near_duplicate_jaccard
    for (i, j), jv in zip(pairs[keep], jac[keep], strict=True):
        fa, fb = int(tids[i]), int(tids[j])
        w = float(jv) * min(weights[fa], weights[fb])
        if w < threshold:
            continue
        holders = distinct_sorted(np.concatenate([frame.holders(fa), frame.holders(fb)]))
        for build in split_by_build(frame, holders):
            if len(build) < 2:
                continue
            out.append(
                Proposal(
                    detector="command_similarity",
                    weight=w,
                    sources=build,
                    features=(frame.feature_names[fa], frame.feature_names[fb]),
                    statistic={"jaccard": round(float(jv), 4), "sources": len(build), "templates": 2},
                )
            )
    return out


def candidate_pairs(frame: SessionFrame, weights: np.ndarray, params: AnalysisParameters) -> np.ndarray:
    """Source pairs sharing at least one pair-proposing feature held by few sources."""
    proposing = np.zeros(len(frame.feature_names), dtype=bool)
    for spec in fk.KINDS:
        if spec.proposes_pairs:
            proposing |= frame.feature_kind == fk.KIND_INDEX[spec.name]
    proposing &= (frame.feature_sources >= 2) & (frame.feature_sources <= params.pair_feature_max_sources)
    proposing &= ~frame.endemic_mask()
    tmask = frame.feature_kind == fk.KIND_INDEX[fk.TEMPLATE.name]
    proposing &= ~tmask | (weights > 0.5)
    n = max(frame.n_sources, 1)
    chunks: list[np.ndarray] = []
    fids = np.flatnonzero(proposing)
    sizes = frame.feature_sources[fids]
    for size in distinct_sorted(sizes).tolist():  # all features with as many holders at once
        holders = frame.holders_of_equal_size(fids[sizes == size], int(size))  # rows sorted
        ii, jj = np.triu_indices(int(size), k=1)
        chunks.append((holders[:, ii] * n + holders[:, jj]).ravel())
    if not chunks:
        return np.empty((0, 2), dtype=np.int64)
    keys = distinct_sorted(np.concatenate(chunks))  # one int64 per pair: sorted by (a, b)
    return np.stack([keys // n, keys % n], axis=1)


class _SharedFeatures:
    """The features of the given kinds each candidate pair shares, computed once (one sparse
    product over just those columns: credential lists, the bulk of a brute forcer's row, are
    scored by their own model)."""

    def __init__(
        self, frame: SessionFrame, a: np.ndarray, b: np.ndarray, kinds: Sequence[fk.KindSpec]
    ) -> None:
        columns, sub = frame.kind_columns(*kinds)
        prod = sub[a].multiply(sub[b]).tocsr()
        self.n = len(a)
        self.rows = np.repeat(np.arange(len(a)), np.diff(prod.indptr))
        self.cols = columns[prod.indices]
        self.kinds = frame.feature_kind[self.cols]
        self._computed = {k.name for k in kinds}

    def weight(self, spec: fk.KindSpec, w: np.ndarray, how: str = "sum") -> np.ndarray:
        if spec.name not in self._computed:
            raise ValueError(f"shared {spec.name} features were not computed for these pairs")
        mask = self.kinds == fk.KIND_INDEX[spec.name]
        values = w[self.cols[mask]]
        if how == "max":
            out = np.zeros(self.n)
            np.maximum.at(out, self.rows[mask], values)
            return out
        return np.bincount(self.rows[mask], weights=values, minlength=self.n).astype(np.float64)


def host_conflicts(frame: SessionFrame, a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """Both sources fetch from their own non-public hosts (pay to their own wallets, type their
    own build's marker) the other never used: two operators."""
    conflict = np.zeros(len(a), dtype=bool)
    for spec in fk.EXCLUSIVE_KINDS:
        cols, owned = frame.owned_columns(spec)
        if len(cols) == 0 or len(a) == 0:
            continue
        shared = np.asarray(owned[a].multiply(owned[b]).sum(axis=1)).ravel()
        na = np.diff(owned.indptr)[a]
        nb = np.diff(owned.indptr)[b]
        conflict |= (na > shared) & (nb > shared)
    return conflict


@dataclass(frozen=True)
class PairScores:
    pairs: np.ndarray
    total: np.ndarray
    parts: dict[str, np.ndarray]
    conflict: np.ndarray


# Every kind ``score_pairs`` weighs through ``_SharedFeatures``.
_PAIR_KINDS = (
    fk.TEMPLATE,
    fk.CLIENT,
    fk.HASSH,
    fk.KEX,
    fk.TERMINAL,
    fk.USERNAME,
    fk.TCPIP,
    fk.PUBLIC_HOST,
    fk.PORT,
    fk.PREFIX24,
    fk.PREFIX16,
    fk.CRED_SEQUENCE,
)
SEQUENCE_CAP = 15.0
ENDEMIC_TEMPLATE_FACTOR = COMMON_LINE_FACTOR  # as a line every toolkit runs


def score_pairs(
    frame: SessionFrame,
    pairs: np.ndarray,
    rarity: np.ndarray,
    templates: np.ndarray,
    creds: tuple[CredentialModel, CredentialModel],
    *,
    threshold: float,
) -> PairScores:
    a, b = pairs[:, 0], pairs[:, 1]
    shared = _SharedFeatures(frame, a, b, _PAIR_KINDS)
    parts: dict[str, np.ndarray] = {}
    cred_w, cred_shared = overlap_weights(creds[0], a, b)
    stem_w, _ = overlap_weights(creds[1], a, b)
    # Same password implies same stem: the two tests are not independent, count the stronger.
    parts["credentials"] = np.maximum(cred_w, stem_w)
    parts["template"] = shared.weight(fk.TEMPLATE, templates, "max")
    # The same uncommon credentials in the same order: one list walked by both (each shared run
    # counts less the more sources walk it).
    holders = np.maximum(frame.feature_sources.astype(np.float64), 1.0)
    run_weight = np.where(frame.endemic_mask(), 0.0, np.minimum(1.0, 3.0 / holders))
    parts["sequence"] = np.minimum(SEQUENCE_CAP, 1.5 * shared.weight(fk.CRED_SEQUENCE, run_weight))
    tooling = np.zeros(len(a))
    # One toolkit fingerprint seen several ways (banner, algorithm offer, the terminal it asks for):
    # they go together with the program, so the most telling one counts, not their sum.
    for spec in (fk.CLIENT, fk.HASSH, fk.KEX, fk.TERMINAL):
        tooling = np.maximum(tooling, shared.weight(spec, rarity))
    parts["tooling"] = np.minimum(tooling, fk.CLIENT.cap)
    for spec, name in (
        (fk.USERNAME, "username"),
        (fk.TCPIP, "tcpip"),
        (fk.PUBLIC_HOST, "public_host"),
        (fk.PORT, "port"),
    ):
        parts[name] = np.minimum(shared.weight(spec, rarity), spec.cap)
    behaviour = (
        parts["credentials"]
        + parts["sequence"]
        + parts["template"]
        + parts["tooling"]
        + parts["tcpip"]
        + parts["public_host"]
    )
    infra = np.maximum(shared.weight(fk.PREFIX24, rarity), shared.weight(fk.PREFIX16, rarity))
    # Shared prefixes count only next to likeness that common tooling alone does not explain:
    # unrelated attackers rent from the same hosting blocks all the time.
    specific = (
        np.where(cred_shared >= 2, parts["credentials"], 0.0)
        + stem_w
        + parts["sequence"]
        + parts["template"]
        + parts["tcpip"]
        + np.maximum(parts["tooling"] - 1.0, 0.0)
    )
    likeness = behaviour - parts["public_host"]
    # ... or one operator's fixed toolchain: the same rare client build on the same uncommon account.
    toolchain = (parts["tooling"] >= 0.9 * fk.CLIENT.cap) & (parts["username"] >= 0.8 * fk.USERNAME.cap)
    parts["infrastructure"] = np.where(
        ((specific >= BEHAVIOUR_NEEDED_FOR_INFRA) & (likeness >= threshold / 2.0)) | toolchain, infra, 0.0
    )
    total = behaviour + parts["username"] + parts["port"] + parts["infrastructure"]
    conflict = host_conflicts(frame, a, b)
    return PairScores(pairs=pairs, total=np.where(conflict, 0.0, total), parts=parts, conflict=conflict)


def shared_feature_names(frame: SessionFrame, a: int, b: int, weights: np.ndarray) -> tuple[str, ...]:
    """Names of the features two sources share that carry weight, heaviest first (bounded)."""
    common = np.intersect1d(frame.features_of(a), frame.features_of(b), assume_unique=True)  # CSR rows
    common = common[weights[common] > 0]
    order = np.lexsort((common, -weights[common]))
    return tuple(frame.feature_names[int(f)] for f in common[order][:12])


def pair_proposals(
    frame: SessionFrame,
    scores: PairScores,
    threshold: float,
    weights: np.ndarray,
) -> list[Proposal]:
    out: list[Proposal] = []
    for k in np.flatnonzero(scores.total >= threshold):
        a, b = (int(x) for x in scores.pairs[k])
        parts = {name: round(float(v[k]), 4) for name, v in sorted(scores.parts.items()) if v[k] > 0}
        top = max(parts, key=lambda name: (parts[name], name))
        detector = {
            "credentials": "credential_overlap",
            "sequence": "credential_overlap",
            "template": "command_similarity",
        }.get(top, "pair_likeness")
        if parts[top] < threshold:
            # Named after one kind of evidence only when that kind alone would have made the link.
            detector = "pair_likeness"
        out.append(
            Proposal(
                detector=detector,
                weight=float(scores.total[k]),
                sources=np.array([a, b], dtype=np.int64),
                features=shared_feature_names(frame, a, b, weights),
                statistic={"log_odds_parts": parts},
            )
        )
    return out


PREFIX_TOOLKIT_CAP = 25.0


def prefix_toolkit_proposals(frame: SessionFrame, rarity: np.ndarray, threshold: float) -> list[Proposal]:
    """Sources of one /24 that all run one uncommon client build (or terminal request), beyond chance.

    An operator rotating through its own /24 with its own kit shares nothing else. Under the
    null each of the /24's ``m`` sources runs the tool with its window share ``s``, so ``k`` of
    them doing so has probability P(Binom(m, s) >= k): a crowded hosting block of unrelated
    tenants is judged by its size. Only tools rare enough to weigh fully in pair likeness are
    tested (the commonest tooling never links); Bonferroni over the (/24, tool) cells tested.
    """
    cols, by_source = frame.kind_columns(fk.CLIENT, fk.HASSH, fk.TERMINAL)
    if len(cols) == 0:
        return []
    v4 = ~frame.source_is_v6
    net24 = np.where(v4, frame.source_ipv4.astype(np.int64) >> 8, -1 - np.arange(frame.n_sources))
    _, net_index, net_size = np.unique(net24, return_inverse=True, return_counts=True)
    uncommon = rarity[cols] >= fk.CLIENT.cap
    coo = by_source.tocoo()
    keep = uncommon[coo.col] & v4[coo.row]
    rows, tool = coo.row[keep].astype(np.int64), coo.col[keep].astype(np.int64)
    if len(rows) == 0:
        return []
    cell = net_index[rows] * len(cols) + tool
    cells, k = np.unique(cell, return_counts=True)
    tested = k >= 2
    if not tested.any():
        return []
    cells, k = cells[tested], k[tested]
    net_of, tool_of = cells // len(cols), cells % len(cols)
    share = frame.feature_sources[cols[tool_of]] / max(frame.n_sources, 1)
    log_p = binom_logsf(k - 1, net_size[net_of], share) + math.log(len(cells))
    weight = np.minimum(-log_p, PREFIX_TOOLKIT_CAP)
    out: list[Proposal] = []
    order = np.argsort(cell, kind="stable")
    sorted_cells = cell[order]
    for c in np.flatnonzero(weight >= threshold).tolist():
        lo, hi = np.searchsorted(sorted_cells, [cells[c], cells[c] + 1])
        holders = distinct_sorted(rows[order[lo:hi]])
        out.append(
            Proposal(
                detector="prefix_toolkit",
                weight=float(weight[c]),
                sources=holders,
                features=(frame.feature_names[int(cols[tool_of[c]])],),
                statistic={
                    "p_value": round(float(np.exp(max(log_p[c], -690.0))), 12),
                    "sources": len(holders),
                    "prefix_sources": int(net_size[net_of[c]]),
                    "window_share": round(float(share[c]), 4),
                },
            )
        )
    return out


@dataclass(frozen=True)
class Detection:
    """Everything the pattern analyzer proposes for one window."""

    threshold: float
    proposals: list[Proposal]
    weights: np.ndarray  # per-feature weight used in links (rarity, templates, artefacts)
    candidate_pairs: int
    conflicting_pairs: int


class _HeldGroup(Protocol):
    """Sources one test holds together as a whole (a dictionary partition, a guess or scan burst,
    one shared rare credential), and the features they share."""

    @property
    def sources(self) -> np.ndarray: ...
    @property
    def profile(self) -> tuple[int, ...]: ...
    @property
    def p_value(self) -> float: ...
    @property
    def weight(self) -> float: ...


G = TypeVar("G", bound=_HeldGroup)


def _held_groups(
    frame: SessionFrame,
    detector: str,
    groups: Iterable[G],
    threshold: float,
    describe: Callable[[G], dict[str, Any]] = lambda _: {},
) -> list[Proposal]:
    """One proposal per group that reaches the threshold, joining all its sources at once: its
    weight, shared features, p-value and size, and what ``describe`` adds."""
    found = []
    for group in groups:
        if group.weight < threshold:
            continue
        found.append(
            Proposal(
                detector=detector,
                weight=group.weight,
                sources=group.sources,
                features=tuple(frame.feature_names[f] for f in group.profile),
                statistic={"p_value": group.p_value, "sources": len(group.sources), **describe(group)},
            )
        )
    return found


def detect(frame: SessionFrame, params: AnalysisParameters, excluded: np.ndarray | None = None) -> Detection:
    """Run every link detector; sources flagged in ``excluded`` (benign scanners) take no part."""
    threshold = link_threshold(frame, params)
    rarity = rarity_weights(frame)
    templates = template_weights(frame)
    # What unrelated networks share day after day in history weighs as the commonest values do.
    endemic = frame.endemic_mask()
    rarity[endemic] = 0.0
    templates[endemic] *= ENDEMIC_TEMPLATE_FACTOR
    weights = np.maximum(rarity, templates)
    for spec in fk.LINKING_ARTEFACTS:
        weights[frame.feature_kind == fk.KIND_INDEX[spec.name]] = spec.weight
    creds = credential_model(frame)
    stems = credential_model(frame, fk.PASSWORD_STEM)
    proposals = artefact_proposals(frame) + template_proposals(frame, templates, threshold, params)
    proposals += prefix_toolkit_proposals(frame, rarity, threshold)
    pairs = candidate_pairs(frame, np.maximum(templates, 0.0), params)
    scores = (
        score_pairs(frame, pairs, rarity, templates, (creds, stems), threshold=threshold)
        if len(pairs)
        else None
    )
    if scores is not None:
        proposals += pair_proposals(frame, scores, threshold, weights)
    proposals += _held_groups(
        frame,
        "dictionary_partition",
        dictionary_groups(frame, creds, params),
        threshold,
        lambda group: {
            "credentials": group.credentials,
            "list_walk_rate_elsewhere": group.walk_rate_elsewhere,
            "list_walkers": group.list_walkers,
            "expected_sources": group.expected_sources,
        },
    )
    proposals += _held_groups(
        frame,
        "guess_burst",
        guess_bursts(frame, creds, params),
        threshold,
        lambda burst: {"span_seconds": burst.span_seconds, "expected_sources": burst.expected},
    )
    proposals += _held_groups(frame, "shared_credential", shared_rare_credentials(frame, creds), threshold)
    proposals += _held_groups(
        frame,
        "scan_burst",
        scan_bursts(frame, params),
        threshold,
        lambda burst: {"span_seconds": burst.span_seconds, "expected_sources": burst.expected},
    )
    if excluded is not None and excluded.any():
        kept: list[Proposal] = []
        for p in proposals:
            members = p.sources[~excluded[p.sources]]
            if len(members) >= 2:
                kept.append(Proposal(p.detector, p.weight, members, p.features, p.statistic))
        proposals = kept
    proposals.sort(key=Proposal.sort_key)
    return Detection(
        threshold=threshold,
        proposals=proposals,
        weights=weights,
        candidate_pairs=len(pairs),
        conflicting_pairs=int(scores.conflict.sum()) if scores is not None else 0,
    )
