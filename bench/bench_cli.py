"""Benchmark: `coord analyze` on generated Cowrie logs of 10k and 100k sessions (1M with --million).

What is timed: the whole command as a user runs it, in its own process (imports, reading,
sessionizing, the analysis, writing the result JSON), and side by side in the same run a bare
pass over the same file that parses every line with orjson and collects the session ids. The
ratio ``orjson_wall / cli_wall`` is the CLI's speed relative to that parse limit, so it holds on
any machine; ``ingest_ratio_to_orjson`` is the same for the CLI's ingest alone (reading,
sessionizing, fingerprinting, timed after its imports in a third process). The development
machines are shared: every measurement is repeated (``--repeat``, default 3; the three
processes of a size side by side in each round), the medians are reported (each round's values
are kept too), and ``load_average_1m`` is recorded. The ingest is timed as the CLI runs it, with
the cycle collector paused. The sample row is the bundled real log (``include/sample_data``),
where start-up dominates.

Children run as on an installed machine, with Python's bytecode cache (an untimed first run
writes it, whatever ``PYTHONDONTWRITEBYTECODE`` says); ``sample_cold`` is the sample once more
with every module compiled from source (an empty ``PYTHONPYCACHEPREFIX``), the first run after
an install.

Peak RSS is each child's own ``ru_maxrss`` (``os.wait4``). Generating the logs is not timed.

    .venv/bin/python bench/bench_cli.py                    # 10k, 100k
    .venv/bin/python bench/bench_cli.py --million          # and 1M (about 2.6 GB of log)
    .venv/bin/python bench/bench_cli.py --sizes 10000      # a subset

Prints one JSON document and writes ``bench/results/cli.json``.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

from bench.harness import REPO, progress, write_result

SAMPLE = REPO / "include" / "sample_data"
DEFAULT_SIZES = (10_000, 100_000)
MILLION = 1_000_000
TARGET_1M_SECONDS = 120.0
TARGET_RSS_MB = 3 * 1024
TARGET_RATIO = 0.25
TARGET_SAMPLE_SECONDS = 2.0

COORD = [sys.executable, "-c", "import sys; from coord_core.cli import main; sys.exit(main())"]
BARE_PARSE_SCRIPT = """
import sys, orjson
sessions = set()
with open(sys.argv[1], "rb") as handle:
    for line in handle:
        if line.strip():
            record = orjson.loads(line)
            sessions.add((record.get("sensor", ""), record.get("session")))
print(len(sessions))
"""
# The CLI's ingest alone (read, sessionize, fingerprint), timed after its imports, with the cycle
# collector paused as `coord analyze` pauses it.
INGEST_SCRIPT = """
import json, sys, time
from coord_core import cycle_collection
from coord_core.cli.analyze import Tally, stream_input_sessions
from coord_core.pipeline.analyze import InputFingerprint
started, cpu = time.perf_counter(), time.process_time()
fingerprint, tally = InputFingerprint(), Tally()
with cycle_collection.paused():
    for session in stream_input_sessions([sys.argv[1]], tally):
        fingerprint.add(session)
print(json.dumps({"ingest_seconds": time.perf_counter() - started,
                  "ingest_cpu_seconds": time.process_time() - cpu, "records": tally.read}))
"""
# Children use the bytecode cache, as an installed package does.
CHILD_ENV = {
    k: v for k, v in os.environ.items() if k not in {"PYTHONDONTWRITEBYTECODE", "PYTHONPYCACHEPREFIX"}
}


def timed_child(
    argv: list[str], report: dict[str, Any] | None = None, env: dict[str, str] | None = None
) -> dict[str, Any]:
    """Run one child process; its wall seconds, CPU seconds and own peak RSS, or fail with its output.

    With ``report``, the child's last output line (a JSON object) is merged into it.
    """
    with tempfile.TemporaryFile() as output:
        started = time.perf_counter()
        child = subprocess.Popen(
            argv, stdout=output, stderr=subprocess.STDOUT, cwd=REPO, env=env or CHILD_ENV
        )
        _, status, usage = os.wait4(child.pid, 0)
        wall = time.perf_counter() - started
        child.returncode = os.waitstatus_to_exitcode(status)
        if child.returncode != 0:
            output.seek(0)
            tail = output.read()[-2000:].decode("utf-8", "replace")
            raise RuntimeError(f"{argv[:4]}... exited {child.returncode}:\n{tail}")
        if report is not None:
            output.seek(0)
            report.update(json.loads(output.read().decode().strip().splitlines()[-1]))
    return {
        "wall_seconds": round(wall, 2),
        "cpu_seconds": round(usage.ru_utime + usage.ru_stime, 2),
        "peak_rss_mb": round(usage.ru_maxrss / 1024, 1),
    }


def generate(size: int, seed: int, folder: Path) -> Path:
    """A generated mixed log of ``size`` sessions (reused when already there)."""
    log = folder / f"mixed-{seed}-{size}" / "cowrie.json"
    if not log.exists():
        options = [
            "--scenario",
            "mixed",
            "--seed",
            str(seed),
            "--sessions",
            str(size),
            "--out",
            str(log.parent),
        ]
        subprocess.run(
            [*COORD, "generate", *options],
            check=True,
            cwd=REPO,
            stdout=subprocess.DEVNULL,
        )
    return log


def _median(rounds: list[dict[str, Any]], key: str) -> float:
    return round(float(statistics.median(r[key] for r in rounds)), 3)


def _medians(rounds: list[dict[str, Any]]) -> dict[str, Any]:
    """Each measure's median over the rounds, and the rounds themselves."""
    return {key: _median(rounds, key) for key in rounds[0]} | {"rounds": rounds}


