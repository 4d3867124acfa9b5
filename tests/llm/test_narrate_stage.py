"""The narrate stage on a real PostgreSQL: narratives, the LLM-run record, lineage, scores intact."""

from __future__ import annotations

from typing import Any

import ollama
import psycopg
import pytest

from coord_core.cli.lineage import render_lineage
from coord_core.contracts.campaigns import AnalysisResult, Campaign
from coord_core.contracts.narratives import NarrativeRecord
from coord_core.contracts.sessions import AttackSession
from coord_core.contracts.window import DataWindow
from coord_core.llm.config import NarratorConfig
from coord_core.llm.narrator import Narrator
from coord_core.pipeline.load import load_interval
from coord_core.pipeline.narrate import RunContext, ScoresChanged, narrate_interval, record_llm_off
from coord_core.store.lineage import campaign_lineage
from coord_core.store.migrations import migrate
from coord_core.store.narratives import load_llm_runs, load_narratives
from coord_core.store.results import ResultsStore, RunRecord
from tests.emulators.ollama import EmulatedModel, OllamaEmulator
from tests.emulators.ollama.responders import obeys_injection
from tests.llm.support import PAYLOADS, T0, sample_result, sample_sessions, session

WINDOW = DataWindow(start=T0, end=T0.replace(hour=5))
DAG = "dshield_coordination"
RUN = RunContext(DAG, "manual__1", 1, "test-worker")
CONFIG = NarratorConfig(models=("llama3.2:3b",), backoff_s=0.0)


@pytest.fixture
def store(pg_conn: psycopg.Connection[Any]) -> ResultsStore:
    migrate(pg_conn)
    store = ResultsStore(pg_conn)
    store.start_run(WINDOW, RunRecord(DAG, "manual__1", 1, "files", ["x"], None, "test", {}))
    return store


def _load(store: ResultsStore, result: AnalysisResult, sessions: list[AttackSession]) -> None:
    store.replace_sessions(WINDOW, sessions)
    store.save_analysis_result(WINDOW, result, parameters_hash="p")
    load_interval(store, WINDOW)


def _client(host: str) -> ollama.Client:
    return ollama.Client(host=host, timeout=5)


def _campaign_rows(store: ResultsStore) -> list[tuple[Any, ...]]:
    return store.conn.execute(
        "SELECT campaign_id, verdict, confidence FROM coord.campaigns ORDER BY campaign_id"
    ).fetchall()


def test_one_narrative_per_campaign_with_model_digest_and_gpu_report(
    store: ResultsStore, emulator: OllamaEmulator
) -> None:
    result = sample_result()
    _load(store, result, sample_sessions())
    summary = narrate_interval(
        store, WINDOW, RUN, client=_client(emulator.host), config=CONFIG, server=emulator.host
    )
    digest = emulator.models["llama3.2:3b"].digest
    assert summary["llm"] == "ok" and summary["narratives"] == 2
    assert summary["model"] == f"llama3.2:3b@sha256:{digest}"
    rows = load_narratives(store.conn, WINDOW)
    assert [r["campaign_id"] for r in rows] == sorted(c.campaign_id for c in result.campaigns)
    stored_sha = store.conn.execute("SELECT result_sha256 FROM coord.analysis_results").fetchone()
    assert stored_sha is not None
    evidence = {c.campaign_id: {e.evidence_id for e in c.evidence} for c in result.campaigns}
    for row in rows:
        assert (row["llm_status"], row["model"], row["model_digest"]) == ("ok", "llama3.2:3b", digest)
        assert row["result_sha256"] == stored_sha[0] and len(row["prompt_sha256"]) == 64
        assert row["narrative"]["source"] == "llm" and row["narrative"]["claims"]
        for claim in row["narrative"]["claims"]:
            assert set(claim["evidence_ids"]) <= evidence[row["campaign_id"]]
    (llm,) = load_llm_runs(store.conn, WINDOW.start, WINDOW.end)
    assert (llm["status"], llm["model"], llm["model_digest"], llm["worker"]) == (
        "ok",
        "llama3.2:3b",
        digest,
        "test-worker",
    )
    assert llm["server"] == emulator.host and llm["server_version"]
    assert llm["candidates"] == [{"model": "llama3.2:3b", "outcome": "selected"}]
    assert llm["counts"]["narratives_ok"] == 2 and llm["usage"]["calls"] == 2
    loaded = llm["gpu"]["ollama_ps"]["models"]
    assert loaded[0]["digest"] == digest and loaded[0]["size_vram"] > 0
    assert "available" in llm["gpu"]["nvml"]
    models = store.conn.execute("SELECT models FROM coord.runs").fetchone()
    assert models == ([f"llama3.2:3b@sha256:{digest}"],)
    # lineage shows the model and its digest
    occurrence = store.conn.execute("SELECT campaign_id FROM coord.campaign_identity LIMIT 1").fetchone()
    assert occurrence is not None
    chain = campaign_lineage(store.conn, occurrence[0])
    assert chain is not None
    text = render_lineage(chain)
    assert f"llama3.2:3b@sha256:{digest}" in text  # runs.models
    assert f"narrative ok (llm, llama3.2:3b digest {digest})" in text
    assert f"llm      ok: llama3.2:3b digest {digest}" in text


