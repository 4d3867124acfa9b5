"""Attacker strings that try to steer the model change nothing but the quoted data."""

from __future__ import annotations

import json
import string

import ollama

from coord_core.contracts.campaigns import Campaign
from coord_core.contracts.sessions import AttackSession
from coord_core.llm.config import NarratorConfig
from coord_core.llm.narrator import Narrator
from coord_core.llm.prompt import DATA_CLOSE, DATA_OPEN, build_prompt, system_prompt_template
from coord_core.llm.untrusted import DEFAULT_BOUNDS, FORBIDDEN_IN_DATA
from tests.emulators.ollama import EmulatedModel, OllamaEmulator
from tests.emulators.ollama.responders import obeys_injection
from tests.llm.support import PAYLOADS, campaign, session


def _hostile_sessions() -> list[AttackSession]:
    return [
        session(
            f"h{i}",
            f"198.51.100.{i + 1}",
            minute=i,
            commands=[payload, "uname -a"],
            username=payload[:5000],
            password=payload,
            url=f"http://203.0.113.{i}/{payload[:300]}",
        )
        for i, payload in enumerate(PAYLOADS)
    ]


def _hostile_campaign() -> tuple[Campaign, list[AttackSession]]:
    sessions = _hostile_sessions()
    hostile = campaign("cmp-hostile", sessions)
    # The analyzer's own evidence may quote attacker values too.
    evidence = [e.model_copy(update={"statistic": {"shared": PAYLOADS}}) for e in hostile.evidence]
    return hostile.model_copy(update={"evidence": evidence}), sessions


def _data_between_fences(user: str, fence: str) -> str:
    lines = user.split("\n")
    opens = [i for i, line in enumerate(lines) if line == DATA_OPEN.format(fence=fence)]
    closes = [i for i, line in enumerate(lines) if line == DATA_CLOSE.format(fence=fence)]
    assert len(opens) == 1 and len(closes) == 1 and closes[0] == opens[0] + 2
    return lines[opens[0] + 1]


def test_payloads_stay_inside_the_fenced_data_block_escaped_and_bounded() -> None:
    hostile, sessions = _hostile_campaign()
    prompt = build_prompt(hostile, sessions)
    system, user = (m["content"] for m in prompt.messages)
    block = _data_between_fences(user, prompt.fence)
    assert block == prompt.data_block
    # Nothing in the block can open markup, code or a fence, or hide control characters.
    assert not FORBIDDEN_IN_DATA & set(block)
    assert set(block) <= set(string.printable) - set("\n\r\t\x0b\x0c")
    # Outside the block there is only the fixed text: no attacker byte got there.
    outside = user.replace(block, "")
    for payload in PAYLOADS:
        assert payload[:40] not in outside
        assert payload[:40] not in system
    assert "ignore previous instructions" not in outside.lower()
    assert system == system_prompt_template().replace("{fence}", prompt.fence)
    # The block is plain JSON again for a reader, with each value cut to the bound.
    data = json.loads(block)
    commands = [entry["value"] for entry in data["observed"]["commands"]]
    assert PAYLOADS[0] in commands
    longest = max(commands, key=len)
    assert len(longest) <= DEFAULT_BOUNDS.text_chars + 30 and longest.endswith("more chars]")
    assert data["campaign"]["confidence"] == hostile.confidence
    assert {e["evidence_id"] for e in data["evidence"]} == {e.evidence_id for e in hostile.evidence}


def test_the_prompt_for_clean_and_hostile_data_differs_only_in_the_block() -> None:
    hostile, sessions = _hostile_campaign()
    clean = campaign("cmp-clean", [session("c1", "192.0.2.1"), session("c2", "192.0.2.200")])
    one, two = build_prompt(hostile, sessions), build_prompt(clean, [])
    for a, b in zip(one.messages, two.messages, strict=True):
        assert a["role"] == b["role"]
        assert a["content"].replace(one.data_block, "").replace(one.fence, "F") == b["content"].replace(
            two.data_block, ""
        ).replace(two.fence, "F")


def test_a_model_that_obeys_the_injection_gets_its_claims_rejected() -> None:
    hostile, sessions = _hostile_campaign()
    before = hostile.model_dump()
    with OllamaEmulator([EmulatedModel("llama3.2:3b", responder=obeys_injection)]) as server:
        narrator = Narrator(ollama.Client(host=server.host), NarratorConfig(models=("llama3.2:3b",)))
        narrator.prepare()
        record = narrator.narrate(hostile, sessions)
        prompt_seen = server.chat_requests()[-1]["messages"][1]["content"]
    assert "ignore previous instructions" in prompt_seen  # the model did read the payload
    assert record.status == "rejected" and record.source == "deterministic"
    assert {r.evidence_ids for r in record.rejected} == {("injected-evidence",), ("system:override",)}
    assert all(r.reason.startswith("cites unknown evidence id(s)") for r in record.rejected)
    # What is stored as the narrative is the deterministic text, and no score moved.
    assert "1.0" not in record.narrative()["summary"]
    assert f"{hostile.confidence:.2f}" in record.narrative()["summary"]
    assert hostile.model_dump() == before
    assert not any(key in record.narrative() for key in ("confidence", "verdict", "score"))
