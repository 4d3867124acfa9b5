"""The results API for programs (mounted by ``campaigns_plugin`` under ``/coord-api/v1``).

Routes (JSON, read-only; each call needs an Airflow JWT as ``Authorization: Bearer``, or the UI's
cookie — none or an expired one: 401; one Airflow cannot verify: 403, as Airflow's own REST API —
and counts against the caller's sliding-window rate limit, 429 past it):
- ``GET /campaigns``: filters ``verdict``, ``min_confidence``, ``seen_since`` / ``seen_until``,
  ``source_ip``, ``network`` (CIDR), ``indicator``; ``sort`` / ``order``; ``limit``; ``cursor``
  (from ``next_cursor``).
- ``GET /campaigns/{id}``: one campaign: occurrences with evidence and statistics, members,
  sources, timeline, MISP events, narrative, runs.
- ``GET /campaigns/{id}/lineage``: the provenance chain (``coord lineage``).
- ``GET /runs``: the latest run of each interval; ``dag_id``, ``status``, ``limit``, ``cursor``.
- ``GET /indicators/{value}``: the campaigns an IP, file hash or URL (percent-encoded) belongs to.
- ``GET /alerts/stream``: live alerts (new high-confidence campaigns, spikes) as server-sent
  events, resumable by ``Last-Event-ID`` (``alert_events``).
- ``GET /openapi.json``: this API's OpenAPI document.

Limits come from the Airflow configuration: ``[coord_api] rate_limit`` calls per
``rate_window_seconds`` (default 120 per 60 s) per user, shared by every API server worker through
Redis (``coord_redis``; without it each process limits on its own, with a warning).
Importing this module imports neither FastAPI nor Airflow.
"""

# No ``from __future__ import annotations``: FastAPI reads the endpoint annotations at runtime.
import base64
import hashlib
import json
import logging
import math
import threading
from collections.abc import Awaitable, Callable
from contextlib import AbstractContextManager
from datetime import datetime
from typing import TYPE_CHECKING, Any

from coord_airflow import alert_events
from coord_airflow.app_support import CONFIG_SECTION, airflow_caller, parse_time, reader_db

if TYPE_CHECKING:
    import psycopg
    import redis.asyncio
    from fastapi import FastAPI, Request

    from coord_core.pipeline.results_access import RateDecision

log = logging.getLogger(__name__)

ConnectionFactory = Callable[[], AbstractContextManager["psycopg.Connection[Any]"]]
Authenticator = Callable[["Request"], Awaitable[str]]
Limiter = Callable[[str], "RateDecision"]
API_VERSION = "1.0.0"
DEFAULT_RATE_LIMIT = 120
DEFAULT_RATE_WINDOW_S = 60.0
CAMPAIGN_ID_PATTERN = r"^[A-Za-z0-9._:-]{1,128}$"
BAD_CURSOR = "cursor is not a next_cursor of this listing"


def caller_limiter(
    redis_client: Any, *, limit: int, window_s: float, namespace: str = "coord-api"
) -> Limiter:
    """A sliding-window limit per caller (``namespace:<digest of the user id>`` in Redis)."""
    from coord_core.pipeline.results_access import SlidingWindowRateLimiter

    limiters: dict[str, SlidingWindowRateLimiter] = {}
    lock = threading.Lock()

    def decide(caller: str) -> "RateDecision":
        name = f"{namespace}:{hashlib.sha256(caller.encode()).hexdigest()[:16]}"
        with lock:
            limiter = limiters.get(name)
            if limiter is None:
                limiter = SlidingWindowRateLimiter(redis_client, name, limit=limit, window_s=window_s)
                limiters[name] = limiter
        return limiter.try_acquire()

    return decide


def configured_limiter() -> Limiter:
    """``caller_limiter`` on ``coord_redis`` with ``[coord_api] rate_limit`` / ``rate_window_seconds``."""
    from airflow.configuration import conf

    from coord_airflow import connections

    redis_client = (
        connections.redis_client() if connections.connection_is_defined(connections.REDIS_CONN_ID) else None
    )
    return caller_limiter(
        redis_client,
        limit=conf.getint(CONFIG_SECTION, "rate_limit", fallback=DEFAULT_RATE_LIMIT),
        window_s=conf.getfloat(CONFIG_SECTION, "rate_window_seconds", fallback=DEFAULT_RATE_WINDOW_S),
    )


def encode_cursor(payload: dict[str, Any]) -> str:
    return base64.urlsafe_b64encode(json.dumps(payload, sort_keys=True).encode()).decode().rstrip("=")


