"""Benchmark: the coordination analysis on generated windows of 10k, 100k and 1M sessions.

What is timed: the analysis from ``AttackSession`` objects to the ``AnalysisResult``: every
session handed to a ``FrameBuilder`` as the generator produces it (interning, command
normalisation, fingerprints), then ``analyze_frame`` (every detector, grouping, tools with the
offline ASN/geo and scanner lists, permutation tests, verdicts, calibration, assembly) through
the LangGraph workflow in memory. The window is streamed, as from a database cursor: no list of
a million session objects is ever held. Not timed: planning the sessions (the generator) and
serialising the result to JSON (reported separately). No LLM.

Each size runs in a fresh process, so its peak RSS is its own: ``peak_rss_mb`` is the process
peak (generator, frame, analysis and result JSON included), sampled every 20 ms and checked
against ``ru_maxrss``. CPU seconds (the streamed ``add`` calls counted at their wall time) are
reported next to wall seconds because the development machines are shared.

    .venv/bin/python bench/bench_analysis.py                        # 10k, 100k, 1M
    .venv/bin/python bench/bench_analysis.py --sizes 10000,100000   # a subset

Prints one JSON document and writes ``bench/results/analysis.json``.
"""

from __future__ import annotations

import argparse
import gc
import json
import os
import resource
import subprocess
import sys
import threading
import time
from pathlib import Path
from typing import Any

from bench.harness import progress, write_result

DEFAULT_SIZES = (10_000, 100_000, 1_000_000)
TARGETS_S = {100_000: 10.0, 1_000_000: 120.0}
TARGET_RSS_MB = 3 * 1024


def _rss_mb() -> float:
    with Path("/proc/self/statm").open() as handle:
        pages = int(handle.read().split()[1])
    return pages * os.sysconf("SC_PAGE_SIZE") / 2**20


class _RssSampler(threading.Thread):
    def __init__(self) -> None:
        super().__init__(daemon=True)
        self.peak = _rss_mb()
        self._stop_event = threading.Event()

    def run(self) -> None:
        while not self._stop_event.wait(0.02):
            self.peak = max(self.peak, _rss_mb())

    def stop(self) -> float:
        self._stop_event.set()
        self.join()
        return max(self.peak, _rss_mb())


def run_one(size: int, seed: int) -> dict[str, Any]:
    from coord_core.analysis.frame import FrameBuilder
    from coord_core.pipeline.analyze import analyze_frame, analyze_sessions
    from coord_core.scenarios.in_memory import generate_window, stream_window

    analyze_sessions(generate_window(500, seed + 1).sessions, {})  # imports, offline databases: once
    gc.collect()
    sampler = _RssSampler()
    sampler.start()
    builder = FrameBuilder()
    feeding = [0.0]  # wall seconds spent in FrameBuilder.add (single-threaded: CPU-bound)

    def feed(session: Any) -> None:
        wall = time.perf_counter()
        builder.add(session)
        feeding[0] += time.perf_counter() - wall

    started = time.perf_counter()
    stream_window(size, seed, feed)
    stream_s = time.perf_counter() - started
    wall0, cpu0 = time.perf_counter(), time.process_time()
    frame = builder.finish()
    result = analyze_frame(frame, {}, input_fingerprint=f"bench-{size}-{seed}")
    wall = time.perf_counter() - wall0 + feeding[0]
    cpu = time.process_time() - cpu0 + feeding[0]
    sources = frame.n_sources
    del frame
    json0 = time.perf_counter()
    text = result.to_canonical_json()
    json_s = time.perf_counter() - json0
    peak = max(sampler.stop(), resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024)
    verdicts: dict[str, int] = {}
    for c in result.campaigns:
        verdicts[c.verdict.value] = verdicts.get(c.verdict.value, 0) + 1
    return {
        "sessions": result.run.session_count,
        "sources": sources,
        "seed": seed,
        "generate_seconds": round(stream_s - feeding[0], 2),
        "analysis_wall_seconds": round(wall, 2),
        "analysis_cpu_seconds": round(cpu, 2),
        "sessions_per_second": round(size / wall),
        "sessions_per_cpu_second": round(size / cpu),
        "peak_rss_mb": round(peak, 1),
        "result_json_seconds": round(json_s, 2),
        "result_json_mb": round(len(text) / 2**20, 1),
        "groups": len(result.campaigns),
        "verdicts": dict(sorted(verdicts.items())),
        "load_average_1m": round(os.getloadavg()[0], 2),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--sizes", default=",".join(str(s) for s in DEFAULT_SIZES))
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--one", type=int, default=None, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.one is not None:
        print(json.dumps(run_one(args.one, args.seed)))
        return
    runs: list[dict[str, Any]] = []
    for size in (int(s) for s in args.sizes.split(",") if s.strip()):
        out = subprocess.run(
            [sys.executable, __file__, "--one", str(size), "--seed", str(args.seed)],
            check=True,
            capture_output=True,
            text=True,
        )
        run = json.loads(out.stdout.strip().splitlines()[-1])
        target = TARGETS_S.get(size)
        run["target_seconds"] = target
        run["meets_time_target"] = None if target is None else run["analysis_wall_seconds"] <= target
        run["meets_rss_target"] = run["peak_rss_mb"] <= TARGET_RSS_MB  # the whole process, input included
        runs.append(progress(run))
    doc = {
        "timed": "FrameBuilder.add per streamed AttackSession + analyze_frame -> AnalysisResult (no LLM)",
        "command": "make bench  (or: .venv/bin/python bench/bench_analysis.py)",
        "runs": runs,
    }
    write_result("analysis", doc)


if __name__ == "__main__":
    main()
