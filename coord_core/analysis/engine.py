"""The analysis stages, each a function from earlier stages' outputs to a compact JSON document.

The LangGraph workflow (``coord_core.workflow``) runs them as nodes and checkpoints their
outputs; ``coord_core.pipeline.analyze.analyze_sessions`` runs the same graph in memory. Outputs
(typed in :mod:`coord_core.analysis.stages`) refer to sources by index in the canonical frame,
which any stage can rebuild from the sessions.

    screen        -> depth (skip | standard | deep) and why
    find_patterns -> link proposals and the groups they build (detectors + grouping)
    (tools)       -> ASN/geo, scanner lists, threat intel (coord_core.workflow.tools)
    score         -> per group: benign-scanner removal, temporal and infrastructure tests,
                     verdict, calibrated confidence, evidence
    assemble      -> the contract's AnalysisResult
"""

from __future__ import annotations

import hashlib
import math
from collections import Counter
from datetime import UTC, datetime
from typing import Any

import numpy as np

from coord_core.analysis import features as fk
from coord_core.analysis.bursts import connect_only
from coord_core.analysis.calibration import Calibration, shipped_calibration
from coord_core.analysis.frame import SessionFrame
from coord_core.analysis.grouping import group_sources
from coord_core.analysis.infrastructure import SourceInfra, group_infrastructure
from coord_core.analysis.intel_evidence import threat_intel_evidence
from coord_core.analysis.intel_matches import INTEL_TOOL_PREFIX, merge_matches
from coord_core.analysis.linking import Proposal, detect, link_threshold
from coord_core.analysis.parameters import AnalysisParameters
from coord_core.analysis.stages import (
    Depth,
    Join,
    LookupTargets,
    PatternGroup,
    Patterns,
    ProposalDoc,
    Scored,
    ScoredGroup,
    Screening,
    ToolOutput,
)
from coord_core.analysis.temporal import temporal_stats
from coord_core.analysis.verdicts import GroupFacts, decide_verdict, raw_score
from coord_core.contracts.campaigns import (
    AnalysisResult,
    BenignScanner,
    Campaign,
    Evidence,
    Link,
    RunInfo,
    SourceProfile,
    ToolReport,
    Verdict,
)
from coord_core.contracts.threat_intel import IntelMatch, ThreatIntelLookup

DEEP_MAX_SOURCES = 50_000
STANDARD_PERMUTATIONS = 199
MAX_SHOWN_VALUES = 20
MAX_VALUE_CHARS = 160
LINK_FACTOR = {
    "shared_artefact": "shared_artefacts",
    "command_similarity": "command_similarity",
    "credential_overlap": "credential_overlap",
    "dictionary_partition": "dictionary_partition",
    "shared_credential": "shared_credential",
    "guess_burst": "guess_burst",
    "scan_burst": "scan_burst",
    "prefix_toolkit": "prefix_toolkit",
    "pair_likeness": "pair_likeness",
}


def _shown(value: str) -> str:
    """Attacker-controlled text in evidence: bounded, control characters escaped."""
    text = value.encode("unicode_escape", "backslashreplace").decode("ascii")
    return text if len(text) <= MAX_VALUE_CHARS else text[: MAX_VALUE_CHARS - 1] + "…"


# -- screen -----------------------------------------------------------------------------------


