"""Benchmark: generate scenario windows in memory (for the analytics benchmarks) and as files.

Each measurement runs in its own child process so that its peak RSS is its own:

* ``in_memory N``: ``generate_window(N)`` builds a mixed window of N ``AttackSession`` objects
  with truth alongside (what the analytics benchmark consumes for 10k/100k/1M sessions);
* ``files N``: ``coord generate``'s path, planning the mixed window and writing ``cowrie.json``
  plus ``truth.json``.

Target: a 1,000,000-session in-memory window in under 150 CPU seconds (CPU, not wall time: the
development machine is shared, and wall time there measures the neighbours' load as much as
this code; both are recorded).

    .venv/bin/python bench/bench_scenario_generation.py                      # 10k and 100k
    .venv/bin/python bench/bench_scenario_generation.py --sizes 10000,100000,1000000 --files 10000,100000

Prints one row per measurement, then the result document it writes to
``bench/results/scenario_generation.json``.
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

from bench.harness import REPO, write_result

TARGET_1M_CPU_S = 150.0
SEED = 20251024


def _peak_rss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def _child_in_memory(sessions: int) -> dict[str, Any]:
    from coord_core.scenarios import generate_window

    before = _peak_rss_mb()
    wall, cpu = time.perf_counter(), time.process_time()
    window = generate_window(sessions, seed=SEED)
    wall, cpu = time.perf_counter() - wall, time.process_time() - cpu
    multi = sum(1 for a in window.actors if a.multi_source)
    return {
        "mode": "in_memory",
        "sessions": len(window.sessions),
        "actors": len(window.actors),
        "multi_source_actors": multi,
        "wall_s": round(wall, 2),
        "cpu_s": round(cpu, 2),
        "sessions_per_s": round(len(window.sessions) / wall),
        "rss_before_mb": round(before, 1),
        "peak_rss_mb": round(_peak_rss_mb(), 1),
    }


def _child_files(sessions: int) -> dict[str, Any]:
    from coord_core.scenarios import generate, write_scenario

    started, cpu = time.perf_counter(), time.process_time()
    generated = generate("mixed", SEED, sessions=sessions)
    planned = time.perf_counter()
    with tempfile.TemporaryDirectory(prefix="bench-scenario-") as tmp:
        log, truth = write_scenario(generated.plans, generated.truth(), Path(tmp))
        size_mb = log.stat().st_size / 1e6
        truth_mb = truth.stat().st_size / 1e6
        with log.open("rb") as handle:
            lines = sum(1 for _ in handle)
    wall, cpu = time.perf_counter() - started, time.process_time() - cpu
    return {
        "mode": "files",
        "sessions": len(generated.plans),
        "events": lines,
        "plan_s": round(planned - started, 2),
        "wall_s": round(wall, 2),
        "cpu_s": round(cpu, 2),
        "cowrie_json_mb": round(size_mb, 1),
        "truth_json_mb": round(truth_mb, 1),
        "events_per_s": round(lines / wall),
        "peak_rss_mb": round(_peak_rss_mb(), 1),
    }


def _run_child(mode: str, sessions: int) -> dict[str, Any]:
    out = subprocess.run(
        [sys.executable, __file__, "--child", mode, str(sessions)],
        check=True,
        capture_output=True,
        text=True,
        cwd=REPO,
    )
    result: dict[str, Any] = json.loads(out.stdout.strip().splitlines()[-1])
    return result


def _sizes(text: str) -> list[int]:
    return [int(part) for part in text.split(",") if part.strip()]


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--sizes", default="10000,100000", help="in-memory window sizes")
    parser.add_argument("--files", default="10000", help="window sizes written as files")
    parser.add_argument("--child", nargs=2, metavar=("MODE", "SESSIONS"), help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        mode, sessions = args.child[0], int(args.child[1])
        print(json.dumps(_child_in_memory(sessions) if mode == "in_memory" else _child_files(sessions)))
        return 0
    rows = [_run_child("in_memory", n) for n in _sizes(args.sizes)]
    rows += [_run_child("files", n) for n in _sizes(args.files)]
    for row in rows:
        print(json.dumps(row, sort_keys=True))
    million = [r for r in rows if r["mode"] == "in_memory" and r["sessions"] >= 1_000_000]
    passed = all(r["cpu_s"] <= TARGET_1M_CPU_S for r in million) if million else None
    document = {
        "command": "bench/bench_scenario_generation.py " + " ".join(sys.argv[1:]),
        "note": "shared development machine, other test suites running: timings are under load",
        "seed": SEED,
        "target_1m_in_memory_cpu_s": TARGET_1M_CPU_S,
        "passed": passed,
        "load_average_at_end": [round(x, 2) for x in os.getloadavg()],
        "runs": rows,
    }
    write_result("scenario_generation", document)
    return 0 if passed is not False else 1


if __name__ == "__main__":
    raise SystemExit(main())
