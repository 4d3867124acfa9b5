"""The emulated cluster: index resolution and creation, search, sort, paging, point in time, count."""

from __future__ import annotations

import base64
import fnmatch
import functools
import ipaddress
import os
import threading
import time
import uuid
import zlib
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass
from heapq import merge
from typing import Any

from tests.emulators.elasticsearch.aggregations import compile_aggregations
from tests.emulators.elasticsearch.mappings import (
    LONG_MAX,
    LONG_MIN,
    NUMERIC_FLOAT,
    NUMERIC_INT,
    field_type,
    merge_mappings,
    parse_time_value,
    validate_mapping,
)
from tests.emulators.elasticsearch.queries import CompiledQuery, QueryCompiler
from tests.emulators.elasticsearch.storage import MAX_RESULT_WINDOW, Doc, Index, PointInTime, Shard, Template
from tests.emulators.elasticsearch.wire import (
    JSON,
    EsError,
    RawJson,
    illegal_argument,
    index_not_found,
    parsing_error,
    shard_failure,
    token_name,
    unsupported,
    validation_error,
)

DEFAULT_TRACK_TOTAL_HITS = 10_000
MAX_SLICES = 1024

# --------------------------------------------------------------------------------------------
# Search
# --------------------------------------------------------------------------------------------


@dataclass
class SortKey:
    field: str
    descending: bool
    kind: str  # "date", "number", "string", "shard_doc", "doc", "score", "missing"
    missing_last: bool = True


_SEARCH_BODY_KEYS = {
    "aggs",
    "aggregations",
    "query",
    "size",
    "from",
    "sort",
    "search_after",
    "pit",
    "slice",
    "track_total_hits",
    "_source",
}
_SEARCH_BODY_KNOWN = {
    "fields", "docvalue_fields", "stored_fields", "highlight", "collapse",
    "rescore", "post_filter", "runtime_mappings", "script_fields", "suggest", "knn", "rank",
    "retriever", "explain", "version", "seq_no_primary_term", "timeout", "terminate_after",
    "min_score", "indices_boost", "track_scores", "profile", "stats", "ext", "sub_searches",
}  # fmt: skip


def _hit_sort_value(key: SortKey, doc: Doc, shard_index: int, score: float) -> Any:
    if key.kind == "shard_doc":
        return (shard_index << 32) | doc.doc_number
    if key.kind == "doc":
        return doc.doc_number
    if key.kind == "score":
        return score
    values = doc.values.get(key.field, [])
    if not values:
        if key.kind in ("date", "number"):
            return LONG_MIN if key.descending else LONG_MAX
        return None
    chosen = max(values) if key.descending else min(values)
    if isinstance(chosen, ipaddress.IPv4Address | ipaddress.IPv6Address):
        return str(chosen)
    return chosen


def _compare(a: list[Any], b: list[Any], keys: list[SortKey]) -> int:
    for key, x, y in zip(keys, a, b, strict=True):
        if x == y:
            continue
        if x is None:
            return 1
        if y is None:
            return -1
        try:
            less = x < y
        except TypeError:
            less = str(x) < str(y)
        result = -1 if less else 1
        return -result if key.descending else result
    return 0


