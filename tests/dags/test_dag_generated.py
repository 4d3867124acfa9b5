"""The main DAG's tasks end to end on a generated scenario (in one interpreter): what it stores is
right against the known truth."""

from __future__ import annotations

import json
from pathlib import Path

import psycopg
import redis

from coord_core.contracts.campaigns import Verdict
from coord_core.evaluation.harness import score_result
from coord_core.scenarios.catalogue import generate
from coord_core.scenarios.cowrie_writer import write_scenario
from coord_core.store import redis_keys
from coord_core.store.results import ResultsStore
from tests.dags.airflow_env import AirflowEnv
from tests.dags.in_process import run_intervals_in_process
from tests.dags.snapshot import count
from tests.emulators.webhook_receiver import WebhookReceiver

WEBHOOK_SECRET = "whsec-dag-generated-0123456789abcdef"
ALERT_CONFIDENCE = 0.5


def test_generated_mixed_window_is_stored_and_matches_its_truth(
    airflow: AirflowEnv, postgres_dsn: str, tmp_path: Path, redis_client: redis.Redis[bytes]
) -> None:
    scenario = generate("mixed", 11, size="tiny")
    truth = scenario.truth()
    log_path, _ = write_scenario(scenario.plans, truth, tmp_path / "mixed")
    window = scenario.window
    conf = {
        "window_start": window.start.isoformat(),
        "window_end": window.end.isoformat(),
        "input_paths": [str(log_path)],
        "alert_confidence": ALERT_CONFIDENCE,
    }
    with WebhookReceiver(WEBHOOK_SECRET) as receiver:
        airflow.env["AIRFLOW_CONN_COORD_WEBHOOK"] = json.dumps(
            {"conn_type": "http", "host": receiver.url, "password": WEBHOOK_SECRET}
        )
        try:
            run_intervals_in_process(airflow, [(window.start, window.end)], conf)
        finally:
            with psycopg.connect(postgres_dsn) as conn:
                tracks = ResultsStore(conn).campaign_tracks_of(window)
            if tracks:  # the run's alert markers: a later run of this scenario alerts anew
                redis_client.delete(*[redis_keys.alerted(t["campaign_id"]) for t in tracks])

    # publish_redis's success callback sent the campaigns tracking flagged as new, signed.
    expected = {t["campaign_id"] for t in tracks if t["confidence"] >= ALERT_CONFIDENCE}
    assert expected
    (alert,) = receiver.received
    assert alert.signature_ok and alert.headers["X-Coord-Event"] == "new_campaigns"
    assert {c["campaign_id"] for c in alert.json()["data"]["campaigns"]} == expected
    assert count(postgres_dsn, "SELECT count(*) FROM coord.audit_log WHERE action = 'webhook_delivery'") == 1

    assert count(postgres_dsn, "SELECT count(*) FROM coord.sessions") == len(truth.sessions)
    assert count(postgres_dsn, "SELECT count(*) FROM coord.quarantine") == 0
    assert (
        count(postgres_dsn, "SELECT count(*) FROM coord.runs WHERE dq_gate_passed AND status = 'success'")
        == 1
    )
    with psycopg.connect(postgres_dsn) as conn:
        result = ResultsStore(conn).load_analysis_result(window)
        stored: dict[str, int] = dict(
            conn.execute("SELECT campaign_id, session_count FROM coord.campaigns").fetchall()
        )
        members = conn.execute(
            "SELECT campaign_id, count(*) FROM coord.campaign_members GROUP BY campaign_id"
        ).fetchall()
    assert result is not None
    # The relational rows are the stored result, campaign by campaign.
    assert stored == {c.campaign_id: len(c.session_ids) for c in result.campaigns}
    assert dict(members) == stored
    # And the result is right: scored against the generator's truth with the project's metrics.
    scores = score_result(truth, result).overall.scores
    assert scores["bcubed_f1"] >= 0.95 and scores["pair_precision"] >= 0.95, scores
    assert scores["pair_recall"] >= 0.9 and scores["false_merge_rate"] <= 0.01, scores
    assert scores["verdict_accuracy"] >= 0.9, scores
    # Research scanners are labelled benign and never part of a campaign.
    scanner_ips = {ip for a in truth.actors if a.benign for ip in a.source_ips}
    assert scanner_ips and scanner_ips <= {s.source_ip for s in result.benign_scanners}
    in_campaigns = {
        ip for c in result.campaigns if c.verdict is not Verdict.COINCIDENTAL for ip in c.source_ips
    }
    assert not scanner_ips & in_campaigns
