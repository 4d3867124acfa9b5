"""A generated multi-day history through the DAGs, then its spikes scored against the truth.

The history (``coord_core.scenarios.history``) is loaded by the main DAG's own tasks interval by
interval (``tests/dags/in_process.py``: one interpreter, no Airflow processes), each interval
reading its day's log; then the trend DAG's task builds and stores each day's report; the stored
reports are scored (``coord_core.evaluation.history_score``).

The test tier runs a short history with daily intervals (``tests/trends/test_history_spikes.py``);
the full history runs once by hand (``make trend-history``, or with options)::

    .venv/bin/python -m tests.trends.history_run --days 30 --interval-hours 24 --seed 7

It uses the server named by ``--postgres`` (a fresh database, dropped afterwards) or an embedded
PostgreSQL, prints the score as JSON and writes it to ``--out``.
"""

from __future__ import annotations

import argparse
import json
import shutil
import sys
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import asdict
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

import psycopg

from coord_core.embedded_services import EmbeddedPostgres, EmbeddedRedis
from coord_core.evaluation.history_score import campaign_actors, score_history
from coord_core.scenarios.history import HistorySpec, HistoryTruth, generate_history, write_history
from coord_core.store import trends as trend_store
from tests.conftest import temporary_database
from tests.dags.airflow_env import make_airflow_env
from tests.dags.in_process import run_intervals_in_process, run_trend_days_in_process, task_times


def intervals_of(day: date, hours: int) -> list[tuple[datetime, datetime]]:
    """The data intervals of ``hours`` hours that tile the UTC day."""
    if 24 % hours:
        raise ValueError("interval hours must divide 24")
    start = datetime(day.year, day.month, day.day, tzinfo=UTC)
    return [(start + timedelta(hours=h), start + timedelta(hours=h + hours)) for h in range(0, 24, hours)]


def load_history(
    postgres_dsn: str,
    redis_url: str,
    truth: HistoryTruth,
    day_files: dict[date, Path],
    interval_hours: int,
    home: Path,
    max_intervals: int | None = None,
) -> dict[str, Any]:
    """Run the main DAG's tasks over every interval (the first ``max_intervals`` only, when given:
    then no trend report), then the trend DAG's per day; returns timings."""
    airflow = make_airflow_env(home, postgres_dsn, redis_url)
    days = truth.day_list()
    began = time.monotonic()
    # Each interval reads its day's log and the one before (a session that began before midnight
    # ends in the next day's file).
    intervals, confs = [], []
    for day in days:
        paths = [str(day_files[d]) for d in (day - timedelta(days=1), day) if d in day_files]
        for interval in intervals_of(day, interval_hours):
            intervals.append(interval)
            confs.append({"input_paths": paths})
    if max_intervals is not None:
        intervals, confs = intervals[:max_intervals], confs[:max_intervals]
    output = run_intervals_in_process(airflow, intervals, {}, interval_confs=confs, timeout_s=6 * 3600)
    loaded = time.monotonic()
    curve = interval_curve(task_times(output), len(intervals_of(days[0], interval_hours)))
    print(json.dumps({"load_s": round(loaded - began, 1), **curve}), file=sys.stderr, flush=True)
    if max_intervals is not None:
        return {"load_s": round(loaded - began, 1), "intervals_loaded": len(intervals), **curve}
    run_trend_days_in_process(airflow, days, timeout_s=6 * 3600)
    return {"load_s": round(loaded - began, 1), "trends_s": round(time.monotonic() - loaded, 1), **curve}


def interval_curve(times: list[dict[str, float]], per_day: int) -> dict[str, Any]:
    """How an interval's time moved along the history: the mean per day (all tasks, and each task),
    the first and last ten intervals, and each task's total (a cost that grows with what is stored
    shows here)."""
    totals = [sum(t.values()) for t in times]
    by_task: dict[str, float] = {}
    for t in times:
        for task, seconds in t.items():
            by_task[task] = by_task.get(task, 0.0) + seconds
    days = [totals[i : i + per_day] for i in range(0, len(totals), per_day)]
    per_task_day = {
        task: [
            round(sum(t.get(task, 0.0) for t in times[i : i + per_day]) / len(times[i : i + per_day]), 3)
            for i in range(0, len(times), per_day)
        ]
        for task in sorted(by_task)
    }
    return {
        "interval_s_per_day": [round(sum(d) / len(d), 2) for d in days if d],
        "task_s_per_day": per_task_day,
        "interval_s_first_10": round(sum(totals[:10]) / max(1, len(totals[:10])), 2),
        "interval_s_last_10": round(sum(totals[-10:]) / max(1, len(totals[-10:])), 2),
        "task_s_total": {task: round(seconds, 1) for task, seconds in sorted(by_task.items())},
    }


