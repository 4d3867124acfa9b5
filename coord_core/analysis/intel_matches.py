"""Threat-intel matches as the workflow carries them: bounded JSON records, merged without duplicates."""

from __future__ import annotations

import json
from typing import Any

from coord_core.contracts.threat_intel import IntelMatch

INTEL_TOOL_PREFIX = "intel:"  # tool name of an intel source in the result's ``tools``
MAX_MATCH_INFO_CHARS = 200
MAX_MATCH_TAGS = 20


def match_record(match: IntelMatch) -> dict[str, Any]:
    """An intel match as bounded JSON for the workflow state (events, tags and age survive)."""
    record = match.model_dump(mode="json")
    record["event_info"] = match.event_info[:MAX_MATCH_INFO_CHARS]
    record["tags"] = sorted(match.tags)[:MAX_MATCH_TAGS]
    return record


def _match_key(record: dict[str, Any]) -> str:
    return json.dumps(record, sort_keys=True)


def merge_matches(*groups: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Union of match records, deduplicated and in a stable order."""
    unique = {_match_key(r): r for group in groups for r in group}
    return [unique[k] for k in sorted(unique)]
