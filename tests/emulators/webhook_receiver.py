"""A webhook receiver for tests: checks each POST's signature as the README tells a receiver to
(computed here with hmac/hashlib, not with the project's code), and answers scripted statuses.

A request whose signature or timestamp does not check out is answered 401 and recorded as such;
otherwise the next queued status (``answer_next``), else 200.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import threading
import time
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler
from typing import Any

from tests.emulators.base import HttpEmulator

MAX_BODY = 1024 * 1024


@dataclass(frozen=True)
class Received:
    path: str
    headers: dict[str, str]
    body: bytes
    signature_ok: bool
    status: int

    def json(self) -> Any:
        return json.loads(self.body)


class _Handler(BaseHTTPRequestHandler):
    server: Any

    def log_message(self, format: str, *args: Any) -> None:
        """Quiet: the test reads ``received`` instead."""

    def do_POST(self) -> None:
        receiver: WebhookReceiver = self.server.emulator
        length = int(self.headers.get("Content-Length") or 0)
        body = self.rfile.read(min(length, MAX_BODY))
        ok = receiver.signature_ok(
            body, self.headers.get("X-Coord-Signature"), self.headers.get("X-Coord-Timestamp")
        )
        status = (receiver._take_fault(self.path) or 200) if ok else 401
        receiver.record(Received(self.path, dict(self.headers.items()), body, ok, status))
        self.send_response(status)
        self.send_header("Content-Type", "text/plain")
        self.end_headers()
        self.wfile.write(b"ok" if status < 300 else b"no")


class WebhookReceiver(HttpEmulator[int]):
    thread_name = "webhook-receiver"

    def __init__(self, secret: str, *, tolerance_s: int = 300) -> None:
        self.secret = secret
        self.tolerance_s = tolerance_s
        self.received: list[Received] = []
        self._lock = threading.Lock()
        super().__init__("127.0.0.1", 0, _Handler)

    def signature_ok(self, body: bytes, signature: str | None, timestamp: str | None) -> bool:
        if not signature or not timestamp or not timestamp.isdigit():
            return False
        if abs(time.time() - int(timestamp)) > self.tolerance_s:
            return False
        expected = hmac.new(
            self.secret.encode(), timestamp.encode() + b"." + body, hashlib.sha256
        ).hexdigest()
        return hmac.compare_digest(f"sha256={expected}", signature)

    def answer_next(self, *statuses: int) -> None:
        """The statuses of the next correctly signed requests, in order."""
        for status in statuses:
            self._queue_faults(status, 1)

    def record(self, item: Received) -> None:
        with self._lock:
            self.received.append(item)

    def _fault_matches(self, fault: int, path: str) -> bool:
        return True
