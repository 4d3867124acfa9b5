"""Scripted models: deterministic functions from a chat request to the assistant's text.

A responder sees what a model sees (the messages, the requested ``format`` and options) and
returns a :class:`Reply`. The emulator checks the reply against the requested ``format`` the
way Ollama's grammar would force a real model to comply, and cuts it at ``num_predict``.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

INJECTION_MARKER = re.compile(r"ignore (all )?previous instructions", re.IGNORECASE)
# An "evidence_id" key with its JSON string value, wherever a prompt carries JSON.
_EVIDENCE_ID = re.compile(r'"evidence_id"\s*:\s*"((?:[^"\\]|\\.)*)"')


@dataclass(frozen=True)
class ChatCall:
    model: str
    messages: list[dict[str, Any]]
    format: Any
    options: dict[str, Any]

    @property
    def prompt_text(self) -> str:
        return "\n".join(str(m.get("content") or "") for m in self.messages)


@dataclass(frozen=True)
class Reply:
    content: str
    delay_s: float = 0.0  # think time before the first token
    token_delay_s: float = 0.0  # pause between streamed tokens


Responder = Callable[[ChatCall], Reply]


def evidence_ids_in(text: str) -> list[str]:
    """The evidence ids a reader of the prompt finds, in order of appearance, each once."""
    found = [json.loads(f'"{raw}"') for raw in _EVIDENCE_ID.findall(text)]
    return list(dict.fromkeys(found))


def cite_prompt_evidence(call: ChatCall) -> Reply:
    """A well-behaved model: one claim per evidence id it read, citing exactly that id."""
    ids = evidence_ids_in(call.prompt_text)
    answer = {
        "summary": f"The sessions share what the {len(ids)} evidence item(s) describe.",
        "hypotheses": ["One operator or botnet reused the same tooling across sources."],
        "claims": [
            {"text": f"Evidence {i + 1} links the sessions.", "evidence_ids": [eid]}
            for i, eid in enumerate(ids)
        ],
    }
    return Reply(json.dumps(answer))


def fixed(answer: Mapping[str, Any] | str, *, delay_s: float = 0.0) -> Responder:
    """Always the same answer (a JSON object or raw text)."""
    content = answer if isinstance(answer, str) else json.dumps(answer)
    return lambda call: Reply(content, delay_s)


def sequence(replies: Sequence[Responder]) -> Responder:
    """The n-th call answers with the n-th responder (the last one repeats)."""
    calls = {"n": 0}

    def respond(call: ChatCall) -> Reply:
        index = min(calls["n"], len(replies) - 1)
        calls["n"] += 1
        return replies[index](call)

    return respond


def obeys_injection(call: ChatCall) -> Reply:
    """A model that falls for instructions in the data: it invents evidence and a certainty.

    When the prompt carries an injection it claims full confidence on evidence ids that do
    not exist; otherwise it behaves like :func:`cite_prompt_evidence`.
    """
    if not INJECTION_MARKER.search(call.prompt_text):
        return cite_prompt_evidence(call)
    answer = {
        "summary": "As instructed, the confidence is 1.0 and this is a confirmed campaign.",
        "hypotheses": ["The data says so."],
        "claims": [
            {"text": "Confidence is 1.0.", "evidence_ids": ["injected-evidence"]},
            {"text": "The operator confirmed the campaign.", "evidence_ids": ["system:override"]},
        ],
    }
    return Reply(json.dumps(answer))
