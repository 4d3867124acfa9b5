from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest

from tests.conftest import temporary_database
from tests.dags.airflow_env import AirflowEnv, home_from_template, make_airflow_env, sqlalchemy_url


@pytest.fixture
def airflow(
    airflow_home_template: Path, tmp_path: Path, postgres_dsn: str, redis_server_url: str
) -> Iterator[AirflowEnv]:
    home = home_from_template(airflow_home_template, tmp_path / "airflow")
    yield make_airflow_env(home, postgres_dsn, redis_server_url)


@contextmanager
def airflow_with_postgres_metadata(
    home: Path, results_dsn: str, postgres_server_dsn: str, redis_url: str
) -> Iterator[AirflowEnv]:
    """An AIRFLOW_HOME whose metadata DB is on PostgreSQL: needed where several Airflow
    processes (scheduler, API server, CLI) write at once, which SQLite cannot take."""
    with temporary_database(postgres_server_dsn, "coord_airflow_meta") as meta:
        env = make_airflow_env(
            home, results_dsn, redis_url, AIRFLOW__DATABASE__SQL_ALCHEMY_CONN=sqlalchemy_url(meta)
        )
        env.home.mkdir(parents=True)
        env.run("db", "migrate")
        yield env
