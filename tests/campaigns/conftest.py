"""One stored corpus per module (60 campaigns over 4 intervals, one exported to MISP, one narrated)
and the reader the apps use on it: the real reader role, read-only."""

from __future__ import annotations

import hashlib
import ipaddress
import shutil
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

import psycopg
import pytest
import redis
from psycopg.types.json import Json

from coord_core.contracts.window import DataWindow
from coord_core.store.exports import record_export
from coord_core.store.session_limits import read_only_as
from tests.campaigns.corpus import run_id_of, store_corpus
from tests.conftest import temporary_database
from tests.dags.airflow_stack import api_server_for

if TYPE_CHECKING:
    from playwright.sync_api import Browser

CHROMIUM = shutil.which("chromium")
NEEDS_CHROMIUM = pytest.mark.skipif(
    CHROMIUM is None, reason="needs Debian's chromium package (.ci/run installs it)"
)
CAMPAIGNS = 60
INTERVALS = 4
EVENT_UUID = "5f0c3a52-0000-4000-8000-00000000beef"


@dataclass(frozen=True)
class Corpus:
    dsn: str
    windows: list[DataWindow]
    exported: str  # a campaign with a MISP event and a narrative
    continued: str  # a campaign with two occurrences

    @contextmanager
    def reader(self) -> Iterator[psycopg.Connection[Any]]:
        conn = psycopg.connect(self.dsn)
        try:
            read_only_as(conn, statement_timeout="30s")
            yield conn
        finally:
            conn.close()

    def query(self, sql: str, *args: Any) -> list[tuple[Any, ...]]:
        with psycopg.connect(self.dsn) as conn:
            return conn.execute(sql, args).fetchall()

    def in_network(self, network: str) -> set[str]:
        """The campaigns with a member source inside ``network``, worked out here from every
        stored member address (not by the database's ``<<=``)."""
        prefix = ipaddress.ip_network(network, strict=False)
        members = self.query(
            """SELECT i.campaign_id, host(m.src_ip) FROM coord.campaign_identity i
                 JOIN coord.campaign_members m ON m.interval_start = i.interval_start
                  AND m.campaign_id = i.occurrence_id"""
        )
        return {str(cid) for cid, ip in members if ipaddress.ip_address(ip) in prefix}


@pytest.fixture(scope="module")
def corpus(postgres_server_dsn: str) -> Iterator[Corpus]:
    with temporary_database(postgres_server_dsn) as dsn, psycopg.connect(dsn, autocommit=True) as conn:
        windows = store_corpus(conn, CAMPAIGNS, intervals=INTERVALS, seed=11)
        row = conn.execute(
            "SELECT campaign_id FROM coord.campaign_tracks WHERE intervals = 2 ORDER BY campaign_id LIMIT 1"
        ).fetchone()
        assert row is not None, "every tenth campaign continues into the next interval"
        continued = str(row[0])
        occurrence = conn.execute(
            "SELECT interval_start, interval_end, occurrence_id, campaign_id FROM coord.campaign_identity "
            "WHERE interval_start = %s AND campaign_id <> %s ORDER BY occurrence_id LIMIT 1",
            (windows[0].start, continued),
        ).fetchone()
        assert occurrence is not None
        start, end, occurrence_id, exported = occurrence
        record_export(conn, windows[0], "misp_feed", "/srv/feed", {"events": {exported: EVENT_UUID}})
        conn.execute(
            """INSERT INTO coord.narratives (interval_start, interval_end, campaign_id, llm_status,
                   status_reason, model, narrative, rejected_claims, prompt_sha256)
               VALUES (%s, %s, %s, 'ok', '', 'qwen2.5:7b-instruct', %s, '[]', 'abc')""",
            (
                start,
                end,
                occurrence_id,
                Json({"source": "llm", "summary": "Bots fetch <b>x.sh</b>.", "claims": []}),
            ),
        )
        yield Corpus(dsn, windows, str(exported), continued)


RATE_LIMIT = 12


@pytest.fixture
def served(
    tmp_path: Path, postgres_dsn: str, redis_server_url: str, airflow_servers: None
) -> Iterator[tuple[str, str, str, str]]:
    """``airflow api-server`` alone on a stored corpus: (base URL, a JWT, the Redis key of the
    user's rate-limit window, a run id)."""
    with psycopg.connect(postgres_dsn, autocommit=True) as conn:
        windows = store_corpus(conn, 30, intervals=3, seed=5)
    user = f"analyst-{uuid.uuid4().hex[:8]}"  # its own rate-limit window in the shared Redis
    key = f"coord:ratelimit:coord-api:{hashlib.sha256(user.encode()).hexdigest()[:16]}"
    limits = {
        "AIRFLOW__COORD_API__RATE_LIMIT": str(RATE_LIMIT),
        "AIRFLOW__COORD_API__RATE_WINDOW_SECONDS": "300",
    }
    try:
        with api_server_for(tmp_path, postgres_dsn, redis_server_url, user, "viewer", **limits) as served:
            yield (*served, key, run_id_of(windows[0]))
    finally:
        redis.Redis.from_url(redis_server_url).delete(key)


@pytest.fixture(scope="module")
def browser() -> Iterator[Browser]:
    """Debian's headless Chromium through Playwright, one per module (the browser tests)."""
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        launched = p.chromium.launch(executable_path=CHROMIUM, args=["--no-sandbox"])
        try:
            yield launched
        finally:
            launched.close()
