"""Write a generated scenario as Cowrie does: one JSON object per line, in time order.

Events of concurrent sessions interleave as in a live log. Plans are merged by start time
through a heap, so only the events of sessions still open are held at once. TTY logs with a
content hash seen earlier in the file are marked ``duplicate``, as Cowrie marks them.
"""

from __future__ import annotations

import heapq
import json
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from coord_core.scenarios.cowrie_events import cowrie_timestamp, session_events
from coord_core.scenarios.plan import SessionPlan
from coord_core.scenarios.truth import ScenarioTruth

LOG_NAME = "cowrie.json"
TRUTH_NAME = "truth.json"


def events_in_order(plans: Sequence[SessionPlan]) -> Any:
    """The plans' events as Cowrie logs them: in time order, concurrent sessions interleaved."""
    ordered = sorted(plans, key=lambda p: (p.connect_us, p.sensor.name, p.session_id))
    pending: list[tuple[int, int, int, dict[str, Any]]] = []
    seen_tty: set[str] = set()
    for seq, plan in enumerate(ordered):
        while pending and (pending[0][0], pending[0][1]) < (plan.connect_us, seq):
            yield _finish(heapq.heappop(pending), seen_tty)
        for index, (at_us, fields) in enumerate(session_events(plan)):
            heapq.heappush(pending, (at_us, seq, index, fields))
    while pending:
        yield _finish(heapq.heappop(pending), seen_tty)


def _finish(item: tuple[int, int, int, dict[str, Any]], seen_tty: set[str]) -> dict[str, Any]:
    at_us, _, _, fields = item
    fields["timestamp"] = cowrie_timestamp(at_us)
    if fields["eventid"] == "cowrie.log.closed" or "duplicate" in fields:
        # TTY logs and stored files: Cowrie keeps one copy per content hash and says so.
        folder = "tty" if fields["eventid"] == "cowrie.log.closed" else f"{fields['sensor']}/downloads"
        key = f"{folder}/{fields['shasum']}"
        fields["duplicate"] = key in seen_tty
        seen_tty.add(key)
    return fields


def write_cowrie_log(plans: Sequence[SessionPlan], path: Path) -> int:
    """Write the plans' events to ``path``; returns the number of lines written."""
    lines = 0
    with path.open("w", encoding="utf-8", newline="\n") as out:
        for fields in events_in_order(plans):
            out.write(json.dumps(fields, ensure_ascii=False, separators=(",", ":")))
            out.write("\n")
            lines += 1
    return lines


def write_scenario(plans: Sequence[SessionPlan], truth: ScenarioTruth, out_dir: Path) -> tuple[Path, Path]:
    """``out_dir/cowrie.json`` (the log) and ``out_dir/truth.json`` (the answers)."""
    out_dir.mkdir(parents=True, exist_ok=True)
    log_path = out_dir / LOG_NAME
    truth_path = out_dir / TRUTH_NAME
    write_cowrie_log(plans, log_path)
    truth_path.write_text(truth.to_json(), encoding="utf-8")
    return log_path, truth_path