def test_rerun_is_identical_and_drops_narratives_of_vanished_campaigns(
    store: ResultsStore, emulator: OllamaEmulator
) -> None:
    result = sample_result()
    _load(store, result, sample_sessions())
    narrate_interval(store, WINDOW, RUN, client=_client(emulator.host), config=CONFIG)
    first = load_narratives(store.conn, WINDOW)
    narrate_interval(store, WINDOW, RUN, client=_client(emulator.host), config=CONFIG)
    assert load_narratives(store.conn, WINDOW) == first
    smaller = result.model_copy(update={"campaigns": result.campaigns[:1]})
    _load(store, smaller, sample_sessions())
    narrate_interval(store, WINDOW, RUN, client=_client(emulator.host), config=CONFIG)
    assert [r["campaign_id"] for r in load_narratives(store.conn, WINDOW)] == ["cmp-a"]


def test_unreachable_ollama_writes_deterministic_narratives_and_the_reason(
    store: ResultsStore, refused_host: str
) -> None:
    result = sample_result()
    _load(store, result, sample_sessions())
    summary = narrate_interval(
        store, WINDOW, RUN, client=_client(refused_host), config=CONFIG, server=refused_host
    )
    assert summary["llm"] == "unavailable" and summary["model"] is None
    rows = load_narratives(store.conn, WINDOW)
    assert len(rows) == len(result.campaigns)
    for row in rows:
        assert row["llm_status"] == "unavailable" and row["model"] is None
        assert row["status_reason"].startswith("LLM unavailable: ") and "connect" in row["status_reason"]
        assert row["narrative"]["source"] == "deterministic" and row["narrative"]["claims"]
    (llm,) = load_llm_runs(store.conn, WINDOW.start, WINDOW.end)
    assert llm["status"] == "unavailable" and llm["reason"].startswith("LLM unavailable: ")
    assert llm["gpu"]["ollama_ps"]["available"] is False
    assert store.conn.execute("SELECT models FROM coord.runs").fetchone() == ([],)


def test_without_a_connection_the_reason_is_recorded(store: ResultsStore) -> None:
    _load(store, sample_result(), sample_sessions())
    summary = narrate_interval(
        store,
        WINDOW,
        RUN,
        client=None,
        config=CONFIG,
        unavailable_reason="no coord_ollama connection is defined",
    )
    assert summary["reason"] == "LLM unavailable: no coord_ollama connection is defined"
    assert {r["llm_status"] for r in load_narratives(store.conn, WINDOW)} == {"unavailable"}


