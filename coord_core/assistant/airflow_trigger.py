"""Trigger an analysis of one window through the Airflow REST API, as the assistant's user.

The MCP server reads the results database as the reader role; starting a run is a write to
Airflow, so it goes through Airflow's own API with Airflow's own authentication and permissions
(the token of a user allowed to trigger the DAG), and Airflow's trigger guard checks the conf.
Without ``COORD_AIRFLOW_URL`` and ``COORD_AIRFLOW_TOKEN`` the tool is refused, never attempted.
(``httpx`` is the HTTP client the ``mcp`` SDK itself requires.)
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any
from urllib.parse import quote, urlsplit

import httpx

URL_ENV = "COORD_AIRFLOW_URL"
TOKEN_ENV = "COORD_AIRFLOW_TOKEN"  # noqa: S105 (the variable's name, not a secret)
DAG_ID = "dshield_coordination"
MAX_WINDOW = timedelta(days=7)
_TIMEOUT_S = 30.0


class TriggerRefused(RuntimeError):
    """The trigger was not sent or Airflow refused it; the message says why."""


@dataclass(frozen=True)
class AirflowApi:
    base_url: str
    token: str

    @classmethod
    def from_environment(cls, env: Mapping[str, str] = os.environ) -> AirflowApi:
        url, token = env.get(URL_ENV, "").strip(), env.get(TOKEN_ENV, "").strip()
        if not url or not token:
            raise TriggerRefused(
                f"refused: triggering needs the Airflow API server ({URL_ENV}) and a token of a user "
                f"allowed to trigger {DAG_ID} ({TOKEN_ENV}); the server has none configured"
            )
        if urlsplit(url).scheme not in ("http", "https"):
            raise TriggerRefused(f"refused: {URL_ENV} must be an http(s) URL")
        return cls(url.rstrip("/"), token)


def check_window(start: datetime, end: datetime) -> None:
    if end <= start:
        raise TriggerRefused("window_end must be after window_start")
    if end - start > MAX_WINDOW:
        raise TriggerRefused(f"a window may span at most {MAX_WINDOW.days} days")


def trigger_analysis(
    api: AirflowApi, start: datetime, end: datetime, note: str | None = None
) -> dict[str, Any]:
    """POST a run of the main DAG for ``[start, end)``; its run id and state, or ``TriggerRefused``."""
    check_window(start, end)
    body: dict[str, Any] = {
        "logical_date": None,
        "conf": {"window_start": start.isoformat(), "window_end": end.isoformat()},
    }
    if note:
        body["note"] = note[:500]
    try:
        reply = httpx.post(
            f"{api.base_url}/api/v2/dags/{quote(DAG_ID)}/dagRuns",
            json=body,
            headers={"Authorization": f"Bearer {api.token}"},
            timeout=_TIMEOUT_S,
        )
    except httpx.HTTPError as exc:
        raise TriggerRefused(f"the Airflow API server could not be reached: {type(exc).__name__}") from exc
    if reply.status_code in (401, 403):
        raise TriggerRefused(
            f"refused by Airflow ({reply.status_code}): the token is invalid or may not trigger {DAG_ID}"
        )
    if reply.status_code >= 400:
        raise TriggerRefused(f"refused by Airflow ({reply.status_code}): {_detail(reply)}")
    run = reply.json()
    return {
        "dag_id": run.get("dag_id"),
        "dag_run_id": run.get("dag_run_id"),
        "state": run.get("state"),
        "conf": run.get("conf"),
    }


def _detail(reply: httpx.Response) -> str:
    try:
        detail = reply.json().get("detail")
    except ValueError:
        detail = None
    return str(detail if detail is not None else reply.text)[:500]
