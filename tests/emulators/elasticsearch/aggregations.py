"""Search aggregations: ``date_histogram``, ``terms``, ``cardinality`` and ``filter``, nested.

Answers in Elasticsearch's shapes (``aggregations.{name}.buckets[]`` with ``key``,
``key_as_string``, ``doc_count``; ``{"value": n}``; ``{"doc_count": n}``). An aggregation type
Elasticsearch does not know is refused as Elasticsearch refuses it (``parsing_exception``
"Unknown aggregation type [x]", with a suggestion); one it knows but this emulator does not
implement answers ``emulator_unsupported_exception``. ``cardinality`` is exact here, as
Elasticsearch's is below its ``precision_threshold``.
"""

from __future__ import annotations

import difflib
import ipaddress
from collections import defaultdict
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from tests.emulators.elasticsearch.mappings import field_type, parse_time_value
from tests.emulators.elasticsearch.queries import QueryCompiler
from tests.emulators.elasticsearch.storage import Doc
from tests.emulators.elasticsearch.wire import (
    JSON,
    EsError,
    illegal_argument,
    parsing_error,
    shard_failure,
    unsupported,
)

# Aggregation types Elasticsearch registers (for "did you mean" and to tell unknown from unsupported).
_KNOWN_TYPES = (
    "adjacency_matrix", "auto_date_histogram", "avg", "boxplot", "bucket_script", "bucket_selector",
    "bucket_sort", "categorize_text", "children", "composite", "cumulative_sum", "date_range",
    "derivative", "diversified_sampler", "extended_stats", "filters", "frequent_item_sets",
    "geo_bounds", "geo_centroid", "geo_distance", "geohash_grid", "geotile_grid", "global",
    "histogram", "ip_prefix", "ip_range", "matrix_stats", "max", "median_absolute_deviation", "min",
    "missing", "moving_fn", "multi_terms", "nested", "parent", "percentile_ranks", "percentiles",
    "random_sampler", "range", "rare_terms", "reverse_nested", "sampler", "scripted_metric",
    "significant_terms", "significant_text", "stats", "string_stats", "sum", "t_test", "top_hits",
    "top_metrics", "value_count", "variable_width_histogram", "weighted_avg", "avg_bucket",
    "max_bucket", "min_bucket", "sum_bucket", "stats_bucket", "percentiles_bucket", "serial_diff",
    "date_histogram", "terms", "cardinality", "filter",
)  # fmt: skip
_IMPLEMENTED = ("date_histogram", "terms", "cardinality", "filter")
_SUB_KEYS = ("aggs", "aggregations")
DEFAULT_MAX_BUCKETS = 65_536  # search.max_buckets
_HOUR_UNITS = {"1h": 3_600_000, "hour": 3_600_000, "1d": 86_400_000, "day": 86_400_000}
_DATE_TYPES = {"date", "date_nanos"}


@dataclass
class _Context:
    mappings_of: Callable[[str], Mapping[str, Any]]
    first_index: str | None
    buckets: int = 0

    def field_kinds(self, name: str, indices: Sequence[str]) -> set[str]:
        return {k for i in indices if (k := field_type(self.mappings_of(i), name)) is not None}

    def count_bucket(self) -> None:
        self.buckets += 1
        if self.buckets > DEFAULT_MAX_BUCKETS:
            raise EsError(
                400,
                "too_many_buckets_exception",
                f"Trying to create too many buckets. Must be less than or equal to: [{DEFAULT_MAX_BUCKETS}] "
                f"but this number of buckets was exceeded. This limit can be set by changing the "
                "[search.max_buckets] cluster level setting.",
                extra={"max_buckets": DEFAULT_MAX_BUCKETS},
            )


Aggregator = Callable[[list[Doc], _Context], JSON]


def compile_aggregations(
    spec: Any, mappings_of: Callable[[str], Mapping[str, Any]], first_index: str | None
) -> Callable[[list[Doc]], JSON]:
    """Parse an ``aggs`` object (refusing what Elasticsearch refuses) into a function over matches."""
    aggregators = _parse_level(spec, mappings_of, first_index)

    def run(docs: list[Doc]) -> JSON:
        ctx = _Context(mappings_of, first_index)
        return {name: agg(docs, ctx) for name, agg in aggregators.items()}

    return run


