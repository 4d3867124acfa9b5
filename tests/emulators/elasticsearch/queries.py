"""Query DSL compiled to predicates over indexed documents (the subset this project uses)."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

from tests.emulators.elasticsearch.mappings import (
    DATE_FORMATS,
    IGNORED,
    DocumentParsingError,
    ParseContext,
    field_type,
    normalise,
    parse_date_nanos,
)
from tests.emulators.elasticsearch.storage import Doc
from tests.emulators.elasticsearch.wire import EsError, parsing_error, shard_failure, unsupported

# --------------------------------------------------------------------------------------------
# Queries
# --------------------------------------------------------------------------------------------

# Query names Elasticsearch knows; those not implemented here answer emulator_unsupported_exception.
_KNOWN_QUERIES = {
    "match", "match_phrase", "match_phrase_prefix", "multi_match", "query_string", "simple_query_string",
    "prefix", "wildcard", "regexp", "fuzzy", "nested", "has_child", "has_parent", "constant_score",
    "dis_max", "function_score", "boosting", "geo_distance", "geo_bounding_box", "geo_shape", "script",
    "script_score", "more_like_this", "terms_set", "intervals", "combined_fields", "knn", "pinned",
    "rank_feature", "distance_feature", "percolate", "wrapper", "span_term", "span_near", "span_or",
    "semantic", "sparse_vector", "match_bool_prefix", "parent_id", "shape", "geo_polygon",
}  # fmt: skip

Predicate = Callable[[Doc], bool]


@dataclass
class CompiledQuery:
    predicate: Predicate
    scoring: bool  # whether matching contributes a score of 1 (query context)
    ranges: dict[str, tuple[int | None, int | None]]  # conjunctive bounds on date/numeric fields (for scans)


class QueryCompiler:
    def __init__(self, mappings_of: Callable[[str], Mapping[str, Any]], index_name: str | None) -> None:
        self.mappings_of = mappings_of
        self.index_name = index_name

    def compile(self, query: Any, *, scoring: bool = True) -> CompiledQuery:
        if not isinstance(query, Mapping) or not query:
            raise parsing_error("query malformed, empty clause found")
        if len(query) > 1:
            first = next(iter(query))
            raise parsing_error(f"[{first}] malformed query, expected [END_OBJECT] but found [FIELD_NAME]")
        ((name, body),) = query.items()
        handler = getattr(self, f"_q_{name}", None)
        if handler is None:
            if name in _KNOWN_QUERIES:
                raise unsupported(f"the [{name}] query")
            raise parsing_error(
                f"unknown query [{name}]",
                caused_by={
                    "type": "named_object_not_found_exception",
                    "reason": f"[1:1] unknown field [{name}]",
                },
            )
        result: CompiledQuery = handler(body, scoring)
        return result

    @staticmethod
    def _single_field(name: str, body: Any) -> tuple[str, Any]:
        if not isinstance(body, Mapping):
            raise parsing_error(f"[{name}] query malformed, no start_object after query name")
        keys = [k for k in body if k not in ("boost", "_name")]
        if len(keys) != 1:
            raise parsing_error(
                f"[{name}] query doesn't support multiple fields, found [{keys[0]}] and [{keys[1]}]"
                if len(keys) > 1
                else f"[{name}] query malformed, no field"
            )
        return keys[0], body[keys[0]]

    def _values_for(self, doc: Doc, path: str) -> list[Any]:
        return doc.values.get(path, [])

    def _convert(self, path: str, value: Any, doc_index: str) -> Any:
        kind = field_type(self.mappings_of(doc_index), path)
        if kind is None:
            return _UNMAPPED
        ctx = ParseContext("query", "", False, False, [])
        try:
            converted = normalise(kind, value, {"coerce": True}, path, ctx)
        except DocumentParsingError as exc:
            cause = exc.caused_by or {}
            raise shard_failure(
                400,
                "query_shard_exception",
                f"failed to create query: {cause.get('reason', exc.reason)}",
                doc_index,
                caused_by=cause or None,
            ) from None
        return None if converted is IGNORED else converted

    def _q_match_all(self, body: Any, scoring: bool) -> CompiledQuery:
        return CompiledQuery(lambda d: True, scoring, {})

    def _q_match_none(self, body: Any, scoring: bool) -> CompiledQuery:
        return CompiledQuery(lambda d: False, scoring, {})

    def _q_term(self, body: Any, scoring: bool) -> CompiledQuery:
        path, spec = self._single_field("term", body)
        value = spec.get("value") if isinstance(spec, Mapping) else spec
        if isinstance(value, (Mapping, list)):
            raise parsing_error(f"[term] query does not support array of values for field [{path}]")
        cache: dict[str, Any] = {}

        def predicate(doc: Doc) -> bool:
            if doc.index not in cache:
                cache[doc.index] = self._convert(path, value, doc.index)
            wanted = cache[doc.index]
            return wanted is not _UNMAPPED and wanted in self._values_for(doc, path)

        return CompiledQuery(predicate, scoring, {})

    def _q_terms(self, body: Any, scoring: bool) -> CompiledQuery:
        path, values = self._single_field("terms", body)
        if not isinstance(values, list):
            raise parsing_error("[terms] query does not support [" + path + "]")
        cache: dict[str, set[Any]] = {}

        def predicate(doc: Doc) -> bool:
            if doc.index not in cache:
                converted = {self._convert(path, v, doc.index) for v in values}
                cache[doc.index] = {v for v in converted if v is not _UNMAPPED}
            wanted = cache[doc.index]
            return any(v in wanted for v in self._values_for(doc, path))

        return CompiledQuery(predicate, scoring, {})

    def _q_ids(self, body: Any, scoring: bool) -> CompiledQuery:
        if not isinstance(body, Mapping) or not isinstance(body.get("values", []), list):
            raise parsing_error("[ids] query malformed")
        wanted = {str(v) for v in body.get("values", [])}
        return CompiledQuery(lambda d: d.doc_id in wanted, scoring, {})

    def _q_exists(self, body: Any, scoring: bool) -> CompiledQuery:
        if not isinstance(body, Mapping) or not isinstance(body.get("field"), str):
            raise parsing_error("[exists] must be provided with a [field]")
        path = body["field"]
        prefix = path + "."
        return CompiledQuery(
            lambda d: (
                bool(d.values.get(path)) or any(k.startswith(prefix) and v for k, v in d.values.items())
            ),
            scoring,
            {},
        )

    def _q_range(self, body: Any, scoring: bool) -> CompiledQuery:
        path, spec = self._single_field("range", body)
        if not isinstance(spec, Mapping):
            raise parsing_error(f"[range] query does not support [{path}]")
        allowed = {"gte", "gt", "lte", "lt", "format", "time_zone", "boost", "relation"}
        for key in spec:
            if key not in allowed:
                if key in ("from", "to", "include_lower", "include_upper"):
                    raise unsupported(f"the deprecated range parameter [{key}]")
                raise parsing_error(f"[range] query does not support [{key}]")
        if spec.get("time_zone") not in (None, "UTC", "Z", "+00:00"):
            raise unsupported("range time_zone other than UTC")
        fmt = spec.get("format")
        if fmt not in (None, "strict_date_optional_time", "strict_date_optional_time_nanos", "epoch_millis"):
            raise unsupported(f"range format [{fmt}]")
        bounds = {k: spec[k] for k in ("gte", "gt", "lte", "lt") if spec.get(k) is not None}
        cache: dict[str, dict[str, Any]] = {}

        def converted(doc_index: str) -> dict[str, Any]:
            if doc_index not in cache:
                kind = field_type(self.mappings_of(doc_index), path)
                out: dict[str, Any] = {}
                for key, raw in bounds.items():
                    if kind in ("date", "date_nanos"):
                        if isinstance(raw, str) and ("now" in raw or "||" in raw):
                            raise unsupported("date math in range queries")
                        try:
                            nanos = parse_date_nanos(raw)
                        except (ValueError, OverflowError):
                            raise shard_failure(
                                400,
                                "parse_exception",
                                f"failed to parse date field [{raw}] with format [{DATE_FORMATS}]",
                                doc_index,
                            ) from None
                        out[key] = nanos if kind == "date_nanos" else nanos // 1_000_000
                    else:
                        out[key] = self._convert(path, raw, doc_index)
                cache[doc_index] = out
            return cache[doc_index]

        def predicate(doc: Doc) -> bool:
            limits = converted(doc.index)
            if any(v is _UNMAPPED for v in limits.values()):
                return False
            for value in self._values_for(doc, path):
                try:
                    if "gte" in limits and not value >= limits["gte"]:
                        continue
                    if "gt" in limits and not value > limits["gt"]:
                        continue
                    if "lte" in limits and not value <= limits["lte"]:
                        continue
                    if "lt" in limits and not value < limits["lt"]:
                        continue
                except TypeError:
                    continue
                return True
            return False

        ranges: dict[str, tuple[int | None, int | None]] = {}
        if path == "@timestamp" and self.index_name is not None:
            try:
                limits = converted(self.index_name)
            except EsError:
                limits = {}
            low = limits.get("gte", limits["gt"] + 1 if isinstance(limits.get("gt"), int) else None)
            high = limits.get("lte", limits["lt"] - 1 if isinstance(limits.get("lt"), int) else None)
            if isinstance(low, int) or isinstance(high, int):
                ranges[path] = (
                    low if isinstance(low, int) else None,
                    high if isinstance(high, int) else None,
                )
        return CompiledQuery(predicate, scoring, ranges)

    def _q_bool(self, body: Any, scoring: bool) -> CompiledQuery:
        if not isinstance(body, Mapping):
            raise parsing_error("[bool] query malformed, no start_object after query name")
        clauses: dict[str, list[CompiledQuery]] = {}
        for key, value in body.items():
            if key in ("boost", "_name", "minimum_should_match", "adjust_pure_negative"):
                continue
            if key not in ("must", "filter", "should", "must_not"):
                raise parsing_error(f"[bool] query does not support [{key}]")
            items = value if isinstance(value, list) else [value]
            clauses[key] = [self.compile(q, scoring=scoring and key in ("must", "should")) for q in items]
        must = clauses.get("must", []) + clauses.get("filter", [])
        should = clauses.get("should", [])
        must_not = clauses.get("must_not", [])
        minimum = body.get("minimum_should_match")
        if minimum is None:
            minimum = 0 if must else (1 if should else 0)
        minimum = int(str(minimum).rstrip("%")) if not isinstance(minimum, int) else minimum

        def predicate(doc: Doc) -> bool:
            if not all(q.predicate(doc) for q in must):
                return False
            if any(q.predicate(doc) for q in must_not):
                return False
            return not minimum or sum(1 for q in should if q.predicate(doc)) >= minimum

        ranges: dict[str, tuple[int | None, int | None]] = {}
        for compiled in must:
            ranges.update(compiled.ranges)
        return CompiledQuery(predicate, bool(clauses.get("must") or should) and scoring, ranges)


_UNMAPPED = object()
