"""Elasticsearch's error JSON: ``{"error": {root_cause, type, reason, ...}, "status": N}``."""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any

JSON = dict[str, Any]

# --------------------------------------------------------------------------------------------
# Errors in Elasticsearch's JSON shape
# --------------------------------------------------------------------------------------------


class EsError(Exception):
    """An error answered as ``{"error": {...}, "status": N}``."""

    def __init__(
        self,
        status: int,
        type_: str,
        reason: str,
        *,
        extra: JSON | None = None,
        caused_by: JSON | None = None,
        root_cause: list[JSON] | None = None,
    ) -> None:
        super().__init__(reason)
        self.status = status
        self.type = type_
        self.reason = reason
        self.extra = extra or {}
        self.caused_by = caused_by
        self.root_cause = root_cause

    def cause(self) -> JSON:
        out: JSON = {"type": self.type, "reason": self.reason, **self.extra}
        if self.caused_by:
            out["caused_by"] = self.caused_by
        return out

    def body(self) -> JSON:
        error: JSON = {
            "root_cause": self.root_cause or [{"type": self.type, "reason": self.reason, **self.extra}],
            "type": self.type,
            "reason": self.reason,
            **self.extra,
        }
        if self.caused_by:
            error["caused_by"] = self.caused_by
        return {"error": error, "status": self.status}


def validation_error(*messages: str) -> EsError:
    text = "Validation Failed: " + "".join(f"{i}: {m};" for i, m in enumerate(messages, 1))
    return EsError(400, "action_request_validation_exception", text)


def illegal_argument(reason: str) -> EsError:
    return EsError(400, "illegal_argument_exception", reason)


def unsupported(what: str) -> EsError:
    return EsError(
        400, "emulator_unsupported_exception", f"the Elasticsearch emulator does not implement {what}"
    )


def index_not_found(name: str) -> EsError:
    extra = {"resource.type": "index_or_alias", "resource.id": name, "index_uuid": "_na_", "index": name}
    return EsError(404, "index_not_found_exception", f"no such index [{name}]", extra=extra)


def shard_failure(
    status: int, type_: str, reason: str, index: str | None, caused_by: JSON | None = None
) -> EsError:
    """A query-phase failure on every shard, as ``search_phase_execution_exception`` wraps it."""
    inner: JSON = {"type": type_, "reason": reason}
    if caused_by:
        inner["caused_by"] = caused_by
    failed = [{"shard": 0, "index": index, "node": "emulator-node-id", "reason": inner}]
    return EsError(
        status,
        "search_phase_execution_exception",
        "all shards failed",
        extra={"phase": "query", "grouped": True, "failed_shards": failed},
        caused_by=inner,
        root_cause=[{"type": type_, "reason": reason}],
    )


def parsing_error(reason: str, line: int = 1, col: int = 1, caused_by: JSON | None = None) -> EsError:
    return EsError(400, "parsing_exception", reason, extra={"line": line, "col": col}, caused_by=caused_by)


class RawJson:
    """Already-serialised JSON spliced into a response without re-encoding it."""

    def __init__(self, data: bytes) -> None:
        self.data = data


def encode_json(value: Any) -> bytes:
    """JSON-encode a response, splicing :class:`RawJson` parts in verbatim (fast for large pages)."""
    parts: list[bytes] = []
    _encode_into(value, parts)
    return b"".join(parts)


def _encode_into(value: Any, parts: list[bytes]) -> None:
    if isinstance(value, RawJson):
        parts.append(value.data)
    elif isinstance(value, dict):
        parts.append(b"{")
        for i, (key, item) in enumerate(value.items()):
            if i:
                parts.append(b",")
            parts.append(json.dumps(str(key)).encode())
            parts.append(b":")
            _encode_into(item, parts)
        parts.append(b"}")
    elif isinstance(value, list):
        parts.append(b"[")
        for i, item in enumerate(value):
            if i:
                parts.append(b",")
            _encode_into(item, parts)
        parts.append(b"]")
    else:
        parts.append(json.dumps(value).encode())


def token_name(value: Any) -> str:
    if isinstance(value, Mapping):
        return "START_OBJECT"
    if isinstance(value, list):
        return "START_ARRAY"
    if isinstance(value, bool):
        return "VALUE_BOOLEAN"
    if isinstance(value, (int, float)):
        return "VALUE_NUMBER"
    if value is None:
        return "VALUE_NULL"
    return "VALUE_STRING"
