"""Benchmark: what judging values against history adds to an interval's analysis.

For generated mixed windows (seed 7) the analysis itself (``analyze_frame``, no history) is
timed side by side with the history steps the DAG's analyze task adds: the interval's daily
observations (``prevalence.daily_observations``), reading the 14 days before it from PostgreSQL
(``store.prevalence.history_before``, after 14 stored days of observations), marking the frame
(``prevalence.apply``) and replacing the interval's rows (``replace_observations``). Embedded
PostgreSQL (``pgserver``), started once and not timed. Target: the history adds <= 10 %.

    .venv/bin/python bench/bench_prevalence.py                      # 3,000 and 30,000 sessions
    .venv/bin/python bench/bench_prevalence.py --sizes 100000

Prints one JSON document and writes ``bench/results/prevalence.json``.
"""

from __future__ import annotations

import argparse
import tempfile
import time
from datetime import timedelta
from pathlib import Path
from typing import Any

import psycopg

from bench.harness import progress, write_result
from coord_core.analysis import prevalence
from coord_core.analysis.frame import build_frame
from coord_core.contracts.window import DataWindow
from coord_core.embedded_services import EmbeddedPostgres
from coord_core.pipeline.analyze import analyze_frame
from coord_core.scenarios.in_memory import generate_window
from coord_core.store.migrations import migrate
from coord_core.store.prevalence import HISTORY_DAYS, history_before, replace_observations

TARGET_SHARE = 0.10


def _run(conn: psycopg.Connection[Any], sessions: int) -> dict[str, Any]:
    generated = generate_window(sessions, 7)
    window = generated.window
    frame = build_frame(generated.sessions)
    observations = prevalence.daily_observations(frame)
    # Fourteen earlier days that saw the same values (the worst case for the read).
    for back in range(1, HISTORY_DAYS + 1):
        shift = timedelta(days=back)
        earlier = DataWindow(start=window.start - shift, end=window.end - shift)
        day_shift = back
        replace_observations(conn, earlier, {day - day_shift: seen for day, seen in observations.items()})
    conn.execute("ANALYZE coord.feature_prevalence")

    started = time.perf_counter()
    analyze_frame(frame, {}, window, input_fingerprint="bench", history=None)
    analysis_s = time.perf_counter() - started

    frame = build_frame(generated.sessions)
    started = time.perf_counter()
    observed = prevalence.daily_observations(frame)
    observe_s = time.perf_counter() - started
    started = time.perf_counter()
    history = history_before(conn, window)
    read_s = time.perf_counter() - started
    started = time.perf_counter()
    marked = prevalence.apply(frame, history)
    apply_s = time.perf_counter() - started
    started = time.perf_counter()
    stored = replace_observations(conn, window, observed)
    write_s = time.perf_counter() - started
    history_s = observe_s + read_s + apply_s + write_s
    return {
        "sessions": frame.n_sessions,
        "sources": frame.n_sources,
        "analysis_seconds": round(analysis_s, 3),
        "history_seconds": round(history_s, 3),
        "history_share": round(history_s / analysis_s, 4),
        "parts_seconds": {
            "observe": round(observe_s, 3),
            "read": round(read_s, 3),
            "apply": round(apply_s, 3),
            "write": round(write_s, 3),
        },
        "values_stored": stored,
        "history_days": history.days_observed,
        "endemic_values_marked": marked,
        "meets_target": history_s <= TARGET_SHARE * analysis_s,
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", default="3000,30000", help="comma-separated session counts")
    args = parser.parse_args(argv)
    sizes = [int(s) for s in args.sizes.split(",") if s]
    with tempfile.TemporaryDirectory(prefix="coord-bench-pg-") as tmp:
        server = EmbeddedPostgres(Path(tmp) / "pgdata")
        dsn = server.start()
        try:
            runs = []
            for size in sizes:
                with psycopg.connect(dsn) as conn:
                    migrate(conn)
                    conn.execute("TRUNCATE coord.feature_prevalence")
                    conn.commit()
                    runs.append(progress(_run(conn, size)))
        finally:
            server.stop()
    document = {
        "command": ".venv/bin/python bench/bench_prevalence.py (make bench)",
        "timed": "history steps of the analyze task (observe, read, apply, write) vs analyze_frame",
        "runs": runs,
    }
    write_result("prevalence", document)
    return 0 if all(r["meets_target"] for r in runs) else 1


if __name__ == "__main__":
    raise SystemExit(main())
