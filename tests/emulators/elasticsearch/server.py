"""The HTTP front end: routing, media types, URL parameters, fault injection, the emulator process."""

from __future__ import annotations

import argparse
import fnmatch
import gzip
import importlib
import json
import re
import sys
import time
from collections import deque
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any
from urllib.parse import parse_qsl, unquote, urlsplit

from tests.emulators.base import EmulatorHandler, EmulatorServer, HttpEmulator
from tests.emulators.elasticsearch.bulk import auto_id, check_doc_id, item_error, parse_bulk, written
from tests.emulators.elasticsearch.mappings import validate_mapping
from tests.emulators.elasticsearch.search import Cluster
from tests.emulators.elasticsearch.storage import DocumentWriteError, SyntheticIndex, Template
from tests.emulators.elasticsearch.wire import (
    JSON,
    EsError,
    RawJson,
    encode_json,
    illegal_argument,
    index_not_found,
    parsing_error,
    token_name,
    unsupported,
    validation_error,
)

ES_VERSION = "8.19.0"

# --------------------------------------------------------------------------------------------
# HTTP front end
# --------------------------------------------------------------------------------------------

_COMMON_PARAMS = {"pretty", "human", "error_trace", "format"}
_PARAMS_UNIMPLEMENTED = {
    "filter_path",
    "q",
    "routing",
    "preference",
    "scroll",
    "pipeline",
    "rest_total_hits_as_int",
}
_ROUTE_PARAMS: dict[str, set[str]] = {
    "search": {
        "allow_partial_search_results", "track_total_hits", "size", "from", "ignore_unavailable",
        "allow_no_indices", "expand_wildcards", "typed_keys", "search_type", "request_cache",
        "ccs_minimize_roundtrips", "batched_reduce_size", "max_concurrent_shard_requests",
    },
    "count": {"ignore_unavailable", "allow_no_indices", "expand_wildcards"},
    "pit_open": {
        "keep_alive", "ignore_unavailable", "expand_wildcards", "allow_partial_search_results",
        "max_concurrent_shard_requests",
    },
    "pit_close": set(),
    "bulk": {"refresh", "timeout", "wait_for_active_shards"},
    "doc_write": {"refresh", "op_type", "timeout", "wait_for_active_shards"},
    "doc_read": {"realtime", "_source"},
    "refresh": {"ignore_unavailable", "allow_no_indices", "expand_wildcards"},
    "mapping": {"ignore_unavailable", "allow_no_indices", "expand_wildcards", "local", "master_timeout"},
    "index": {
        "timeout", "master_timeout", "wait_for_active_shards", "ignore_unavailable", "allow_no_indices",
        "expand_wildcards",
    },
    "template": {"create", "master_timeout", "cause", "flat_settings", "local"},
    "root": set(),
}  # fmt: skip


@dataclass
class RequestRecord:
    """One request as the emulator saw it: JSON bodies decoded, bulk bodies as bytes."""

    method: str
    path: str
    params: dict[str, str]
    body: Any
    status: int = 0


@dataclass
class _Fault:
    status: int
    path_contains: str | None
    delay_s: float = 0.0


class _Server(EmulatorServer):
    emulator: ElasticsearchEmulator


