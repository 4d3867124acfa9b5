"""The campaign pages on a real PostgreSQL, read as the reader role: list filters, sort and paging,
one campaign's page, a run's tab, escaping of attacker strings, and Airflow's auth."""

from __future__ import annotations

import ipaddress
import re
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any
from urllib.parse import quote

import psycopg
import pytest
from coord_airflow.campaigns_app import create_app
from fastapi import HTTPException, Request
from fastapi.testclient import TestClient

from coord_core.scenarios.stored_campaigns import HOSTILE_COMMAND, HOSTILE_URL, payload_hash
from tests.campaigns.conftest import CAMPAIGNS, EVENT_UUID, Corpus
from tests.campaigns.corpus import DAG_ID, run_id_of
from tests.dags.airflow_env import plugin_app_statuses

LINK = re.compile(r'<a href="campaign/([^"]+)">')


async def _engineer_only(request: Request) -> None:
    if request.headers.get("X-Test-User") != "engineer":
        raise HTTPException(status_code=401, detail="Not authenticated")


@pytest.fixture(scope="module")
def client(corpus: Corpus) -> TestClient:
    return TestClient(
        create_app(reader=corpus.reader, authorize=_engineer_only), headers={"X-Test-User": "engineer"}
    )


def _listed(page: str) -> list[str]:
    return LINK.findall(page)


def test_the_list_pages_through_every_campaign_newest_activity_first(
    corpus: Corpus, client: TestClient
) -> None:
    expected = [r[0] for r in corpus.query(
        "SELECT campaign_id FROM coord.campaign_tracks ORDER BY last_seen DESC, campaign_id DESC"
    )]  # fmt: skip
    assert len(expected) == CAMPAIGNS
    first = client.get("/", params={"page_size": "50"})
    assert first.status_code == 200 and f"page 1 of 2 · {CAMPAIGNS} campaigns" in first.text
    second = client.get("/", params={"page_size": "50", "page": "2"})
    assert _listed(first.text) + _listed(second.text) == expected
    assert 'href="?page_size=50&amp;page=1">previous</a>' in second.text
    assert "default-src 'none'" in first.headers["content-security-policy"]


def test_sorting_by_confidence_both_ways(corpus: Corpus, client: TestClient) -> None:
    rows = corpus.query("SELECT campaign_id, max_confidence FROM coord.campaign_tracks")
    confidence = dict(rows)
    down = _listed(client.get("/", params={"sort": "confidence", "page_size": "100"}).text)
    up = _listed(client.get("/", params={"sort": "confidence", "order": "asc", "page_size": "100"}).text)
    assert [confidence[c] for c in down] == sorted(confidence.values(), reverse=True)
    assert up == down[::-1] and len(up) == CAMPAIGNS
    # The column header flips the order of the column the list is sorted by.
    page = client.get("/", params={"sort": "confidence"}).text
    assert 'href="?sort=confidence&amp;order=asc">max confidence ▼</a>' in page


