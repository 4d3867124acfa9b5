"""The HTTP front end: routes, Ollama's JSON and NDJSON answers and errors, faults, loaded models."""

from __future__ import annotations

import json
import re
import socket
import threading
import time
from collections import deque
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from tests.emulators.base import EmulatorHandler, EmulatorServer, HttpEmulator
from tests.emulators.ollama.catalog import DEFAULT_KEEP_ALIVE, EmulatedModel, go_time, resolve_name
from tests.emulators.ollama.responders import ChatCall, Reply
from tests.emulators.ollama.wire import Format, OllamaError, check_options, decode_body, expect, keep_alive

OLLAMA_VERSION = "0.12.6"
_TOKEN = re.compile(r"\s*\S{1,4}|\s+", re.DOTALL)

_ROUTES: dict[str, set[str]] = {
    "/": {"GET", "HEAD"},
    "/api/version": {"GET", "HEAD"},
    "/api/tags": {"GET", "HEAD"},
    "/api/show": {"POST"},
    "/api/ps": {"GET"},
    "/api/chat": {"POST"},
}

_CHAT_FIELDS = {
    "model": ("string",),
    "messages": ("array",),
    "stream": ("bool",),
    "options": ("object",),
    "tools": ("array",),
    "think": ("bool", "string"),
    "truncate": ("bool",),
    "shift": ("bool",),
    "logprobs": ("bool",),
    "top_logprobs": ("number",),
}
_MESSAGE_FIELDS = {
    "role": ("string",),
    "content": ("string",),
    "images": ("array",),
    "tool_calls": ("array",),
}


def tokens(text: str) -> list[str]:
    """A stand-in tokenizer (about four characters a token) that loses no character."""
    return _TOKEN.findall(text)


@dataclass
class RequestRecord:
    method: str
    path: str
    body: Any
    status: int = 0


@dataclass
class _Fault:
    kind: str  # status | drop | stall | stream_error
    path: str | None
    status: int = 503
    message: str = "server busy, please try again.  maximum pending requests exceeded"
    seconds: float = 0.0


class _Server(EmulatorServer):
    block_on_close = False
    emulator: OllamaEmulator


