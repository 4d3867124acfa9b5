"""Benchmark: the coordination analysis on generated windows of 10k, 100k and 1M sessions.

What is timed: ``coord_core.pipeline.analyze.analyze_sessions(sessions, {})`` — from a list of
``AttackSession`` objects to the ``AnalysisResult`` (frame, every detector, grouping, tools with
the offline ASN/geo and scanner lists, permutation tests, verdicts, calibration, assembly), run
through the LangGraph workflow in memory. Not timed: generating the window (the scenario
generator's in-memory path) and serialising the result to JSON (reported separately). No LLM.

Each size runs in a fresh process, so its peak RSS is its own. RSS is sampled every 20 ms
while the analysis runs; ``peak_rss_mb`` is the process peak (input included), ``input_rss_mb``
the RSS once the window is in memory. CPU seconds are reported next to wall seconds because the
development machines are shared: wall time there includes waiting for other work.

    .venv/bin/python bench/bench_analysis.py                        # 10k, 100k, 1M
    .venv/bin/python bench/bench_analysis.py --sizes 10000,100000   # a subset

Prints one JSON document and writes ``bench/results/analysis.json``.
"""

from __future__ import annotations

import argparse
import gc
import json
import os
import platform
import resource
import subprocess
import sys
import threading
import time
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parents[1]
if str(REPO) not in sys.path:
    sys.path.insert(0, str(REPO))

RESULT = REPO / "bench" / "results" / "analysis.json"
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
    from coord_core.pipeline.analyze import analyze_sessions
    from coord_core.scenarios.in_memory import generate_window

    started = time.perf_counter()
    window = generate_window(size, seed)
    sessions = window.sessions
    generate_s = time.perf_counter() - started
    analyze_sessions(sessions[:500], {})  # imports, offline databases: loaded once per process
    gc.collect()
    input_rss = _rss_mb()
    sampler = _RssSampler()
    sampler.start()
    wall0, cpu0 = time.perf_counter(), time.process_time()
    result = analyze_sessions(sessions, {}, input_fingerprint=f"bench-{size}-{seed}")
    wall = time.perf_counter() - wall0
    cpu = time.process_time() - cpu0
    analysis_peak = sampler.stop()
    json0 = time.perf_counter()
    text = result.to_canonical_json()
    json_s = time.perf_counter() - json0
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    verdicts: dict[str, int] = {}
    for c in result.campaigns:
        verdicts[c.verdict.value] = verdicts.get(c.verdict.value, 0) + 1
    return {
        "sessions": len(sessions),
        "sources": len({s.src_ip for s in sessions}),
        "seed": seed,
        "generate_seconds": round(generate_s, 2),
        "analysis_wall_seconds": round(wall, 2),
        "analysis_cpu_seconds": round(cpu, 2),
        "sessions_per_second": round(len(sessions) / wall),
        "sessions_per_cpu_second": round(len(sessions) / cpu),
        "input_rss_mb": round(input_rss, 1),
        "analysis_peak_rss_mb": round(analysis_peak, 1),
        "analysis_added_rss_mb": round(analysis_peak - input_rss, 1),
        "peak_rss_mb": round(max(peak, analysis_peak), 1),
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
        runs.append(run)
        print(json.dumps(run), file=sys.stderr)
    doc = {
        "benchmark": "analysis",
        "timed": "analyze_sessions(list[AttackSession], {}) -> AnalysisResult (workflow in memory, no LLM)",
        "command": "make bench  (or: .venv/bin/python bench/bench_analysis.py)",
        "machine": {
            "python": platform.python_version(),
            "cpus": os.cpu_count(),
            "platform": platform.platform(),
        },
        "runs": runs,
    }
    RESULT.parent.mkdir(parents=True, exist_ok=True)
    RESULT.write_text(json.dumps(doc, indent=2, sort_keys=True) + "\n", encoding="utf-8")
    print(json.dumps(doc, indent=2, sort_keys=True))


if __name__ == "__main__":
    main()