def test_each_filter_narrows_the_list(corpus: Corpus, client: TestClient) -> None:
    def ids(**params: str) -> set[str]:
        return set(_listed(client.get("/", params={**params, "page_size": "200"}).text))

    coordinated = {r[0] for r in corpus.query(
        "SELECT campaign_id FROM coord.campaign_tracks WHERE 'coordinated_campaign' = ANY(verdicts)"
    )}  # fmt: skip
    assert 0 < len(coordinated) < CAMPAIGNS and ids(verdict="coordinated_campaign") == coordinated
    confident = {
        r[0]
        for r in corpus.query("SELECT campaign_id FROM coord.campaign_tracks WHERE max_confidence >= 0.7")
    }
    assert 0 < len(confident) < CAMPAIGNS and ids(min_confidence="0.7") == confident
    window = corpus.windows[1]
    in_window = {r[0] for r in corpus.query(
        "SELECT campaign_id FROM coord.campaign_tracks WHERE last_seen >= %s AND first_seen < %s",
        window.start, window.end,
    )}  # fmt: skip
    assert 0 < len(in_window) < CAMPAIGNS
    assert ids(since=window.start.isoformat(), until=window.end.isoformat()) == in_window
    (ip,) = corpus.query(
        """SELECT host(m.src_ip) FROM coord.campaign_identity i JOIN coord.campaign_members m
             ON m.interval_start = i.interval_start AND m.campaign_id = i.occurrence_id
           WHERE i.campaign_id = %s LIMIT 1""",
        corpus.exported,
    )[0]
    assert ids(source_ip=ip) == {corpus.exported}
    # By network prefix (the store keeps no AS numbers): the /24 around a source, half the space.
    around = ipaddress.ip_network(f"{ip}/24", strict=False)
    assert corpus.exported in corpus.in_network(str(around))
    assert ids(network=f"{ip}/24") == corpus.in_network(str(around))  # host bits dropped
    lower_half = corpus.in_network("0.0.0.0/1")
    assert 0 < len(lower_half) < CAMPAIGNS and ids(network="0.0.0.0/1") == lower_half
    assert ids(network=ip) == {corpus.exported}  # a bare address is its own /32
    assert ids(network="2001:db8::/32") == set()
    assert ids(network="0.0.0.0/1", verdict="coordinated_campaign") == lower_half & coordinated
    assert ids(indicator=ip) == {corpus.exported}
    index = int(corpus.query(
        "SELECT s.doc->>'session_id' FROM coord.sessions s WHERE host(s.src_ip) = %s", ip
    )[0][0][1:8])  # fmt: skip
    assert ids(indicator=payload_hash(index)) == {corpus.exported}
    assert len(ids(indicator=HOSTILE_URL)) == CAMPAIGNS  # every campaign fetched it
    assert ids(indicator="198.51.100.254") == set()
    # Empty form fields are no filter; filters combine.
    assert ids(verdict="", source_ip="") == ids()
    assert ids(verdict="coordinated_campaign", min_confidence="0.7") == coordinated & confident


def test_bad_filters_are_refused_with_the_reason_escaped(client: TestClient) -> None:
    for params, reason in (
        ({"verdict": "<script>"}, "verdict must be one of"),
        ({"min_confidence": "2"}, "min confidence must be a number from 0 to 1"),
        ({"since": "yesterday"}, "since is not an ISO-8601 time"),
        ({"until": "2025-10-24T00:00:00"}, "until must carry a timezone"),
        ({"source_ip": "<img src=x>"}, "not an IPv4 or IPv6 address"),
        ({"network": "10.0.0.0/33"}, "network is not an IPv4 or IPv6 prefix"),
        ({"network": "<img src=x>/8"}, "network is not an IPv4 or IPv6 prefix"),
        ({"indicator": "<b>hello</b>"}, "indicator is not an IP address"),
        ({"sort": "session_id"}, "sort must be last_seen or confidence"),
        ({"page_size": "100000"}, "page_size must be one of"),
        ({"page": "0"}, "page must be a whole number"),
    ):
        reply = client.get("/", params=params)
        assert reply.status_code == 400 and reason in reply.text, params
        assert "<script>" not in reply.text and "<img" not in reply.text and "<b>hello" not in reply.text


def test_a_campaign_page_shows_evidence_timeline_infrastructure_lineage_misp_and_narrative(
    corpus: Corpus, client: TestClient
) -> None:
    reply = client.get(f"/campaign/{quote(corpus.exported, safe='')}")
    assert reply.status_code == 200
    page = reply.text
    for factor in ("shared_artefact", "temporal_synchronisation", "infrastructure"):
        assert f"<td>{factor}</td>" in page
    assert "p_value: " in page and "permutations: 999" in page  # the statistics behind the scores
    assert page.count("<rect ") == 3  # one bar per member session
    assert "<h2>Infrastructure</h2>" in page and "hosting_share" in page
    assert EVENT_UUID in page and "/srv/feed" in page
    assert "qwen2.5:7b-instruct" in page and "Bots fetch &lt;b&gt;x.sh&lt;/b&gt;." in page
    window = corpus.windows[0]
    run_id = run_id_of(window)
    assert f'href="../run?dag_id={DAG_ID}&amp;run_id={quote(run_id, safe="")}"' in page
    assert f'href="../../coord-dq/report?dag_id={DAG_ID}&amp;run_id={quote(run_id, safe="")}"' in page
    assert f'href="../../coord-api/v1/campaigns/{corpus.exported}"' in page
    # Attacker strings (URL, command in evidence values, AS name) are text, never markup.
    assert "<script>" not in page and "<b onmouseover" not in page and "</td><script>" not in page
    assert "alert(&quot;url&quot;)" in page and "Evil &amp; Co" in page
    assert HOSTILE_COMMAND not in page