class OllamaEmulator(HttpEmulator[_Fault]):
    """An Ollama server on 127.0.0.1 (ephemeral port) for the unmodified ``ollama.Client``."""

    thread_name = "ollama-emulator"
    server_class = _Server

    def __init__(
        self, models: list[EmulatedModel] | None = None, host: str = "127.0.0.1", port: int = 0
    ) -> None:
        self._lock = threading.Lock()
        self.models: dict[str, EmulatedModel] = {}
        for model in models or []:
            self.add_model(model)
        self.loaded: dict[str, tuple[datetime, int]] = {}
        self.requests: deque[RequestRecord] = deque(maxlen=10_000)
        super().__init__(host, port, _Handler)

    @property
    def host(self) -> str:
        """The base URL, as ``OLLAMA_HOST`` or ``ollama.Client(host=...)`` takes it."""
        return self.url

    @property
    def port(self) -> int:
        return int(self._server.server_address[1])

    # -- test controls ---------------------------------------------------------------------

    def add_model(self, model: EmulatedModel) -> EmulatedModel:
        with self._lock:
            self.models[model.full_name] = model
        return model

    def remove_model(self, name: str) -> None:
        with self._lock:
            self.models.pop(resolve_name(name), None)
            self.loaded.pop(resolve_name(name), None)

    def fail_next(
        self, count: int, status: int = 503, message: str | None = None, *, path: str | None = None
    ) -> None:
        """The next ``count`` requests (to ``path``) answer ``status`` with Ollama's error body."""
        self._queue_faults(_Fault("status", path, status, message or _Fault.message), count)

    def drop_next(self, count: int, *, path: str | None = None) -> None:
        """The next ``count`` requests get the connection closed without an answer."""
        self._queue_faults(_Fault("drop", path), count)

    def stall_next(self, count: int, seconds: float, *, path: str | None = None) -> None:
        """The next ``count`` requests are answered only after ``seconds``."""
        self._queue_faults(_Fault("stall", path, seconds=seconds), count)

    def error_mid_stream(
        self, count: int, message: str = "an error was encountered while running the model"
    ) -> None:
        """The next ``count`` streamed chats send a few tokens, then an ``{"error": ...}`` line."""
        self._queue_faults(_Fault("stream_error", "/api/chat", message=message), count)

    def chat_requests(self) -> list[dict[str, Any]]:
        return [r.body for r in self.requests if r.path == "/api/chat" and isinstance(r.body, dict)]

    def _fault_matches(self, fault: _Fault, path: str) -> bool:
        return fault.path is None or fault.path == path

    # -- API -------------------------------------------------------------------------------

    def _model(self, requested: str) -> EmulatedModel | None:
        with self._lock:
            return self.models.get(resolve_name(requested))

    def tags(self) -> dict[str, Any]:
        with self._lock:
            models = sorted(self.models.values(), key=lambda m: m.full_name)
        return {"models": [m.tag_entry() for m in models]}

    def ps(self) -> dict[str, Any]:
        now = datetime.now(UTC)
        entries = []
        with self._lock:
            for name, (expires, context) in sorted(self.loaded.items()):
                model = self.models.get(name)
                if model is None or expires <= now:
                    continue
                entry = model.ps_entry(expires)
                entry["context_length"] = context
                entries.append(entry)
        return {"models": entries}

    def show(self, body: dict[str, Any]) -> dict[str, Any]:
        expect(body, "ShowRequest", {"model": ("string",), "name": ("string",), "verbose": ("bool",)})
        requested = body.get("model") or body.get("name") or ""
        if not requested:
            raise OllamaError(400, "model is required")
        model = self._model(requested)
        if model is None:
            shortest = resolve_name(requested)
            raise OllamaError(404, f"model '{shortest}' not found")
        return model.show_entry()

    def prepare_chat(self, body: dict[str, Any]) -> tuple[EmulatedModel, ChatCall, Format, timedelta, bool]:
        """Everything Ollama checks before it starts generating, in its order."""
        expect(body, "ChatRequest", _CHAT_FIELDS)
        messages = body.get("messages") or []
        for message in messages:
            if not isinstance(message, dict):
                raise OllamaError(400, "json: cannot unmarshal value into Go value of type api.Message")
            expect(message, "Message", _MESSAGE_FIELDS)
        requested = body.get("model") or ""
        if not requested:
            raise OllamaError(400, "model is required")
        model = self._model(requested)
        if model is None:
            raise OllamaError(404, f"model '{requested}' not found")
        duration = keep_alive(body.get("keep_alive"), DEFAULT_KEEP_ALIVE)
        think = body.get("think")
        if think not in (None, False) and "thinking" not in model.capabilities:
            raise OllamaError(400, f'"{requested}" does not support thinking')
        if body.get("tools") and "tools" not in model.capabilities:
            raise OllamaError(400, f"registry.ollama.ai/library/{model.full_name} does not support tools")
        options = body.get("options") or {}
        check_options(options)
        stream = body.get("stream", True) is not False  # Ollama streams unless told not to
        call = ChatCall(
            model=requested,
            messages=[{**m, "role": str(m.get("role", "")).lower()} for m in messages],
            format=body.get("format"),
            options=dict(options),
        )
        return model, call, Format.parse(body.get("format")), duration, stream

    def generate(self, model: EmulatedModel, call: ChatCall, fmt: Format) -> tuple[Reply, list[str], str]:
        reply = model.responder(call)
        problem = fmt.violation(reply.content)
        if problem is not None:
            # Ollama's grammar would not let a model write this: the scripted reply is wrong.
            raise OllamaError(
                500, f"emulator: the scripted reply cannot satisfy the requested format, {problem}"
            )
        pieces = tokens(reply.content)
        limit = int(call.options.get("num_predict") or -1)
        if 0 < limit < len(pieces):
            return reply, pieces[:limit], "length"
        return reply, pieces, "stop"

    def mark_loaded(self, model: EmulatedModel, duration: timedelta, options: dict[str, Any]) -> None:
        with self._lock:
            if duration <= timedelta(0):
                self.loaded.pop(model.full_name, None)
            else:
                context = int(options.get("num_ctx") or 4096)
                self.loaded[model.full_name] = (datetime.now(UTC) + duration, context)