def screen(frame: SessionFrame, params: AnalysisParameters) -> Screening:
    """Choose the depth: no deep analysis where no two sources share anything that could link."""
    if frame.n_sources < 2:
        return {
            "depth": "skip",
            "reason": "fewer than two sources",
            "sessions": frame.n_sessions,
            "sources": frame.n_sources,
        }
    linkable = np.zeros(len(frame.feature_names), dtype=bool)
    for spec in fk.KINDS:
        if spec.proposes_pairs or spec.feature_class is fk.FeatureClass.ARTEFACT:
            linkable |= frame.feature_kind == fk.KIND_INDEX[spec.name]
    shared = int(np.sum(linkable & (frame.feature_sources >= 2)))
    low_attempt = int(
        np.sum((frame.source_attempts >= 1) & (frame.source_attempts <= params.stealthy_max_attempts))
    )
    scanning = int(np.sum(connect_only(frame)))  # what a scanning wave is made of
    depth: Depth
    if shared == 0 and max(low_attempt, scanning) < params.dictionary_min_sources:
        depth, reason = "skip", "no two sources share a linkable feature"
    elif frame.n_sources > DEEP_MAX_SOURCES:
        depth, reason = "standard", "large window: fewer permutations per test"
    else:
        depth, reason = "deep", "linkable features shared"
    return {
        "depth": depth,
        "reason": reason,
        "sessions": frame.n_sessions,
        "sources": frame.n_sources,
        "shared_linkable_features": shared,
        "low_attempt_sources": low_attempt,
        "connect_only_sources": scanning,
    }


# -- find_patterns ----------------------------------------------------------------------------


def _proposal_doc(p: Proposal) -> ProposalDoc:
    return {
        "detector": p.detector,
        "weight": round(float(p.weight), 6),
        "features": list(p.features),
        "statistic": p.statistic,
        "sources": len(p.sources),
    }


def find_patterns(frame: SessionFrame, params: AnalysisParameters, screening: Screening) -> Patterns:
    threshold = link_threshold(frame, params)
    if screening["depth"] == "skip":
        return {
            "threshold": threshold,
            "proposals": [],
            "groups": [],
            "refused_joins": 0,
            "candidate_pairs": 0,
        }
    detection = detect(frame, params)
    grouping = group_sources(frame, detection.proposals, detection.threshold)
    used: dict[int, int] = {}  # proposal index -> slot, in order of first use
    groups: list[PatternGroup] = []
    for members, joins in zip(grouping.groups, grouping.joins, strict=True):
        triples: list[Join] = []
        for join in joins:
            slot = used.setdefault(join.proposal, len(used))
            triples.append([slot, join.a, join.b])
        groups.append({"sources": [int(s) for s in members], "joins": triples})
    proposals = [_proposal_doc(detection.proposals[original]) for original in used]
    return {
        "threshold": round(threshold, 6),
        "proposals": proposals,
        "groups": groups,
        "refused_joins": grouping.refused,
        "candidate_pairs": detection.candidate_pairs,
        "conflicting_pairs": detection.conflicting_pairs,
        "proposals_total": len(detection.proposals),
    }


def lookup_targets(frame: SessionFrame, patterns: Patterns) -> LookupTargets:
    """What the tools look up: every source (scanner lists), grouped sources (ASN/geo, intel),
    and the groups' artefacts (intel)."""
    grouped = sorted({frame.source_ips[s] for g in patterns["groups"] for s in g["sources"]})
    artefacts: set[str] = set()
    for group in patterns["groups"]:
        members = np.asarray(group["sources"], dtype=np.int64)
        artefacts.update(name for name, _ in shared_in_group(frame, members, fk.PAYLOAD, fk.URL, fk.HOST))
    return {"all_sources": list(frame.source_ips), "grouped_sources": grouped, "artefacts": sorted(artefacts)}


# -- score ------------------------------------------------------------------------------------


def _infra_of(tools: ToolOutput) -> dict[str, SourceInfra]:
    return {ip: SourceInfra(**doc) for ip, doc in sorted(tools["infra"].items())}