def test_a_campaign_over_two_intervals_is_one_page_found_by_any_of_its_ids(
    corpus: Corpus, client: TestClient
) -> None:
    occurrences = [r[0] for r in corpus.query(
        "SELECT occurrence_id FROM coord.campaign_identity WHERE campaign_id = %s ORDER BY interval_start",
        corpus.continued,
    )]  # fmt: skip
    assert len(occurrences) == 2
    page = client.get(f"/campaign/{occurrences[1]}").text
    assert f"Campaign {corpus.continued}" in page and "an occurrence or retired id" in page
    assert page.count("<h3>") == 2 and page.count("<rect ") == 6
    missing = client.get("/campaign/" + quote("<script>alert(1)", safe=""))
    assert missing.status_code == 404 and "&lt;script&gt;" in missing.text and "<script>" not in missing.text


def test_the_run_tab_lists_the_runs_campaigns_and_links_its_data_quality_report(
    corpus: Corpus, client: TestClient
) -> None:
    window = corpus.windows[0]
    run_id = run_id_of(window)
    reply = client.get("/run", params={"dag_id": DAG_ID, "run_id": run_id})
    assert reply.status_code == 200
    expected = {r[0] for r in corpus.query(
        "SELECT campaign_id FROM coord.campaign_identity WHERE interval_start = %s", window.start
    )}  # fmt: skip
    assert set(_listed(reply.text)) == expected and corpus.exported in expected
    assert f'href="../coord-dq/report?dag_id={DAG_ID}&amp;run_id={quote(run_id, safe="")}"' in reply.text
    other = client.get("/run", params={"dag_id": "coord_maintenance", "run_id": run_id})
    assert other.status_code == 200 and "does not run the coordination pipeline" in other.text
    unknown = client.get("/run", params={"dag_id": DAG_ID, "run_id": "<i>nope</i>"})
    assert unknown.status_code == 404 and "&lt;i&gt;nope" in unknown.text


def test_every_page_requires_authorization(corpus: Corpus, client: TestClient) -> None:
    for path in ("/", f"/campaign/{corpus.exported}", "/run?dag_id=d&run_id=r"):
        assert client.get(path, headers={"X-Test-User": "nobody"}).status_code == 401, path


def test_a_results_database_no_run_has_reached_says_so(postgres_dsn: str) -> None:
    @contextmanager
    def empty() -> Iterator[psycopg.Connection[Any]]:
        with psycopg.connect(postgres_dsn) as conn:
            yield conn

    reply = TestClient(
        create_app(reader=empty, authorize=_engineer_only), headers={"X-Test-User": "engineer"}
    ).get("/")
    assert reply.status_code == 200 and "has no coord schema yet" in reply.text


def test_default_authorization_is_airflows_for_pages_and_api(tmp_path: Path) -> None:
    code = (
        "from fastapi.testclient import TestClient\n"
        "from coord_airflow import campaigns_app, results_api\n"
        "def no_db():\n    raise AssertionError('the database must not be reached')\n"
        "def no_limit(caller):\n    raise AssertionError('anonymous calls never reach the limiter')\n"
        "pages = TestClient(campaigns_app.create_app(reader=no_db))\n"
        "api = TestClient(results_api.create_app(reader=no_db, limiter=no_limit))\n"
        "for path in ('/', '/campaign/cmp-1', '/run?dag_id=d&run_id=r'):\n"
        "    print('STATUS', pages.get(path).status_code)\n"
        "for path in ('/campaigns', '/campaigns/cmp-1', '/campaigns/cmp-1/lineage', '/runs',\n"
        "             '/indicators/203.0.113.7', '/openapi.json'):\n"
        "    print('STATUS', api.get(path).status_code)\n"
    )
    assert plugin_app_statuses(tmp_path, code) == ["401"] * 9


def test_the_run_route_coord_summary_prints_is_where_the_plugin_serves_a_runs_campaigns() -> None:
    from coord_airflow.campaigns_plugin import PAGES_PREFIX

    from coord_core.cli.summary import CAMPAIGNS_RUN_ROUTE

    assert f"{PAGES_PREFIX}/run" == CAMPAIGNS_RUN_ROUTE
    assert "/run" in {getattr(route, "path", None) for route in create_app().routes}