class _Handler(EmulatorHandler):
    server: _Server

    def serve(self, method: str) -> None:
        emulator = self.server.emulator
        path = self.path.split("?", 1)[0]
        length = int(self.headers.get("Content-Length") or 0)
        raw = self.rfile.read(length) if length else b""
        record = RequestRecord(method, path, _try_json(raw))
        emulator.requests.append(record)
        fault = emulator._take_fault(path)
        if fault is not None and fault.kind == "drop":
            self.close_connection = True
            self.connection.shutdown(socket.SHUT_RDWR)
            return
        if fault is not None and fault.kind == "stall":
            time.sleep(fault.seconds)
        if fault is not None and fault.kind == "status":
            record.status = fault.status
            self._json(fault.status, {"error": fault.message}, head=method == "HEAD")
            return
        allowed = _ROUTES.get(path)
        if allowed is None:
            record.status = 404
            self._text(404, "404 page not found")
            return
        if method not in allowed:
            record.status = 405
            self._text(405, "405 method not allowed")
            return
        try:
            record.status = self._route(
                method, path, raw, stream_error=fault if fault and fault.kind == "stream_error" else None
            )
        except OllamaError as exc:
            record.status = exc.status
            self._json(exc.status, {"error": exc.message})

    def _route(self, method: str, path: str, raw: bytes, stream_error: _Fault | None) -> int:
        emulator = self.server.emulator
        head = method == "HEAD"
        if path == "/":
            self._text(200, "Ollama is running", head=head)
        elif path == "/api/version":
            self._json(200, {"version": OLLAMA_VERSION}, head=head)
        elif path == "/api/tags":
            self._json(200, emulator.tags(), head=head)
        elif path == "/api/ps":
            self._json(200, emulator.ps())
        elif path == "/api/show":
            self._json(200, emulator.show(decode_body(raw)))
        else:
            self._chat(decode_body(raw), stream_error)
        return 200

    def _chat(self, body: dict[str, Any], stream_error: _Fault | None) -> None:
        emulator = self.server.emulator
        started = time.monotonic_ns()
        model, call, fmt, duration, stream = emulator.prepare_chat(body)
        if not call.messages:
            emulator.mark_loaded(model, duration, call.options)
            reason = "unload" if duration <= timedelta(0) else "load"
            self._json(200, {**self._chunk(call.model, ""), "done": True, "done_reason": reason})
            return
        reply, pieces, done_reason = emulator.generate(model, call, fmt)
        time.sleep(reply.delay_s)
        emulator.mark_loaded(model, duration, call.options)
        prompt_tokens = len(tokens(call.prompt_text))
        elapsed = time.monotonic_ns() - started
        final = {
            **self._chunk(call.model, ""),
            "done": True,
            "done_reason": done_reason,
            "total_duration": elapsed + 1,
            "load_duration": 1,
            "prompt_eval_count": prompt_tokens,
            "prompt_eval_duration": elapsed // 2 + 1,
            "eval_count": len(pieces),
            "eval_duration": elapsed // 2 + 1,
        }
        if not stream:
            final["message"]["content"] = "".join(pieces)
            self._json(200, final)
            return
        self.send_response(200)
        self.send_header("Content-Type", "application/x-ndjson")
        self.send_header("Transfer-Encoding", "chunked")
        self.send_header("Date", self.date_time_string())
        self.end_headers()
        for index, piece in enumerate(pieces):
            if stream_error is not None and index == min(3, len(pieces) - 1):
                self._write_chunk({"error": stream_error.message})
                self._end_chunks()
                return
            self._write_chunk({**self._chunk(call.model, piece), "done": False})
            if reply.token_delay_s:
                time.sleep(reply.token_delay_s)
        self._write_chunk(final)
        self._end_chunks()

    @staticmethod
    def _chunk(model: str, content: str) -> dict[str, Any]:
        return {
            "model": model,
            "created_at": go_time(datetime.now(UTC)),
            "message": {"role": "assistant", "content": content},
        }

    def _write_chunk(self, value: dict[str, Any]) -> None:
        data = json.dumps(value, separators=(",", ":")).encode() + b"\n"
        self.wfile.write(f"{len(data):x}\r\n".encode() + data + b"\r\n")
        self.wfile.flush()

    def _end_chunks(self) -> None:
        self.wfile.write(b"0\r\n\r\n")
        self.wfile.flush()

    def _json(self, status: int, value: Any, *, head: bool = False) -> None:
        self._send(
            status, json.dumps(value, separators=(",", ":")).encode(), "application/json; charset=utf-8", head
        )

    def _text(self, status: int, text: str, *, head: bool = False) -> None:
        self._send(status, text.encode(), "text/plain; charset=utf-8", head)

    def _send(self, status: int, data: bytes, content_type: str, head: bool) -> None:
        self.send_response(status)
        self.send_header("Content-Type", content_type)
        self.send_header("Content-Length", str(len(data)))
        self.send_header("Date", self.date_time_string())
        self.end_headers()
        if not head:
            self.wfile.write(data)


def _try_json(raw: bytes) -> Any:
    try:
        return json.loads(raw) if raw else None
    except (json.JSONDecodeError, UnicodeDecodeError):
        return raw


def main(argv: list[str] | None = None) -> int:
    """Serve the emulator until stdin closes (e.g. ``make run`` with ``llm: true`` by hand)."""
    import argparse
    import sys

    parser = argparse.ArgumentParser(description="Run the Ollama emulator until stdin closes.")
    parser.add_argument("--port", type=int, default=0)
    parser.add_argument("--model", action="append", default=[], help="model name to serve (repeatable)")
    args = parser.parse_args(argv)
    with OllamaEmulator(
        [EmulatedModel(name) for name in args.model or ["llama3.2:3b"]], port=args.port
    ) as server:
        print(f"ready {server.host}", flush=True)
        sys.stdin.read()
    return 0
