"""The main DAG on the Elasticsearch source and with Elasticsearch write-back, end to end.

The T-Pot sample plus DShield firewall and web-honeypot records are indexed as DShield-SIEM
documents (the emulator by default, a real cluster when ``ES_URL`` is set: see
``tests/elasticsearch/cluster.py``); the same records as a log file are the file source. Both
runs of the same window must store the same sessions and campaigns, and the enrichment indices
must hold one document per analysed session and per campaign, also after a rerun.
"""

from __future__ import annotations

import json
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import psycopg
import pytest
from elasticsearch import Elasticsearch

from coord_core.adapters.elasticsearch_enrichment import document_id
from coord_core.contracts.events import parse_timestamp
from coord_core.contracts.window import DataWindow
from tests.conftest import REAL_SAMPLE, temporary_database
from tests.dags.airflow_env import AirflowEnv, make_airflow_env
from tests.dags.in_process import run_intervals_in_process
from tests.dags.snapshot import count, snapshot
from tests.elasticsearch.cluster import (
    EsServer,
    airflow_connection,
    delete_indices,
    elasticsearch_server,
    make_client,
)
from tests.elasticsearch.support import SiemIndices, load_events, real_events, web_and_firewall_events

SENSOR = "37e2115ebaeb"
# Hours 04..08 hold a campaign; the hours before them are the drift baseline: 01..02 (an edge
# sensor's firewall and web records) and 02..03 (the sample's first Cowrie sessions).
WINDOW = DataWindow(start=datetime(2025, 10, 24, 4, tzinfo=UTC), end=datetime(2025, 10, 24, 8, tzinfo=UTC))
EXTRA = web_and_firewall_events("sensor-edge", datetime(2025, 10, 24, 1, 0, tzinfo=UTC), 40)
EXTRA += web_and_firewall_events(SENSOR, datetime(2025, 10, 24, 5, 50, tzinfo=UTC), 90)
CONF = {"window_start": WINDOW.start.isoformat(), "window_end": WINDOW.end.isoformat()}
# What both sources must agree on (staging refs differ by design: path:line vs index/_id).
SAME_TABLES = (
    "sessions",
    "analysis_results",
    "campaigns",
    "campaign_members",
    "evidence",
    "evidence_links",
    "campaign_features",
    "campaign_identity",
)


@dataclass
class Cluster:
    server: EsServer
    client: Elasticsearch
    siem: SiemIndices
    session_index: str
    campaign_index: str
    log_file: Path
    documents: int

    def connection(self) -> str:
        return json.dumps(
            airflow_connection(
                self.server,
                index_patterns=self.siem.patterns(),
                session_index=self.session_index,
                campaign_index=self.campaign_index,
            )
        )

    def documents_of(self, index: str) -> dict[str, dict[str, Any]]:
        self.client.indices.refresh(index=index)
        hits = self.client.search(index=index, size=10_000, query={"match_all": {}})["hits"]["hits"]
        return {h["_id"]: h["_source"] for h in hits}


@pytest.fixture(scope="module")
def cluster(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Cluster]:
    token = f"t{uuid.uuid4().hex[:10]}"
    events = real_events() + EXTRA
    log_file = tmp_path_factory.mktemp("es-dag") / "sample-with-web-and-firewall.json"
    log_file.write_text(REAL_SAMPLE.read_text() + "".join(json.dumps(e) + "\n" for e in EXTRA))
    with elasticsearch_server() as server:
        client = make_client(server.url, request_timeout=30)
        siem = SiemIndices(token)
        # A pipeline that keeps Cowrie's kex fields (keep_removed_fields): sessions then carry
        # everything the file has, so both sources must give byte-identical sessions.
        documents = load_events(client, siem, events, keep_removed_fields=True)
        try:
            yield Cluster(
                server,
                client,
                siem,
                f"coord-session-enrichment-{token}",
                f"coord-campaigns-{token}",
                log_file,
                documents,
            )
        finally:
            delete_indices(client, f"*{token}*")
            client.close()


