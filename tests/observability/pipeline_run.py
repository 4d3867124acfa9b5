"""A real pipeline run of a generated botnet in a fresh PostgreSQL, written by the pipeline's own functions.

Extract (with one line that is not JSON), validate, analyze, load, narrate without an LLM, a MISP
feed export, a refused Elasticsearch export and the store's audit entries: what the metrics
endpoint reports and what a backup must carry. Registered in tests/conftest.py (pytest_plugins).
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import psycopg
import pytest

from coord_core.contracts.window import DataWindow
from coord_core.ingest.cowrie_files import read_paths
from coord_core.intel.feed_publisher import FeedPublisher
from coord_core.intel.settings import MispExportSettings
from coord_core.pipeline.analyze import analyze_interval
from coord_core.pipeline.extract import extract_interval
from coord_core.pipeline.load import load_interval
from coord_core.pipeline.narrate import RunContext, record_llm_off
from coord_core.pipeline.publish_misp import export_interval
from coord_core.quality.stage import validate_stage
from coord_core.scenarios.catalogue import generate
from coord_core.scenarios.cowrie_writer import write_scenario
from coord_core.store.migrations import migrate
from coord_core.store.results import ResultsStore, RunRecord

DAG_ID = "dshield_coordination"
RUN_ID = "manual__metrics"


@dataclass(frozen=True)
class PipelineRun:
    dsn: str
    window: DataWindow
    read: int
    sessions: int
    quarantined_refs: int
    gate_passed: bool
    campaigns_by_verdict: dict[str, int]
    newest_event: float


@pytest.fixture
def pipeline_run(postgres_dsn: str, tmp_path: Path) -> PipelineRun:
    scenario = generate("dropper_botnet", 3, size="small")
    log_path, _ = write_scenario(scenario.plans, scenario.truth(), tmp_path / "botnet")
    # A line that is not JSON: quarantined at parse, never lost.
    with log_path.open("a") as handle:
        handle.write("{not json\n")
    window = scenario.window
    with psycopg.connect(postgres_dsn) as conn:
        migrate(conn)
        store = ResultsStore(conn)
        run = RunRecord(DAG_ID, RUN_ID, 1, "files", [str(log_path)], None, "test", {})
        store.start_run(window, run)
        store.audit("airflow:manual:test", "run_started", dag_id=DAG_ID, run_id=RUN_ID, window=window)
        extracted = extract_interval(store, window, read_paths([log_path]))
        store.update_run(
            DAG_ID,
            window,
            event_count=extracted.read,
            quarantined_count=extracted.quarantined,
            session_count=extracted.sessions,
        )
        quality = validate_stage(store, window)
        store.update_run(DAG_ID, window, dq_gate_passed=quality.gate.passed)
        analysed = analyze_interval(store, window, {}, dag_id=DAG_ID)
        store.update_run(DAG_ID, window, analysis_cache_hit=analysed["cache_hit"])
        loaded = load_interval(store, window)
        store.update_run(DAG_ID, window, campaign_count=loaded["campaigns"])
        record_llm_off(store, window, RunContext(DAG_ID, RUN_ID, 1, "test-worker"))
        export_interval(
            store,
            window,
            FeedPublisher(tmp_path / "feed", MispExportSettings()),
            MispExportSettings(),
            min_confidence=0.0,
            dag_id=DAG_ID,
            run_id=RUN_ID,
        )
        store.audit(
            "airflow:pipeline",
            "export_failed",
            dag_id=DAG_ID,
            run_id=RUN_ID,
            window=window,
            details={"target": "elasticsearch", "failed_count": 2},
        )
        store.update_run(DAG_ID, window, status="success")
        store.audit("airflow:pipeline", "run_finished", dag_id=DAG_ID, run_id=RUN_ID, window=window)
        result = store.load_analysis_result(window)
        assert result is not None and result.campaigns
        verdicts: dict[str, int] = {}
        for campaign in result.campaigns:
            verdicts[campaign.verdict] = verdicts.get(campaign.verdict, 0) + 1
        quarantined = conn.execute(
            "SELECT count(DISTINCT ref) FROM coord.quarantine WHERE interval_start = %s", (window.start,)
        ).fetchone()
        newest = max(s.end for s in store.load_sessions(window))
    assert quarantined is not None and quarantined[0] >= 1
    return PipelineRun(
        dsn=postgres_dsn,
        window=window,
        read=extracted.read,
        sessions=extracted.sessions,
        quarantined_refs=int(quarantined[0]),
        gate_passed=quality.gate.passed,
        campaigns_by_verdict=verdicts,
        newest_event=newest.timestamp(),
    )
