"""What the HTTP emulators share: a quiet HTTP/1.1 handler, a server on its own thread, the
context-manager lifecycle and the queue of faults a test injects for the next matching requests."""

from __future__ import annotations

import sys
import threading
from collections import deque
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from types import TracebackType
from typing import Any, Generic, Self, TypeVar

FaultT = TypeVar("FaultT")


class EmulatorHandler(BaseHTTPRequestHandler):
    """Sends every request, whatever its method, to ``serve``; the emulator answers the methods its
    server does not route (405 or 404) as that server would."""

    protocol_version = "HTTP/1.1"

    def log_message(self, format: str, *args: Any) -> None:
        return  # quiet: tests read the emulator's request records

    def serve(self, method: str) -> None:
        raise NotImplementedError

    def _serve_command(self) -> None:
        self.serve(self.command)

    do_GET = do_HEAD = do_POST = do_PUT = do_DELETE = _serve_command


class EmulatorServer(ThreadingHTTPServer):
    """The HTTP server of one emulator; handlers reach the emulator as ``self.server.emulator``."""

    daemon_threads = True
    allow_reuse_address = True

    def __init__(
        self, address: tuple[str, int], handler: type[BaseHTTPRequestHandler], emulator: Any
    ) -> None:
        self.emulator = emulator
        super().__init__(address, handler)

    def handle_error(self, request: Any, client_address: Any) -> None:
        if isinstance(sys.exc_info()[1], (BrokenPipeError, ConnectionResetError)):
            return  # the client gave up on the request (its timeout); nothing to answer
        super().handle_error(request, client_address)


class HttpEmulator(Generic[FaultT]):
    """An emulated server on ``host:port`` (0: an ephemeral port); use as a context manager."""

    thread_name = "http-emulator"
    server_class: type[EmulatorServer] = EmulatorServer

    def __init__(self, host: str, port: int, handler: type[BaseHTTPRequestHandler]) -> None:
        self._faults: deque[FaultT] = deque()
        self._fault_lock = threading.Lock()
        self._server = self.server_class((host, port), handler, self)
        self._thread: threading.Thread | None = None

    # -- lifecycle -------------------------------------------------------------------------

    @property
    def url(self) -> str:
        host, port = self._server.server_address[:2]
        return f"http://{host!s}:{port}"

    def start(self) -> Self:
        self._thread = threading.Thread(target=self._server.serve_forever, name=self.thread_name, daemon=True)
        self._thread.start()
        return self

    def stop(self) -> None:
        self._server.shutdown()
        self._server.server_close()
        if self._thread is not None:
            self._thread.join(timeout=5)

    def __enter__(self) -> Self:
        return self.start()

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.stop()

    # -- injected faults -------------------------------------------------------------------

    def _queue_faults(self, fault: FaultT, count: int) -> None:
        with self._fault_lock:
            self._faults.extend([fault] * count)

    def clear_faults(self) -> None:
        """Forget injected faults that no request has consumed yet."""
        with self._fault_lock:
            self._faults.clear()

    def _fault_matches(self, fault: FaultT, path: str) -> bool:
        raise NotImplementedError

    def _take_fault(self, path: str) -> FaultT | None:
        """The first queued fault that applies to ``path``, removed from the queue."""
        with self._fault_lock:
            for index, fault in enumerate(self._faults):
                if self._fault_matches(fault, path):
                    del self._faults[index]
                    return fault
        return None