class Cluster:
    """All state of the emulated cluster; every method runs under one lock."""

    def __init__(self) -> None:
        self.lock = threading.RLock()
        self.indices: dict[str, Index] = {}
        self.templates: dict[str, Template] = {}
        self.pits: dict[str, PointInTime] = {}
        self.cluster_uuid = base64.urlsafe_b64encode(uuid.uuid4().bytes).decode().rstrip("=")

    # -- index resolution -----------------------------------------------------------------

    def resolve(
        self, expression: str | None, *, allow_no_indices: bool = True, ignore_unavailable: bool = False
    ) -> list[Index]:
        if expression in (None, "", "_all", "*"):
            return [self.indices[n] for n in sorted(self.indices) if not n.startswith(".")]
        chosen: dict[str, Index] = {}
        for raw_part in str(expression).split(","):
            part = raw_part.strip()
            if part.startswith("-") and chosen:
                for name in [n for n in chosen if fnmatch.fnmatchcase(n, part[1:])]:
                    del chosen[name]
                continue
            if "*" in part or "?" in part:
                matched = [n for n in self.indices if fnmatch.fnmatchcase(n, part) and not n.startswith(".")]
                if not matched and not allow_no_indices:
                    raise index_not_found(part)
                for name in matched:
                    chosen[name] = self.indices[name]
            elif part in self.indices:
                chosen[part] = self.indices[part]
            elif not ignore_unavailable:
                raise index_not_found(part)
        return [chosen[n] for n in sorted(chosen)]

    # -- index management ------------------------------------------------------------------

    @staticmethod
    def check_index_name(name: str) -> None:
        def invalid(why: str) -> EsError:
            return EsError(
                400,
                "invalid_index_name_exception",
                f"Invalid index name [{name}], {why}",
                extra={"index_uuid": "_na_", "index": name},
            )

        if name != name.lower():
            raise invalid("must be lowercase")
        if name[:1] in ("_", "-", "+"):
            raise invalid("must not start with '_', '-', or '+'")
        bad = [c for c in ("\\", "/", "*", "?", '"', "<", ">", "|", " ", ",", "#", ":") if c in name]
        if bad:
            raise invalid('must not contain the following characters [ , ", *, \\, <, |, ,, >, /, ?]')
        if name in (".", ".."):
            raise invalid("must not be '.' or '..'")

    def template_for(self, name: str) -> Template | None:
        matching = [
            t for t in self.templates.values() if any(fnmatch.fnmatchcase(name, p) for p in t.patterns)
        ]
        if not matching:
            return None
        return max(matching, key=lambda t: t.priority)

    def create_index(self, name: str, body: Mapping[str, Any] | None) -> Index:
        self.check_index_name(name)
        if name in self.indices:
            existing = self.indices[name]
            raise EsError(
                400,
                "resource_already_exists_exception",
                f"index [{name}/{existing.uuid}] already exists",
                extra={"index_uuid": existing.uuid, "index": name},
            )
        body = body or {}
        unknown = [k for k in body if k not in ("settings", "mappings", "aliases")]
        if unknown:
            raise parsing_error(f"unknown key [{unknown[0]}] for create index")
        settings: JSON = {}
        mappings: JSON = {}
        template = self.template_for(name)
        if template is not None:
            inner = template.body.get("template", {})
            settings.update(_flat_settings(inner.get("settings", {})))
            mappings = merge_mappings(mappings, inner.get("mappings", {}))
        settings.update(_flat_settings(body.get("settings", {})))
        if "mappings" in body:
            validate_mapping(body["mappings"])
            mappings = merge_mappings(mappings, body["mappings"])
        if settings.get("index.mode") not in (None, "standard", "logsdb"):
            raise unsupported(f"index.mode [{settings['index.mode']}]")
        index = Index(name, settings, mappings)
        self.indices[name] = index
        return index

    def index_for_write(self, name: str) -> Index:
        if name not in self.indices:
            return self.create_index(name, None)
        return self.indices[name]

    # -- search ----------------------------------------------------------------------------

    def search(self, index_expr: str | None, body: JSON, params: Mapping[str, str]) -> JSON:
        started = time.monotonic()
        unknown = [k for k in body if k not in _SEARCH_BODY_KEYS]
        for key in unknown:
            if key in _SEARCH_BODY_KNOWN:
                raise unsupported(f"the search body key [{key}]")
            raise parsing_error(f"Unknown key for a {token_name(body[key])} in [{key}].")
        size = int(params.get("size", body.get("size", 10)))
        from_ = int(params.get("from", body.get("from", 0)))
        if size < 0:
            raise illegal_argument(f"[size] parameter cannot be negative, found [{size}]")
        if from_ < 0:
            raise illegal_argument(f"[from] parameter cannot be negative, found [{from_}]")
        pit_spec = body.get("pit")
        search_after = body.get("search_after")
        slice_spec = body.get("slice")
        raw_sort = body.get("sort")
        problems = []
        if pit_spec is not None and index_expr:
            problems.append(
                "[indices] cannot be used with point in time. Do not specify any index with point in time."
            )
        if slice_spec is not None and pit_spec is None:
            problems.append("[slice] can only be used with [scroll] or [point-in-time] requests")
        if from_ > 0 and search_after:
            problems.append("[from] parameter must be set to 0 when [search_after] is used")
        sort_specs = _sort_list(raw_sort)
        if pit_spec is None and any(_sort_field_name(s) == "_shard_doc" for s in sort_specs):
            problems.append("[_shard_doc] sort field cannot be used without [point in time]")
        if problems:
            raise validation_error(*problems)

        pit: PointInTime | None = None
        if pit_spec is not None:
            if not isinstance(pit_spec, Mapping) or not isinstance(pit_spec.get("id"), str):
                raise parsing_error("[pit] failed to parse object: required [id]")
            pit = self._pit(pit_spec["id"])
            if pit_spec.get("keep_alive"):
                pit.keep_alive_s = parse_time_value(str(pit_spec["keep_alive"]), "keep_alive")
            pit.expires = time.monotonic() + pit.keep_alive_s
            shards = pit.shards
        else:
            indices = self.resolve(index_expr, ignore_unavailable=params.get("ignore_unavailable") == "true")
            for index in indices:
                index.maybe_auto_refresh()
            shards = [shard for index in indices for shard in index.shards()]
        mappings_by_index = {s.index.name: s.index.mappings for s in shards}
        first_index = shards[0].index.name if shards else None
        max_window = min((s.index.max_result_window for s in shards), default=MAX_RESULT_WINDOW)
        if from_ + size > max_window:
            raise shard_failure(
                400,
                "illegal_argument_exception",
                f"Result window is too large, from + size must be less than or equal to: [{max_window}] "
                f"but was [{from_ + size}]. See the scroll api for a more efficient way to request large "
                "data sets. This limit can be set by changing the [index.max_result_window] index level "
                "setting.",
                first_index,
            )

        compiler = QueryCompiler(lambda name: mappings_by_index.get(name, {}), first_index)
        query = (
            compiler.compile(body["query"]) if "query" in body else CompiledQuery(lambda d: True, True, {})
        )
        keys = self._sort_keys(sort_specs, mappings_by_index, first_index, pit is not None)
        if search_after is not None:
            if not isinstance(search_after, list):
                raise parsing_error(
                    "[search_after] doesn't support values of type: " + token_name(search_after)
                )
            if not keys or (len(keys) == 1 and keys[0].kind == "score" and keys[0].descending):
                raise shard_failure(
                    400, "illegal_argument_exception", "Sort must contain at least one field.", first_index
                )
            if len(search_after) != len(keys):
                raise shard_failure(
                    400,
                    "illegal_argument_exception",
                    f"search_after has {len(search_after)} value(s) but sort has {len(keys)}.",
                    first_index,
                )
            after = [_coerce_after(k, v, first_index) for k, v in zip(keys, search_after, strict=True)]
        else:
            after = None
        slicer = _slice_filter(slice_spec)
        if "aggs" in body and "aggregations" in body:
            raise parsing_error("Found two aggregation definitions: [aggs] and [aggregations]")
        agg_spec = body.get("aggs", body.get("aggregations"))
        aggregate = (
            compile_aggregations(agg_spec, lambda name: mappings_by_index.get(name, {}), first_index)
            if agg_spec is not None
            else None
        )
        matched: list[Doc] = []  # every match, whatever the page: aggregations see them all

        total = 0
        track = body.get("track_total_hits", params.get("track_total_hits", DEFAULT_TRACK_TOTAL_HITS))
        track_limit = _track_limit(track)
        rows: list[tuple[list[Any], Doc, int, float]] = []
        fast = (
            None
            if aggregate is not None
            else self._fast_scan(keys, query, shards, after, slicer, size + from_, track_limit)
        )
        if fast is not None:
            rows, total = fast
        else:
            for shard_index, shard in enumerate(shards):
                for doc in shard.scan():
                    if not query.predicate(doc) or not slicer(doc):
                        continue
                    score = 1.0 if query.scoring else 0.0
                    sort_values = [_hit_sort_value(k, doc, shard_index, score) for k in keys]
                    total += 1  # hits.total counts every match, search_after or not
                    if aggregate is not None:
                        matched.append(doc)
                    if after is not None and _compare(sort_values, after, keys) <= 0:
                        continue
                    rows.append((sort_values, doc, shard_index, score))
            if keys:

                def by_sort(
                    a: tuple[list[Any], Doc, int, float], b: tuple[list[Any], Doc, int, float]
                ) -> int:
                    return _compare(a[0], b[0], keys)

                rows.sort(key=functools.cmp_to_key(by_sort))
            else:
                rows.sort(key=lambda r: (-r[3], r[2], r[1].doc_number))
        page = rows[from_ : from_ + size]
        source_mode = body.get("_source", True)
        hits = [self._hit(doc, score, sort_values if raw_sort is not None or pit else None, keys, source_mode)
                for sort_values, doc, _, score in page]  # fmt: skip
        response: JSON = {}
        if pit is not None:
            response["pit_id"] = pit.pit_id
        hits_section: JSON = {}
        if track_limit is not None:
            relation = "eq" if total <= track_limit else "gte"
            hits_section["total"] = {"value": min(total, track_limit), "relation": relation}
        hits_section["max_score"] = (
            None
            if keys and keys[0].kind != "score"
            else (1.0 if page and query.scoring else 0.0 if page else None)
        )
        hits_section["hits"] = hits
        response.update(
            {
                "took": int((time.monotonic() - started) * 1000),
                "timed_out": False,
                "_shards": {"total": len(shards), "successful": len(shards), "skipped": 0, "failed": 0},
                "hits": hits_section,
            }
        )
        if aggregate is not None:
            response["aggregations"] = aggregate(matched)
        return response

    def _fast_scan(
        self,
        keys: list[SortKey],
        query: CompiledQuery,
        shards: list[Shard],
        after: list[Any] | None,
        slicer: Callable[[Doc], bool],
        wanted: int,
        track_limit: int | None,
    ) -> tuple[list[tuple[list[Any], Doc, int, float]], int] | None:
        """Page through ``[date asc, _shard_doc asc]`` sorts without sorting everything."""
        if track_limit is not None or len(keys) != 2:
            return None
        primary, tie = keys
        if primary.kind != "date" or primary.descending or tie.kind != "shard_doc" or tie.descending:
            return None
        low, high = query.ranges.get(primary.field, (None, None))
        after_key = None if after is None else (after[0], after[1])

        def stream(shard_index: int, shard: Shard) -> Iterator[tuple[int, int, Doc]]:
            for doc in shard.ordered_scan(primary.field, low, high, after_key):
                yield min(doc.values[primary.field]), (shard_index << 32) | doc.doc_number, doc

        rows: list[tuple[list[Any], Doc, int, float]] = []
        score = 1.0 if query.scoring else 0.0
        for value, shard_doc, doc in merge(*(stream(i, s) for i, s in enumerate(shards))):
            if after_key is not None and (value, shard_doc) <= after_key:
                continue
            if not query.predicate(doc) or not slicer(doc):
                continue
            rows.append(([value, shard_doc], doc, shard_doc >> 32, score))
            if len(rows) >= wanted:
                break
        return rows, len(rows)

    def _hit(
        self, doc: Doc, score: float, sort_values: list[Any] | None, keys: list[SortKey], source_mode: Any
    ) -> JSON:
        sorted_by_field = bool(keys) and keys[0].kind != "score"
        hit: JSON = {"_index": doc.index, "_id": doc.doc_id, "_score": None if sorted_by_field else score}
        if source_mode is True:
            hit["_source"] = RawJson(doc.source_bytes)
        elif isinstance(source_mode, (list, str)):
            fields_wanted = [source_mode] if isinstance(source_mode, str) else source_mode
            hit["_source"] = _filter_source(doc.source, fields_wanted)
        elif source_mode is not False:
            raise unsupported("_source includes/excludes objects")
        if sort_values is not None:
            hit["sort"] = sort_values
        return hit

    def _sort_keys(
        self, specs: list[Any], mappings: Mapping[str, Mapping[str, Any]], first_index: str | None, pit: bool
    ) -> list[SortKey]:
        keys: list[SortKey] = []
        for spec in specs:
            name = _sort_field_name(spec)
            options = spec[name] if isinstance(spec, Mapping) else None
            order = (
                options
                if isinstance(options, str)
                else (options or {}).get("order")
                if isinstance(options, Mapping)
                else None
            )
            if order not in (None, "asc", "desc"):
                raise illegal_argument(f"Unknown SortOrder [{order}]")
            if isinstance(options, Mapping):
                unknown = [
                    k
                    for k in options
                    if k not in ("order", "missing", "unmapped_type", "mode", "numeric_type", "format")
                ]
                if unknown:
                    raise parsing_error(f"[field_sort] unknown field [{unknown[0]}]")
                if (
                    options.get("missing") not in (None, "_last")
                    or options.get("numeric_type")
                    or options.get("format")
                ):
                    raise unsupported("sort options missing/numeric_type/format")
            if name == "_score":
                keys.append(SortKey(name, order != "asc", "score"))
            elif name == "_doc":
                keys.append(SortKey(name, order == "desc", "doc"))
            elif name == "_shard_doc":
                keys.append(SortKey(name, order == "desc", "shard_doc"))
            else:
                kinds = {field_type(m, name) for m in mappings.values()} - {None}
                if not kinds:
                    unmapped = options.get("unmapped_type") if isinstance(options, Mapping) else None
                    if mappings and unmapped is None:
                        raise shard_failure(
                            400,
                            "query_shard_exception",
                            f"No mapping found for [{name}] in order to sort on",
                            first_index,
                        )
                    kinds = {unmapped or "keyword"}
                if kinds & {"text", "match_only_text"}:
                    raise shard_failure(
                        400,
                        "illegal_argument_exception",
                        "Text fields are not optimised for operations that require per-document field data "
                        "like aggregations and sorting, so these operations are disabled by default. Please "
                        "use a keyword field instead. Alternatively, set fielddata=true on "
                        f"[{name}] in order to load field data by uninverting the inverted index. Note that "
                        "this can use significant memory.",
                        first_index,
                    )
                kind = (
                    "date"
                    if kinds <= {"date", "date_nanos"}
                    else "number"
                    if kinds <= set(NUMERIC_INT) | NUMERIC_FLOAT
                    else "string"
                )
                keys.append(SortKey(name, order == "desc", kind))
        if pit and not any(k.kind == "shard_doc" for k in keys):
            if not keys:
                keys.append(SortKey("_score", True, "score"))
            keys.append(SortKey("_shard_doc", False, "shard_doc"))
        return keys

    # -- point in time ---------------------------------------------------------------------

    def open_pit(self, index_expr: str, keep_alive: str | None, params: Mapping[str, str]) -> JSON:
        if not keep_alive:
            raise validation_error("[keep_alive] is not specified")
        seconds = parse_time_value(keep_alive, "keep_alive")
        indices = self.resolve(index_expr, ignore_unavailable=params.get("ignore_unavailable") == "true")
        shards: list[Shard] = []
        for index in indices:
            index.maybe_auto_refresh()
            shards.extend(index.shards())
        pit_id = base64.b64encode(os.urandom(30)).decode("ascii")
        self.pits[pit_id] = PointInTime(pit_id, shards, seconds, time.monotonic() + seconds)
        return {
            "id": pit_id,
            "_shards": {"total": len(shards), "successful": len(shards), "skipped": 0, "failed": 0},
        }

    def _pit(self, pit_id: str) -> PointInTime:
        self._expire_pits()
        pit = self.pits.get(pit_id)
        if pit is None:
            context = zlib.crc32(pit_id.encode()) % 1000
            reason = f"No search context found for id [{context}]"
            raise shard_failure(404, "search_context_missing_exception", reason, None)
        return pit

    def _expire_pits(self) -> None:
        now = time.monotonic()
        for pit_id in [p for p, pit in self.pits.items() if pit.expires < now]:
            del self.pits[pit_id]

    def close_pit(self, pit_id: str) -> tuple[int, JSON]:
        self._expire_pits()
        freed = self.pits.pop(pit_id, None)
        if freed is None:
            return 404, {"succeeded": True, "num_freed": 0}
        return 200, {"succeeded": True, "num_freed": len(freed.shards)}

    def count(self, index_expr: str | None, body: JSON) -> JSON:
        unknown = [k for k in body if k != "query"]
        if unknown:
            raise parsing_error(f"request does not support [{unknown[0]}]")
        indices = self.resolve(index_expr)
        for index in indices:
            index.maybe_auto_refresh()
        shards = [s for index in indices for s in index.shards()]
        mappings_by_index = {s.index.name: s.index.mappings for s in shards}
        compiler = QueryCompiler(
            lambda name: mappings_by_index.get(name, {}), shards[0].index.name if shards else None
        )
        query = (
            compiler.compile(body["query"]) if "query" in body else CompiledQuery(lambda d: True, True, {})
        )
        total = sum(1 for s in shards for d in s.scan() if query.predicate(d))
        return {
            "count": total,
            "_shards": {"total": len(shards), "successful": len(shards), "skipped": 0, "failed": 0},
        }


