"""Client-side bound on a PostgreSQL server that stops answering (frozen, hung, cut off).

Server-side ``statement_timeout`` cannot fire on a server that does not run, and TCP cannot tell
either: while a server process is stopped (SIGSTOP, a hung VM, a stalled container) its kernel
still acknowledges data and keepalive probes, so neither TCP keepalives nor ``tcp_user_timeout``
ever trip (measured: 1 s keepalives and a 2 s user timeout against a stopped peer, no error in
12 s). They do bound a dead host or a cut network, so every coord connection gets them, with a
``connect_timeout``; the frozen server needs a liveness check above TCP:

While a statement of a watched connection is in flight, a watchdog thread asks the server's
postmaster every ``interval`` for the one-byte answer it gives to an SSL request (no credentials,
no session, answered even while every backend is busy). A long query on a live server keeps
answering and is left alone (``statement_timeout`` bounds it); when no probe has been answered for
``timeout`` seconds the watchdog shuts the connection's socket down, so the statement fails at
once with ``ServerUnresponsive`` instead of hanging until the server resumes. A statement on a
frozen server therefore fails within ``timeout + 2 * interval`` seconds of the freeze (40 s with the
defaults: ``interval`` is a sixth of ``timeout``, at most 5 s), a new connection within
``connect_timeout``.
"""

from __future__ import annotations

import contextlib
import logging
import os
import socket
import struct
import threading
import time
import weakref
from collections.abc import Iterator, Mapping
from typing import Any, Final

import psycopg
from psycopg.pq import TransactionStatus

log = logging.getLogger(__name__)

# libpq options every coord connection gets unless its conninfo (or the Airflow connection's
# extras) sets them: a connection attempt to a server that does not answer fails after 10 s, and a
# dead peer or cut network is noticed within about a minute (keepalives after 30 s idle, every
# 10 s, 3 lost; sent data unacknowledged for 60 s).
LIBPQ_DEFAULTS: Final[Mapping[str, str]] = {
    "connect_timeout": "10",
    "keepalives": "1",
    "keepalives_idle": "30",
    "keepalives_interval": "10",
    "keepalives_count": "3",
    "tcp_user_timeout": "60000",
}
# How long a server may leave liveness probes unanswered while a statement is in flight.
DEFAULT_LIVENESS_TIMEOUT: Final = 30.0
# The Airflow connection's extra that overrides it (seconds; 0 turns the watchdog off).
LIVENESS_EXTRA: Final = "liveness_timeout"
_SSL_REQUEST: Final = struct.pack("!ii", 8, 80877103)


class ServerUnresponsive(psycopg.OperationalError):
    """The server answered no liveness probe for the bound while a statement waited on it."""


def with_client_bounds(conninfo: str = "", **kwargs: Any) -> dict[str, Any]:
    """``kwargs`` for ``psycopg.connect(conninfo, **kwargs)`` with the ``LIBPQ_DEFAULTS`` that
    neither the conninfo nor ``kwargs`` sets."""
    given = {**psycopg.conninfo.conninfo_to_dict(conninfo), **kwargs}
    return {**{k: v for k, v in LIBPQ_DEFAULTS.items() if given.get(k) in (None, "")}, **kwargs}


def probe(conn_info: psycopg.ConnectionInfo, timeout: float) -> bool:
    """Whether the server behind ``conn_info`` answers an SSL request within ``timeout`` seconds."""
    host, port = conn_info.host, conn_info.port
    try:
        if host.startswith("/"):
            sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
            target: Any = f"{host}/.s.PGSQL.{port}"
        else:
            family = socket.AF_INET6 if ":" in (conn_info.hostaddr or host) else socket.AF_INET
            sock = socket.socket(family, socket.SOCK_STREAM)
            target = (conn_info.hostaddr or host, port)
        with sock:
            sock.settimeout(timeout)
            sock.connect(target)
            sock.sendall(_SSL_REQUEST)
            return sock.recv(1) in (b"S", b"N", b"E")
    except OSError:
        return False


def probe_interval(timeout: float) -> float:
    """How often the watchdog looks and probes: a sixth of ``timeout``, between 0.2 s and 5 s."""
    return max(min(timeout / 6, 5.0), 0.2)


def bound(timeout: float = DEFAULT_LIVENESS_TIMEOUT) -> float:
    """The longest a statement waits on a server that stopped answering, in seconds (see ``_run``)."""
    return timeout + 2 * probe_interval(timeout)


