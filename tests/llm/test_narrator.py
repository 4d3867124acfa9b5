"""Narration of single campaigns: structured answers, citations, retries, timeouts, fallbacks."""

from __future__ import annotations

import json

import httpx
import ollama
import pytest

from coord_core.contracts.campaigns import Campaign
from coord_core.contracts.sessions import AttackSession
from coord_core.llm.config import NarratorConfig
from coord_core.llm.fallback import deterministic_answer
from coord_core.llm.narrator import Narrator
from coord_core.llm.output import NARRATIVE_SCHEMA
from tests.emulators.ollama import EmulatedModel, OllamaEmulator, Reply
from tests.emulators.ollama.responders import fixed, sequence
from tests.llm.conftest import OllamaServer
from tests.llm.support import sample_result, sample_sessions

MODEL = "llama3.2:3b"


def _narrator(host: str, sleeps: list[float] | None = None, **settings: object) -> Narrator:
    config = NarratorConfig.model_validate({"models": [MODEL], "read_timeout_s": 5, **settings})
    client = ollama.Client(host=host, timeout=httpx.Timeout(config.read_timeout_s, connect=1.0))
    narrator = Narrator(client, config, sleep=(sleeps if sleeps is not None else []).append)
    narrator.prepare()
    return narrator


def _campaign_a() -> Campaign:
    return sample_result().campaigns[0]


def _sessions_a() -> list[AttackSession]:
    return [s for s in sample_sessions() if s.session_id in {"s1", "s2"}]


def test_accepted_narrative_cites_only_the_campaigns_evidence(emulator: OllamaEmulator) -> None:
    campaign = _campaign_a()
    record = _narrator(emulator.host).narrate(campaign, _sessions_a())
    assert record.status == "ok" and record.source == "llm" and record.reason == ""
    assert record.model == MODEL and record.model_digest == emulator.models[MODEL].digest
    ids = {e.evidence_id for e in campaign.evidence}
    assert record.answer.claims and all(set(c.evidence_ids) <= ids for c in record.answer.claims)
    assert record.rejected == ()
    sent = emulator.chat_requests()[-1]
    assert sent["format"] == NARRATIVE_SCHEMA
    assert sent["stream"] is True
    assert sent["options"]["temperature"] == 0 and sent["options"]["seed"] == 0
    assert [m["role"] for m in sent["messages"]] == ["system", "user"]


def test_claims_citing_unknown_evidence_are_rejected_with_the_reason(emulator: OllamaEmulator) -> None:
    campaign = _campaign_a()
    known = campaign.evidence[0].evidence_id
    answer = {
        "summary": "Two sources dropped the same script.",
        "hypotheses": ["A botnet."],
        "claims": [
            {"text": "Same payload.", "evidence_ids": [known]},
            {"text": "Same C2 as last year.", "evidence_ids": [known, "cmp-zzz:c2"]},
        ],
    }
    emulator.add_model(EmulatedModel(MODEL, responder=fixed(answer)))
    record = _narrator(emulator.host).narrate(campaign, _sessions_a())
    assert record.status == "ok" and record.reason == "1 claim(s) rejected"
    assert [c.text for c in record.answer.claims] == ["Same payload."]
    assert [(r.text, r.reason) for r in record.rejected] == [
        ("Same C2 as last year.", 'cites unknown evidence id(s): "cmp-zzz:c2"')
    ]
    assert record.narrative()["claims"] == [{"text": "Same payload.", "evidence_ids": [known]}]


def test_an_answer_without_any_valid_citation_is_not_used(emulator: OllamaEmulator) -> None:
    campaign = _campaign_a()
    answer = {
        "summary": "It is surely one actor.",
        "hypotheses": [],
        "claims": [{"text": "x", "evidence_ids": ["nope"]}],
    }
    emulator.add_model(EmulatedModel(MODEL, responder=fixed(answer)))
    record = _narrator(emulator.host).narrate(campaign, _sessions_a())
    assert record.status == "rejected" and record.source == "deterministic"
    assert record.answer == deterministic_answer(campaign)
    assert record.model == MODEL  # the model that wrote the rejected answer is recorded
    assert record.rejected_claims() == [
        {"text": "x", "evidence_ids": ["nope"], "reason": 'cites unknown evidence id(s): "nope"'}
    ]