def test_llm_off_calls_no_model_and_writes_no_narrative(
    store: ResultsStore, emulator: OllamaEmulator
) -> None:
    _load(store, sample_result(), sample_sessions())
    assert record_llm_off(store, WINDOW, RUN) == {"llm": "off", "narratives": 0}
    assert load_narratives(store.conn, WINDOW) == []
    (llm,) = load_llm_runs(store.conn, WINDOW.start, WINDOW.end)
    assert (llm["status"], llm["model"]) == ("off", None)
    assert list(emulator.requests) == []


def test_no_campaigns_means_no_model_call(store: ResultsStore, emulator: OllamaEmulator) -> None:
    result = sample_result().model_copy(update={"campaigns": []})
    _load(store, result, sample_sessions())
    summary = narrate_interval(store, WINDOW, RUN, client=_client(emulator.host), config=CONFIG)
    assert summary["llm"] == "no_campaigns" and list(emulator.requests) == []


def test_an_injected_campaign_keeps_its_scores_and_its_injected_claims_are_rejected(
    store: ResultsStore,
) -> None:
    sessions = [
        session(f"x{i}", f"198.51.100.{i + 1}", minute=i, commands=[p], username=p[:300])
        for i, p in enumerate(PAYLOADS)
    ]
    result = sample_result(sessions + sample_sessions())
    hostile = sample_result().campaigns[0].model_copy(
        update={"campaign_id": "cmp-x", "session_ids": [s.session_id for s in sessions],
                "source_ips": sorted({s.src_ip for s in sessions})}
    )  # fmt: skip
    result = result.model_copy(update={"campaigns": [*result.campaigns, _reid(hostile)]})
    _load(store, result, sessions + sample_sessions())
    before = _campaign_rows(store)
    with OllamaEmulator([EmulatedModel("llama3.2:3b", responder=obeys_injection)]) as server:
        summary = narrate_interval(store, WINDOW, RUN, client=_client(server.host), config=CONFIG)
    assert _campaign_rows(store) == before
    rows = {r["campaign_id"]: r for r in load_narratives(store.conn, WINDOW)}
    assert rows["cmp-x"]["llm_status"] == "rejected"
    assert rows["cmp-x"]["narrative"]["source"] == "deterministic"
    assert {tuple(r["evidence_ids"]) for r in rows["cmp-x"]["rejected_claims"]} == {
        ("injected-evidence",),
        ("system:override",),
    }
    assert rows["cmp-a"]["llm_status"] == "ok"  # the other campaigns carried no injection
    assert summary["llm"] == "degraded" and summary["claims_rejected"] == 2


def _reid(c: Campaign) -> Campaign:
    evidence = [
        e.model_copy(update={"evidence_id": e.evidence_id.replace("cmp-a", "cmp-x")}) for e in c.evidence
    ]
    return c.model_copy(update={"evidence": evidence, "links": [], "signature": ["sig-x"]})


def _tampering_narrator(conn: psycopg.Connection[Any], client: ollama.Client) -> Narrator:
    """A narrator with a bug that writes a score: the stage must refuse to finish."""

    class Tampering(Narrator):
        def narrate(self, campaign: Campaign, sessions: Any) -> NarrativeRecord:
            record = super().narrate(campaign, sessions)
            conn.execute(
                "UPDATE coord.campaigns SET confidence = 1.0 WHERE campaign_id = %s", (campaign.campaign_id,)
            )
            return record

    return Tampering(client, CONFIG)


def test_a_changed_score_fails_the_stage(store: ResultsStore, emulator: OllamaEmulator) -> None:
    _load(store, sample_result(), sample_sessions())
    tampering = _tampering_narrator(store.conn, _client(emulator.host))
    with pytest.raises(ScoresChanged):
        narrate_interval(store, WINDOW, RUN, client=None, config=CONFIG, narrator=tampering)
    assert load_narratives(store.conn, WINDOW) == []  # nothing written from a tampered run
