"""Benchmark: the load step's time per interval along a long backfill (it must not grow with history).

Loads ``--intervals`` consecutive hourly intervals (default 720: 30 days) into an embedded
PostgreSQL (``pgserver``) through the load task's own code (``coord_core.pipeline.load``: the
interval's campaigns, members, evidence and links, then campaign identity across intervals), each
interval's sessions and analysis result stored first (not timed). The results are synthetic and
shaped like the generated 30-day history's (``tests/trends/history_run.py``): ``--campaigns``
campaigns that run the whole time, each seen in most intervals with its own payload host and hash
and a few sessions, plus short-lived ones. Side by side, per interval, in the same run:

* ``load``: the load step as the DAG runs it;
* ``write_floor``: writing the interval's campaign rows again without identity (what a load cannot
  go below);
* every ``--full-every`` intervals, ``full_identity``: recomputing identity over every stored
  occurrence (what each load did before identity was extended per load).

Target: over the last 10 intervals the load takes at most 1.5x the multiple of the write floor it
took over the first 10 after a warm-up of 10 (the median of load / floor per interval: a load takes
milliseconds, and on a shared machine contention moves both alike; the raw medians are reported
too, and the median per block of 60 intervals as the curve).

    .venv/bin/python bench/bench_interval_load.py                   # 720 hourly intervals
    .venv/bin/python bench/bench_interval_load.py --intervals 2160  # 90 days

Prints one JSON document and writes ``bench/results/interval_load.json``.
"""

from __future__ import annotations

import argparse
import hashlib
import random
import statistics
import tempfile
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import psycopg

from bench.harness import progress, write_result
from coord_core.contracts.campaigns import AnalysisResult, Campaign, Evidence, RunInfo, Verdict
from coord_core.contracts.sessions import AttackSession
from coord_core.contracts.window import DataWindow
from coord_core.embedded_services import EmbeddedPostgres
from coord_core.pipeline.load import load_interval
from coord_core.store.campaign_identity import rebuild_campaign_identity
from coord_core.store.migrations import migrate
from coord_core.store.results import ResultsStore

START = datetime(2025, 11, 3, tzinfo=UTC)
HOUR = timedelta(hours=1)
TARGET_RATIO = 1.5
WARM_UP = 10  # the first loads: the first one recomputes identity (nothing stored yet), caches fill
BLOCK = 60  # intervals per point of the reported curve


def _digest(*parts: object) -> str:
    return hashlib.sha256("|".join(map(str, parts)).encode()).hexdigest()[:16]


def _campaign(
    rng: random.Random, window: DataWindow, name: str, features: list[str]
) -> tuple[Campaign, list[AttackSession]]:
    """One occurrence: a few sessions from distinct sources inside the interval, with evidence."""
    sessions = []
    for k in range(rng.randint(2, 7)):
        start = window.start + timedelta(seconds=rng.randrange(3000))
        ip = f"10.{rng.randrange(256)}.{rng.randrange(256)}.{rng.randrange(1, 255)}"
        sessions.append(
            AttackSession(
                session_id=_digest(name, window.start, k),
                sensor="s1",
                src_ip=ip,
                start=start,
                end=start + timedelta(seconds=rng.randrange(5, 600)),
            )
        )
    occurrence = f"cmp-{_digest(name, window.start)}"
    campaign = Campaign(
        campaign_id=occurrence,
        verdict=Verdict.COORDINATED_CAMPAIGN,
        confidence=0.9,
        session_ids=[s.session_id for s in sessions],
        source_ips=sorted({s.src_ip for s in sessions}),
        first_seen=min(s.start for s in sessions),
        last_seen=max(s.end for s in sessions),
        evidence=[Evidence(evidence_id=f"{occurrence}:shared", factor="shared_artifacts", score=0.9)],
        signature=features,
    )
    return campaign, sessions


def interval_results(
    index: int, campaigns: int, seed: int
) -> tuple[DataWindow, list[AttackSession], AnalysisResult]:
    """Interval ``index``: each long campaign seen with probability 0.9, a short-lived one now and then."""
    rng = random.Random(seed * 1_000_003 + index)
    window = DataWindow(start=START + index * HOUR, end=START + (index + 1) * HOUR)
    found, sessions = [], []
    for c in range(campaigns):
        if rng.random() < 0.9:
            features = [_digest("host", c), _digest("payload", c), _digest("dropper", c)]
            campaign, members = _campaign(rng, window, f"long-{c}", features)
            found.append(campaign)
            sessions += members
    if rng.random() < 0.2:  # a short-lived campaign: seen over a few hours around here, then gone
        short = index // 4
        campaign, members = _campaign(rng, window, f"short-{short}", [_digest("short", short)])
        found.append(campaign)
        sessions += members
    run = RunInfo(input_fingerprint=_digest("bench", index), parameters={}, code_version="bench")
    return window, sessions, AnalysisResult(run=run, campaigns=found)