def _parse_level(
    spec: Any, mappings_of: Callable[[str], Mapping[str, Any]], first_index: str | None
) -> dict[str, Aggregator]:
    if not isinstance(spec, Mapping):
        raise parsing_error("Unexpected token START_ARRAY in [aggs].")
    out: dict[str, Aggregator] = {}
    for name, body in spec.items():
        if not isinstance(body, Mapping):
            raise parsing_error(
                f"Expected [START_OBJECT] under [{name}], but got a [VALUE_STRING] in [{name}]"
            )
        types = [k for k in body if k not in (*_SUB_KEYS, "meta")]
        if not types:
            raise parsing_error(f"Missing definition for aggregation [{name}]")
        if len(types) > 1:
            raise parsing_error(
                f"Found two aggregation type definitions in [{name}]: [{types[0]}] and [{types[1]}]"
            )
        kind = types[0]
        if kind not in _KNOWN_TYPES:
            close = difflib.get_close_matches(kind, _KNOWN_TYPES, n=1)
            hint = f" did you mean [{close[0]}]?" if close else ""
            raise parsing_error(
                f"Unknown aggregation type [{kind}]{hint}",
                caused_by={
                    "type": "named_object_not_found_exception",
                    "reason": f"[1:1] unknown field [{kind}]",
                },
            )
        if kind not in _IMPLEMENTED:
            raise unsupported(f"the [{kind}] aggregation")
        sub_spec = next((body[k] for k in _SUB_KEYS if k in body), None)
        subs = _parse_level(sub_spec, mappings_of, first_index) if sub_spec is not None else {}
        out[name] = _BUILDERS[kind](name, body[kind], subs, mappings_of, first_index)
    return out


def _sub_results(subs: Mapping[str, Aggregator], docs: list[Doc], ctx: _Context) -> JSON:
    return {name: agg(docs, ctx) for name, agg in subs.items()}


def _require_field(agg_type: str, name: str, body: Any) -> str:
    if not isinstance(body, Mapping):
        raise parsing_error(f"[{agg_type}] aggregation [{name}] must be an object")
    field = body.get("field")
    if not isinstance(field, str) or not field:
        raise illegal_argument("Required one of fields [field, script], but none were specified.")
    return field


def _check_keys(agg_type: str, body: Mapping[str, Any], allowed: set[str]) -> None:
    for key in body:
        if key not in allowed:
            raise parsing_error(f"[{agg_type}] unknown field [{key}]")


def _date_histogram(
    name: str, body: Any, subs: dict[str, Aggregator], mappings_of: Any, first_index: str | None
) -> Aggregator:
    field = _require_field("date_histogram", name, body)
    _check_keys(
        "date_histogram",
        body,
        {"field", "fixed_interval", "calendar_interval", "offset", "min_doc_count", "format", "time_zone",
         "order", "keyed", "missing", "extended_bounds", "hard_bounds", "interval"},
    )  # fmt: skip
    if "interval" in body:
        raise illegal_argument("[interval] on [date_histogram] is deprecated, use [fixed_interval] or "
                               "[calendar_interval] instead")  # fmt: skip
    fixed, calendar = body.get("fixed_interval"), body.get("calendar_interval")
    if fixed is None and calendar is None:
        raise illegal_argument("Invalid interval specified, must be non-null and non-empty")
    if fixed is not None and calendar is not None:
        raise illegal_argument("Cannot use [fixed_interval] with [calendar_interval] configuration option.")
    if calendar is not None:
        if calendar not in _HOUR_UNITS:
            raise unsupported(f"calendar_interval [{calendar}]")
        step = _HOUR_UNITS[calendar]
    else:
        step = int(parse_time_value(str(fixed), "date_histogram.fixed_interval") * 1000)
        if step <= 0:
            raise illegal_argument("Zero or negative time interval not supported")
    offset = 0
    if body.get("offset") not in (None, ""):
        text = str(body["offset"])
        sign = -1 if text.startswith("-") else 1
        offset = sign * int(parse_time_value(text.lstrip("+-"), "date_histogram.offset") * 1000)
    if body.get("time_zone") not in (None, "UTC", "Z", "+00:00"):
        raise unsupported("date_histogram time_zone other than UTC")
    if any(body.get(k) is not None for k in ("format", "order", "keyed", "missing", "extended_bounds",
                                             "hard_bounds")):  # fmt: skip
        raise unsupported("date_histogram format/order/keyed/missing/bounds")
    min_doc_count = int(body.get("min_doc_count", 0))
    if min_doc_count < 0:
        raise illegal_argument(
            f"[min_doc_count] must be greater than or equal to 0. Found [{min_doc_count}] in [{name}]"
        )

    def run(docs: list[Doc], ctx: _Context) -> JSON:
        indices = sorted({d.index for d in docs}) or ([ctx.first_index] if ctx.first_index else [])
        kinds = ctx.field_kinds(field, indices)
        if kinds and not kinds <= _DATE_TYPES:
            kind = sorted(kinds - _DATE_TYPES)[0]
            raise shard_failure(
                400,
                "illegal_argument_exception",
                f"Field [{field}] of type [{kind}] is not supported for aggregation [date_histogram]",
                ctx.first_index,
            )
        groups: dict[int, list[Doc]] = defaultdict(list)
        for doc in docs:
            values = doc.values.get(field, [])
            for millis in sorted({_millis(v, kinds) for v in values}):
                key = (millis - offset) // step * step + offset
                groups[key].append(doc)
        keys = sorted(groups)
        if min_doc_count == 0 and keys:
            keys = list(range(keys[0], keys[-1] + step, step))
        buckets = []
        for key in keys:
            members = groups.get(key, [])
            if len(members) < min_doc_count:
                continue
            ctx.count_bucket()
            bucket: JSON = {"key_as_string": _date_string(key), "key": key, "doc_count": len(members)}
            bucket.update(_sub_results(subs, members, ctx))
            buckets.append(bucket)
        return {"buckets": buckets}

    return run


