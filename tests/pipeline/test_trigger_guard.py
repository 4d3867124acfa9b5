"""The API server's trigger guard in front of a stand-in route: what it refuses, what it lets through.

Authentication and the Variable are Airflow's (stood in here); the real API server is exercised in
tests/dags/test_trigger_conf.py.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from coord_airflow import trigger_guard
from fastapi import FastAPI, Request
from fastapi.testclient import TestClient

from coord_core.ingest.input_paths import BUNDLED_SAMPLE_DIR

GOOD = {"window_start": "2025-10-24T08:00:00Z", "window_end": "2025-10-24T10:00:00Z"}
BEARER = {"Authorization": "Bearer good"}


@pytest.fixture
def client(monkeypatch: pytest.MonkeyPatch) -> Iterator[tuple[TestClient, list[Any]]]:
    async def authenticated(scope: Any) -> bool:
        return dict(scope["headers"]).get(b"authorization") == b"Bearer good"

    monkeypatch.setattr(trigger_guard, "_authenticated", authenticated)
    monkeypatch.setattr(trigger_guard, "_allowed_bases", lambda: [BUNDLED_SAMPLE_DIR])
    reached: list[Any] = []
    app = FastAPI()

    @app.post("/api/v2/dags/{dag_id}/dagRuns")
    async def trigger(dag_id: str, request: Request) -> dict[str, Any]:
        reached.append(await request.json())
        return {"dag_id": dag_id}

    @app.post("/api/v2/backfills")
    async def backfill(request: Request) -> dict[str, Any]:
        reached.append(await request.json())
        return {}

    app.add_middleware(trigger_guard.TriggerConfGuard)
    with TestClient(app) as test_client:
        yield test_client, reached


def test_a_good_conf_reaches_the_route_unchanged(client: tuple[TestClient, list[Any]]) -> None:
    http, reached = client
    body = {"logical_date": None, "conf": {**GOOD, "input_paths": [str(BUNDLED_SAMPLE_DIR)]}}
    reply = http.post("/api/v2/dags/dshield_coordination/dagRuns", json=body, headers=BEARER)
    assert reply.status_code == 200 and reached == [body]


@pytest.mark.parametrize(
    ("conf", "detail"),
    [
        ({"window_start": "2025-10-24T10:00Z", "window_end": "2025-10-24T08:00Z"}, "is not after start"),
        ({"window_strat": "2025-10-24T08:00:00Z"}, "unknown parameter 'window_strat'"),
        ({**GOOD, "input_paths": ["/proc/self/environ"]}, "outside the allowed input folders"),
    ],
)
def test_a_conf_that_cannot_succeed_is_a_400(
    client: tuple[TestClient, list[Any]], conf: dict[str, Any], detail: str
) -> None:
    http, reached = client
    reply = http.post("/api/v2/dags/dshield_coordination/dagRuns", json={"conf": conf}, headers=BEARER)
    assert reply.status_code == 400 and detail in reply.json()["detail"]
    backfill = {"dag_id": "dshield_coordination", "dag_run_conf": conf, "from_date": "2025-10-24T00:00:00Z"}
    assert http.post("/api/v2/backfills", json=backfill, headers=BEARER).status_code == 400
    assert reached == []


def test_a_huge_body_is_refused_before_parsing(client: tuple[TestClient, list[Any]]) -> None:
    http, reached = client
    body = {"conf": {**GOOD, "input_paths": ["x" * 10_000_000]}}
    reply = http.post("/api/v2/dags/dshield_coordination/dagRuns", json=body, headers=BEARER)
    assert reply.status_code == 400 and "larger than 256 KiB" in reply.json()["detail"]
    assert len(reply.content) < 300 and reached == []


def test_other_dags_and_anonymous_callers_go_to_airflow(client: tuple[TestClient, list[Any]]) -> None:
    """Another DAG's conf is Airflow's to judge; without a valid token the route answers 401 itself."""
    http, reached = client
    odd = {"conf": {"window_strat": 1}}
    assert http.post("/api/v2/dags/other_dag/dagRuns", json=odd, headers=BEARER).status_code == 200
    assert http.post("/api/v2/dags/dshield_coordination/dagRuns", json=odd).status_code == 200
    assert reached == [odd, odd]


def test_the_plugin_registers_the_guard_as_a_root_middleware() -> None:
    (entry,) = trigger_guard.TriggerConfGuardPlugin.fastapi_root_middlewares
    assert entry["middleware"] is trigger_guard.TriggerConfGuard
