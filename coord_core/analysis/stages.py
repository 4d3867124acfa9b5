"""The analysis stages' outputs, typed: the JSON documents the workflow checkpoints between nodes.

Each stage of :mod:`coord_core.analysis.engine` returns one of these and reads the earlier ones.
They stay plain JSON (a checkpoint round-trips them through PostgreSQL), so sources are indices
into the canonical frame and a join is a three-item list, read by unpacking it by name.
"""

from __future__ import annotations

from typing import Any, Literal, NotRequired, TypedDict

from coord_core.analysis.infrastructure import InfrastructureStatistic
from coord_core.analysis.temporal import TemporalStatistic

Depth = Literal["skip", "standard", "deep"]


class Screening(TypedDict):
    """``screen``: how deep to look, why, and the counts that decided it."""

    depth: Depth
    reason: str
    sessions: int
    sources: int
    shared_linkable_features: NotRequired[int]  # absent when there are fewer than two sources
    low_attempt_sources: NotRequired[int]
    connect_only_sources: NotRequired[int]  # sources that never logged in nor ran a command


class ProposalDoc(TypedDict):
    """One link proposal as the groups' joins cite it (by its slot in ``Patterns.proposals``)."""

    detector: str
    weight: float  # log-odds
    features: list[str]
    statistic: dict[str, Any]  # the detector's own test statistic
    sources: int


# A join of two sources: [proposal slot, source a, source b] (a list: JSON has no tuples).
Join = list[int]


class PatternGroup(TypedDict):
    sources: list[int]
    joins: list[Join]


class Patterns(TypedDict):
    """``find_patterns``: the link threshold, the proposals the joins used and the groups."""

    threshold: float
    proposals: list[ProposalDoc]
    groups: list[PatternGroup]
    refused_joins: int
    candidate_pairs: int
    conflicting_pairs: NotRequired[int]  # absent when screening skipped the detectors
    proposals_total: NotRequired[int]


class LookupTargets(TypedDict):
    """``lookup_targets``: what the tools are asked about."""

    all_sources: list[str]  # scanner lists
    grouped_sources: list[str]  # ASN/geo and threat intel
    artefacts: list[str]  # threat intel (feature names)


class ToolReportDoc(TypedDict):
    """One tool's account of its run (the result's ``tools`` list)."""

    tool: str
    status: str  # ok | failed
    looked_up: NotRequired[int]
    from_cache: NotRequired[int]
    matches: NotRequired[int]
    error: NotRequired[str]


class ToolOutput(TypedDict):
    """The tool coordinator's answers, by source IP or artefact feature name."""

    infra: dict[str, dict[str, Any]]  # SourceInfra fields per IP
    scanners: dict[str, list[str]]  # the published lists each scanner IP is on
    intel_matches: dict[str, list[dict[str, Any]]]  # match records (intel_matches.match_record)
    intel_keys: list[str]  # every key asked of threat intel
    reports: list[ToolReportDoc]


class ScoredGroup(TypedDict):
    """One group after benign scanners left it: its tests, verdict and calibrated confidence."""

    sources: list[int]
    joins: list[Join]
    verdict: str
    confidence: float
    raw_score: float
    temporal: TemporalStatistic
    infrastructure: InfrastructureStatistic
    intel: list[dict[str, Any]]
    intel_asked: int


class Scored(TypedDict):
    """``score``: the groups kept, and the calibration that gave their confidence."""

    groups: list[ScoredGroup]
    calibration: str
