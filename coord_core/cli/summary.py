"""`coord summary`: what a run of one window produced, read back from the results database."""

from __future__ import annotations

import argparse
import json
import os
from pathlib import Path
from typing import Any
from urllib.parse import urlencode

from coord_core.contracts.window import DataWindow


def register(subparsers: Any) -> None:
    summary = subparsers.add_parser("summary", help="print what a run produced for a window")
    summary.add_argument("--dsn", default=os.environ.get("COORD_POSTGRES_DSN"), help="results database")
    summary.add_argument("--window-start", required=True)
    summary.add_argument("--window-end", required=True)
    summary.add_argument("--export-dir", default=None, help="also write the DQ report and result JSON here")
    summary.set_defaults(func=_summary)


def _summary(args: argparse.Namespace) -> int:
    if not args.dsn:
        raise SystemExit("coord summary: give --dsn or set COORD_POSTGRES_DSN")
    window = DataWindow.model_validate({"start": args.window_start, "end": args.window_end})
    print_summary(args.dsn, window, export_dir=Path(args.export_dir) if args.export_dir else None)
    return 0


def print_summary(
    dsn: str, window: DataWindow, *, export_dir: Path | None = None, ui_url: str | None = None
) -> None:
    from coord_core.quality.stored_reports import StoredReportReader
    from coord_core.store.results import ResultsStore
    from coord_core.store.session_limits import connect
    from coord_core.store.window_summary import window_summary

    with connect(dsn) as conn:
        store = ResultsStore(conn)
        held = window_summary(conn, window)
        quarantine = store.quarantine_counts(window)
        reports = StoredReportReader(conn)
        stored = reports.for_interval(window.start, window.end)
        # The exported page carries the trend against the runs stored now, as the UI page does.
        page = reports.page_with_trend(stored) if stored is not None else None
        result = store.load_analysis_result(window)
    quarantined = sum(quarantine.values())
    print(f"\n== {window.label}")
    print(f"events read:        {held.staged_events + quarantine.get('parse', 0)}")
    print(f"  staged (valid):   {held.staged_events}")
    print(f"  quarantined:      {quarantined} {json.dumps(quarantine, sort_keys=True)}")
    print(f"sessions:           {held.sessions}")
    print(f"campaigns:          {len(held.campaigns)}")
    for campaign_id, verdict, confidence, n_sessions, n_ips in held.campaigns:
        print(
            f"  {campaign_id}  {verdict:<26} confidence {confidence:.2f}  {n_sessions} sessions, {n_ips} IPs"
        )
    if stored is not None:
        print(f"data quality gate:  {stored.gate_reason}")  # begins with passed, no data or gate failed
    for dag_id, run_id in held.runs:
        query = urlencode({"dag_id": dag_id, "run_id": run_id})
        base = (ui_url or _airflow_base_url()).rstrip("/")
        print(f"data-quality page:  {base}{DQ_REPORT_ROUTE}?{query} (Airflow UI, API server)")
        print(f"campaigns page:     {base}{CAMPAIGNS_RUN_ROUTE}?{query}")
    for target, location, items in held.misp_exports:
        label = "MISP feed folder" if target == "misp_feed" else "MISP"
        print(f"{label + ':':<20}{len(items.get('events', {}))} event(s) -> {location}")
    where = "tables coord.campaigns, coord.campaign_members, coord.evidence (results database)"
    print(f"results:            {where}")
    if export_dir is not None:
        export_dir.mkdir(parents=True, exist_ok=True)
        stem = window.start.strftime("%Y%m%dT%H%M") + "-" + window.end.strftime("%Y%m%dT%H%M")
        if page is not None:
            html_path = export_dir / f"dq-report-{stem}.html"
            html_path.write_text(page, encoding="utf-8")
            print(f"data-quality report: {html_path}")
        if result is not None:
            json_path = export_dir / f"result-{stem}.json"
            json_path.write_text(result.to_canonical_json(), encoding="utf-8")
            print(f"result JSON:        {json_path}")


# Where plugins/coord_airflow/dq_report_plugin.py mounts the report app on the Airflow API server.
DQ_REPORT_ROUTE = "/coord-dq/report"
# ... and where plugins/coord_airflow/campaigns_plugin.py serves a run's "Campaigns" tab.
CAMPAIGNS_RUN_ROUTE = "/coord-campaigns/run"


def _airflow_base_url() -> str:
    return os.environ.get("AIRFLOW__API__BASE_URL", "http://localhost:8080").rstrip("/")