def test_a_cut_off_answer_is_retried_with_another_seed_then_rejected(emulator: OllamaEmulator) -> None:
    long_answer = {"summary": "word " * 200, "hypotheses": [], "claims": []}
    emulator.add_model(EmulatedModel(MODEL, responder=fixed(long_answer)))
    record = _narrator(emulator.host, num_predict=64, output_retries=1).narrate(_campaign_a(), _sessions_a())
    assert record.status == "rejected" and record.source == "deterministic"
    assert "not JSON" in record.reason and "cut off at num_predict" in record.reason
    seeds = [r["options"]["seed"] for r in emulator.chat_requests()]
    assert seeds == [0, 1]


def test_an_invalid_answer_then_a_valid_one(emulator: OllamaEmulator) -> None:
    campaign = _campaign_a()
    good = {
        "summary": "ok",
        "hypotheses": [],
        "claims": [{"text": "t", "evidence_ids": [campaign.evidence[1].evidence_id]}],
    }
    emulator.add_model(
        EmulatedModel(
            MODEL,
            responder=sequence([fixed({"summary": "w " * 300, "hypotheses": [], "claims": []}), fixed(good)]),
        )
    )
    record = _narrator(emulator.host, num_predict=64).narrate(campaign, _sessions_a())
    assert record.status == "ok" and record.answer.summary == "ok"


def test_transient_errors_are_retried_with_growing_backoff(emulator: OllamaEmulator) -> None:
    sleeps: list[float] = []
    narrator = _narrator(emulator.host, sleeps, retries=3, backoff_s=0.5)
    emulator.fail_next(1, 503, path="/api/chat")
    emulator.drop_next(1, path="/api/chat")
    emulator.error_mid_stream(1)
    record = narrator.narrate(_campaign_a(), _sessions_a())
    assert record.status == "ok"
    assert sleeps == [0.5, 1.0, 2.0]
    assert len(emulator.chat_requests()) == 4


def test_a_stalled_server_times_out_and_is_retried(emulator: OllamaEmulator) -> None:
    sleeps: list[float] = []
    narrator = _narrator(emulator.host, sleeps, read_timeout_s=0.3, retries=1)
    emulator.stall_next(1, 1.5, path="/api/chat")
    record = narrator.narrate(_campaign_a(), _sessions_a())
    assert record.status == "ok" and sleeps == [1.0]


def test_the_overall_deadline_bounds_a_slowly_streaming_model(emulator: OllamaEmulator) -> None:
    slow = EmulatedModel(MODEL)
    slow.responder = lambda call: Reply(
        json.dumps({"summary": "s" * 400, "hypotheses": [], "claims": []}), token_delay_s=0.01
    )
    emulator.add_model(slow)
    sleeps: list[float] = []
    narrator = _narrator(emulator.host, sleeps, request_timeout_s=0.2, retries=1, read_timeout_s=2)
    first = narrator.narrate(_campaign_a(), _sessions_a())
    assert first.status == "unavailable" and first.source == "deterministic"
    assert "no complete answer within" in first.reason and "2 attempt(s)" in first.reason
    # The outage is remembered: the next campaign costs no further calls or waits.
    calls = len(emulator.chat_requests())
    second = narrator.narrate(sample_result().campaigns[1], [])
    assert second.status == "unavailable" and len(emulator.chat_requests()) == calls and sleeps == [1.0]


