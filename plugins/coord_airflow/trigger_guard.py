"""Check a run's conf when it is triggered (REST API and the UI's trigger form), not minutes later.

Airflow validates each Param on its own against its JSON schema; keys it has no Param for are
accepted as they are, and no rule can relate two Params. This ASGI middleware (a plugin root
middleware of the API server) runs ``coord_core.pipeline.params.check_conf`` on the body of
``POST /api/v2/dags/<dag>/dagRuns`` and ``POST /api/v2/backfills[/dry_run]`` for the DAGs that
take ``PipelineParams``, and answers a refused conf with a 400 whose ``detail`` is one readable,
bounded message. Only authenticated callers are checked; for the others the route answers 401/403
itself. The tasks check again when they run (defence in depth).
"""

from __future__ import annotations

import json
import logging
import re
from collections.abc import Awaitable, Callable, MutableMapping
from typing import Any

from airflow.plugins_manager import AirflowPlugin

from coord_airflow import PIPELINE_DAG_IDS

log = logging.getLogger(__name__)

Scope = MutableMapping[str, Any]
Message = MutableMapping[str, Any]
Receive = Callable[[], Awaitable[Message]]
Send = Callable[[Message], Awaitable[None]]
ASGIApp = Callable[[Scope, Receive, Send], Awaitable[None]]

# A trigger body is a few hundred bytes; a larger one is refused before it is parsed or stored.
MAX_BODY_BYTES = 256 * 1024
_TRIGGER = re.compile(r"/api/v2/dags/(?P<dag_id>[^/]+)/dagRuns/?$")
_BACKFILL = re.compile(r"/api/v2/backfills(/dry_run)?/?$")


async def _authenticated(scope: Scope) -> bool:
    """Whether the request carries a token Airflow accepts (bearer header, else the UI's cookie)."""
    from airflow.api_fastapi.core_api.security import resolve_user_from_token
    from fastapi import HTTPException
    from starlette.requests import Request

    request = Request(scope)
    header = request.headers.get("authorization", "")
    token = header[7:].strip() if header.lower().startswith("bearer ") else request.cookies.get("_token")
    try:
        await resolve_user_from_token(token)
    except HTTPException:
        return False
    return True


def _allowed_bases() -> Any:
    from airflow.models.variable import Variable

    from coord_core.pipeline.sources import INPUT_BASES_VARIABLE, parse_bases

    return parse_bases(Variable.get(INPUT_BASES_VARIABLE, default_var=None))


def refusal(dag_id: str, conf: Any) -> str | None:
    """Why this DAG's conf cannot succeed, or None when it can (or the DAG is not ours)."""
    from coord_core.pipeline.params import ConfRefused, check_conf
    from coord_core.pipeline.sources import InputPathRefused

    if dag_id not in PIPELINE_DAG_IDS:
        return None
    try:
        check_conf(conf, _allowed_bases())
    except (ConfRefused, InputPathRefused) as exc:
        return str(exc)
    return None


class TriggerConfGuard:
    """ASGI middleware: refuse a conf that can only fail, with a 400 and a readable message."""

    def __init__(self, app: ASGIApp, max_body_bytes: int = MAX_BODY_BYTES) -> None:
        self.app = app
        self.max_body_bytes = max_body_bytes

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or scope.get("method") != "POST":
            await self.app(scope, receive, send)
            return
        path = str(scope.get("path", ""))
        trigger = _TRIGGER.search(path)
        if trigger is None and _BACKFILL.search(path) is None:
            await self.app(scope, receive, send)
            return
        messages, complete = await _read_body(receive, self.max_body_bytes)
        if not await _authenticated(scope):
            await self.app(scope, _replay(messages, receive), send)
            return
        if not complete:
            detail = f"request body larger than {self.max_body_bytes // 1024} KiB: refused before parsing"
            await _answer_400(send, detail)
            return
        from starlette.concurrency import run_in_threadpool

        # Reading the Variable is a blocking database call: off the event loop.
        problem = await run_in_threadpool(_problem, trigger, _joined(messages))
        if problem is not None:
            log.info("refused a trigger at %s: %s", path, problem[:300])
            await _answer_400(send, problem)
            return
        await self.app(scope, _replay(messages, receive), send)


def _problem(trigger: re.Match[str] | None, body: bytes) -> str | None:
    """The refusal for a trigger (``conf``) or backfill (``dag_id``, ``dag_run_conf``) body."""
    try:
        payload = json.loads(body or b"{}")
    except ValueError:
        return None  # the route answers malformed JSON itself (422)
    if not isinstance(payload, dict):
        return None
    if trigger is not None:
        return refusal(trigger.group("dag_id"), payload.get("conf"))
    dag_id = payload.get("dag_id")
    return refusal(dag_id, payload.get("dag_run_conf")) if isinstance(dag_id, str) else None


async def _read_body(receive: Receive, limit: int) -> tuple[list[Message], bool]:
    """The request's body messages, stopping once more than ``limit`` bytes came in."""
    messages: list[Message] = []
    size = 0
    while True:
        message = await receive()
        messages.append(message)
        if message["type"] != "http.request":
            return messages, True
        size += len(message.get("body", b""))
        if size > limit:
            return messages, False
        if not message.get("more_body", False):
            return messages, True


def _joined(messages: list[Message]) -> bytes:
    return b"".join(m.get("body", b"") for m in messages if m["type"] == "http.request")


def _replay(messages: list[Message], receive: Receive) -> Receive:
    """A ``receive`` that hands the app the messages already read, then the rest of the stream."""
    pending = list(messages)

    async def replay() -> Message:
        if pending:
            return pending.pop(0)
        return await receive()

    return replay


async def _answer_400(send: Send, detail: str) -> None:
    body = json.dumps({"detail": detail}).encode()
    await send(
        {
            "type": "http.response.start",
            "status": 400,
            "headers": [(b"content-type", b"application/json"), (b"content-length", str(len(body)).encode())],
        }
    )
    await send({"type": "http.response.body", "body": body})


class TriggerConfGuardPlugin(AirflowPlugin):
    name = "coord_trigger_guard"
    fastapi_root_middlewares: list[Any] = [  # noqa: RUF012 (Airflow reads these class attributes)
        {"middleware": TriggerConfGuard, "args": [], "kwargs": {}, "name": "Coordination run-parameter check"}
    ]
