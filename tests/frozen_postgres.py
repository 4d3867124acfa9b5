"""A dedicated embedded PostgreSQL that a test may freeze (SIGSTOP) and thaw (SIGCONT).

Only the processes of the server this module started are signalled, by PID: its postmaster (the
first line of ``postmaster.pid``) and the postmaster's children. The postmaster is stopped first,
so no new child appears while the children are being stopped; every stopped process is continued
in a ``finally``, whatever the test did.
"""

from __future__ import annotations

import os
import shutil
import signal
import tempfile
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager, suppress
from dataclasses import dataclass, field
from pathlib import Path

from coord_core.embedded_services import EmbeddedPostgres


def _children(pid: int) -> list[int]:
    found = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            stat = (entry / "stat").read_text()
        except OSError:  # ended meanwhile
            continue
        # "pid (comm) state ppid ...": comm may hold spaces and parentheses, so split after it.
        if int(stat.rsplit(")", 1)[1].split()[1]) == pid:
            found.append(int(entry.name))
    return found


@dataclass
class FreezablePostgres:
    dsn: str
    data_dir: Path
    stopped: list[int] = field(default_factory=list)
    frozen_at: float | None = None  # time.monotonic()
    thawed_at: float | None = None
    frozen_wall: float | None = None  # time.time(), comparable with other processes' clocks
    thawed_wall: float | None = None

    def postmaster_pid(self) -> int:
        return int((self.data_dir / "postmaster.pid").read_text().split()[0])

    def freeze(self) -> None:
        """SIGSTOP the postmaster, then each of its children."""
        postmaster = self.postmaster_pid()
        os.kill(postmaster, signal.SIGSTOP)
        self.stopped.append(postmaster)
        for child in _children(postmaster):
            try:
                os.kill(child, signal.SIGSTOP)
            except ProcessLookupError:
                continue
            self.stopped.append(child)
        self.frozen_at, self.thawed_at = time.monotonic(), None
        self.frozen_wall, self.thawed_wall = time.time(), None

    def thaw(self) -> None:
        """SIGCONT every process ``freeze`` stopped (children first), once."""
        while self.stopped:
            with suppress(ProcessLookupError):
                os.kill(self.stopped.pop(), signal.SIGCONT)
        if self.frozen_at is not None and self.thawed_at is None:
            self.thawed_at, self.thawed_wall = time.monotonic(), time.time()

    @contextmanager
    def frozen_for(self, seconds: float, *, after: float = 0.0) -> Iterator[None]:
        """Freeze ``after`` seconds from now for ``seconds`` (in a thread), while the body runs;
        thawed on leaving, whatever happened."""
        done = threading.Event()

        def drill() -> None:
            if done.wait(after):
                return
            self.freeze()
            done.wait(seconds)
            self.thaw()

        thread = threading.Thread(target=drill, name="freeze-postgres", daemon=True)
        thread.start()
        try:
            yield
        finally:
            done.set()
            thread.join()
            self.thaw()


@contextmanager
def freezable_postgres() -> Iterator[FreezablePostgres]:
    """A new embedded PostgreSQL of its own (never the shared test server), stopped afterwards."""
    # Not under pytest's basetemp, for the reason given in tests/conftest.py.
    root = Path(tempfile.mkdtemp(prefix="coord-freeze-pg-"))
    server = EmbeddedPostgres(root / "data")
    frozen = FreezablePostgres(server.start(), root / "data")
    try:
        yield frozen
    finally:
        frozen.thaw()
        server.stop()
        shutil.rmtree(root, ignore_errors=True)