def _filter_source(source: Any, wanted: list[str]) -> JSON:
    out: JSON = {}
    for key, value in source.items():
        if any(key == w or key.startswith(w + ".") or fnmatch.fnmatchcase(key, w) for w in wanted):
            out[key] = value
        elif isinstance(value, Mapping):
            inner = _filter_source(value, [w[len(key) + 1 :] for w in wanted if w.startswith(key + ".")])
            if inner:
                out[key] = inner
    return out


def _sort_list(raw: Any) -> list[Any]:
    if raw is None:
        return []
    items = raw if isinstance(raw, list) else [raw]
    for item in items:
        if not isinstance(item, (str, Mapping)) or (isinstance(item, Mapping) and len(item) != 1):
            raise parsing_error("[sort] malformed sort element")
    return items


def _sort_field_name(spec: Any) -> str:
    if isinstance(spec, str):
        return spec
    return str(next(iter(spec)))


def _coerce_after(key: SortKey, value: Any, index: str | None) -> Any:
    if key.kind in ("shard_doc", "doc", "date", "number"):
        if value is None and key.kind in ("date", "number"):
            return None
        if isinstance(value, bool) or not isinstance(value, (int, float, str)):
            raise shard_failure(
                400,
                "illegal_argument_exception",
                f"Failed to parse search_after value for field [{key.field}].",
                index,
            )
        try:
            return (
                int(value)
                if key.kind != "number"
                else float(value)
                if isinstance(value, float)
                else int(value)
            )
        except ValueError:
            raise shard_failure(
                400,
                "illegal_argument_exception",
                f"Failed to parse search_after value for field [{key.field}].",
                index,
            ) from None
    if key.kind == "score":
        return float(value)
    return value


