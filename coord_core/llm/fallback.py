"""The narrative written without a model: the same shape, built only from the stored evidence.

Deterministic (same campaign, same text), so a run without Ollama still explains every
campaign, and every claim cites the evidence it restates.
"""

from __future__ import annotations

from typing import Any

from coord_core.contracts.campaigns import Campaign, Verdict
from coord_core.contracts.narratives import CheckedAnswer, Claim
from coord_core.llm.output import SENTENCE_CHARS
from coord_core.llm.untrusted import bounded_text

_VERDICT_TEXT = {
    Verdict.COORDINATED_CAMPAIGN: "a coordinated campaign",
    Verdict.SINGLE_ACTOR_MULTI_SOURCE: "one actor using several sources",
    Verdict.COINCIDENTAL: "coincidence",
}

_HYPOTHESIS = {
    Verdict.COORDINATED_CAMPAIGN: (
        "Sources spread over several networks act with a shared toolkit, payload or target: "
        "a botnet or a group working together."
    ),
    Verdict.SINGLE_ACTOR_MULTI_SOURCE: (
        "Sources sharing infrastructure act in turn: one operator rotating addresses."
    ),
    Verdict.COINCIDENTAL: (
        "The sessions look alike only through what is common in the window; chance explains it."
    ),
}


def deterministic_answer(campaign: Campaign) -> CheckedAnswer:
    sessions, ips = len(campaign.session_ids), len(campaign.source_ips)
    summary = (
        f"The analysis rates {sessions} session(s) from {ips} source IP(s) between "
        f"{campaign.first_seen.isoformat()} and {campaign.last_seen.isoformat()} as "
        f"{_VERDICT_TEXT[campaign.verdict]} with confidence {campaign.confidence:.2f}, "
        f"on {len(campaign.evidence)} piece(s) of evidence."
    )
    claims = tuple(
        Claim(
            text=bounded_text(
                f"{e.factor} scored {e.score:.2f}" + (f": {e.summary}" if e.summary else "."),
                SENTENCE_CHARS - 40,
            ),
            evidence_ids=(e.evidence_id,),
        )
        for e in campaign.evidence
    )
    return CheckedAnswer(summary=summary, hypotheses=(_HYPOTHESIS[campaign.verdict],), claims=claims)


def explain_stored_occurrence(occurrence: dict[str, Any]) -> dict[str, Any]:
    """The deterministic narrative of a stored occurrence (as ``campaign_lineage`` returns it): the
    same sentences as ``deterministic_answer``, for campaigns stored without a narrative."""
    verdict = Verdict(occurrence["verdict"])
    evidence = occurrence.get("evidence", [])
    summary = (
        f"The analysis rates {occurrence['sessions']} session(s) from {occurrence['source_ips']} "
        f"source IP(s) between {occurrence['first_seen']} and {occurrence['last_seen']} as "
        f"{_VERDICT_TEXT[verdict]} with confidence {float(occurrence['confidence']):.2f}, "
        f"on {len(evidence)} piece(s) of evidence."
    )
    claims = [
        {
            "text": bounded_text(
                f"{e['factor']} scored {float(e['score']):.2f}"
                + (f": {e['summary']}" if e.get("summary") else "."),
                SENTENCE_CHARS - 40,
            ),
            "evidence_ids": [e["evidence_id"]],
        }
        for e in evidence
    ]
    return {
        "source": "deterministic",
        "summary": summary,
        "hypotheses": [_HYPOTHESIS[verdict]],
        "claims": claims,
    }