def _es_env(airflow: AirflowEnv, dsn: str, redis_url: str, cluster: Cluster) -> AirflowEnv:
    # Its own Redis database, so the Elasticsearch run computes its analysis instead of
    # finding the file run's result in the cache.
    env = make_airflow_env(airflow.home, dsn, redis_url.rsplit("/", 1)[0] + "/?db=1")
    env.env["AIRFLOW_CONN_COORD_ELASTICSEARCH"] = cluster.connection()
    return env


def _without_run(documents: dict[str, dict[str, Any]]) -> dict[str, dict[str, Any]]:
    return {i: {k: v for k, v in d.items() if k != "run_id"} for i, d in documents.items()}


def _openlineage(events_file: Path, kind: str) -> dict[str, set[tuple[str, str]]]:
    found: dict[str, set[tuple[str, str]]] = {}
    for line in events_file.read_text().splitlines():
        event = json.loads(line)
        if event.get("eventType") == "COMPLETE":
            datasets = {(d["namespace"], d["name"]) for d in event.get(kind, [])}
            found.setdefault(event["job"]["name"].split(".")[-1], set()).update(datasets)
    return found


def test_elasticsearch_source_stores_what_the_file_source_stores_and_writes_enrichment_once(
    airflow: AirflowEnv,
    postgres_dsn: str,
    postgres_server_dsn: str,
    redis_server_url: str,
    cluster: Cluster,
    tmp_path: Path,
) -> None:
    # The file source, with the same records as a log file; no coord_elasticsearch connection (the
    # DAG's tasks in one interpreter: what it stores is the expectation, not under test here).
    run_intervals_in_process(airflow, [(WINDOW.start, WINDOW.end)], {"input_paths": [str(cluster.log_file)]})
    from_files = snapshot(postgres_dsn)

    with temporary_database(postgres_server_dsn) as es_dsn:
        es_airflow = _es_env(airflow, es_dsn, redis_server_url, cluster)
        events_file = tmp_path / "openlineage.jsonl"
        es_airflow.env["AIRFLOW__OPENLINEAGE__TRANSPORT"] = json.dumps(
            {"type": "file", "log_file_path": str(events_file), "append": True}
        )
        output = es_airflow.dags_test(WINDOW.end.isoformat(), {**CONF, "source": "elasticsearch"})
        assert "analysis cache hit" not in output
        from_es = snapshot(es_dsn)

        # The same sessions and campaigns, row for row.
        assert from_files["campaigns"], "the window has campaigns to compare"
        for table in SAME_TABLES:
            assert from_es[table] == from_files[table], table
        assert len(from_es["staged_events"]) == len(from_files["staged_events"])
        assert from_es["quarantine"] == from_files["quarantine"] == []

        # Firewall and web records are staged as their own kind of session, not quarantined.
        with psycopg.connect(es_dsn) as conn:
            kinds: dict[str, int] = dict(
                conn.execute(
                    # doc is json holding attacker strings (\u0000 too): read the kind from its text
                    'SELECT substring(doc::text from \'"kind":"([a-z]+)"\'), count(*) '
                    "FROM coord.sessions WHERE NOT quarantined GROUP BY 1"
                ).fetchall()
            )
            run = conn.execute(
                "SELECT source_kind, source_locations, source_query, document_count, event_count, "
                "dq_gate_passed FROM coord.runs"
            ).fetchone()
            baseline = conn.execute("SELECT source_kind, query, profile FROM coord.dq_baselines").fetchone()
        in_window = [e for e in EXTRA if WINDOW.contains(parse_timestamp(e["timestamp"]))]
        assert kinds["firewall"] == sum(e["eventid"] == "dshield.firewall" for e in in_window) > 0
        assert kinds["web"] == sum(e["eventid"] == "dshield.web.request" for e in in_window) > 0
        assert kinds["cowrie"] > 0

        # Lineage of the read: the exact query, the concrete indices, the document count.
        assert run is not None
        source_kind, locations, query, documents, events, gate_passed = run
        assert source_kind == "elasticsearch" and gate_passed is True
        assert sorted(locations) == sorted(cluster.siem.patterns())
        assert query["body"]["query"]["bool"]["filter"][0]["range"]["@timestamp"]["gte"] == (
            "2025-10-24T03:30:00.000Z"
        )
        assert all(any(i.startswith(p.rstrip("*")) for p in locations) for i in query["indices"])
        assert query["baseline_profile"]["body"]["aggs"]["hours"]["date_histogram"]["field"] == "@timestamp"
        assert documents == query["hits_read"] - query["outside_interval"] >= events
        assert baseline is not None and baseline[0] == "elasticsearch"
        assert baseline[1] == query["baseline_profile"]
        hours = {h["start"][11:13]: sorted(h["sensors"]) for h in baseline[2]["hours"]}
        assert hours == {"01": ["sensor-edge"], "02": [SENSOR, "sensor-edge"], "03": [SENSOR]}
        judged = count(
            es_dsn,
            "SELECT count(*) FROM coord.dq_results WHERE suite = 'volume' "
            "AND expectation = 'events_not_collapsed' AND success AND (details->>'missing_count')::int = 0",
        )
        assert judged == 1  # three hours with events: the volume checks judged this interval
        outputs = _openlineage(events_file, "inputs")
        host = cluster.server.url.split("//", 1)[1].split("@")[-1].rstrip("/")
        assert {(f"elasticsearch://{host}", i) for i in query["indices"]} <= outputs["extract"]

        # Enrichment: one document per analysed session and per campaign, with stable ids.
        sessions_docs = cluster.documents_of(cluster.session_index)
        campaign_docs = cluster.documents_of(cluster.campaign_index)
        analysed = count(es_dsn, "SELECT count(*) FROM coord.sessions WHERE NOT quarantined")
        campaigns = count(es_dsn, "SELECT count(*) FROM coord.campaigns")
        assert len(sessions_docs) == analysed and len(campaign_docs) == campaigns > 0
        with psycopg.connect(es_dsn) as conn:
            campaign_ids = [r[0] for r in conn.execute("SELECT campaign_id FROM coord.campaigns")]
            export = conn.execute(
                "SELECT target, location, items FROM coord.exports WHERE target = 'elasticsearch'"
            ).fetchone()
            audited = conn.execute(
                "SELECT count(*) FROM coord.audit_log WHERE action = 'exported'"
            ).fetchone()
        assert set(campaign_docs) == {
            document_id(WINDOW.start, WINDOW.end, "campaign", cid) for cid in campaign_ids
        }
        assert export is not None and export[0] == "elasticsearch"
        assert "@" not in export[1] and export[1].startswith("http")  # no credentials in the record
        assert export[2]["session_documents"] == analysed
        assert export[2]["campaigns"] == {
            cid: document_id(WINDOW.start, WINDOW.end, "campaign", cid) for cid in sorted(campaign_ids)
        }
        assert audited == (1,)

        # A rerun (the DAG's tasks again, in one interpreter): same rows, same documents, no duplicates.
        run_intervals_in_process(es_airflow, [(WINDOW.start, WINDOW.end)], {"source": "elasticsearch"})
        assert snapshot(es_dsn) == from_es
        # The documents name the run that wrote them last; everything else is unchanged.
        with psycopg.connect(es_dsn) as conn:
            latest = conn.execute("SELECT run_id FROM coord.runs").fetchone()
        for index, before in (
            (cluster.session_index, sessions_docs),
            (cluster.campaign_index, campaign_docs),
        ):
            after = cluster.documents_of(index)
            assert set(after) == set(before)
            assert {d["run_id"] for d in after.values()} == {latest[0] if latest else None}
            assert _without_run(after) == _without_run(before)
        assert count(es_dsn, "SELECT count(*) FROM coord.audit_log WHERE action = 'exported'") == 2
