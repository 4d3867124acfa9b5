"""Calls to Ollama: a streamed chat with an overall deadline, retries with exponential backoff
on transient failures, and one error type for "the LLM cannot be used now"."""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any, TypeVar

import httpx
from ollama import ResponseError

log = logging.getLogger(__name__)
T = TypeVar("T")

# Statuses worth another try: overload, server errors, and -1 (an error line inside a stream).
TRANSIENT_STATUS = frozenset({-1, 408, 429, 500, 502, 503, 504})
# What a call to Ollama raises when the server is unreachable, slow or failing.
OLLAMA_ERRORS: tuple[type[BaseException], ...] = (
    ConnectionError,
    TimeoutError,
    httpx.HTTPError,
    ResponseError,
)


class DeadlineExceeded(TimeoutError):
    """The streamed answer took longer than the request deadline."""


class IncompleteAnswer(ConnectionError):
    """The stream ended before Ollama said it was done."""


class OllamaUnavailable(RuntimeError):
    """The LLM cannot be used for this run; ``reason`` says why (recorded with the narratives)."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


def describe(exc: BaseException) -> str:
    if isinstance(exc, ResponseError):
        return f"Ollama answered {exc.status_code}: {exc.error}"[:500]
    if isinstance(exc, httpx.TimeoutException):
        return f"timed out ({type(exc).__name__})"
    if isinstance(exc, httpx.ConnectError | ConnectionRefusedError):
        return f"cannot connect to Ollama ({exc})"[:500]
    return f"{type(exc).__name__}: {exc}"[:500]


def is_transient(exc: BaseException) -> bool:
    if isinstance(exc, ResponseError):
        return exc.status_code in TRANSIENT_STATUS
    return isinstance(exc, ConnectionError | TimeoutError | httpx.TransportError)


@dataclass(frozen=True)
class RetryPolicy:
    retries: int = 2
    backoff_s: float = 1.0
    backoff_max_s: float = 20.0

    def delay(self, attempt: int) -> float:
        return float(min(self.backoff_s * (2**attempt), self.backoff_max_s))


def with_retries(
    call: Callable[[], T], policy: RetryPolicy, *, what: str, sleep: Callable[[float], None] = time.sleep
) -> T:
    """``call()``, again after a growing pause while it fails transiently; then OllamaUnavailable.

    Permanent failures (a 4xx such as an unknown model) propagate at once.
    """
    last: BaseException | None = None
    for attempt in range(policy.retries + 1):
        try:
            return call()
        except OLLAMA_ERRORS as exc:
            if not is_transient(exc):
                raise
            last = exc
            if attempt == policy.retries:
                break
            delay = policy.delay(attempt)
            log.warning("%s failed (%s); retry %d in %.1fs", what, describe(exc), attempt + 1, delay)
            sleep(delay)
    assert last is not None
    raise OllamaUnavailable(
        f"{what} failed after {policy.retries + 1} attempt(s): {describe(last)}"
    ) from last


@dataclass(frozen=True)
class ChatAnswer:
    content: str
    done_reason: str
    prompt_eval_count: int
    eval_count: int
    total_duration_ns: int


def stream_chat(
    client: Any,
    *,
    model: str,
    messages: Sequence[dict[str, str]],
    schema: dict[str, Any],
    options: dict[str, Any],
    keep_alive: str,
    deadline_s: float,
    clock: Callable[[], float] = time.monotonic,
) -> ChatAnswer:
    """One streamed ``/api/chat`` with a JSON-schema ``format``; the chunks joined."""
    started = clock()
    parts: list[str] = []
    final: Any = None
    stream = client.chat(
        model=model,
        messages=list(messages),
        format=schema,
        options=options,
        keep_alive=keep_alive,
        stream=True,
    )
    try:
        for chunk in stream:
            parts.append(chunk.message.content or "")
            if chunk.done:
                final = chunk
                break
            if clock() - started > deadline_s:
                raise DeadlineExceeded(f"no complete answer within {deadline_s:.0f}s")
    finally:
        stream.close()  # ends the HTTP stream when we stop early
    if final is None:
        raise IncompleteAnswer("the stream ended before the answer was done")
    return ChatAnswer(
        content="".join(parts),
        done_reason=final.done_reason or "",
        prompt_eval_count=int(final.prompt_eval_count or 0),
        eval_count=int(final.eval_count or 0),
        total_duration_ns=int(final.total_duration or 0),
    )
