"""Narrative records: the LLM's checked answer for one campaign, shared by the narrator and the store."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any


@dataclass(frozen=True)
class Claim:
    text: str
    evidence_ids: tuple[str, ...]

    def as_dict(self) -> dict[str, Any]:
        return {"text": self.text, "evidence_ids": list(self.evidence_ids)}


@dataclass(frozen=True)
class RejectedClaim:
    text: str
    evidence_ids: tuple[str, ...]
    reason: str

    def as_dict(self) -> dict[str, Any]:
        return {"text": self.text, "evidence_ids": list(self.evidence_ids), "reason": self.reason}


@dataclass(frozen=True)
class CheckedAnswer:
    summary: str
    hypotheses: tuple[str, ...]
    claims: tuple[Claim, ...]
    rejected: tuple[RejectedClaim, ...] = field(default=())


@dataclass(frozen=True)
class NarrativeRecord:
    """What is stored for one campaign in ``coord.narratives``."""

    campaign_id: str
    status: str  # ok | unavailable | rejected
    reason: str
    source: str  # llm | deterministic
    answer: CheckedAnswer
    rejected: tuple[RejectedClaim, ...]
    model: str | None
    model_digest: str | None
    prompt_sha256: str

    def narrative(self) -> dict[str, Any]:
        return {
            "source": self.source,
            "summary": self.answer.summary,
            "hypotheses": list(self.answer.hypotheses),
            "claims": [c.as_dict() for c in self.answer.claims],
        }

    def rejected_claims(self) -> list[dict[str, Any]]:
        return [r.as_dict() for r in self.rejected]
