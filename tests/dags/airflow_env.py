"""Run Airflow CLI commands against a throwaway AIRFLOW_HOME and the test's own databases."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import tempfile
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import quote

import psycopg

REPO = Path(__file__).resolve().parents[2]
AIRFLOW = str(Path(sys.executable).with_name("airflow"))
DAG_ID = "dshield_coordination"


def airflow_conn_uri(dsn: str) -> str:
    """Airflow connection URI for a libpq conninfo (socket directory or TCP host)."""
    info = psycopg.conninfo.conninfo_to_dict(dsn)
    host = str(info.get("host") or "127.0.0.1")
    port = f":{info['port']}" if info.get("port") else ""
    user = str(info.get("user") or "postgres")
    return f"postgresql://{quote(user)}@{quote(host, safe='')}{port}/{info.get('dbname', 'postgres')}"


def sqlalchemy_url(dsn: str) -> str:
    """SQLAlchemy URL (psycopg 3 driver) for a libpq conninfo: Airflow's metadata database."""
    info = psycopg.conninfo.conninfo_to_dict(dsn)
    host = str(info.get("host") or "127.0.0.1")
    user = quote(str(info.get("user") or "postgres"))
    if host.startswith("/"):
        return f"postgresql+psycopg://{user}@/{info['dbname']}?host={quote(host)}"
    port = f":{info['port']}" if info.get("port") else ""
    return f"postgresql+psycopg://{user}@{host}{port}/{info['dbname']}"


@dataclass
class AirflowEnv:
    home: Path
    env: dict[str, str]

    def run(self, *args: str, timeout: int = 300, check: bool = True) -> subprocess.CompletedProcess[str]:
        done = subprocess.run(
            [AIRFLOW, *args], env=self.env, capture_output=True, text=True, timeout=timeout, check=False
        )
        if check and done.returncode != 0:
            tail = (done.stdout + done.stderr)[-6000:]
            raise AssertionError(f"airflow {' '.join(args)} failed ({done.returncode}):\n{tail}")
        return done

    def dags_test(self, logical_date: str, conf: Mapping[str, object] | None = None) -> str:
        args = ["dags", "test", DAG_ID, logical_date]
        if conf:
            args += ["-c", json.dumps(conf)]
        done = self.run(*args, timeout=600)
        output = done.stdout + done.stderr
        assert "state=success" in output or "DagRun Finished" in output, output[-4000:]
        assert "state=failed" not in output, output[-4000:]
        return output


def plugin_env(home: Path) -> dict[str, str]:
    """An environment for Airflow commands on this project's DAGs and plugins (no connections)."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("AIRFLOW")}
    env.update(
        AIRFLOW_HOME=str(home),
        AIRFLOW__CORE__DAGS_FOLDER=str(REPO / "dags"),
        AIRFLOW__CORE__PLUGINS_FOLDER=str(REPO / "plugins"),
        AIRFLOW__CORE__LOAD_EXAMPLES="False",
        PYTHONWARNINGS="ignore",
    )
    return env


def plugin_app_statuses(home: Path, code: str) -> list[str]:
    """Run ``code`` (which prints ``STATUS <code>`` lines) with the plugins importable, in a fresh
    interpreter as Airflow's would be, and return the statuses it printed."""
    env = plugin_env(home)
    env["PYTHONPATH"] = f"{REPO / 'plugins'}:{REPO}"
    done = subprocess.run(
        [sys.executable, "-c", code], check=False, env=env, capture_output=True, text=True, timeout=120
    )
    assert done.returncode == 0, done.stderr[-3000:]
    return [line.split()[1] for line in done.stdout.splitlines() if line.startswith("STATUS ")]


# One signing key for every test Airflow: tests that share a Redis (COORD_TEST_REDIS=system, several
# workers) then read each other's entries as valid instead of rejecting them. Tests only.
TEST_CACHE_SECRET = "tests-only-cache-signing-key-" + "5e" * 20


def with_cache_secret(redis_url: str, secret: str = TEST_CACHE_SECRET) -> str:
    """``coord_redis`` with a cache signing key (extra ``cache_hmac_secret``) in its URI."""
    return f"{redis_url}{'&' if '?' in redis_url else '?'}cache_hmac_secret={secret}"


def home_from_template(template: Path, home: Path) -> Path:
    """``home``: a copy of a migrated AIRFLOW_HOME whose airflow.cfg points at the copy, not at the
    template (copying is seconds cheaper than migrating a metadata database)."""
    shutil.copytree(template, home)
    cfg = home / "airflow.cfg"
    cfg.write_text(cfg.read_text().replace(str(template), str(home)))
    return home


def make_airflow_env(home: Path, postgres_dsn: str, redis_url: str, **extra: str) -> AirflowEnv:
    env = plugin_env(home)
    env.update(
        AIRFLOW__CORE__PARALLELISM="4",
        AIRFLOW_CONN_COORD_POSTGRES=airflow_conn_uri(postgres_dsn),
        AIRFLOW_CONN_COORD_REDIS=with_cache_secret(redis_url),
        # Test inputs live in the repository and in pytest's temporary folders.
        AIRFLOW_VAR_COORD_INPUT_BASES=json.dumps([str(REPO), tempfile.gettempdir()]),
    )
    env.update(extra)
    return AirflowEnv(home=home, env=env)


def ollama_connection(host: str, models: list[str]) -> str:
    """``AIRFLOW_CONN_COORD_OLLAMA`` for an Ollama at ``host`` (JSON form, models in the extras)."""
    address, port = host.removeprefix("http://").rsplit(":", 1)
    extra = {"models": models, "read_timeout_s": 30, "retries": 1, "backoff_s": 0.5}
    return json.dumps({"conn_type": "http", "host": address, "port": int(port), "extra": extra})
