"""The answer's shape (sent to Ollama as ``format``) and its check: schema, then citations.

A claim stands only when every evidence id it cites belongs to the campaign; the others are
kept, with the reason, as rejected claims. The answer has no numeric field at all: the model
writes text and cannot hand back a score.
"""

from __future__ import annotations

import json
from collections.abc import Collection
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, ValidationError

from coord_core.contracts.narratives import CheckedAnswer, Claim, RejectedClaim

SUMMARY_CHARS = 1500
SENTENCE_CHARS = 600
MAX_HYPOTHESES = 6
MAX_CLAIMS = 12
MAX_CITATIONS = 8
EVIDENCE_ID_CHARS = 200

NARRATIVE_SCHEMA: dict[str, Any] = {
    "type": "object",
    "properties": {
        "summary": {"type": "string", "maxLength": SUMMARY_CHARS},
        "hypotheses": {
            "type": "array",
            "maxItems": MAX_HYPOTHESES,
            "items": {"type": "string", "maxLength": SENTENCE_CHARS},
        },
        "claims": {
            "type": "array",
            "maxItems": MAX_CLAIMS,
            "items": {
                "type": "object",
                "properties": {
                    "text": {"type": "string", "maxLength": SENTENCE_CHARS},
                    "evidence_ids": {
                        "type": "array",
                        "minItems": 1,
                        "maxItems": MAX_CITATIONS,
                        "items": {"type": "string", "maxLength": EVIDENCE_ID_CHARS},
                    },
                },
                "required": ["text", "evidence_ids"],
                "additionalProperties": False,
            },
        },
    },
    "required": ["summary", "hypotheses", "claims"],
    "additionalProperties": False,
}


class _Claim(BaseModel):
    model_config = ConfigDict(extra="forbid", strict=True)

    text: str = Field(max_length=SENTENCE_CHARS)
    evidence_ids: list[str] = Field(min_length=1, max_length=MAX_CITATIONS)


class _Answer(BaseModel):
    """Mirrors :data:`NARRATIVE_SCHEMA` (a test keeps the two in step)."""

    model_config = ConfigDict(extra="forbid", strict=True)

    summary: str = Field(max_length=SUMMARY_CHARS)
    hypotheses: list[str] = Field(max_length=MAX_HYPOTHESES)
    claims: list[_Claim] = Field(max_length=MAX_CLAIMS)


class InvalidAnswer(ValueError):
    """The model's text is not a JSON object of the narrative schema."""


def parse_answer(content: str) -> _Answer:
    try:
        data = json.loads(content)
    except json.JSONDecodeError as exc:
        raise InvalidAnswer(f"not JSON ({exc.msg} at char {exc.pos})") from exc
    try:
        return _Answer.model_validate(data)
    except ValidationError as exc:
        problems = "; ".join(
            f"{'.'.join(str(p) for p in err['loc']) or 'answer'}: {err['msg']}" for err in exc.errors()[:5]
        )
        raise InvalidAnswer(f"does not match the narrative schema: {problems}") from exc


def check_answer(content: str, evidence_ids: Collection[str]) -> CheckedAnswer:
    """Validate the answer and keep only the claims whose every citation is a known evidence id."""
    answer = parse_answer(content)
    known = set(evidence_ids)
    claims: list[Claim] = []
    rejected: list[RejectedClaim] = []
    for claim in answer.claims:
        cited = tuple(dict.fromkeys(claim.evidence_ids))
        unknown = [eid for eid in cited if eid not in known]
        if unknown:
            shown = ", ".join(json.dumps(eid[:EVIDENCE_ID_CHARS]) for eid in unknown[:MAX_CITATIONS])
            rejected.append(RejectedClaim(claim.text, cited, f"cites unknown evidence id(s): {shown}"))
        else:
            claims.append(Claim(claim.text, cited))
    return CheckedAnswer(
        summary=answer.summary,
        hypotheses=tuple(answer.hypotheses),
        claims=tuple(claims),
        rejected=tuple(rejected),
    )