def _slice_filter(spec: Any) -> Callable[[Doc], bool]:
    if spec is None:
        return lambda d: True
    if not isinstance(spec, Mapping) or "id" not in spec or "max" not in spec:
        raise parsing_error("[slice] failed to parse object: id and max are required")
    if spec.get("field") is not None:
        raise unsupported("slicing on a field")
    slice_id, slice_max = int(spec["id"]), int(spec["max"])
    if slice_max <= 1:
        raise illegal_argument("max must be greater than 1")
    if slice_id < 0:
        raise illegal_argument("id must be greater than or equal to 0")
    if slice_id >= slice_max:
        raise illegal_argument("max must be greater than id")
    if slice_max > MAX_SLICES:
        raise illegal_argument(
            f"The number of slices [{slice_max}] is too large. It must be less than [{MAX_SLICES}]. "
            "This limit can be set by changing the [index.max_slices_per_scroll] index level setting."
        )
    return lambda d: d.doc_number % slice_max == slice_id


def _track_limit(track: Any) -> int | None:
    if track is True or track == "true":
        return LONG_MAX
    if track is False or track == "false":
        return None
    try:
        return int(track)
    except (TypeError, ValueError):
        raise parsing_error(f"[track_total_hits] failed to parse value [{track}]") from None


def _flat_settings(settings: Any, prefix: str = "") -> JSON:
    out: JSON = {}
    if not isinstance(settings, Mapping):
        return out
    for key, value in settings.items():
        name = f"{prefix}{key}"
        if isinstance(value, Mapping):
            out.update(_flat_settings(value, name + "."))
        else:
            out[name if name.startswith("index.") else f"index.{name}"] = (
                str(value) if not isinstance(value, list) else value
            )
    return out
