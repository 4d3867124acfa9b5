"""The campaign list follows the alert stream in a real browser (headless Chromium, Playwright): the
pages app and the results API mounted as Airflow mounts them, served by uvicorn in this process on
the stored corpus and a real Redis, signed in by the UI's cookie. An alert published while the page
is open appears in it without a reload, linked to its campaign, under the page's CSP. The
screenshot is kept as ``live-alerts.png`` beside the other browser tests' (``COORD_SCREENSHOTS``)."""

from __future__ import annotations

import os
import uuid
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING

import redis
import redis.asyncio
from coord_airflow import campaigns_app
from coord_airflow.alert_events import StreamSettings
from coord_airflow.results_api import caller_limiter, create_app
from fastapi import HTTPException, Request
from starlette.applications import Starlette
from starlette.routing import Mount

from coord_core.contracts.alerts import new_campaign_alert, spike_alert
from coord_core.store.alert_stream import publish_once
from coord_core.store.redis_resilience import BestEffortRedis
from tests.campaigns.conftest import NEEDS_CHROMIUM, Corpus
from tests.campaigns.test_alert_stream import _served
from tests.conftest import REPO

if TYPE_CHECKING:
    from playwright.sync_api import Browser

pytestmark = NEEDS_CHROMIUM
TOKEN = "ui-session-token"


def _user_of(request: Request) -> str:
    """Airflow's check as the pages see it: the UI's ``_token`` cookie (or a bearer token)."""
    token = request.cookies.get("_token") or request.headers.get("authorization", "").removeprefix("Bearer ")
    if not token:
        raise HTTPException(status_code=401, detail="Not authenticated")
    if token != TOKEN:
        raise HTTPException(status_code=403, detail="Invalid JWT token")
    return "analyst"


async def _caller(request: Request) -> str:
    return _user_of(request)


async def _authorize(request: Request) -> None:
    _user_of(request)


def test_an_alert_published_while_the_list_is_open_appears_without_a_reload(
    browser: Browser, corpus: Corpus, redis_server_url: str, redis_client: redis.Redis[bytes]
) -> None:
    prefix = f"coordtest-live-{uuid.uuid4().hex[:10]}"
    stream, channel = f"{prefix}:stream", f"{prefix}:channel"
    api = create_app(
        reader=corpus.reader,
        authenticate=_caller,
        limiter=caller_limiter(redis_client, limit=1000, window_s=60, namespace=prefix),
        alert_redis=lambda: redis.asyncio.Redis.from_url(redis_server_url),
        alert_settings=StreamSettings(heartbeat_s=1.0, stream=stream),
    )
    pages = campaigns_app.create_app(reader=corpus.reader, authorize=_authorize)
    root = Starlette(routes=[Mount("/coord-api/v1", app=api), Mount("/coord-campaigns", app=pages)])
    (campaign_id,) = corpus.query(
        "SELECT campaign_id FROM coord.campaign_tracks ORDER BY campaign_id LIMIT 1"
    )[0]
    seen = datetime(2025, 10, 24, 1, tzinfo=UTC)
    new = new_campaign_alert(
        campaign_id,
        {
            "verdict": "coordinated_campaign",
            "confidence": 0.93,
            "first_seen": seen,
            "last_seen": seen,
            "intervals": 1,
            "sessions": 3,
        },
        alert_confidence=0.8,
        emitted_at=datetime.now(UTC),
    )
    spike = spike_alert(
        seen.date(),
        {
            "campaign_id": campaign_id,
            "metric": "sources",
            "method": "mean_sigma",
            "value": 40.0,
            "baseline": 9.5,
            "threshold": 14.0,
        },
        emitted_at=datetime.now(UTC),
    )
    markers = [f"{prefix}:sent:{a.alert_id}" for a in (new, spike)]
    problems: list[str] = []
    try:
        with _served(root) as base:
            context = browser.new_context(viewport={"width": 1280, "height": 900})
            context.add_cookies([{"name": "_token", "value": TOKEN, "url": base}])
            page = context.new_page()
            page.on("console", lambda m: problems.append(m.text) if m.type == "error" else None)
            page.on("pageerror", lambda e: problems.append(str(e)))
            listing = page.goto(f"{base}/coord-campaigns/")
            assert listing is not None and listing.status == 200
            csp = listing.headers["content-security-policy"]
            assert "script-src 'self'" in csp and "connect-src 'self'" in csp and "unsafe-inline'; img" in csp
            page.get_by_text("live: new alerts appear here").wait_for(timeout=10_000)
            assert page.locator("#live-alerts-list tr").count() == 0
            before = page.evaluate("performance.getEntriesByType('navigation').length")

            for alert, marker in zip((new, spike), markers, strict=True):
                entry = publish_once(
                    BestEffortRedis(redis_client), alert, marker, stream=stream, channel=channel
                )
                assert entry is not None
            rows = page.locator("#live-alerts-list tr")
            page.locator(f"tr[data-alert-id='{spike.alert_id}']").wait_for(timeout=10_000)
            assert (
                rows.count() == 2
                and page.evaluate("performance.getEntriesByType('navigation').length") == before
            )
            newest, older = rows.nth(0).inner_text(), rows.nth(1).inner_text()
            assert "spike" in newest and "sources spike on 2025-10-24 (mean_sigma): 40" in newest
            assert "new campaign" in older and "confidence 0.930" in older and campaign_id in older
            href = rows.nth(1).locator("a").get_attribute("href")
            assert href == f"campaign/{campaign_id}"
            shots = Path(os.environ.get("COORD_SCREENSHOTS", REPO / "test-artifacts" / "screenshots"))
            shots.mkdir(parents=True, exist_ok=True)
            page.screenshot(path=str(shots / "live-alerts.png"))
            rows.nth(1).locator("a").click()
            page.wait_for_load_state()
            assert f"Campaign {campaign_id}" in page.inner_text("h1")
            context.close()
    finally:
        redis_client.delete(stream, *markers)
    assert problems == []