class LivenessWatchdog:
    """One daemon thread per watched connection (see the module doc). It holds the connection
    weakly: a connection dropped without ``close()`` is still collected, and the thread ends."""

    def __init__(self, conn: psycopg.Connection[Any], timeout: float, interval: float | None = None) -> None:
        if timeout <= 0:
            raise ValueError("the liveness timeout must be positive")
        self.timeout = timeout
        self.interval = interval or probe_interval(timeout)
        self.reason: str | None = None  # why it aborted the connection; None while it has not
        self._conn = weakref.ref(conn)
        self._server = _server_of(conn)
        with _REGISTRY_LOCK:
            _REGISTRY.add(self)
        self._thread = threading.Thread(target=self._run, name="coord-pg-liveness", daemon=True)
        self._thread.start()

    def _run(self) -> None:
        # Ticks every ``interval``; a probe waits at most one interval, so it never delays a tick.
        # A statement is aborted at the first tick at least ``timeout`` after it was first seen in
        # flight or the server last answered: within ``timeout + 2 * interval`` of the freeze or of
        # the statement's start, whichever is later (``bound``), and never sooner than ``timeout``.
        last_answer: float | None = None  # while busy: when first seen busy, or the last answer
        tick = time.monotonic()
        while True:
            tick += self.interval
            time.sleep(max(0.0, tick - time.monotonic()))
            conn = self._conn()
            if conn is None or conn.closed or self.reason is not None:
                self.forget()
                return
            if conn.pgconn.transaction_status != TransactionStatus.ACTIVE:
                last_answer = None
                continue
            now = time.monotonic()
            if last_answer is None:
                last_answer = now
            elif now - last_answer >= self.timeout:
                self._abort(conn, now - last_answer)
                self.forget()
                return
            if probe(conn.info, self.interval):
                last_answer = time.monotonic()
            tick = max(tick, time.monotonic() - self.interval)  # no burst of ticks after a slow probe
            del conn

    def _abort(self, conn: psycopg.Connection[Any], silent_for: float) -> None:
        """Abort ``conn`` and every other watched connection of this process to the same server:
        it has stopped answering, so a cleanup statement on an idle one (an unlock, a rollback)
        would otherwise wait a whole bound again before the task's error surfaces."""
        host, port = self._server
        reason = (
            f"PostgreSQL at {host}:{port} answered no liveness probe for {silent_for:.0f} s (bound "
            f"{self.timeout:g} s) while a statement was in flight: frozen or unreachable server, "
            "connection aborted"
        )
        log.error("%s", reason)
        with _REGISTRY_LOCK:
            same_server = [dog for dog in _REGISTRY if dog._server == self._server and dog.reason is None]
        for dog in same_server:
            other = dog._conn()
            if other is None or other.closed:
                continue
            dog.reason = reason
            _shut_down(other)

    def forget(self) -> None:
        with _REGISTRY_LOCK:
            _REGISTRY.discard(self)


def _server_of(conn: psycopg.Connection[Any]) -> tuple[str, int]:
    return (conn.info.hostaddr or conn.info.host, conn.info.port)


def _shut_down(conn: psycopg.Connection[Any]) -> None:
    """End the connection's socket under libpq: its wait returns at once with an error."""
    try:
        # shutdown() acts on the socket itself, so a duplicate of the descriptor is enough and the
        # connection's own descriptor stays libpq's to close.
        with socket.socket(fileno=os.dup(conn.pgconn.socket)) as sock:
            sock.shutdown(socket.SHUT_RDWR)
    except (OSError, psycopg.Error) as exc:  # closed meanwhile: nothing is left waiting on it
        log.info("liveness watchdog: the socket is already gone (%s)", exc)


# The live watchdogs of this process (weakly: a watchdog ends with its connection).
_REGISTRY: Final[weakref.WeakSet[LivenessWatchdog]] = weakref.WeakSet()
_REGISTRY_LOCK: Final = threading.Lock()


_WATCHDOGS: Final = "_coord_liveness_watchdog"


def watch(
    conn: psycopg.Connection[Any], timeout: float = DEFAULT_LIVENESS_TIMEOUT
) -> psycopg.Connection[Any]:
    """Attach a ``LivenessWatchdog`` to ``conn`` (``timeout`` 0: none); returns ``conn``."""
    if timeout > 0:
        conn.__dict__[_WATCHDOGS] = LivenessWatchdog(conn, timeout)
    return conn


def abort_reason(conn: psycopg.Connection[Any]) -> str | None:
    """Why the watchdog of ``conn`` aborted it, if it did."""
    dog = conn.__dict__.get(_WATCHDOGS)
    return dog.reason if isinstance(dog, LivenessWatchdog) else None


@contextlib.contextmanager
def explained(conn: psycopg.Connection[Any]) -> Iterator[None]:
    """Re-raise a connection error caused by the watchdog's abort as ``ServerUnresponsive`` with
    the reason, instead of libpq's bare "server closed the connection unexpectedly"."""
    try:
        yield
    except psycopg.OperationalError as exc:
        reason = abort_reason(conn)
        if reason is None or isinstance(exc, ServerUnresponsive):
            raise
        raise ServerUnresponsive(reason) from exc