class ElasticsearchEmulator(HttpEmulator[_Fault]):
    """The emulated cluster behind an HTTP server on 127.0.0.1; use as a context manager."""

    thread_name = "es-emulator"
    server_class = _Server

    def __init__(self, host: str = "127.0.0.1", port: int = 0, *, record_requests: bool = True) -> None:
        self.cluster = Cluster()
        self.requests: deque[RequestRecord] = deque(maxlen=10_000)
        self.record_requests = record_requests
        self._item_rejections = 0
        self._item_rejection_status = 429
        super().__init__(host, port, _Handler)

    # -- test controls ---------------------------------------------------------------------

    def inject_faults(self, count: int, status: int = 429, *, path_contains: str | None = None) -> None:
        """The next ``count`` requests (whose path contains ``path_contains``) answer ``status``."""
        self._queue_faults(_Fault(status, path_contains), count)

    def inject_delay(self, count: int, seconds: float, *, path_contains: str | None = None) -> None:
        """The next ``count`` matching requests are answered only after ``seconds``."""
        self._queue_faults(_Fault(0, path_contains, seconds), count)

    def reject_bulk_items(self, count: int, status: int = 429) -> None:
        """The next ``count`` bulk items are rejected (``es_rejected_execution_exception`` for 429)."""
        with self._fault_lock:
            self._item_rejections += count
            self._item_rejection_status = status

    def clear_faults(self) -> None:
        """Forget injected faults and bulk-item rejections that no request has consumed yet."""
        super().clear_faults()
        with self._fault_lock:
            self._item_rejections = 0

    @property
    def pending_faults(self) -> int:
        with self._fault_lock:
            return len(self._faults) + self._item_rejections

    @property
    def open_point_in_time_count(self) -> int:
        with self.cluster.lock:
            self.cluster._expire_pits()
            return len(self.cluster.pits)

    def add_synthetic_index(
        self,
        name: str,
        count: int,
        *,
        start: datetime,
        step_ms: int,
        factory: Callable[[int, str], JSON],
        mappings: JSON | None = None,
    ) -> None:
        with self.cluster.lock:
            Cluster.check_index_name(name)
            spec = mappings or {"properties": {"@timestamp": {"type": "date"}}}
            self.cluster.indices[name] = SyntheticIndex(name, count, start, step_ms, factory, spec)

    # -- dispatch --------------------------------------------------------------------------

    def _fault_matches(self, fault: _Fault, path: str) -> bool:
        return fault.path_contains is None or fault.path_contains in path

    def _take_item_rejection(self) -> int | None:
        with self._fault_lock:
            if self._item_rejections > 0:
                self._item_rejections -= 1
                return self._item_rejection_status
        return None

    def dispatch(
        self, method: str, target: str, headers: Mapping[str, str], body: bytes
    ) -> tuple[int, Any, str | None]:
        """Answer one request: status, JSON-able payload (``None`` for no body), content type."""
        parts = urlsplit(target)
        path = parts.path
        params = dict(parse_qsl(parts.query, keep_blank_values=True))
        lowered = {k.lower(): v for k, v in headers.items()}
        accept = lowered.get("accept", "") or ""
        content_type = lowered.get("content-type", "") or ""
        compat = "compatible-with" in accept
        response_type = (
            "application/vnd.elasticsearch+json;compatible-with=8" if compat else "application/json"
        )
        record = RequestRecord(method, path, params, body, status=0)
        if self.record_requests:
            self.requests.append(record)
        try:
            status, payload = self._answer(method, path, params, content_type, accept, body, record)
        except EsError as exc:
            status, payload = exc.status, exc.body()
        record.status = status
        return status, payload, response_type

    def _answer(
        self,
        method: str,
        path: str,
        params: dict[str, str],
        content_type: str,
        accept: str,
        body: bytes,
        record: RequestRecord,
    ) -> tuple[int, Any]:
        self._check_media_types(accept, content_type)
        fault = self._take_fault(path)
        if fault is not None:
            if not fault.delay_s:
                raise _fault_error(fault.status, path)
            time.sleep(fault.delay_s)
        segments = [unquote(s) for s in path.split("/") if s]
        route, handler = self._route(method, segments, path)
        allowed = _ROUTE_PARAMS.get(route, set()) | _COMMON_PARAMS
        for name in params:
            if name in _PARAMS_UNIMPLEMENTED and name not in allowed:
                raise unsupported(f"the [{name}] URL parameter")
            if name not in allowed:
                raise illegal_argument(f"request [{path}] contains unrecognized parameter: [{name}]")
        if route == "bulk":
            with self.cluster.lock:
                return handler(segments, params, body)
        parsed: Any = None
        if body.strip():
            if not content_type:
                return 406, {"error": "Content-Type header [] is not supported", "status": 406}
            try:
                parsed = json.loads(body)
            except ValueError as exc:
                raise EsError(
                    400, "x_content_parse_exception", f"[1:1] Unexpected character: {exc}"
                ) from None
            if not isinstance(parsed, dict):
                raise parsing_error(f"request body is required to be an object, found {token_name(parsed)}")
            record.body = parsed
        with self.cluster.lock:
            return handler(segments, params, parsed)

    @staticmethod
    def _check_media_types(accept: str, content_type: str) -> None:
        versions = {
            name: match.group(1)
            for name, value in (("Accept", accept), ("Content-Type", content_type))
            if (match := re.search(r"compatible-with=(\d+)", value))
        }
        if not versions:
            return
        bad = any(v not in ("7", "8") for v in versions.values())
        mismatch = len(versions) == 2 and len(set(versions.values())) > 1
        if bad or mismatch:
            raise EsError(
                400,
                "media_type_header_exception",
                "Invalid media-type value on headers [Content-Type, Accept]",
                caused_by={
                    "type": "status_exception",
                    "reason": "A compatible version is required on both Content-Type and Accept headers "
                    "if either one has requested a compatible version and the compatible versions must "
                    "match. "
                    f"Accept={accept or None}, Content-Type={content_type or None}",
                },
            )

    def _route(
        self, method: str, seg: list[str], path: str
    ) -> tuple[str, Callable[[list[str], dict[str, str], Any], tuple[int, Any]]]:
        table: list[tuple[Callable[[list[str]], bool], dict[str, tuple[str, Any]]]] = [
            (lambda s: not s, {"GET": ("root", self._root), "HEAD": ("root", self._root_head)}),
            (
                lambda s: s[-1:] == ["_search"] and len(s) <= 2,
                {"GET": ("search", self._search), "POST": ("search", self._search)},
            ),
            (
                lambda s: s[-1:] == ["_count"] and len(s) <= 2,
                {"GET": ("count", self._count), "POST": ("count", self._count)},
            ),
            (
                lambda s: s[-1:] == ["_bulk"] and len(s) <= 2,
                {"POST": ("bulk", self._bulk), "PUT": ("bulk", self._bulk)},
            ),
            (lambda s: s == ["_pit"], {"DELETE": ("pit_close", self._close_pit)}),
            (lambda s: len(s) == 2 and s[1] == "_pit", {"POST": ("pit_open", self._open_pit)}),
            (
                lambda s: s[-1:] == ["_refresh"] and len(s) <= 2,
                {"POST": ("refresh", self._refresh), "GET": ("refresh", self._refresh)},
            ),
            (lambda s: s[-1:] == ["_mapping"] and len(s) <= 2, {"GET": ("mapping", self._get_mapping)}),
            (
                lambda s: s[:1] == ["_index_template"] and len(s) == 2,
                {
                    "PUT": ("template", self._put_template),
                    "POST": ("template", self._put_template),
                    "GET": ("template", self._get_template),
                    "HEAD": ("template", self._head_template),
                    "DELETE": ("template", self._delete_template),
                },
            ),
            (lambda s: len(s) == 2 and s[1] == "_doc", {"POST": ("doc_write", self._index_doc)}),
            (
                lambda s: len(s) == 3 and s[1] == "_doc",
                {
                    "PUT": ("doc_write", self._index_doc),
                    "POST": ("doc_write", self._index_doc),
                    "GET": ("doc_read", self._get_doc),
                    "DELETE": ("doc_write", self._delete_doc),
                },
            ),
            (
                lambda s: len(s) == 3 and s[1] == "_create",
                {"PUT": ("doc_write", self._create_doc), "POST": ("doc_write", self._create_doc)},
            ),
            (
                lambda s: len(s) == 1 and not s[0].startswith("_"),
                {
                    "PUT": ("index", self._create_index),
                    "HEAD": ("index", self._head_index),
                    "DELETE": ("index", self._delete_index),
                },
            ),
        ]
        for matches, methods in table:
            if matches(seg):
                if method in methods:
                    route, handler = methods[method]
                    return route, handler
                allowed = ", ".join(sorted(methods))
                raise _MethodNotAllowed(path, method, allowed)
        raise _NoHandler(path, method)

    # -- handlers (called under the cluster lock) ------------------------------------------

    def _root(self, seg: list[str], params: dict[str, str], body: Any) -> tuple[int, Any]:
        return 200, {
            "name": "emulator-node",
            "cluster_name": "coord-emulator",
            "cluster_uuid": self.cluster.cluster_uuid,
            "version": {
                "number": ES_VERSION,
                "build_flavor": "default",
                "build_type": "docker",
                "build_hash": "emulator",
                "build_date": "2025-07-17T00:00:00.000Z",
                "build_snapshot": False,
                "lucene_version": "9.12.2",
                "minimum_wire_compatibility_version": "7.17.0",
                "minimum_index_compatibility_version": "7.0.0",
            },
            "tagline": "You Know, for Search",
        }

    def _root_head(self, seg: list[str], params: dict[str, str], body: Any) -> tuple[int, Any]:
        return 200, None

    def _search(self, seg: list[str], params: dict[str, str], body: Any) -> tuple[int, Any]:
        index_expr = seg[0] if len(seg) == 2 else None
        return 200, self.cluster.search(index_expr, body or {}, params)

    def _count(self, seg: list[str], params: dict[str, str], body: Any) -> tuple[int, Any]:
        return 200, self.cluster.count(seg[0] if len(seg) == 2 else None, body or {})

    def _open_pit(self, seg: list[str], params: dict[str, str], body: Any) -> tuple[int, Any]:
        if body and any(k != "index_filter" for k in body):
            raise parsing_error(
                f"[open_point_in_time] unknown field [{next(k for k in body if k != 'index_filter')}]"
            )
        if body and "index_filter" in body:
            raise unsupported("index_filter on open_point_in_time")
        return 200, self.cluster.open_pit(seg[0], params.get("keep_alive"), params)

    def _close_pit(self, seg: list[str], params: dict[str, str], body: Any) -> tuple[int, Any]:
        if not body or not isinstance(body.get("id"), str):
            raise validation_error("[id] is not specified")
        return self.cluster.close_pit(body["id"])

    def _refresh(self, seg: list[str], params: dict[str, str], body: Any) -> tuple[int, Any]:
        indices = self.cluster.resolve(seg[0] if len(seg) == 2 else None)
        for index in indices:
            index.refresh()
        shards = sum(i.number_of_shards for i in indices)
        return 200, {"_shards": {"total": shards * 2, "successful": shards, "failed": 0}}

    def _get_mapping(self, seg: list[str], params: dict[str, str], body: Any) -> tuple[int, Any]:
        indices = self.cluster.resolve(seg[0] if len(seg) == 2 else None)
        return 200, {i.name: {"mappings": json.loads(json.dumps(i.mappings))} for i in indices}

    def _create_index(self, seg: list[str], params: dict[str, str], body: Any) -> tuple[int, Any]:
        index = self.cluster.create_index(seg[0], body)
        return 200, {"acknowledged": True, "shards_acknowledged": True, "index": index.name}

    def _head_index(self, seg: list[str], params: dict[str, str], body: Any) -> tuple[int, Any]:
        try:
            found = self.cluster.resolve(seg[0], allow_no_indices=False)
        except EsError:
            return 404, None
        return (200 if found else 404), None

    def _delete_index(self, seg: list[str], params: dict[str, str], body: Any) -> tuple[int, Any]:
        if "*" in seg[0] or seg[0] == "_all":
            raise illegal_argument("Wildcard expressions or all indices are not allowed")
        for index in self.cluster.resolve(seg[0]):
            del self.cluster.indices[index.name]
        return 200, {"acknowledged": True}

    def _write_one(
        self,
        index_name: str,
        doc_id: str | None,
        body: Any,
        raw: bytes,
        *,
        create_only: bool,
        params: dict[str, str],
    ) -> tuple[int, Any]:
        problem = check_doc_id(doc_id)
        if problem:
            raise validation_error(problem)
        if body is None:
            raise validation_error("source is missing", "content type is missing")
        index = self.cluster.index_for_write(index_name)
        try:
            doc, created = index.write(doc_id or auto_id(), body, raw, create_only=create_only)
        except DocumentWriteError as exc:
            error = exc.error
            raise EsError(
                exc.status, error["type"], error["reason"], caused_by=error.get("caused_by")
            ) from None
        if params.get("refresh") in ("", "true", "wait_for"):
            index.refresh()
        payload = written("x", doc, created)["x"]
        status = payload.pop("status")
        return status, payload

    def _index_doc(self, seg: list[str], params: dict[str, str], body: Any) -> tuple[int, Any]:
        create_only = params.get("op_type") == "create"
        raw = json.dumps(body, separators=(",", ":")).encode("utf-8") if body is not None else b""
        return self._write_one(
            seg[0], seg[2] if len(seg) == 3 else None, body, raw, create_only=create_only, params=params
        )

    def _create_doc(self, seg: list[str], params: dict[str, str], body: Any) -> tuple[int, Any]:
        raw = json.dumps(body, separators=(",", ":")).encode("utf-8") if body is not None else b""
        return self._write_one(seg[0], seg[2], body, raw, create_only=True, params=params)

    def _get_doc(self, seg: list[str], params: dict[str, str], body: Any) -> tuple[int, Any]:
        if seg[0] not in self.cluster.indices:
            raise index_not_found(seg[0])
        doc = self.cluster.indices[seg[0]].docs.get(seg[2])
        if doc is None:
            return 404, {"_index": seg[0], "_id": seg[2], "found": False}
        return 200, {
            "_index": doc.index,
            "_id": doc.doc_id,
            "_version": doc.version,
            "_seq_no": doc.seq_no,
            "_primary_term": 1,
            "found": True,
            "_source": RawJson(doc.source_bytes),
        }

    def _delete_doc(self, seg: list[str], params: dict[str, str], body: Any) -> tuple[int, Any]:
        if seg[0] not in self.cluster.indices:
            raise index_not_found(seg[0])
        index = self.cluster.indices[seg[0]]
        doc = index.delete(seg[2])
        if params.get("refresh") in ("", "true", "wait_for"):
            index.refresh()
        payload = {
            "_index": seg[0],
            "_id": seg[2],
            "_version": (doc.version + 1) if doc else 1,
            "result": "deleted" if doc else "not_found",
            "_shards": {"total": 2, "successful": 1, "failed": 0},
            "_seq_no": index.seq_no,
            "_primary_term": 1,
        }
        return (200 if doc else 404), payload

    def _bulk(self, seg: list[str], params: dict[str, str], body: Any) -> tuple[int, Any]:
        started = time.monotonic()
        ops = parse_bulk(body, seg[0] if len(seg) == 2 else None)
        items: list[JSON] = []
        touched: set[str] = set()
        for op in ops:
            doc_id = op.doc_id
            rejected = self._take_item_rejection()
            if rejected is not None:
                items.append(item_error(op, doc_id, rejected, _fault_error(rejected, "/_bulk").cause()))
                continue
            try:
                Cluster.check_index_name(op.index)
            except EsError as exc:
                items.append(item_error(op, doc_id, exc.status, exc.cause()))
                continue
            if op.action == "delete":
                index = self.cluster.indices.get(op.index)
                if index is None:
                    items.append(item_error(op, doc_id, 404, index_not_found(op.index).cause()))
                    continue
                gone = index.delete(str(doc_id))
                touched.add(op.index)
                items.append(
                    {
                        "delete": {
                            "_index": op.index,
                            "_id": doc_id,
                            "_version": (gone.version + 1) if gone else 1,
                            "result": "deleted" if gone else "not_found",
                            "_shards": {"total": 2, "successful": 1, "failed": 0},
                            "_seq_no": index.seq_no,
                            "_primary_term": 1,
                            "status": 200 if gone else 404,
                        }
                    }
                )
                continue
            assert op.source_line is not None
            try:
                source = json.loads(op.source_line)
            except ValueError as exc:
                error = {
                    "type": "document_parsing_exception",
                    "reason": "[1:1] failed to parse",
                    "caused_by": {"type": "json_parse_exception", "reason": str(exc)},
                }
                items.append(item_error(op, doc_id, 400, error))
                continue
            index = self.cluster.index_for_write(op.index)
            final_id = doc_id or auto_id()
            try:
                doc, created = index.write(
                    final_id, source, op.source_line.strip(), create_only=op.action == "create"
                )
            except DocumentWriteError as exc:
                items.append(item_error(op, final_id, exc.status, exc.error))
                continue
            touched.add(op.index)
            items.append(written(op.action, doc, created))
        if params.get("refresh") in ("", "true", "wait_for"):
            for name in touched:
                if name in self.cluster.indices:
                    self.cluster.indices[name].refresh()
        errors = any("error" in next(iter(item.values())) for item in items)
        return 200, {"took": int((time.monotonic() - started) * 1000), "errors": errors, "items": items}

    def _put_template(self, seg: list[str], params: dict[str, str], body: Any) -> tuple[int, Any]:
        name = seg[1]
        body = body or {}
        allowed = {
            "index_patterns",
            "template",
            "priority",
            "version",
            "_meta",
            "composed_of",
            "data_stream",
            "allow_auto_create",
            "deprecated",
            "ignore_missing_component_templates",
        }
        for key in body:
            if key not in allowed:
                raise EsError(
                    400, "x_content_parse_exception", f"[1:2] [index_template] unknown field [{key}]"
                )
        if body.get("composed_of") or body.get("data_stream") is not None:
            raise unsupported("component templates and data streams in index templates")
        patterns = body.get("index_patterns")
        if isinstance(patterns, str):
            patterns = [patterns]
        if not patterns:
            raise validation_error("index patterns are missing")
        if params.get("create") == "true" and name in self.cluster.templates:
            raise illegal_argument(f"index template [{name}] already exists")
        template_part = body.get("template", {})
        unknown = [k for k in template_part if k not in ("settings", "mappings", "aliases", "lifecycle")]
        if unknown:
            raise EsError(400, "x_content_parse_exception", f"[1:2] [template] unknown field [{unknown[0]}]")
        if "mappings" in template_part:
            validate_mapping(template_part["mappings"])
        priority = int(body.get("priority", 0))
        for other in self.cluster.templates.values():
            if other.name == name or other.priority != priority:
                continue
            overlap = [
                p
                for p in patterns
                for q in other.patterns
                if fnmatch.fnmatchcase(p, q) or fnmatch.fnmatchcase(q, p)
            ]
            if overlap:
                raise illegal_argument(
                    f"index template [{name}] has index patterns {_brackets(patterns)} matching patterns "
                    f"from existing templates [{other.name}] with patterns "
                    f"({other.name} => {_brackets(other.patterns)}) that have the same priority "
                    f"[{priority}], "
                    "multiple index templates may not match during index creation, please use a different "
                    "priority"
                )
        stored = json.loads(json.dumps(body))
        stored["index_patterns"] = list(patterns)
        stored.setdefault("composed_of", [])
        self.cluster.templates[name] = Template(name, stored)
        return 200, {"acknowledged": True}

    def _get_template(self, seg: list[str], params: dict[str, str], body: Any) -> tuple[int, Any]:
        names = [n for n in sorted(self.cluster.templates) if fnmatch.fnmatchcase(n, seg[1])]
        if not names:
            raise EsError(
                404, "resource_not_found_exception", f"index template matching [{seg[1]}] not found"
            )
        return 200, {
            "index_templates": [{"name": n, "index_template": self.cluster.templates[n].body} for n in names]
        }

    def _head_template(self, seg: list[str], params: dict[str, str], body: Any) -> tuple[int, Any]:
        return (200 if seg[1] in self.cluster.templates else 404), None

    def _delete_template(self, seg: list[str], params: dict[str, str], body: Any) -> tuple[int, Any]:
        if seg[1] not in self.cluster.templates:
            raise EsError(404, "resource_not_found_exception", f"index_template [{seg[1]}] missing")
        del self.cluster.templates[seg[1]]
        return 200, {"acknowledged": True}