def decode_cursor(cursor: str, expected: dict[str, Any], keys: tuple[str, str]) -> tuple[str, str]:
    """The two ``keys`` of the cursor's payload (the last row's sort value and id); 400 when it is
    not a cursor this API wrote for the same listing and sort."""
    from fastapi import HTTPException

    try:
        payload = json.loads(base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4)))
        if not isinstance(payload, dict) or any(payload.get(k) != v for k, v in expected.items()):
            raise ValueError("cursor of another listing")
        first, second = payload[keys[0]], payload[keys[1]]
        if not isinstance(first, (str, float, int)) or not isinstance(second, str):
            raise ValueError("cursor values of the wrong type")
    except (ValueError, KeyError) as exc:  # binascii.Error and JSONDecodeError are ValueErrors
        raise HTTPException(status_code=400, detail=BAD_CURSOR) from exc
    return str(first), second


def create_app(
    reader: ConnectionFactory = reader_db,
    authenticate: Authenticator = airflow_caller,
    limiter: Limiter | None = None,
    alert_redis: Callable[[], "redis.asyncio.Redis[Any] | None"] = alert_events.configured_redis,
    alert_settings: alert_events.StreamSettings | None = None,
) -> "FastAPI":
    """Build the API app; Airflow mounts it, tests call it with a ``TestClient`` (or uvicorn, for
    the alert stream)."""
    from typing import Literal

    from fastapi import Depends, FastAPI, HTTPException, Path, Query, Request
    from fastapi.concurrency import run_in_threadpool
    from fastapi.responses import JSONResponse
    from fastapi.security import HTTPBearer
    from psycopg.errors import UndefinedTable

    from coord_airflow import results_api_models as models
    from coord_core.pipeline import results_access as results

    state: dict[str, Limiter] = {}
    if limiter is not None:
        state["limit"] = limiter
    state_lock = threading.Lock()

    def limit_of() -> Limiter:
        with state_lock:
            if "limit" not in state:
                state["limit"] = configured_limiter()
            return state["limit"]

    async def guard(request: Request) -> None:
        """Who calls (401/403 from Airflow), then whether they are within their rate limit (429)."""
        caller = await authenticate(request)
        decision = await run_in_threadpool(limit_of(), caller)
        if not decision.allowed:
            raise HTTPException(
                status_code=429,
                detail="rate limit exceeded; retry after the Retry-After seconds",
                headers={"Retry-After": str(max(1, math.ceil(decision.retry_after_s)))},
            )

    app = FastAPI(
        title="DShield coordination results API",
        version=API_VERSION,
        summary="Campaigns, their evidence and lineage, runs and indicators, read-only.",
        description=(
            "Authenticate with an Airflow JWT (`POST /auth/token`) as `Authorization: Bearer <token>`. "
            "Values under campaigns and sessions (session ids, URLs, commands, evidence values) come "
            "from honeypot traffic: treat them as data. Lists page by `cursor` (`next_cursor`)."
        ),
        # The bearer scheme is documented in the OpenAPI document; ``guard`` does the checking.
        dependencies=[Depends(HTTPBearer(auto_error=False)), Depends(guard)],
        docs_url=None,
        redoc_url=None,
        openapi_url=None,
        responses={
            401: {"description": "no Airflow token, or an expired one"},
            403: {"description": "a token Airflow cannot verify (forged), or no right to read DAG runs"},
            429: {"description": "rate limit exceeded (Retry-After header)"},
        },
    )

    @app.exception_handler(UndefinedTable)
    async def no_schema_yet(request: Request, exc: UndefinedTable) -> Any:
        return JSONResponse({"detail": "the results database has no coord schema yet"}, status_code=404)

    @app.exception_handler(results.ReaderAccessError)
    async def no_reader_role(request: Request, exc: results.ReaderAccessError) -> Any:
        log.error("results API cannot read as the reader role: %s", exc)
        return JSONResponse({"detail": str(exc)}, status_code=503)

    @app.get("/openapi.json", include_in_schema=False)
    def openapi() -> dict[str, Any]:
        return app.openapi()

    Verdict = Literal["coordinated_campaign", "single_actor_multi_source", "coincidental"]

    @app.get("/campaigns", response_model=models.CampaignList)
    def campaigns(
        *,
        verdict: Verdict | None = None,
        min_confidence: float | None = Query(None, ge=0.0, le=1.0),
        seen_since: str | None = Query(None, description="ISO-8601 with zone: last seen at or after"),
        seen_until: str | None = Query(None, description="ISO-8601 with zone: first seen before"),
        source_ip: str | None = Query(None, max_length=64),
        network: str | None = Query(
            None, max_length=64, description="a CIDR prefix (198.51.100.0/24) a member source lies in"
        ),
        indicator: str | None = Query(None, max_length=2048, description="an IP, file hash or URL"),
        sort: Literal["last_seen", "confidence"] = "last_seen",
        order: Literal["desc", "asc"] = "desc",
        limit: int = Query(100, ge=1, le=500),
        cursor: str | None = Query(None, max_length=1024),
    ) -> Any:
        """Campaigns across intervals (one id per campaign however many intervals it spans)."""
        try:
            where = results.CampaignFilter(
                verdict=verdict,
                min_confidence=min_confidence,
                seen_since=parse_time("seen_since", seen_since) if seen_since else None,
                seen_until=parse_time("seen_until", seen_until) if seen_until else None,
                source_ip=results.classify_indicator(source_ip, "ip")[1] if source_ip else None,
                network=results.parse_network(network) if network else None,
            )
            wanted = results.classify_indicator(indicator) if indicator else None
        except ValueError as exc:
            raise HTTPException(status_code=400, detail=str(exc)) from exc
        after = None
        if cursor:
            raw, last_id = decode_cursor(cursor, {"sort": sort, "order": order}, ("value", "id"))
            try:
                value = datetime.fromisoformat(raw) if sort == "last_seen" else float(raw)
            except ValueError as exc:
                raise HTTPException(
                    status_code=400, detail="cursor is not a next_cursor of this listing"
                ) from exc
            after = (value, last_id)
        with reader() as conn:
            if wanted is not None:
                where = results.narrowed_to_indicator(conn, where, *wanted)
            rows, more = results.list_campaigns(
                conn, where, limit=limit, order=results.CampaignOrder(sort, order == "desc"), after=after
            )
        next_cursor = None
        if more and rows:
            key = "last_seen" if sort == "last_seen" else "max_confidence"
            next_cursor = encode_cursor(
                {"sort": sort, "order": order, "value": rows[-1][key], "id": rows[-1]["campaign_id"]}
            )
        return {"campaigns": rows, "next_cursor": next_cursor}

    campaign_id_path = Path(pattern=CAMPAIGN_ID_PATTERN, description="campaign, occurrence or retired id")

    @app.get("/campaigns/{campaign_id}", response_model=models.CampaignDetail)
    def campaign(
        campaign_id: str = campaign_id_path,
        member_limit: int = Query(500, ge=1, le=5000),
        timeline_limit: int = Query(2000, ge=1, le=20000),
    ) -> Any:
        """One campaign whole: occurrences with evidence (scores and statistics), members, sources,
        timeline, MISP events, narrative and runs."""
        with reader() as conn:
            detail = results.campaign_page(
                conn, campaign_id, member_limit=member_limit, timeline_limit=timeline_limit
            )
        if detail is None:
            raise HTTPException(status_code=404, detail="no campaign, occurrence or retired id of that name")
        return detail

    @app.get("/campaigns/{campaign_id}/lineage", response_model=models.CampaignLineage)
    def lineage(campaign_id: str = campaign_id_path) -> Any:
        """Every occurrence back to its run, source, query, data quality, code, parameters and models."""
        with reader() as conn:
            found = results.campaign_lineage(conn, campaign_id)
        if found is None:
            raise HTTPException(status_code=404, detail="no campaign, occurrence or retired id of that name")
        return found

    @app.get("/runs", response_model=models.RunList)
    def runs(
        dag_id: str | None = Query(None, max_length=250),
        status: str | None = Query(None, max_length=32),
        limit: int = Query(100, ge=1, le=500),
        cursor: str | None = Query(None, max_length=1024),
    ) -> Any:
        """The latest run of each interval (the results database's record), newest interval first."""
        after = None
        if cursor:
            start, dag = decode_cursor(cursor, {"listing": "runs"}, ("start", "dag"))
            try:
                after = (datetime.fromisoformat(start), dag)
            except ValueError as exc:
                raise HTTPException(
                    status_code=400, detail="cursor is not a next_cursor of this listing"
                ) from exc
        with reader() as conn:
            rows, more = results.list_runs(conn, limit=limit, dag_id=dag_id, status=status, after=after)
        next_cursor = None
        if more and rows:
            last_row = rows[-1]
            next_cursor = encode_cursor(
                {"listing": "runs", "start": last_row["interval_start"], "dag": last_row["dag_id"]}
            )
        return {"runs": rows, "next_cursor": next_cursor}

    @app.get("/indicators/{value:path}", response_model=models.IndicatorAnswer)
    def indicator(
        value: str,
        kind: Literal["ip", "hash", "url"] | None = None,
        limit: int = Query(100, ge=1, le=500),
    ) -> Any:
        """Which campaigns an indicator belongs to: a source IP, a file hash (MD5/SHA-1/SHA-256 of a
        download, upload or tty log) or an exact download URL (percent-encode it in the path)."""
        try:
            found_kind, normal = results.classify_indicator(value, kind)
        except ValueError as exc:
            raise HTTPException(status_code=400, detail=str(exc)) from exc
        with reader() as conn:
            matches = results.campaigns_of_indicator(conn, found_kind, normal, limit=limit)
        return {"indicator": normal, "kind": found_kind, "campaigns": matches}

    app.state.alert_streams = alert_events.add_stream_route(
        app, alert_redis, alert_settings or alert_events.configured_settings()
    )
    return app
