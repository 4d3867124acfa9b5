"""The answer schema sent as ``format`` and the check applied to answers say the same thing."""

from __future__ import annotations

import json
from typing import Any

import jsonschema
import pytest

from coord_core.llm.output import (
    MAX_CLAIMS,
    NARRATIVE_SCHEMA,
    SENTENCE_CHARS,
    InvalidAnswer,
    check_answer,
    parse_answer,
)

GOOD = {"summary": "s", "hypotheses": ["h"], "claims": [{"text": "t", "evidence_ids": ["e1"]}]}
BAD: list[Any] = [
    {"summary": "s", "hypotheses": []},
    {**GOOD, "confidence": 1.0},
    {**GOOD, "summary": 3},
    {**GOOD, "claims": [{"text": "t", "evidence_ids": []}]},
    {**GOOD, "claims": [{"text": "t", "evidence_ids": ["e1"], "score": 1}]},
    {**GOOD, "claims": [{"text": "x" * (SENTENCE_CHARS + 1), "evidence_ids": ["e1"]}]},
    {**GOOD, "claims": [{"text": "t", "evidence_ids": ["e1"]}] * (MAX_CLAIMS + 1)},
    {**GOOD, "hypotheses": "one"},
    ["not", "an", "object"],
]


def test_schema_is_a_valid_json_schema() -> None:
    jsonschema.Draft202012Validator.check_schema(NARRATIVE_SCHEMA)
    assert "confidence" not in json.dumps(NARRATIVE_SCHEMA) and "score" not in json.dumps(NARRATIVE_SCHEMA)


def test_schema_and_check_accept_the_same_answer() -> None:
    jsonschema.validate(GOOD, NARRATIVE_SCHEMA)
    assert parse_answer(json.dumps(GOOD)).summary == "s"


@pytest.mark.parametrize("answer", BAD)
def test_schema_and_check_reject_the_same_answers(answer: Any) -> None:
    with pytest.raises(jsonschema.ValidationError):
        jsonschema.validate(answer, NARRATIVE_SCHEMA)
    with pytest.raises(InvalidAnswer):
        parse_answer(json.dumps(answer))


def test_not_json_is_an_invalid_answer() -> None:
    with pytest.raises(InvalidAnswer, match="not JSON"):
        parse_answer('{"summary": "cut')


def test_citations_are_deduplicated_and_checked_all() -> None:
    answer = {
        **GOOD,
        "claims": [{"text": "t", "evidence_ids": ["e1", "e1"]}, {"text": "u", "evidence_ids": ["e1", "x"]}],
    }
    checked = check_answer(json.dumps(answer), {"e1"})
    assert [c.evidence_ids for c in checked.claims] == [("e1",)]
    assert [r.evidence_ids for r in checked.rejected] == [("e1", "x")]