def _brackets(items: Iterable[str]) -> str:
    return "[" + ", ".join(items) + "]"


class _NoHandler(EsError):
    def __init__(self, path: str, method: str) -> None:
        super().__init__(400, "no_handler", f"no handler found for uri [{path}] and method [{method}]")

    def body(self) -> JSON:
        return {"error": self.reason, "status": 400}


class _MethodNotAllowed(EsError):
    def __init__(self, path: str, method: str, allowed: str) -> None:
        super().__init__(
            405,
            "method_not_allowed",
            f"Incorrect HTTP method for uri [{path}] and method [{method}], allowed: [{allowed}]",
        )

    def body(self) -> JSON:
        return {"error": self.reason, "status": 405}


def _fault_error(status: int, path: str) -> EsError:
    if status == 429:
        return EsError(
            429,
            "es_rejected_execution_exception",
            f"rejected execution of coordinating operation [{path}] on EsThreadPoolExecutor (emulated fault)",
        )
    if status == 503:
        return EsError(
            503,
            "unavailable_shards_exception",
            "[0] primary shard is not active Timeout: [1m] (emulated fault)",
        )
    return EsError(status, "emulated_server_error", f"emulated fault {status} for [{path}]")


class _Handler(EmulatorHandler):
    disable_nagle_algorithm = True  # headers and body are two writes; do not wait for the peer's ACK
    server: _Server

    def _read_body(self) -> bytes:
        if self.headers.get("Transfer-Encoding", "").lower() == "chunked":
            chunks = []
            while True:
                size = int(self.rfile.readline().strip() or b"0", 16)
                if size == 0:
                    self.rfile.readline()
                    break
                chunks.append(self.rfile.read(size))
                self.rfile.readline()
            data = b"".join(chunks)
        else:
            data = self.rfile.read(int(self.headers.get("Content-Length") or 0))
        if self.headers.get("Content-Encoding", "").lower() == "gzip":
            data = gzip.decompress(data)
        return data

    def serve(self, method: str) -> None:
        body = self._read_body()
        try:
            status, payload, content_type = self.server.emulator.dispatch(
                method, self.path, dict(self.headers.items()), body
            )
        except Exception as exc:  # an emulator bug: answer 500 loudly rather than hang the client
            import traceback

            traceback.print_exc()
            status, payload, content_type = (
                500,
                {"error": {"type": "emulator_internal_error", "reason": repr(exc)}, "status": 500},
                "application/json",
            )
        data = b"" if payload is None else encode_json(payload)
        self.send_response(status)
        self.send_header("X-Elastic-Product", "Elasticsearch")
        self.send_header("Content-Type", content_type or "application/json")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        if method != "HEAD":
            self.wfile.write(data)


