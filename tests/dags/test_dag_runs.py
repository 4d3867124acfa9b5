"""The main DAG end to end with `airflow dags test` on real PostgreSQL and Redis (the golden run:
the assertions that need Airflow itself, OpenLineage events and its logs, read this one run)."""

from __future__ import annotations

import json
from pathlib import Path

import psycopg
import redis

from coord_core.cli.lineage import render_lineage
from coord_core.contracts.window import DataWindow
from coord_core.store import redis_keys
from coord_core.store.lineage import campaign_lineage
from tests.conftest import REAL_SAMPLE
from tests.dags.airflow_env import TEST_CACHE_SECRET, AirflowEnv
from tests.dags.in_process import run_dag_in_process, run_intervals_in_process
from tests.dags.snapshot import count, snapshot

SAMPLE_CONF = {
    "window_start": "2025-10-24T02:00:00+00:00",
    "window_end": "2025-10-24T14:00:00+00:00",
    "input_paths": [str(REAL_SAMPLE)],
}
WINDOW = DataWindow(start=SAMPLE_CONF["window_start"], end=SAMPLE_CONF["window_end"])


def _openlineage_outputs(events_file: Path) -> dict[str, set[tuple[str, str]]]:
    outputs: dict[str, set[tuple[str, str]]] = {}
    for line in events_file.read_text().splitlines():
        event = json.loads(line)
        if event.get("eventType") == "COMPLETE":
            datasets = {(d["namespace"], d["name"]) for d in event.get("outputs", [])}
            outputs.setdefault(event["job"]["name"].split(".")[-1], set()).update(datasets)
    return outputs


