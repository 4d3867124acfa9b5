"""What every benchmark script shares: the repository's root, the machine its numbers were
measured on, and how its result is written (``bench/results/``)."""

from __future__ import annotations

import json
import os
import platform
import sys
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parents[1]
RESULTS = REPO / "bench" / "results"


def machine() -> dict[str, Any]:
    """Where and when the numbers were measured; the development machines are shared, so the
    load average at that moment too."""
    return {
        "python": platform.python_version(),
        "cpus": os.cpu_count(),
        "platform": platform.platform(),
        "load_average_1m": round(os.getloadavg()[0], 2),
        "measured_at": datetime.now(UTC).isoformat(timespec="seconds"),
    }


def progress(run: dict[str, Any]) -> dict[str, Any]:
    """One measured run, shown on stderr as it finishes (a long benchmark shows where it is)."""
    print(json.dumps(run, sort_keys=True), file=sys.stderr, flush=True)
    return run


def write_result(benchmark: str, document: dict[str, Any], path: Path | None = None) -> None:
    """The result of ``benchmark``: ``document`` with the benchmark's name and the machine, written
    as sorted, indented JSON to ``bench/results/<benchmark>.json`` (or ``path``) and printed."""
    text = json.dumps({"benchmark": benchmark, "machine": machine(), **document}, indent=2, sort_keys=True)
    path = path or RESULTS / f"{benchmark}.json"
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text + "\n", encoding="utf-8")
    print(text)