def _millis(value: Any, kinds: set[str]) -> int:
    return int(value) // 1_000_000 if kinds == {"date_nanos"} else int(value)


def _date_string(millis: int) -> str:
    moment = datetime.fromtimestamp(millis / 1000, tz=UTC)
    return moment.isoformat(timespec="milliseconds").replace("+00:00", "Z")


def _terms(
    name: str, body: Any, subs: dict[str, Aggregator], mappings_of: Any, first_index: str | None
) -> Aggregator:
    field = _require_field("terms", name, body)
    _check_keys(
        "terms",
        body,
        {"field", "size", "missing", "min_doc_count", "shard_size", "order", "include", "exclude",
         "execution_hint", "collect_mode", "show_term_doc_count_error", "value_type", "format",
         "shard_min_doc_count"},
    )  # fmt: skip
    if any(body.get(k) is not None for k in ("order", "include", "exclude", "value_type", "format")):
        raise unsupported("terms order/include/exclude/value_type/format")
    size = int(body.get("size", 10))
    if size <= 0:
        raise illegal_argument(f"[size] must be greater than 0. Found [{size}] in [{name}]")
    min_doc_count = int(body.get("min_doc_count", 1))
    if min_doc_count < 1:
        raise unsupported("terms min_doc_count 0")
    missing = body.get("missing")

    def run(docs: list[Doc], ctx: _Context) -> JSON:
        indices = sorted({d.index for d in docs}) or ([ctx.first_index] if ctx.first_index else [])
        kinds = ctx.field_kinds(field, indices)
        if kinds & {"text", "match_only_text"}:
            raise shard_failure(
                400,
                "illegal_argument_exception",
                "Text fields are not optimised for operations that require per-document field data like "
                "aggregations and sorting, so these operations are disabled by default. Please use a "
                f"keyword field instead. Alternatively, set fielddata=true on [{field}] in order to load "
                "field data by uninverting the inverted index. Note that this can use significant memory.",
                ctx.first_index,
            )
        groups: dict[Any, list[Doc]] = defaultdict(list)
        for doc in docs:
            values = doc.values.get(field, [])
            if not values:
                if missing is not None:
                    groups[missing].append(doc)
                continue
            for value in sorted({_term_key(v) for v in values}, key=_sortable):
                groups[value].append(doc)
        ranked = sorted(
            ((k, v) for k, v in groups.items() if len(v) >= min_doc_count),
            key=lambda kv: (-len(kv[1]), _sortable(kv[0])),
        )
        shown, rest = ranked[:size], ranked[size:]
        buckets = []
        for key, members in shown:
            ctx.count_bucket()
            bucket: JSON = {"key": key, "doc_count": len(members)}
            bucket.update(_sub_results(subs, members, ctx))
            buckets.append(bucket)
        return {
            "doc_count_error_upper_bound": 0,
            "sum_other_doc_count": sum(len(v) for _, v in rest),
            "buckets": buckets,
        }

    return run


def _term_key(value: Any) -> Any:
    if isinstance(value, ipaddress.IPv4Address | ipaddress.IPv6Address):
        return str(value)
    return value


def _sortable(value: Any) -> tuple[int, Any]:
    return (0, value) if isinstance(value, (int, float)) and not isinstance(value, bool) else (1, str(value))


def _cardinality(
    name: str, body: Any, subs: dict[str, Aggregator], mappings_of: Any, first_index: str | None
) -> Aggregator:
    field = _require_field("cardinality", name, body)
    _check_keys("cardinality", body, {"field", "precision_threshold", "missing", "execution_hint"})
    if subs:
        raise EsError(
            400,
            "aggregation_initialization_exception",
            f"Aggregator [{name}] of type [cardinality] cannot accept sub-aggregations",
        )
    threshold = int(body.get("precision_threshold", 3000))
    if threshold < 0:
        raise illegal_argument(
            f"[precisionThreshold] must be greater than or equal to 0. Found [{threshold}] in [{name}]"
        )
    missing = body.get("missing")

    def run(docs: list[Doc], ctx: _Context) -> JSON:
        seen: set[Any] = set()
        for doc in docs:
            values = doc.values.get(field, [])
            if not values and missing is not None:
                seen.add(missing)
            seen.update(_term_key(v) for v in values)
        return {"value": len(seen)}

    return run


def _filter(
    name: str, body: Any, subs: dict[str, Aggregator], mappings_of: Any, first_index: str | None
) -> Aggregator:
    compiled = QueryCompiler(mappings_of, first_index).compile(body, scoring=False)

    def run(docs: list[Doc], ctx: _Context) -> JSON:
        members = [d for d in docs if compiled.predicate(d)]
        return {"doc_count": len(members), **_sub_results(subs, members, ctx)}

    return run


_BUILDERS: dict[str, Callable[..., Aggregator]] = {
    "date_histogram": _date_histogram,
    "terms": _terms,
    "cardinality": _cardinality,
    "filter": _filter,
}