def test_connection_refused_gives_the_deterministic_narrative_and_the_reason(refused_host: str) -> None:
    sleeps: list[float] = []
    narrator = _narrator(refused_host, sleeps, retries=2)
    assert narrator.model is None and narrator.unavailable is not None
    assert "cannot connect to Ollama" in narrator.unavailable or "Failed to connect" in narrator.unavailable
    assert sleeps == [1.0, 2.0]  # one round of retries for the whole run
    records = [narrator.narrate(c, []) for c in sample_result().campaigns]
    assert sleeps == [1.0, 2.0]
    for record, campaign in zip(records, sample_result().campaigns, strict=True):
        assert record.status == "unavailable" and record.reason.startswith("LLM unavailable: ")
        assert record.model is None and record.model_digest is None
        assert record.answer == deterministic_answer(campaign)
        assert {eid for c in record.answer.claims for eid in c.evidence_ids} == {
            e.evidence_id for e in campaign.evidence
        }
    ollama_ps = narrator.gpu_usage()["ollama_ps"]
    assert ollama_ps["available"] is False and ollama_ps["reason"].startswith("not asked: ")


def test_a_model_removed_after_selection_is_not_retried(emulator: OllamaEmulator) -> None:
    sleeps: list[float] = []
    narrator = _narrator(emulator.host, sleeps)
    emulator.remove_model(MODEL)
    record = narrator.narrate(_campaign_a(), _sessions_a())
    assert record.status == "unavailable" and "404" in record.reason and "not found" in record.reason
    assert sleeps == []


def test_deterministic_narrative_restates_each_evidence_item() -> None:
    campaign = _campaign_a()
    answer = deterministic_answer(campaign)
    assert answer == deterministic_answer(campaign)
    assert "2 session(s) from 2 source IP(s)" in answer.summary and "0.73" in answer.summary
    assert [c.evidence_ids for c in answer.claims] == [(e.evidence_id,) for e in campaign.evidence]


def test_gpu_usage_reports_the_loaded_model_and_nvml(emulator: OllamaEmulator) -> None:
    narrator = _narrator(emulator.host)
    narrator.narrate(_campaign_a(), _sessions_a())
    usage = narrator.gpu_usage()
    loaded = usage["ollama_ps"]["models"]
    assert [m["model"] for m in loaded] == [MODEL]
    assert loaded[0]["digest"] == emulator.models[MODEL].digest
    assert loaded[0]["size_vram"] == loaded[0]["size"] and loaded[0]["vram_fraction"] == 1.0
    assert loaded[0]["context_length"] == NarratorConfig().num_ctx
    nvml = usage["nvml"]
    assert isinstance(nvml["available"], bool)
    if not nvml["available"]:
        assert nvml["reason"]
    else:
        assert nvml["devices"]
    assert narrator.usage.calls == 1 and narrator.usage.output_tokens > 0


@pytest.mark.parametrize("vram_fraction", [0.0, 0.5])
def test_partial_offload_shows_in_the_report(emulator: OllamaEmulator, vram_fraction: float) -> None:
    emulator.add_model(EmulatedModel(MODEL, vram_fraction=vram_fraction))
    narrator = _narrator(emulator.host)
    narrator.narrate(_campaign_a(), _sessions_a())
    assert narrator.gpu_usage()["ollama_ps"]["models"][0]["vram_fraction"] == vram_fraction


def test_narration_against_the_server_cites_only_known_evidence(ollama_server: OllamaServer) -> None:
    """Holds for any model: emulated, or real when ``OLLAMA_HOST`` is set."""
    client = ollama.Client(host=ollama_server.host, timeout=httpx.Timeout(120, connect=5))
    narrator = Narrator(client, NarratorConfig(models=(ollama_server.model,), backoff_s=0.0))
    narrator.prepare()
    if narrator.model is None:
        pytest.skip(f"no usable model: {narrator.unavailable}")
    listed = {m.model: m.digest for m in client.list().models}
    assert narrator.model.digest == listed[narrator.model.name]
    campaign = _campaign_a()
    record = narrator.narrate(campaign, _sessions_a())
    assert record.status in {"ok", "rejected"}, record.reason
    known = {e.evidence_id for e in campaign.evidence}
    if record.status == "ok":
        assert record.source == "llm" and record.model_digest == narrator.model.digest
    assert all(set(c.evidence_ids) <= known for c in record.answer.claims)
    assert all(set(r.evidence_ids) - known for r in record.rejected)
