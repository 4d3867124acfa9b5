"""The main DAG's tasks (in one interpreter) with ``llm: true`` against the Ollama emulator: one
narrative per stored campaign, written by the configured model (name and digest in lineage),
citing only stored evidence."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime

import psycopg
import pytest

from coord_core.cli.lineage import render_lineage
from coord_core.store.lineage import campaign_lineage
from tests.conftest import REAL_SAMPLE
from tests.dags.airflow_env import AirflowEnv, ollama_connection
from tests.dags.in_process import run_intervals_in_process
from tests.dags.snapshot import count
from tests.emulators.ollama import EmulatedModel, OllamaEmulator

WINDOW = (datetime(2025, 10, 24, 3, tzinfo=UTC), datetime(2025, 10, 24, 6, tzinfo=UTC))
CONF = {"input_paths": [str(REAL_SAMPLE)], "llm": True}


@pytest.fixture
def emulator() -> Iterator[OllamaEmulator]:
    with OllamaEmulator([EmulatedModel("llama3.2:3b"), EmulatedModel("qwen2.5:7b-instruct")]) as server:
        yield server


def test_llm_run_writes_narratives_with_model_and_digest(
    airflow: AirflowEnv, postgres_dsn: str, emulator: OllamaEmulator
) -> None:
    airflow.env["AIRFLOW_CONN_COORD_OLLAMA"] = ollama_connection(
        emulator.host, ["mistral:7b", "qwen2.5:7b-instruct"]
    )
    run_intervals_in_process(airflow, [WINDOW], CONF)
    digest = emulator.models["qwen2.5:7b-instruct"].digest
    campaigns = count(postgres_dsn, "SELECT count(*) FROM coord.campaigns")
    assert campaigns >= 1
    assert count(postgres_dsn, "SELECT count(*) FROM coord.narratives") == campaigns
    assert (
        count(
            postgres_dsn,
            "SELECT count(*) FROM coord.narratives n JOIN coord.campaigns c USING "
            "(interval_start, interval_end, campaign_id) WHERE n.llm_status = 'ok' "
            "AND n.model = 'qwen2.5:7b-instruct' AND n.model_digest = %s",
            digest,
        )
        == campaigns
    )
    with psycopg.connect(postgres_dsn) as conn:
        cited = conn.execute(
            """SELECT n.campaign_id, e.value AS evidence_id
               FROM coord.narratives n,
                    json_array_elements(n.narrative -> 'claims') c,
                    json_array_elements_text(c -> 'evidence_ids') e"""
        ).fetchall()
        stored = set(conn.execute("SELECT campaign_id, evidence_id FROM coord.evidence").fetchall())
        assert cited and set(cited) <= stored
        llm = conn.execute(
            "SELECT status, model, model_digest, candidates, gpu FROM coord.llm_runs"
        ).fetchone()
        assert llm is not None
        assert llm[:3] == ("ok", "qwen2.5:7b-instruct", digest)
        assert [c["outcome"] for c in llm[3]] == ["missing", "selected"]
        assert llm[4]["ollama_ps"]["models"][0]["digest"] == digest
        models = conn.execute("SELECT models FROM coord.runs").fetchone()
        assert models == ([f"qwen2.5:7b-instruct@sha256:{digest}"],)
        occurrence = conn.execute("SELECT campaign_id FROM coord.campaign_identity LIMIT 1").fetchone()
        assert occurrence is not None
        chain = campaign_lineage(conn, occurrence[0])
    assert chain is not None
    text = render_lineage(chain)
    assert f"qwen2.5:7b-instruct@sha256:{digest}" in text
    assert f"narrative ok (llm, qwen2.5:7b-instruct digest {digest})" in text
    # every chat the task sent asked for the narrative schema, never streaming off
    assert len(emulator.chat_requests()) == campaigns
    assert all(
        r["format"]["required"] == ["summary", "hypotheses", "claims"] for r in emulator.chat_requests()
    )