def run_size(log: Path, size: int, out: Path, repeat: int) -> dict[str, Any]:
    bare_rounds, ingest_rounds, cli_rounds, loads = [], [], [], []
    ratios, ingest_ratios, cpu_ratios = [], [], []
    for _ in range(repeat):
        bare = timed_child([sys.executable, "-c", BARE_PARSE_SCRIPT, str(log)])
        ingest: dict[str, Any] = {}
        timed_child([sys.executable, "-c", INGEST_SCRIPT, str(log)], ingest)
        cli = timed_child([*COORD, "analyze", str(log), "--out", str(out)])
        bare_rounds.append(bare)
        ingest_rounds.append(
            {
                "ingest_seconds": round(ingest["ingest_seconds"], 2),
                "ingest_cpu_seconds": round(ingest["ingest_cpu_seconds"], 2),
            }
        )
        cli_rounds.append(cli)
        ratios.append(bare["wall_seconds"] / cli["wall_seconds"])
        ingest_ratios.append(bare["wall_seconds"] / ingest["ingest_seconds"])
        cpu_ratios.append(bare["cpu_seconds"] / ingest["ingest_cpu_seconds"])
        loads.append(round(os.getloadavg()[0], 2))
    result = json.loads(out.read_text(encoding="utf-8"))
    cli_median = _medians(cli_rounds)
    run: dict[str, Any] = {
        "sessions": result["run"]["session_count"],
        "events": result["run"]["event_count"],
        "log_mb": round(log.stat().st_size / 2**20, 1),
        "repeat": repeat,
        "cli": cli_median,
        "orjson_pass": _medians(bare_rounds),
        "ratio_to_orjson": round(statistics.median(ratios), 3),
        "ingest_seconds": _median(ingest_rounds, "ingest_seconds"),
        "ingest_seconds_rounds": [r["ingest_seconds"] for r in ingest_rounds],
        "ingest_ratio_to_orjson": round(statistics.median(ingest_ratios), 3),
        "ingest_ratio_rounds": [round(r, 3) for r in ingest_ratios],
        # The same in CPU seconds (the bare pass's whole process): steadier on a shared machine.
        "ingest_cpu_seconds": _median(ingest_rounds, "ingest_cpu_seconds"),
        "ingest_cpu_ratio_to_orjson": round(statistics.median(cpu_ratios), 3),
        "load_average_1m": loads,
    }
    run["meets_rss_target"] = cli_median["peak_rss_mb"] <= TARGET_RSS_MB
    run["meets_ratio_target"] = run["ingest_ratio_to_orjson"] >= TARGET_RATIO
    if size >= MILLION:
        run["meets_time_target"] = cli_median["wall_seconds"] <= TARGET_1M_SECONDS
    return run


def run_sample(scratch: Path, repeat: int) -> tuple[dict[str, Any], dict[str, Any]]:
    """The bundled sample: warm (bytecode cached; median of ``repeat`` runs) and cold (compiled)."""
    argv = [*COORD, "analyze", str(SAMPLE), "--out", str(scratch / "sample.json")]
    timed_child(argv)  # untimed: writes the bytecode cache
    sample = _medians([timed_child(argv) for _ in range(repeat)])
    sample["meets_time_target"] = sample["wall_seconds"] <= TARGET_SAMPLE_SECONDS
    with tempfile.TemporaryDirectory(prefix="bench-pycache-") as empty:
        cold_env = CHILD_ENV | {"PYTHONDONTWRITEBYTECODE": "1", "PYTHONPYCACHEPREFIX": empty}
        cold = timed_child(argv, env=cold_env)
    return sample, cold


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--sizes", default=",".join(str(s) for s in DEFAULT_SIZES))
    parser.add_argument("--million", action="store_true", help="add the 1M-session log")
    parser.add_argument("--seed", type=int, default=5)
    parser.add_argument("--logs", type=Path, default=None, help="keep generated logs here (reused)")
    parser.add_argument("--repeat", type=int, default=3, help="rounds per measurement (medians reported)")
    args = parser.parse_args()
    sizes = [int(s) for s in args.sizes.split(",") if s.strip()] + ([MILLION] if args.million else [])
    with tempfile.TemporaryDirectory(prefix="bench-cli-") as scratch:
        logs = args.logs or Path(scratch)
        sample, sample_cold = run_sample(Path(scratch), args.repeat)
        progress({"sample": sample, "sample_cold": sample_cold})
        runs: list[dict[str, Any]] = []
        for size in sizes:
            log = generate(size, args.seed, logs)
            run = run_size(log, size, Path(scratch) / f"{size}.json", args.repeat)
            runs.append(progress(run))
    doc = {
        "timed": "coord analyze FILE --out X (whole process) vs a bare orjson pass over the same lines; "
        "medians of --repeat rounds",
        "command": "make bench  (or: .venv/bin/python bench/bench_cli.py [--million])",
        "targets": {
            "sample_seconds": TARGET_SAMPLE_SECONDS,
            "ratio_to_orjson": TARGET_RATIO,
            "million_seconds": TARGET_1M_SECONDS,
            "peak_rss_mb": TARGET_RSS_MB,
        },
        "sample": sample,
        "sample_cold": sample_cold,
        "runs": runs,
    }
    write_result("cli", doc)


if __name__ == "__main__":
    main()
