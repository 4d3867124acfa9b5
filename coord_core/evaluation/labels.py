"""Line up a scenario's truth with an analysis result: one row per session, one per campaign.

Sessions are matched by Cowrie session id (the contract's ``session_ids``), so a truth whose ids
repeat across sensors, or a result naming a session the truth does not know or putting one
session in two campaigns, is an error rather than a silently skewed score.

Per session:

* true cluster: the actor's campaign when the actor is multi-source, else the session alone;
* predicted cluster: its campaign when the campaign's verdict is not ``coincidental``, else alone;
* true verdict: the actor's expected verdict when multi-source, else ``coincidental``;
  predicted verdict: its campaign's verdict (any campaign), else ``coincidental``.

Per predicted campaign (what ``confidence`` is calibrated against): let D be the true
multi-source campaign with the most sessions in it. The campaign's true verdict is D's when D
exists and its sessions in the campaign come from at least two source IPs, else
``coincidental``. The campaign is *correct* when its verdict equals that true verdict and, for a
non-coincidental verdict, it is pure and complete enough: at least ``PURITY`` of its sessions
are D's and it holds at least ``COMPLETENESS`` of D's sessions.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
from numpy.typing import NDArray

from coord_core.contracts.campaigns import AnalysisResult, Verdict
from coord_core.scenarios.truth import ScenarioTruth

PURITY = 0.9
COMPLETENESS = 0.5
STEALTHY_ARCHETYPE = "distributed_brute_force"
VERDICTS: tuple[Verdict, ...] = tuple(Verdict)
VERDICT_CODES: dict[Verdict, int] = {verdict: code for code, verdict in enumerate(VERDICTS)}


class EvaluationInputError(ValueError):
    """Truth and result cannot be lined up; the message says which session and why."""


@dataclass(frozen=True)
class SessionLabels:
    true_cluster: NDArray[np.int64]
    pred_cluster: NDArray[np.int64]
    source: NDArray[np.int64]
    true_verdict: NDArray[np.int64]
    pred_verdict: NDArray[np.int64]
    in_true_campaign: NDArray[np.bool_]
    in_pred_campaign: NDArray[np.bool_]
    stealthy: NDArray[np.bool_]

    @property
    def truly_independent(self) -> NDArray[np.bool_]:
        return ~self.in_true_campaign

    @property
    def verdict_considered(self) -> NDArray[np.bool_]:
        return self.in_true_campaign | self.in_pred_campaign

    def __len__(self) -> int:
        return len(self.true_cluster)


@dataclass(frozen=True)
class CampaignOutcomes:
    confidence: NDArray[np.float64]
    correct: NDArray[np.bool_]

    def __len__(self) -> int:
        return len(self.confidence)


def line_up(truth: ScenarioTruth, result: AnalysisResult) -> tuple[SessionLabels, CampaignOutcomes]:
    actors = truth.actor_by_id()
    index: dict[str, int] = {}
    for i, session in enumerate(truth.sessions):
        if session.session_id in index:
            raise EvaluationInputError(f"session id {session.session_id} appears twice in the truth")
        if session.actor_id not in actors:
            raise EvaluationInputError(f"session {session.session_id} names unknown actor {session.actor_id}")
        index[session.session_id] = i
    n = len(truth.sessions)
    actor_code = {actor_id: code for code, actor_id in enumerate(actors)}
    true_cluster = np.arange(n, dtype=np.int64) + len(actors)
    true_verdict = np.full(n, VERDICT_CODES[Verdict.COINCIDENTAL], dtype=np.int64)
    in_true = np.zeros(n, dtype=bool)
    stealthy = np.zeros(n, dtype=bool)
    ips: dict[str, int] = {}
    source = np.empty(n, dtype=np.int64)
    for i, session in enumerate(truth.sessions):
        actor = actors[session.actor_id]
        source[i] = ips.setdefault(session.src_ip, len(ips))
        stealthy[i] = actor.archetype == STEALTHY_ARCHETYPE
        if actor.multi_source:
            true_cluster[i] = actor_code[actor.actor_id]
            true_verdict[i] = VERDICT_CODES[actor.expected_verdict]
            in_true[i] = True

    pred_cluster = np.arange(n, dtype=np.int64) + len(result.campaigns)
    pred_verdict = np.full(n, VERDICT_CODES[Verdict.COINCIDENTAL], dtype=np.int64)
    in_pred = np.zeros(n, dtype=bool)
    owner: dict[int, str] = {}
    members_of: list[list[int]] = []
    for code, campaign in enumerate(result.campaigns):
        members = []
        for session_id in campaign.session_ids:
            row = index.get(session_id)
            if row is None:
                raise EvaluationInputError(
                    f"campaign {campaign.campaign_id} names unknown session {session_id}"
                )
            if row in owner:
                raise EvaluationInputError(
                    f"session {session_id} is in campaigns {owner[row]} and {campaign.campaign_id}"
                )
            owner[row] = campaign.campaign_id
            members.append(row)
            pred_verdict[row] = VERDICT_CODES[campaign.verdict]
            if campaign.verdict != Verdict.COINCIDENTAL:
                pred_cluster[row] = code
                in_pred[row] = True
        members_of.append(members)

    labels = SessionLabels(
        true_cluster, pred_cluster, source, true_verdict, pred_verdict, in_true, in_pred, stealthy
    )
    sizes = Counter(int(c) for c in true_cluster[in_true])
    verdict_of = {int(true_cluster[i]): VERDICTS[int(true_verdict[i])] for i in np.flatnonzero(in_true)}
    correct = [
        _campaign_correct(campaign.verdict, members, labels, sizes, verdict_of)
        for campaign, members in zip(result.campaigns, members_of, strict=True)
    ]
    outcomes = CampaignOutcomes(
        np.array([c.confidence for c in result.campaigns], dtype=float), np.array(correct, dtype=bool)
    )
    return labels, outcomes


def _campaign_correct(
    verdict: Verdict,
    members: Sequence[int],
    labels: SessionLabels,
    sizes: Counter[int],
    verdict_of: dict[int, Verdict],
) -> bool:
    counts = Counter(int(labels.true_cluster[i]) for i in members if labels.in_true_campaign[i])
    true_verdict = Verdict.COINCIDENTAL
    dominant, overlap = -1, 0
    if counts:
        dominant, overlap = min(counts.items(), key=lambda item: (-item[1], item[0]))
        sources = {int(labels.source[i]) for i in members if labels.true_cluster[i] == dominant}
        if len(sources) >= 2:
            true_verdict = verdict_of[dominant]
    if verdict != true_verdict:
        return False
    if verdict == Verdict.COINCIDENTAL:
        return True
    return overlap / len(members) >= PURITY and overlap / sizes[dominant] >= COMPLETENESS


def concat(parts: Sequence[tuple[SessionLabels, CampaignOutcomes]]) -> tuple[SessionLabels, CampaignOutcomes]:
    """Pool several windows into one set of rows: clusters and sources never span windows."""
    true_cluster: list[NDArray[np.int64]] = []
    pred_cluster: list[NDArray[np.int64]] = []
    source: list[NDArray[np.int64]] = []
    offsets = [0, 0, 0]
    for labels, _ in parts:
        for column, values, k in (
            (true_cluster, labels.true_cluster, 0),
            (pred_cluster, labels.pred_cluster, 1),
            (source, labels.source, 2),
        ):
            column.append(values + offsets[k])
            offsets[k] += int(values.max(initial=-1)) + 1
    pooled = SessionLabels(
        true_cluster=_cat(true_cluster, np.int64),
        pred_cluster=_cat(pred_cluster, np.int64),
        source=_cat(source, np.int64),
        true_verdict=_cat([labels.true_verdict for labels, _ in parts], np.int64),
        pred_verdict=_cat([labels.pred_verdict for labels, _ in parts], np.int64),
        in_true_campaign=_cat([labels.in_true_campaign for labels, _ in parts], np.bool_),
        in_pred_campaign=_cat([labels.in_pred_campaign for labels, _ in parts], np.bool_),
        stealthy=_cat([labels.stealthy for labels, _ in parts], np.bool_),
    )
    outcomes = CampaignOutcomes(
        _cat([o.confidence for _, o in parts], np.float64), _cat([o.correct for _, o in parts], np.bool_)
    )
    return pooled, outcomes


def _cat(arrays: Sequence[NDArray[Any]], dtype: type[np.generic]) -> NDArray[Any]:
    return np.concatenate(arrays).astype(dtype) if arrays else np.empty(0, dtype=dtype)
