"""A group's verdict and its raw confidence score, from the facts the detectors established.

- ``coordinated_campaign``: the group is held together by specific evidence (artefacts, a
  toolkit's commands, a shared dictionary, surprising credential overlap) and its sources are
  spread over networks, acting in parallel or in waves.
- ``single_actor_multi_source``: the sources share infrastructure (one /24, or one AS for all)
  and take turns; or, spread over networks, they hand over one to the next with no overlap.
- ``coincidental``: what joined them is only likeness that chance explains at this window's
  size (modest link margin, no artefact or other specific evidence, no timing beyond chance;
  a shared hosting prefix alone does not make them one actor).

The raw score grows with the evidence; ``calibration`` turns it into a probability.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

from coord_core.analysis.infrastructure import GroupInfrastructure
from coord_core.analysis.temporal import TemporalStats
from coord_core.contracts.campaigns import Verdict

SPECIFIC_DETECTORS = frozenset(
    {
        "shared_artefact",
        "command_similarity",
        "dictionary_partition",
        "shared_credential",
        "guess_burst",
        "scan_burst",
        "prefix_toolkit",
    }
)


@dataclass(frozen=True)
class GroupFacts:
    sources: int
    sessions_per_source: float
    detectors: frozenset[str]
    max_margin: float  # heaviest join's log-odds above the threshold
    min_margin: float  # weakest accepted join's margin (the chain's weakest link)
    temporal: TemporalStats
    infra: GroupInfrastructure
    alpha: float
    # (k-1)·ln(1/share) of the rarest client or HASSH every member ran: one tool across sources
    shared_tool_log_odds: float = 0.0

    @property
    def specific(self) -> bool:
        return bool(self.detectors & SPECIFIC_DETECTORS) or self.max_margin >= 8.0

    @property
    def synchronised(self) -> bool:
        return self.temporal.p_sync < self.alpha

    @property
    def handover(self) -> bool:
        """Sources used (nearly) one at a time, each for several sessions: an operator rotating."""
        return self.temporal.overlap_fraction <= 0.2 and self.sessions_per_source >= 2.0


def decide_verdict(facts: GroupFacts) -> Verdict:
    if not facts.specific and not facts.synchronised and not facts.infra.shared and facts.max_margin < 3.0:
        return Verdict.COINCIDENTAL
    if facts.infra.shared and (facts.temporal.overlap_fraction < 0.5 or facts.sources <= 3):
        return Verdict.SINGLE_ACTOR_MULTI_SOURCE
    if facts.infra.prefixes16 == 1 and facts.sources >= 2 and facts.temporal.overlap_fraction < 0.5:
        return Verdict.SINGLE_ACTOR_MULTI_SOURCE
    if facts.handover and facts.sources <= 12:
        return Verdict.SINGLE_ACTOR_MULTI_SOURCE
    return Verdict.COORDINATED_CAMPAIGN


def raw_score(facts: GroupFacts) -> float:
    """Log-odds-like evidence that the group is one actor or campaign (before calibration)."""
    score = 0.3 * min(facts.max_margin, 20.0) + 0.15 * min(facts.min_margin, 10.0) - 1.0
    if "shared_artefact" in facts.detectors:
        score += 1.5
    if "command_similarity" in facts.detectors:
        score += 0.8
    if "dictionary_partition" in facts.detectors:
        score += 0.8
    if "prefix_toolkit" in facts.detectors:
        score += 0.8
    if "credential_overlap" in facts.detectors:  # one private list: its weight already discounts popularity
        score += 0.8
    if facts.synchronised:
        score += 0.5 * min(3.0, -math.log10(max(facts.temporal.p_sync, 1e-12)))
    if facts.infra.shared:
        score += 0.7
    # One uncommon tool on every source: the operator's own kit (chance: share^(k-1)).
    score += 0.1 * min(facts.shared_tool_log_odds, 10.0)
    score += 0.25 * math.log(max(facts.sources, 1))
    return round(score, 6)
