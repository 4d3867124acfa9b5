"""The campaign pages and the results API in a real Airflow API server: mounted by the plugin,
authenticated by Airflow's JWT (bearer or the UI's cookie), on coord_postgres as the reader role,
rate-limited through coord_redis with the configured limit."""

from __future__ import annotations

import time
from datetime import UTC, date, datetime

import httpx
import jwt
import redis

from coord_core.contracts.alerts import spike_alert
from coord_core.store.alert_stream import publish_once
from coord_core.store.redis_resilience import BestEffortRedis
from tests.campaigns.conftest import RATE_LIMIT
from tests.campaigns.corpus import DAG_ID


def test_pages_and_api_served_by_airflow_with_its_auth_and_the_configured_limit(
    served: tuple[str, str, str, str], redis_server_url: str
) -> None:
    base, token, key, run_id = served
    bearer = {"Authorization": f"Bearer {token}"}
    api = f"{base}/coord-api/v1"
    # Anonymous callers get 401, a token Airflow cannot verify 403 (as Airflow's own REST API
    # answers), before anything is counted or read.
    garbage = {"Authorization": "Bearer forged"}
    assert httpx.get(f"{base}/api/v2/dags", headers=garbage, timeout=30).status_code == 403
    for url in (
        f"{api}/campaigns",
        f"{api}/openapi.json",
        f"{base}/coord-campaigns/",
        f"{api}/alerts/stream",
    ):
        assert httpx.get(url, timeout=30).status_code == 401, url
        assert httpx.get(url, headers=garbage, timeout=30).status_code == 403, url
    # A well-formed token with the real one's claims, made an admin's, signed with another key: the
    # forgery an attacker can make. Airflow's REST API and ours refuse it alike, as header or cookie.
    header = jwt.get_unverified_header(token)
    claims = jwt.decode(token, options={"verify_signature": False})
    forged_jwt = jwt.encode({**claims, "role": "admin"}, "k" * 64, algorithm=header["alg"])
    forged = {"Authorization": f"Bearer {forged_jwt}"}
    theirs = httpx.get(f"{base}/api/v2/dags", headers=forged, timeout=30)
    assert theirs.status_code == 403 and theirs.json()["detail"] == "Invalid JWT token"
    for url in (f"{api}/campaigns", f"{api}/runs", f"{base}/coord-campaigns/", f"{api}/alerts/stream"):
        ours = httpx.get(url, headers=forged, timeout=30)
        assert (ours.status_code, ours.json()) == (403, theirs.json()), url
        by_cookie = httpx.get(url, cookies={"_token": forged_jwt}, timeout=30)
        assert by_cookie.status_code == 403, url
    listed = httpx.get(f"{api}/campaigns", params={"limit": 10}, headers=bearer, timeout=30)
    assert listed.status_code == 200 and len(listed.json()["campaigns"]) == 10
    assert listed.json()["next_cursor"]
    cid = listed.json()["campaigns"][0]["campaign_id"]
    assert httpx.get(f"{api}/campaigns/{cid}", headers=bearer, timeout=30).json()["campaign_id"] == cid
    assert httpx.get(f"{api}/openapi.json", headers=bearer, timeout=30).json()["info"]["version"] == "1.0.0"
    # The UI's pages authenticate with Airflow's session cookie (the tab's iframe).
    cookie = {"_token": token}
    page = httpx.get(f"{base}/coord-campaigns/", cookies=cookie, timeout=30)
    assert page.status_code == 200 and "30 campaigns" in page.text
    tab = httpx.get(
        f"{base}/coord-campaigns/run", params={"dag_id": DAG_ID, "run_id": run_id}, cookies=cookie
    )
    assert tab.status_code == 200 and "data-quality report" in tab.text
    plugins = httpx.get(f"{base}/api/v2/plugins", headers=bearer, timeout=30).json()["plugins"]
    ours = next(p for p in plugins if p["name"] == "coord_campaigns")
    views = {v["destination"]: v for v in ours["external_views"]}
    assert views["dag_run"]["name"] == "Campaigns" and views["nav"]["href"] == "coord-campaigns/"
    # The live alert stream through Airflow's server and middleware: an alert published while it is
    # open arrives at once as an SSE event (nothing buffers it).
    client = redis.Redis.from_url(redis_server_url)
    alert = spike_alert(
        date(2025, 10, 24),
        {
            "campaign_id": cid,
            "metric": "sessions",
            "method": "median_iqr",
            "value": 30.0,
            "baseline": 3.0,
            "threshold": 5.0,
        },
        emitted_at=datetime.now(UTC),
    )
    marker = f"coordtest-api-server:{alert.alert_id}:{time.time_ns()}"
    with httpx.stream("GET", f"{api}/alerts/stream", headers=bearer, timeout=30) as stream:
        assert stream.status_code == 200 and stream.headers["content-type"].startswith("text/event-stream")
        lines = stream.iter_lines()
        assert next(lines) == "retry: 5000" and next(lines).startswith(": coord alerts")
        entry = publish_once(BestEffortRedis(client), alert, marker)
        assert entry is not None
        got: list[str] = []
        while not (got and got[-1].startswith("data: ")) and len(got) < 10:
            line = next(lines)  # heartbeat comments and blank lines between events are skipped
            if line and not line.startswith(":"):
                got.append(line)
    client.delete(marker)
    assert got == [f"id: {entry}", "event: alert", f"data: {alert.encode()}"]
    # Four API calls so far; the configured limit is reached, then refused with Retry-After.
    used = client.zcard(key)
    assert used == 4
    statuses = [
        httpx.get(f"{api}/runs", headers=bearer, timeout=30).status_code for _ in range(RATE_LIMIT - 3)
    ]
    assert statuses == [200] * (RATE_LIMIT - 4) + [429]
    refused = httpx.get(f"{api}/runs", headers=bearer, timeout=30)
    assert refused.status_code == 429 and int(refused.headers["retry-after"]) > 0
