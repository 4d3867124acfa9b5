"""Redis dies in the middle of a run: the run still completes and every row is in PostgreSQL."""

from __future__ import annotations

import subprocess
import time
from pathlib import Path

from coord_core.embedded_services import EmbeddedRedis
from tests.conftest import REAL_SAMPLE
from tests.dags.airflow_env import AIRFLOW, DAG_ID, AirflowEnv, make_airflow_env
from tests.dags.snapshot import count

CONF = (
    '{"window_start": "2025-10-24T02:00:00+00:00", "window_end": "2025-10-24T14:00:00+00:00", '
    f'"input_paths": ["{REAL_SAMPLE}"]}}'
)


def test_run_completes_when_redis_is_killed_mid_run(
    airflow: AirflowEnv, postgres_dsn: str, tmp_path: Path
) -> None:
    own_redis = EmbeddedRedis(tmp_path / "redis")
    url = own_redis.start()
    env = make_airflow_env(airflow.home, postgres_dsn, url).env
    log = tmp_path / "run.log"
    with log.open("w") as handle:
        run = subprocess.Popen(
            [AIRFLOW, "dags", "test", DAG_ID, "2025-10-24T14:00:00+00:00", "-c", CONF],
            env=env,
            stdout=handle,
            stderr=subprocess.STDOUT,
        )
    try:
        deadline = time.monotonic() + 240
        while count(postgres_dsn, "SELECT count(*) FROM pg_tables WHERE schemaname = 'coord'") == 0 or (
            count(postgres_dsn, "SELECT count(*) FROM coord.sessions") == 0
        ):
            assert run.poll() is None, log.read_text()[-3000:]
            assert time.monotonic() < deadline, "extract did not finish"
            time.sleep(0.2)
        assert own_redis.stop()  # Redis is gone from here on
        assert run.wait(timeout=300) == 0, log.read_text()[-3000:]
    finally:
        if run.poll() is None:
            run.kill()
        own_redis.stop()
    output = log.read_text()
    assert "state=failed" not in output
    assert count(postgres_dsn, "SELECT count(*) FROM coord.runs WHERE status = 'success'") == 1
    assert count(postgres_dsn, "SELECT count(*) FROM coord.sessions") == 474
    assert count(postgres_dsn, "SELECT count(*) FROM coord.analysis_results") == 1
    campaigns = count(postgres_dsn, "SELECT count(*) FROM coord.campaigns")
    assert campaigns >= 1
    assert count(postgres_dsn, "SELECT count(*) FROM coord.campaign_identity") == campaigns
    assert count(postgres_dsn, "SELECT count(*) FROM coord.audit_log WHERE action = 'redis_unavailable'") == 1
    assert "Redis unavailable, continuing without it" in output