def score(
    frame: SessionFrame,
    params: AnalysisParameters,
    screening: Screening,
    patterns: Patterns,
    tools: ToolOutput,
    *,
    calibration: Calibration | None = None,
) -> Scored:
    """Verdict, calibrated confidence and evidence per group; benign scanners taken out first."""
    calibration = calibration or shipped_calibration()
    scanners = tools["scanners"]
    infra = _infra_of(tools)
    threshold = float(patterns["threshold"])
    window_starts = np.sort(frame.source_start)
    window_span = float(frame.end.max() - frame.start.min()) if frame.n_sessions else 0.0
    permutations = (
        params.permutations
        if screening["depth"] == "deep"
        else min(params.permutations, STANDARD_PERMUTATIONS)
    )
    n_groups = max(len(patterns["groups"]), 1)
    out: list[ScoredGroup] = []
    for group in patterns["groups"]:
        members = [s for s in group["sources"] if frame.source_ips[s] not in scanners]
        if len(members) < 2:
            continue
        kept = set(members)
        joins = [[slot, a, b] for slot, a, b in group["joins"] if a in kept and b in kept]
        members_arr = np.asarray(members, dtype=np.int64)
        # Bound the permutation work over all groups of a large window (deterministic).
        budget = max(
            99, min(permutations, int(4e7 // (n_groups * min(len(members), params.max_sources_tested))))
        )
        # Seeded by the group's own first source: its tests do not move when another group comes or goes.
        rng = np.random.default_rng([params.seed, min(group["sources"])])
        temporal = temporal_stats(
            frame.source_start[members_arr],
            frame.source_end[members_arr],
            window_starts=window_starts,
            window_span=window_span,
            rng=rng,
            permutations=budget,
            cap=params.max_sources_tested,
        )
        ips = [frame.source_ips[s] for s in members]
        v4 = frame.source_ipv4[members_arr].astype(np.int64)
        # IPv6 sources get a key of their own per address (no /24 to share).
        own = np.where(frame.source_is_v6[members_arr], -1 - members_arr, 0)
        keys = (np.where(own < 0, own, v4 >> 8).tolist(), np.where(own < 0, own, v4 >> 16).tolist())
        ginfra = group_infrastructure(ips, infra, keys)
        used = [patterns["proposals"][slot] for slot, _, _ in joins]
        weights = [p["weight"] for p in used] or [threshold]
        detectors = frozenset(p["detector"] for p in used)
        sessions = int(frame.source_sessions[members_arr].sum())
        facts = GroupFacts(
            sources=len(members),
            sessions_per_source=sessions / len(members),
            detectors=detectors,
            max_margin=max(weights) - threshold,
            min_margin=min(weights) - threshold,
            temporal=temporal,
            infra=ginfra,
            alpha=params.alpha,
            shared_tool_log_odds=shared_tool_log_odds(frame, members_arr),
        )
        verdict = decide_verdict(facts)
        raw = raw_score(facts)
        confidence = calibration.confidence(
            verdict.value, raw if verdict is not Verdict.COINCIDENTAL else -raw
        )
        if verdict is not Verdict.COINCIDENTAL and confidence < params.confident_verdict_floor:
            # A claim more likely wrong than right is not made: the likeness stays on record as
            # coincidental, as likely right as the claim was likely wrong.
            verdict = Verdict.COINCIDENTAL
            confidence = round(1.0 - confidence, 6)
        intel, intel_asked = _group_intel(frame, members_arr, ips, tools)
        out.append(
            {
                "sources": members,
                "joins": joins,
                "verdict": verdict.value,
                "confidence": confidence,
                "raw_score": raw,
                "temporal": temporal.as_statistic(),
                "infrastructure": ginfra.as_statistic(),
                "intel": intel,
                "intel_asked": intel_asked,
            }
        )
    return {"groups": out, "calibration": calibration.label}


def _group_intel(
    frame: SessionFrame, members: np.ndarray, ips: list[str], tools: ToolOutput
) -> tuple[list[dict[str, Any]], int]:
    """The group's intel matches and how many of its indicators were asked (its IPs and artefacts)."""
    artefacts = [name for name, _ in shared_in_group(frame, members, fk.PAYLOAD, fk.URL, fk.HOST)]
    asked = set(tools["intel_keys"])
    keys = [k for k in [*ips, *artefacts] if k in asked]
    matches = tools["intel_matches"]
    return merge_matches(*(matches.get(k, []) for k in keys)), len(keys)


def _intel_evidence(
    campaign_id: str, group: ScoredGroup, tools: ToolOutput, as_of: datetime
) -> list[Evidence]:
    """One ``threat_intel`` evidence per intel source asked; a failed source gives degraded evidence."""
    found: list[Evidence] = []
    for report in tools["reports"]:
        if not str(report["tool"]).startswith(INTEL_TOOL_PREFIX):
            continue
        source = str(report["tool"])[len(INTEL_TOOL_PREFIX) :]
        lookup = ThreatIntelLookup(
            source=source,
            looked_up=group["intel_asked"],
            matches=[IntelMatch.model_validate(m) for m in group["intel"] if m["source"] == source],
            failed=report["status"] != "ok",
            error=report.get("error"),
        )
        suffix = "" if source == "misp" else f":{source}"
        found.append(
            threat_intel_evidence(lookup, evidence_id=f"{campaign_id}:threat_intel{suffix}", as_of=as_of)
        )
    return found


# -- assemble ---------------------------------------------------------------------------------


def _iso(ts: float) -> datetime:
    return datetime.fromtimestamp(ts, tz=UTC)


def _signature_features(
    frame: SessionFrame, group: ScoredGroup, patterns: Patterns, threshold: float
) -> list[str]:
    """The defining features: artefacts, strong templates, rare credentials, a shared /24."""
    chosen: set[str] = set()
    for slot in sorted({slot for slot, _, _ in group["joins"]}):
        proposal = patterns["proposals"][slot]
        for name in proposal["features"]:
            kind = fk.kind_of(name)
            if (
                kind in fk.ARTEFACT_KINDS
                or kind == fk.CREDENTIAL.name
                or (kind == fk.TEMPLATE.name and proposal["weight"] >= threshold)
            ):
                chosen.add(name)
    if (
        group["verdict"] == Verdict.SINGLE_ACTOR_MULTI_SOURCE.value
        and group["infrastructure"]["prefixes_24"] == 1
    ):
        v = int(frame.source_ipv4[group["sources"][0]])
        chosen.add(fk.feature_name(fk.PREFIX24, f"{v >> 24}.{(v >> 16) & 255}.{(v >> 8) & 255}.0/24"))
    return sorted(chosen)


def shared_in_group(frame: SessionFrame, sources: np.ndarray, *kinds: fk.KindSpec) -> list[tuple[str, int]]:
    """Features of the given kinds held by two or more of the group's sources, most held first."""
    cols, columns = frame.kind_columns(*kinds)
    if len(cols) == 0:
        return []
    counts = np.asarray(columns[sources].sum(axis=0)).ravel()
    found = [(frame.feature_names[int(cols[c])], int(counts[c])) for c in np.flatnonzero(counts >= 2)]
    return sorted(found, key=lambda fc: (-fc[1], fc[0]))


def _link_evidence(
    campaign_id: str,
    factor: str,
    joins: list[Join],
    *,
    patterns: Patterns,
    threshold: float,
    group_values: list[tuple[str, int]],
) -> Evidence:
    props = [patterns["proposals"][slot] for slot, _, _ in joins]
    weights = [p["weight"] for p in props]
    values: Counter[str] = Counter()
    for p in props:
        for name in p["features"]:
            values[name] += 1
    if factor == "shared_artefacts":
        listed = group_values  # every artefact two or more sources share, not only the joining one
        key = "sources"
    else:
        listed = sorted(values.items(), key=lambda kv: (-kv[1], kv[0]))
        key = "links"
    shown = [
        {"feature": fk.kind_of(name), "value": _shown(fk.value_of(name)), key: count}
        for name, count in listed[:MAX_SHOWN_VALUES]
    ]
    stats: dict[str, Any] = {
        "links": len(joins),
        "max_log_odds": round(max(weights), 4),
        "min_log_odds": round(min(weights), 4),
        "threshold_log_odds": round(threshold, 4),
        "shared_values": shown,
    }
    details = [p["statistic"] for p in sorted(props, key=lambda p: -p["weight"])[:5]]
    stats["strongest"] = details
    if factor in ("dictionary_partition", "shared_credential", "guess_burst", "scan_burst", "prefix_toolkit"):
        stats["p_value"] = min(p["statistic"].get("p_value", 1.0) for p in props)
    margin = max(weights) - threshold
    summary = {
        "shared_artefacts": "sources share specific artefacts (payload, URL, remote host or SSH key)",
        "command_similarity": "sources ran the same or near-identical command templates",
        "credential_overlap": "sources share credentials far beyond what their popularity explains",
        "dictionary_partition": "sources each tried a few credentials of one list that no one else tried",
        "shared_credential": "sources each tried little but one uncommon credential they all share",
        "guess_burst": "sources each tried a few uncommon credentials, all starting in one burst",
        "scan_burst": "sources of one client fingerprint connected without logging in, all in one burst",
        "prefix_toolkit": "sources of one /24 all ran one uncommon client build, beyond chance",
        "pair_likeness": "sources are alike in several weak features at once",
    }[factor]
    return Evidence(
        evidence_id=f"{campaign_id}:{factor}",
        factor=factor,
        score=round(1.0 - math.exp(-max(margin, 0.0) / 4.0), 4),
        statistic=stats,
        summary=summary,
    )


def shared_tool_log_odds(frame: SessionFrame, members: np.ndarray) -> float:
    """How unlikely it is that every member runs one client (HASSH, terminal request) by chance:
    (k-1)·ln(1/share) for the rarest one they all ran, its share being the window's sources that ran it."""
    cols, by_source = frame.kind_columns(fk.CLIENT, fk.HASSH, fk.TERMINAL)
    if len(cols) == 0 or len(members) < 2:
        return 0.0
    counts = np.asarray(by_source[members].sum(axis=0)).ravel()
    everyone = np.flatnonzero(counts >= len(members))
    if len(everyone) == 0:
        return 0.0
    share = float(frame.feature_sources[cols[everyone]].min()) / max(frame.n_sources, 1)
    return round((len(members) - 1) * -math.log(share), 6)


def _tooling_evidence(campaign_id: str, frame: SessionFrame, sources: np.ndarray) -> Evidence | None:
    """Shared tooling, with how common it is in the window (why it never links on its own)."""
    cols, by_source = frame.kind_columns(
        fk.CLIENT, fk.HASSH, fk.TERMINAL
    )  # cached: the same as the raw score's
    if len(cols) == 0:
        return None
    counts = np.asarray(by_source[sources].sum(axis=0)).ravel()
    shared = [(int(cols[c]), int(counts[c])) for c in np.flatnonzero(counts >= 2)]
    if not shared:
        return None
    shown = [
        {
            "feature": fk.kind_of(frame.feature_names[f]),
            "value": _shown(fk.value_of(frame.feature_names[f])),
            "campaign_sources": n,
            "window_share": round(float(frame.feature_sources[f]) / max(frame.n_sources, 1), 4),
        }
        for f, n in sorted(shared, key=lambda fn: (-fn[1], frame.feature_names[fn[0]]))[:MAX_SHOWN_VALUES]
    ]
    top_share = max(float(frame.feature_sources[f]) / max(frame.n_sources, 1) for f, _ in shared)
    return Evidence(
        evidence_id=f"{campaign_id}:tooling",
        factor="tooling",
        score=round(max(0.0, 1.0 - top_share), 4),
        statistic={"shared": shown},
        summary="shared client tooling, weighed by how common it is in the window (context only)",
    )


def assemble(
    frame: SessionFrame,
    run: RunInfo,
    screening: Screening,
    patterns: Patterns,
    *,
    tools: ToolOutput,
    scored: Scored,
) -> AnalysisResult:
    """The contract's result: one campaign per scored group, the benign scanners, the sources' profiles."""
    threshold = float(patterns["threshold"])
    first_session, sessions_of = _grouped_sessions(frame, scored)
    in_campaign = np.zeros(frame.n_sessions, dtype=bool)
    infra = _infra_of(tools)
    scanners = tools["scanners"]
    campaigns: list[Campaign] = []
    profiles: list[SourceProfile] = []
    for group in scored["groups"]:
        sess = sorted(i for s in group["sources"] for i in sessions_of[s])
        in_campaign[sess] = True
        campaign = _campaign(
            frame,
            group,
            sess,
            patterns=patterns,
            threshold=threshold,
            tools=tools,
            scored=scored,
            first_session=first_session,
            sessions_of=sessions_of,
        )
        campaigns.append(campaign)
        profiles.extend(_profile(ip, infra, scanners, campaign.campaign_id) for ip in campaign.source_ips)
    benign = _benign_scanners(frame, scanners)
    profiles.extend(_profile(b.source_ip, infra, scanners, None) for b in benign)
    campaigns.sort(key=lambda c: (c.first_seen, c.campaign_id))
    independent = sorted(frame.session_ids[i] for i in np.flatnonzero(~in_campaign))
    reports = [ToolReport(**r) for r in tools["reports"]]
    return AnalysisResult(
        run=run,
        campaigns=campaigns,
        independent_session_ids=independent,
        notes=_notes(frame, screening, patterns, scored, threshold),
        benign_scanners=benign,
        sources=sorted(profiles, key=lambda p: (p.ip, p.campaign_id or "")),
        tools=sorted(reports, key=lambda r: r.tool),
    )


def _grouped_sessions(frame: SessionFrame, scored: Scored) -> tuple[np.ndarray, dict[int, list[int]]]:
    """Each source's first session, and the sessions of every source in a scored group."""
    first_session = np.full(frame.n_sources, -1, dtype=np.int64)
    # sessions are in canonical order: the first occurrence of each source is its first session
    sources, first_idx = np.unique(frame.source, return_index=True)
    first_session[sources] = first_idx
    sessions_of: dict[int, list[int]] = {}
    grouped_sources = {s for g in scored["groups"] for s in g["sources"]}
    for i, src in enumerate(frame.source.tolist()):
        if src in grouped_sources:
            sessions_of.setdefault(src, []).append(i)
    return first_session, sessions_of


def _campaign(
    frame: SessionFrame,
    group: ScoredGroup,
    sess: list[int],
    *,
    patterns: Patterns,
    threshold: float,
    tools: ToolOutput,
    scored: Scored,
    first_session: np.ndarray,
    sessions_of: dict[int, list[int]],
) -> Campaign:
    """One scored group as a campaign: its id from its sessions, evidence, links and signature."""
    sources = np.asarray(group["sources"], dtype=np.int64)
    session_ids = sorted(frame.session_ids[i] for i in sess)
    campaign_id = "cmp-" + hashlib.sha256("\n".join(session_ids).encode()).hexdigest()[:16]
    artefacts = shared_in_group(frame, sources, fk.PAYLOAD, fk.URL, fk.HOST, fk.SSH_KEY, fk.WALLET)
    evidence = _campaign_evidence(
        frame,
        group,
        sess,
        campaign_id,
        artefacts=artefacts,
        patterns=patterns,
        threshold=threshold,
        tools=tools,
        scored=scored,
    )
    links = _campaign_links(
        frame, group, campaign_id, patterns=patterns, first_session=first_session, sessions_of=sessions_of
    )
    return Campaign(
        campaign_id=campaign_id,
        verdict=Verdict(group["verdict"]),
        confidence=group["confidence"],
        session_ids=session_ids,
        source_ips=sorted(frame.source_ips[s] for s in group["sources"]),
        first_seen=_iso(float(frame.start[sess].min())),
        last_seen=_iso(float(frame.end[sess].max())),
        evidence=evidence,
        links=links,
        labels=_labels(group),
        signature=sorted(
            {
                hashlib.sha256(f.encode("utf-8", "backslashreplace")).hexdigest()[:16]
                for f in [
                    *_signature_features(frame, group, patterns, threshold),
                    *(name for name, _ in artefacts),
                    # base words of one walked list recur in the next interval's guesses
                    *(name for name, _ in shared_in_group(frame, sources, fk.PASSWORD_STEM)),
                ]
            }
        ),
    )


def _campaign_evidence(
    frame: SessionFrame,
    group: ScoredGroup,
    sess: list[int],
    campaign_id: str,
    *,
    artefacts: list[tuple[str, int]],
    patterns: Patterns,
    threshold: float,
    tools: ToolOutput,
    scored: Scored,
) -> list[Evidence]:
    """Every evidence item of one campaign, by id: the links by factor, timing, infrastructure,
    tooling, intel, the sources' other sessions and the calibrated confidence."""
    sources = np.asarray(group["sources"], dtype=np.int64)
    evidence: list[Evidence] = []
    by_factor: dict[str, list[Join]] = {}
    for join in group["joins"]:
        slot, _, _ = join
        by_factor.setdefault(LINK_FACTOR[patterns["proposals"][slot]["detector"]], []).append(join)
    if artefacts and "shared_artefacts" not in by_factor:
        # Another detector joined them first; the artefacts they share are still evidence.
        evidence.append(
            Evidence(
                evidence_id=f"{campaign_id}:shared_artefacts",
                factor="shared_artefacts",
                score=1.0,
                statistic={
                    "links": 0,
                    "shared_values": [
                        {"feature": fk.kind_of(n), "value": _shown(fk.value_of(n)), "sources": c}
                        for n, c in artefacts[:MAX_SHOWN_VALUES]
                    ],
                },
                summary="sources share specific artefacts (payload, URL, remote host or SSH key)",
            )
        )
    for factor in sorted(by_factor):
        evidence.append(
            _link_evidence(
                campaign_id,
                factor,
                by_factor[factor],
                patterns=patterns,
                threshold=threshold,
                group_values=artefacts,
            )
        )
    temporal = group["temporal"]
    evidence.append(
        Evidence(
            evidence_id=f"{campaign_id}:temporal_synchronisation",
            factor="temporal_synchronisation",
            score=round(1.0 - float(temporal["p_value"]), 4),
            statistic={
                **temporal,
                "null_model": "permutation of first-seen times among the window's sources",
            },
            summary="first-seen times of the sources against random draws of the window's sources",
        )
    )
    ginfra = group["infrastructure"]
    shared_infra = ginfra["prefixes_24"] == 1 or (
        ginfra["sources_with_as"] == ginfra["sources"] and ginfra["as_organisations"] == 1
    )
    evidence.append(
        Evidence(
            evidence_id=f"{campaign_id}:infrastructure",
            factor="infrastructure",
            score=1.0
            if shared_infra
            else round(min(1.0, max(0.0, ginfra["as_entropy_bits"]) / 4.0) + 0.0, 4),
            statistic={**ginfra, "shared": shared_infra},
            summary="shared infrastructure" if shared_infra else "sources spread over networks",
        )
    )
    tooling = _tooling_evidence(campaign_id, frame, sources)
    if tooling is not None:
        evidence.append(tooling)
    # Intel age is measured at the campaign's own last activity, so the result stays reproducible.
    evidence.extend(_intel_evidence(campaign_id, group, tools, _iso(float(frame.end[sess].max()))))
    if any(frame.source_sessions[s] > 1 for s in group["sources"]):
        evidence.append(
            Evidence(
                evidence_id=f"{campaign_id}:source_sessions",
                factor="source_sessions",
                score=1.0,
                statistic={"sources": len(sources), "sessions": len(sess)},
                summary="every session of a linked source IP in the window belongs to its campaign",
            )
        )
    evidence.append(
        Evidence(
            evidence_id=f"{campaign_id}:confidence",
            factor="confidence",
            score=group["confidence"],
            statistic={
                "raw_score": group["raw_score"],
                "calibration": scored["calibration"],
                "meaning": "probability that the verdict and the membership are right",
            },
            summary="calibrated from the raw evidence score (isotonic map fitted on generated data)",
        )
    )
    evidence.sort(key=lambda e: e.evidence_id)
    return evidence


def _campaign_links(
    frame: SessionFrame,
    group: ScoredGroup,
    campaign_id: str,
    *,
    patterns: Patterns,
    first_session: np.ndarray,
    sessions_of: dict[int, list[int]],
) -> list[Link]:
    """The group's joins between first sessions, and each source's other sessions tied to its
    first; one link per session pair (the heaviest), in pair order."""
    links: list[Link] = []
    for slot, a, b in group["joins"]:
        proposal = patterns["proposals"][slot]
        sa, sb = frame.session_ids[first_session[a]], frame.session_ids[first_session[b]]
        lo, hi = sorted((sa, sb))
        links.append(
            Link.model_construct(
                session_a=lo,
                session_b=hi,
                features=[_shown(f) for f in proposal["features"]],
                weight=round(float(proposal["weight"]), 4),
                evidence_ids=[f"{campaign_id}:{LINK_FACTOR[proposal['detector']]}"],
            )
        )
    for s in group["sources"]:
        anchor = frame.session_ids[first_session[s]]
        for i in sessions_of[s]:
            other = frame.session_ids[i]
            if other != anchor:
                lo, hi = sorted((anchor, other))
                links.append(
                    Link.model_construct(
                        session_a=lo,
                        session_b=hi,
                        features=["source_ip"],
                        weight=0.0,
                        evidence_ids=[f"{campaign_id}:source_sessions"],
                    )
                )
    unique_links = {(lk.session_a, lk.session_b): lk for lk in sorted(links, key=lambda lk: lk.weight)}
    return [unique_links[k] for k in sorted(unique_links)]


def _benign_scanners(frame: SessionFrame, scanners: dict[str, list[str]]) -> list[BenignScanner]:
    """Sources on published scanner lists, with their sessions, by address."""
    scanner_sessions: dict[str, list[str]] = {}
    for i, src in enumerate(frame.source.tolist()):
        ip = frame.source_ips[src]
        if ip in scanners:
            scanner_sessions.setdefault(ip, []).append(frame.session_ids[i])
    return [
        BenignScanner(source_ip=ip, lists=sorted(scanners[ip]), session_ids=sorted(scanner_sessions[ip]))
        for ip in sorted(scanner_sessions)
    ]


def _notes(
    frame: SessionFrame,
    screening: Screening,
    patterns: Patterns,
    scored: Scored,
    threshold: float,
) -> list[str]:
    """How the result was reached: depth, link threshold, proposal counts, calibration."""
    return [
        f"analyzer: coord_core.analysis (depth {screening['depth']}: {screening['reason']})",
        f"link threshold {threshold:.3f} log-odds over {frame.n_sources} sources",
        f"proposals {patterns.get('proposals_total', 0)}, "
        f"candidate pairs {patterns.get('candidate_pairs', 0)}, "
        f"refused joins {patterns.get('refused_joins', 0)}",
        f"calibration: {scored['calibration']}",
    ]


def _profile(
    ip: str, infra: dict[str, SourceInfra], scanners: dict[str, list[str]], campaign_id: str | None
) -> SourceProfile:
    info = infra.get(ip)
    # Built from this module's own validated values: skip re-validation (hot at large windows).
    return SourceProfile.model_construct(
        ip=ip,
        country=info.country if info else None,
        as_name=info.as_name if info else None,
        as_prefix=info.as_prefix if info else None,
        network_type=info.network_type if info else "unknown",
        scanner_lists=sorted(scanners.get(ip, [])),
        campaign_id=campaign_id,
    )


def _labels(group: ScoredGroup) -> list[str]:
    labels: set[str] = set()
    t = group["temporal"]
    if t["waves"] > 1:
        labels.add("waves")
    if t["p_value"] < 0.01:
        labels.add("synchronised")
    if t["sequential"]:
        labels.add("sequential")
    if group["infrastructure"]["hosting_share"] >= 0.5:
        labels.add("hosting")
    if group["infrastructure"]["prefixes_24"] == 1:
        labels.add("same_24")
    return sorted(labels)
