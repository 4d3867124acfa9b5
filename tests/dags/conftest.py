from __future__ import annotations

import shutil
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest

from tests.conftest import temporary_database
from tests.dags.airflow_env import AirflowEnv, make_airflow_env, sqlalchemy_url


@pytest.fixture(scope="session")
def airflow_home_template(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """An AIRFLOW_HOME with a migrated metadata DB, made once and copied per test."""
    home = tmp_path_factory.mktemp("airflow-template")
    make_airflow_env(home, "host=/nonexistent dbname=x", "redis://127.0.0.1:1/0").run("db", "migrate")
    return home


@pytest.fixture
def airflow(
    airflow_home_template: Path, tmp_path: Path, postgres_dsn: str, redis_server_url: str
) -> Iterator[AirflowEnv]:
    home = tmp_path / "airflow"
    shutil.copytree(airflow_home_template, home)
    # The copied airflow.cfg points at the template's paths; rewrite them to this home.
    cfg = home / "airflow.cfg"
    cfg.write_text(cfg.read_text().replace(str(airflow_home_template), str(home)))
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
