from __future__ import annotations

import fcntl
import os
import shutil
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest

from tests.conftest import temporary_database
from tests.dags.airflow_env import AirflowEnv, make_airflow_env, sqlalchemy_url


@pytest.fixture(scope="session")
def airflow_home_template(tmp_path_factory: pytest.TempPathFactory, airflow_processes: None) -> Path:
    """An AIRFLOW_HOME with a migrated metadata DB, made once per test session and copied per test.

    Under pytest-xdist the workers share it: the first one to need it migrates it (under a file
    lock, in the session's common temporary folder); the others wait for it and only read it.
    """
    root = tmp_path_factory.getbasetemp()
    if os.environ.get("PYTEST_XDIST_WORKER"):
        root = root.parent  # the folder the workers' own basetemps are in
    home = root / "airflow-template"
    with (root / "airflow-template.lock").open("w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        if not (home / ".migrated").exists():
            shutil.rmtree(home, ignore_errors=True)
            home.mkdir()
            env = make_airflow_env(home, "host=/nonexistent dbname=x", "redis://127.0.0.1:1/0")
            env.run("db", "migrate")
            (home / ".migrated").touch()
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