# --------------------------------------------------------------------------------------------
# Running as its own process (benchmarks)
# --------------------------------------------------------------------------------------------


def _load_factory(spec: str) -> Callable[[int, str], JSON]:
    module_name, _, attr = spec.partition(":")
    factory = getattr(importlib.import_module(module_name), attr)
    if not callable(factory):
        raise SystemExit(f"{spec} is not callable")
    return factory  # type: ignore[no-any-return]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="Run the Elasticsearch emulator until stdin closes.")
    parser.add_argument("--port", type=int, default=0)
    parser.add_argument("--synthetic-index", help="name of a generated, read-only index")
    parser.add_argument("--synthetic-count", type=int, default=0)
    parser.add_argument("--synthetic-factory", help="module:function(ordinal, timestamp_iso) -> _source")
    parser.add_argument("--synthetic-start", default="2025-10-24T00:00:00Z")
    parser.add_argument("--synthetic-step-ms", type=int, default=10)
    parser.add_argument("--synthetic-mappings", help="JSON mappings of the synthetic index")
    args = parser.parse_args(argv)
    emulator = ElasticsearchEmulator(port=args.port, record_requests=False)
    if args.synthetic_index:
        if not args.synthetic_factory:
            parser.error("--synthetic-factory is required with --synthetic-index")
        emulator.add_synthetic_index(
            args.synthetic_index,
            args.synthetic_count,
            start=datetime.fromisoformat(args.synthetic_start.replace("Z", "+00:00")),
            step_ms=args.synthetic_step_ms,
            factory=_load_factory(args.synthetic_factory),
            mappings=json.loads(args.synthetic_mappings) if args.synthetic_mappings else None,
        )
    with emulator:
        print(f"ready {emulator.url}", flush=True)
        sys.stdin.read()  # the parent closes our stdin (or ends us) to stop the emulator
    return 0