def _mean(values: list[float]) -> float:
    return round(statistics.fmean(values), 4)


def stored_identity(conn: psycopg.Connection[Any]) -> list[tuple[Any, ...]]:
    """Occurrence -> campaign and the aliases, sorted: what two runs of one history must agree on."""
    rows = conn.execute(
        """SELECT 'identity', interval_start::text, occurrence_id, campaign_id FROM coord.campaign_identity
           UNION ALL SELECT 'alias', '', alias_id, campaign_id FROM coord.campaign_aliases ORDER BY 1, 2, 3"""
    ).fetchall()
    return [tuple(r) for r in rows]


def run(
    conn: psycopg.Connection[Any], intervals: int, campaigns: int, full_every: int, seed: int
) -> dict[str, Any]:
    migrate(conn)
    store = ResultsStore(conn)
    loads: list[float] = []
    floors: list[float] = []
    full: list[dict[str, Any]] = []
    recomputed = 0
    for index in range(intervals):
        window, sessions, result = interval_results(index, campaigns, seed)
        store.replace_sessions(window, sessions)
        store.save_analysis_result(window, result, parameters_hash="bench")
        started = time.perf_counter()
        summary = load_interval(store, window)
        loads.append(time.perf_counter() - started)
        recomputed += summary.get("identity_recomputed", True)
        started = time.perf_counter()
        store.replace_campaigns(window, result)
        floors.append(time.perf_counter() - started)
        if (index + 1) % full_every == 0 or index + 1 == intervals:
            occurrences = conn.execute("SELECT count(*) FROM coord.campaigns").fetchone()
            started = time.perf_counter()
            rebuild_campaign_identity(conn)
            full.append(
                progress(
                    {
                        "interval": index + 1,
                        "stored_occurrences": occurrences[0] if occurrences else 0,
                        "full_identity_s": round(time.perf_counter() - started, 4),
                        "load_s_last_10": _mean(loads[-10:]),
                    }
                )
            )
    over_floor = [load / floor for load, floor in zip(loads, floors, strict=True)]
    first = slice(WARM_UP, WARM_UP + 10)
    ratio = statistics.median(over_floor[-10:]) / statistics.median(over_floor[first])
    blocks = range(0, intervals, BLOCK)
    identity = stored_identity(conn)
    campaigns_stored = conn.execute(
        "SELECT count(DISTINCT campaign_id) FROM coord.campaign_identity"
    ).fetchone()
    return {
        "intervals": intervals,
        "stored_occurrences": full[-1]["stored_occurrences"],
        "campaigns_after": campaigns_stored[0] if campaigns_stored else 0,
        "load_s_first_10": _mean(loads[first]),
        "load_s_last_10": _mean(loads[-10:]),
        "load_s_median_first_10": round(statistics.median(loads[first]), 4),
        "load_s_median_last_10": round(statistics.median(loads[-10:]), 4),
        "load_s_max": round(max(loads), 4),
        "write_floor_s_first_10": _mean(floors[first]),
        "write_floor_s_last_10": _mean(floors[-10:]),
        "full_identity_s": full,
        "load_s_median_per_block": [round(statistics.median(loads[b : b + BLOCK]), 4) for b in blocks],
        "write_floor_s_median_per_block": [
            round(statistics.median(floors[b : b + BLOCK]), 4) for b in blocks
        ],
        "load_over_floor_first_10": round(statistics.median(over_floor[first]), 3),
        "load_over_floor_last_10": round(statistics.median(over_floor[-10:]), 3),
        "identity_recomputed_loads": recomputed,
        "identity_sha256": hashlib.sha256(repr(identity).encode()).hexdigest(),
        "last_to_first_ratio": round(ratio, 3),
        "meets_target": ratio <= TARGET_RATIO,
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--intervals", type=int, default=720)
    parser.add_argument("--campaigns", type=int, default=4, help="long-running campaigns")
    parser.add_argument("--full-every", type=int, default=120, help="time the full recomputation this often")
    parser.add_argument("--seed", type=int, default=7)
    args = parser.parse_args(argv)
    with tempfile.TemporaryDirectory(prefix="coord-bench-pg-") as tmp:
        server = EmbeddedPostgres(Path(tmp) / "pgdata")
        dsn = server.start()
        try:
            with psycopg.connect(dsn) as conn:
                outcome = run(conn, args.intervals, args.campaigns, args.full_every, args.seed)
        finally:
            server.stop()
    document = {
        "command": ".venv/bin/python bench/bench_interval_load.py (make bench)",
        "timed": "the load step per interval along consecutive hourly intervals; side by side the "
        "write floor (campaign rows alone) and the full identity recomputation",
        "target": f"median load / write floor over the last 10 <= {TARGET_RATIO}x that of intervals 11-20",
        **outcome,
    }
    write_result("interval_load", document)
    return 0 if outcome["meets_target"] else 1


if __name__ == "__main__":
    raise SystemExit(main())