def score_stored(postgres_dsn: str, truth: HistoryTruth) -> dict[str, Any]:
    """Read the stored reports and campaign members back and score them."""
    with psycopg.connect(postgres_dsn) as conn:
        reports = {}
        for day in truth.day_list():
            stored = trend_store.load_trend_report(conn, day)
            if stored is not None:
                reports[day] = stored["report"]
        members = trend_store.campaign_member_sessions(conn)
    actors = campaign_actors(members, truth.session_actors, {c.actor_id for c in truth.campaigns})
    return score_history(truth, reports, actors)


def dump_identity(postgres_dsn: str, path: Path) -> None:
    """The stored campaign identity (occurrence -> campaign, and the aliases), as sorted JSON lines:
    two runs of one history compare with ``cmp``."""
    with psycopg.connect(postgres_dsn) as conn:
        identity = conn.execute(
            """SELECT interval_start, interval_end, occurrence_id, campaign_id FROM coord.campaign_identity
               ORDER BY interval_start, interval_end, occurrence_id"""
        ).fetchall()
        aliases = conn.execute("SELECT alias_id, campaign_id FROM coord.campaign_aliases ORDER BY alias_id")
        rows = [["identity", s.isoformat(), e.isoformat(), o, c] for s, e, o, c in identity]
        rows += [["alias", a, c] for a, c in aliases.fetchall()]
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text("".join(json.dumps(r) + "\n" for r in rows), encoding="utf-8")


def run_history(
    postgres_dsn: str,
    redis_url: str,
    seed: int,
    spec: HistorySpec,
    interval_hours: int,
    workdir: Path,
    identity_out: Path | None = None,
    max_intervals: int | None = None,
) -> dict[str, Any]:
    plans, truth = generate_history(seed, spec)
    files = write_history(plans, truth, workdir / "logs")
    home = workdir / "airflow"
    timings = load_history(postgres_dsn, redis_url, truth, files, interval_hours, home, max_intervals)
    if identity_out is not None:
        dump_identity(postgres_dsn, identity_out)
    # A history loaded in part has no reports to score.
    score = score_stored(postgres_dsn, truth) if max_intervals is None else {}
    spec_fields = {k: (v.isoformat() if isinstance(v, date) else v) for k, v in asdict(spec).items()}
    return {
        "seed": seed,
        "spec": spec_fields,
        "interval_hours": interval_hours,
        "sessions": len(plans),
        **timings,
        **score,
    }


@contextmanager
def _servers(postgres: str | None, redis_url: str | None, root: Path) -> Iterator[tuple[str, str]]:
    pg = None if postgres else EmbeddedPostgres(root / "pg")
    rd = None if redis_url else EmbeddedRedis(root / "redis")
    try:
        server_dsn = postgres or pg.start()  # type: ignore[union-attr]
        url = redis_url or rd.start()  # type: ignore[union-attr]
        with temporary_database(server_dsn, "coord_history") as dsn:
            yield dsn, url
    finally:
        if rd is not None:
            rd.stop()
        if pg is not None:
            pg.stop()


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--days", type=int, default=30)
    parser.add_argument("--interval-hours", type=int, default=24)
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--base-rate", type=float, default=HistorySpec.base_rate)
    parser.add_argument("--background", type=int, default=HistorySpec.background)
    parser.add_argument("--postgres", help="server DSN (a fresh database is made there); default: embedded")
    parser.add_argument("--redis", help="Redis URL; default: embedded")
    parser.add_argument("--out", type=Path, default=Path("test-artifacts/trend-history.json"))
    parser.add_argument(
        "--intervals", type=int, help="load only the first N intervals and time them (no trend reports)"
    )
    parser.add_argument(
        "--identity-out", type=Path, help="write the stored campaign identity here (JSON lines)"
    )
    args = parser.parse_args(argv)
    spec = HistorySpec(days=args.days, base_rate=args.base_rate, background=args.background)
    root = Path(tempfile.mkdtemp(prefix="coord-history-"))
    try:
        with _servers(args.postgres, args.redis, root) as (dsn, url):
            result = run_history(
                dsn, url, args.seed, spec, args.interval_hours, root, args.identity_out, args.intervals
            )
    finally:
        shutil.rmtree(root, ignore_errors=True)
    text = json.dumps(result, indent=1, sort_keys=True)
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(text + "\n", encoding="utf-8")
    print(text)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