def test_real_tpot_sample_end_to_end_and_rerun_is_identical(
    airflow: AirflowEnv, postgres_dsn: str, redis_server_url: str, tmp_path: Path
) -> None:
    events_file = tmp_path / "openlineage.jsonl"
    airflow.env["AIRFLOW__OPENLINEAGE__TRANSPORT"] = json.dumps(
        {"type": "file", "log_file_path": str(events_file), "append": True}
    )
    feed = tmp_path / "misp-feed"
    airflow.env["AIRFLOW_VAR_COORD_MISP_FEED_DIR"] = str(feed)
    first_output = airflow.dags_test("2025-10-24T14:00:00+00:00", SAMPLE_CONF)
    # OpenLineage events went out through Airflow's provider, with our dataset namespaces.
    outputs = _openlineage_outputs(events_file)
    # Without a coord_misp connection publish_misp wrote the feed folder, and its lineage says so.
    assert str(feed) in first_output and (feed / "manifest.json").exists()
    assert any(
        name == str(feed) and space.startswith("file://") for space, name in outputs["publish_misp"]
    ), outputs["publish_misp"]
    database = psycopg.conninfo.conninfo_to_dict(postgres_dsn)["dbname"]
    assert ("postgres://localhost:5432", f"{database}.coord.campaigns") in outputs["load"]
    assert ("postgres://localhost:5432", f"{database}.coord.sessions") in outputs["extract"]
    redis_port = redis_server_url.rsplit(":", 1)[1].split("/", maxsplit=1)[0]
    assert (f"redis://127.0.0.1:{redis_port}", "0/coord:campaigns:active") in outputs["publish_redis"]
    assert count(postgres_dsn, "SELECT count(*) FROM coord.sessions") == 474
    assert count(postgres_dsn, "SELECT count(DISTINCT src_ip) FROM coord.sessions") == 69
    assert count(postgres_dsn, "SELECT count(*) FROM coord.staged_events") == 2057
    assert count(postgres_dsn, "SELECT count(*) FROM coord.quarantine") == 0
    assert count(postgres_dsn, "SELECT count(*) FROM coord.dq_reports WHERE gate_passed") == 1
    assert count(postgres_dsn, "SELECT count(*) FROM coord.dq_results") > 10
    assert count(postgres_dsn, "SELECT count(*) FROM coord.runs WHERE dq_gate_passed") == 1
    campaigns = count(postgres_dsn, "SELECT count(*) FROM coord.campaigns")
    # What the analytics finds in the real sample (02:00-14:00), and why:
    # * 39.114.14.2 + 61.80.142.115 (two Korean ISPs) ran the same 11-command recon script
    #   (Telegram/SMS-modem hunting, "locate D877F783D5D3EF8Cs"): a toolkit fingerprint.
    # * 176.65.149.208, 45.134.225.119, 79.124.8.120 each tried one or few passwords, all
    #   including the uncommon root/adminHW: one list's bots, no other source tries it.
    # 103.146.202.84 + 193.32.162.146 (heavy Go brute-forcers, both ran `uname -s -v -n -r -m`) share
    # only common tooling and a recon line everyone types (COMMON_COMMANDS): in no campaign.
    # The Censys and Shadowserver sources are benign scanners, in no campaign.
    assert campaigns == 2
    with psycopg.connect(postgres_dsn) as conn:
        groups = {
            tuple(ips): verdict
            for verdict, ips in conn.execute(
                "SELECT c.verdict, array_agg(DISTINCT host(m.src_ip) ORDER BY host(m.src_ip)) "
                "FROM coord.campaigns c JOIN coord.campaign_members m USING "
                "(interval_start, interval_end, campaign_id) GROUP BY c.campaign_id, c.verdict"
            ).fetchall()
        }
        factors = {
            factor for (factor,) in conn.execute("SELECT DISTINCT factor FROM coord.evidence").fetchall()
        }
        stored_result = conn.execute("SELECT result::text FROM coord.analysis_results").fetchone()
        checkpoints = conn.execute("SELECT count(*) FROM coord_workflow.checkpoints").fetchone()
    assert groups == {
        ("39.114.14.2", "61.80.142.115"): "coordinated_campaign",
        ("176.65.149.208", "45.134.225.119", "79.124.8.120"): "coordinated_campaign",
    }
    assert {"command_similarity", "shared_credential", "temporal_synchronisation", "confidence"} <= factors
    assert stored_result is not None
    scanners = {s["source_ip"]: s["lists"] for s in json.loads(stored_result[0])["benign_scanners"]}
    assert scanners == {
        "167.94.146.48": ["Censys IP Ranges Used for Scanning"],
        "65.49.1.152": ["Shadowserver IP Ranges Used for Scanning"],
    }
    # The workflow checkpointed in PostgreSQL and dropped its thread once the result was stored.
    assert checkpoints == (0,)
    # every campaign member is a stored session, and every campaign has evidence
    assert (
        count(
            postgres_dsn,
            "SELECT count(*) FROM coord.campaign_members m LEFT JOIN coord.sessions s "
            "ON s.session_id = m.session_id AND s.interval_start = m.interval_start "
            "WHERE s.session_id IS NULL",
        )
        == 0
    )
    assert (
        count(
            postgres_dsn,
            "SELECT count(*) FROM coord.campaigns c WHERE NOT EXISTS "
            "(SELECT 1 FROM coord.evidence e WHERE e.campaign_id = c.campaign_id)",
        )
        == 0
    )
    assert count(postgres_dsn, "SELECT count(*) FROM coord.runs WHERE status = 'success'") == 1
    stored = redis.Redis.from_url(redis_server_url).get(
        redis_keys.run_summary("dshield_coordination", WINDOW)
    )
    assert stored is not None
    summary = json.loads(stored)
    assert summary["campaigns"] == campaigns

    # Every campaign traces back to its run, source, input, code and evidence.
    with psycopg.connect(postgres_dsn) as conn:
        row = conn.execute("SELECT campaign_id FROM coord.campaign_identity LIMIT 1").fetchone()
        assert row is not None
        campaign_id = row[0]
        chain = campaign_lineage(conn, campaign_id)
    assert chain is not None
    text = render_lineage(chain)
    run = chain["occurrences"][0]["runs"][0]
    assert run["run_type"] == "manual" and run["status"] == "success"
    assert run["source_locations"] == [str(REAL_SAMPLE)]
    for expected in (run["run_id"], run["input_fingerprint"], run["result_sha256"], run["code_version"]):
        assert expected and expected in text
    assert chain["occurrences"][0]["evidence"]

    before = snapshot(postgres_dsn)
    # A rerun of the interval: the DAG's tasks again, in one interpreter.
    output = run_intervals_in_process(
        airflow, [(WINDOW.start, WINDOW.end)], {"input_paths": [str(REAL_SAMPLE)]}
    )
    assert snapshot(postgres_dsn) == before
    # The second run found the first run's result in the Redis cache and said so.
    assert "analysis cache hit" in output
    # The result was cached as a sealed entry; the signing key never reached the logs.
    with psycopg.connect(postgres_dsn) as conn:
        row = conn.execute("SELECT analysis_input_fingerprint, parameters_hash FROM coord.runs").fetchone()
    assert row is not None
    cache = redis.Redis.from_url(redis_server_url)
    entries = [cache.get(k) for k in cache.scan_iter(f"coord:result:{WINDOW.label}:{row[0]}:{row[1]}:*")]
    assert entries and all(e is not None and e.startswith(b"coord-sealed-v1 ") for e in entries)
    assert TEST_CACHE_SECRET in airflow.env["AIRFLOW_CONN_COORD_REDIS"]
    assert TEST_CACHE_SECRET not in first_output and TEST_CACHE_SECRET not in output
    # Without a coord_elasticsearch connection the write-back says so and the run still succeeds.
    assert "Elasticsearch enrichment is not written" in output and "(skipped, not an error)" in output
    assert count(postgres_dsn, "SELECT count(*) FROM coord.runs WHERE analysis_cache_hit") == 1
    assert count(postgres_dsn, "SELECT count(*) FROM coord.audit_log WHERE action = 'run_started'") == 2


def test_maintenance_dag_applies_retention_and_audits_it(airflow: AirflowEnv, postgres_dsn: str) -> None:
    run_dag_in_process(airflow, "coord_maintenance", [{"keep_days": {"staged_events": 7}}])
    assert (
        count(postgres_dsn, "SELECT keep_days FROM coord.retention_policy WHERE table_name = 'staged_events'")
        == 7
    )
    assert count(postgres_dsn, "SELECT count(*) FROM coord.audit_log WHERE action = 'retention_applied'") == 1
