"""Dates, mapping definitions and index-time document parsing (explicit and dynamic mappings)."""

from __future__ import annotations

import contextlib
import fnmatch
import ipaddress
import json
import math
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from tests.emulators.elasticsearch.wire import JSON, EsError, unsupported

LONG_MAX = 2**63 - 1
LONG_MIN = -(2**63)

# --------------------------------------------------------------------------------------------
# Dates and time values
# --------------------------------------------------------------------------------------------

_DATE = re.compile(
    r"^(\d{4})(?:-(\d{2})(?:-(\d{2})(?:[T ](\d{2})(?::(\d{2})(?::(\d{2})(?:[.,](\d{1,9}))?)?)?"
    r"(Z|[+-]\d{2}(?::?\d{2})?)?)?)?)?$"
)
DATE_FORMATS = "strict_date_optional_time||epoch_millis"


def parse_date_nanos(value: Any) -> int:
    """Epoch nanoseconds of a date as Elasticsearch's default date format reads it."""
    if isinstance(value, bool):
        raise ValueError(value)
    if isinstance(value, (int, float)):
        return int(value * 1_000_000)
    if not isinstance(value, str):
        raise ValueError(value)
    text = value.strip()
    if re.fullmatch(r"-?\d+(\.\d+)?", text) and not re.fullmatch(r"\d{4}", text):
        return int(float(text) * 1_000_000)
    match = _DATE.match(text)
    if not match:
        raise ValueError(value)
    year, month, day, hour, minute, second, frac, zone = match.groups()
    moment = datetime(
        int(year),
        int(month or 1),
        int(day or 1),
        int(hour or 0),
        int(minute or 0),
        int(second or 0),
        tzinfo=UTC,
    )
    nanos = int(moment.timestamp()) * 1_000_000_000 + int((frac or "0").ljust(9, "0"))
    if zone and zone != "Z":
        sign = 1 if zone[0] == "+" else -1
        digits = zone[1:].replace(":", "")
        offset = int(digits[:2]) * 3600 + (int(digits[2:4]) * 60 if len(digits) > 2 else 0)
        nanos -= sign * offset * 1_000_000_000
    return nanos


def parse_time_value(text: str, setting: str) -> float:
    """Seconds in an Elasticsearch time value such as ``1m`` or ``30s``."""
    match = re.fullmatch(r"(\d+)(nanos|micros|ms|s|m|h|d)", text.strip())
    if not match:
        raise EsError(
            400,
            "parse_exception",
            f"failed to parse setting [{setting}] with value [{text}] as a time value: "
            "unit is missing or unrecognized",
        )
    scale = {"nanos": 1e-9, "micros": 1e-6, "ms": 1e-3, "s": 1, "m": 60, "h": 3600, "d": 86400}
    return int(match.group(1)) * scale[match.group(2)]


# --------------------------------------------------------------------------------------------
# Mappings
# --------------------------------------------------------------------------------------------

NUMERIC_INT = {"long": (LONG_MIN, LONG_MAX), "integer": (-(2**31), 2**31 - 1), "short": (-32768, 32767)}
NUMERIC_INT["byte"] = (-128, 127)
NUMERIC_INT["unsigned_long"] = (0, 2**64 - 1)
NUMERIC_FLOAT = {"double", "float", "half_float", "scaled_float"}
_STRINGY = {"keyword", "text", "match_only_text", "wildcard", "constant_keyword", "version"}
_LEAF_TYPES = (
    set(NUMERIC_INT)
    | NUMERIC_FLOAT
    | _STRINGY
    | {"date", "date_nanos", "boolean", "ip", "geo_point", "binary"}
)
_OBJECT_TYPES = {"object", "flattened"}


class DocumentParsingError(Exception):
    """A document that does not fit its mapping; becomes a per-item 400."""

    def __init__(self, reason: str, caused_by: JSON | None = None, type_: str = "document_parsing_exception"):
        super().__init__(reason)
        self.reason = reason
        self.caused_by = caused_by
        self.type = type_

    def as_error(self) -> JSON:
        out: JSON = {"type": self.type, "reason": self.reason}
        if self.caused_by:
            out["caused_by"] = self.caused_by
        return out


def validate_mapping(mappings: Any, where: str = "_doc") -> None:
    """Reject a mapping definition Elasticsearch would reject (unknown types, bad shapes)."""
    if not isinstance(mappings, Mapping):
        raise EsError(
            400, "mapper_parsing_exception", "Failed to parse mapping: Expected map for property [mappings]"
        )
    props = mappings.get("properties", {})
    if not isinstance(props, Mapping):
        raise EsError(400, "mapper_parsing_exception", f"Failed to parse mapping: Expected map for [{where}]")
    for name, spec in props.items():
        if not isinstance(spec, Mapping):
            raise EsError(
                400,
                "mapper_parsing_exception",
                f"Failed to parse mapping: Expected map for property [fields] on field [{name}] "
                "but got a class "
                f"java.lang.{type(spec).__name__.capitalize()}",
            )
        kind = spec.get("type", "object" if "properties" in spec or "type" not in spec else None)
        if kind == "nested":
            raise unsupported("nested fields")
        if kind not in _LEAF_TYPES and kind not in _OBJECT_TYPES:
            raise EsError(
                400,
                "mapper_parsing_exception",
                f"Failed to parse mapping: No handler for type [{kind}] declared on field [{name}]",
            )
        if kind == "object":
            validate_mapping(spec, name)


def merge_mappings(base: JSON, override: Mapping[str, Any]) -> JSON:
    out: JSON = json.loads(json.dumps(base))
    for key, value in override.items():
        if key == "properties" and isinstance(value, Mapping):
            props = out.setdefault("properties", {})
            for name, spec in value.items():
                if name in props and isinstance(spec, Mapping) and "properties" in spec:
                    props[name] = merge_mappings(props[name], spec)
                else:
                    props[name] = json.loads(json.dumps(spec))
        else:
            out[key] = json.loads(json.dumps(value))
    return out


def _field_spec(mappings: Mapping[str, Any], path: str) -> Mapping[str, Any] | None:
    """The mapping of a dotted field path (also finds multi-fields such as ``x.keyword``)."""
    node: Mapping[str, Any] = mappings
    parts = path.split(".")
    for i, part in enumerate(parts):
        props = node.get("properties")
        if isinstance(props, Mapping) and part in props:
            node = props[part]
            continue
        subfields = node.get("fields")
        if i == len(parts) - 1 and isinstance(subfields, Mapping) and part in subfields:
            return subfields[part]  # type: ignore[no-any-return]
        return None
    return node


def field_type(mappings: Mapping[str, Any], path: str) -> str | None:
    spec = _field_spec(mappings, path)
    if spec is None:
        runtime = mappings.get("runtime", {})
        if isinstance(runtime, Mapping) and path in runtime:
            return str(runtime[path].get("type", "keyword"))
        return None
    return str(spec.get("type", "object"))


@dataclass
class ParseContext:
    doc_id: str
    raw: str
    numeric_detection: bool
    date_detection: bool
    dynamic_templates: list[Any]
    values: dict[str, list[Any]] = field(default_factory=dict)
    mapping_changed: bool = False

    def position(self, leaf: str) -> str:
        at = self.raw.find(json.dumps(leaf))
        col = at + len(json.dumps(leaf)) + 2 if at >= 0 else 1
        return f"[1:{col}]"


def _preview(value: Any) -> str:
    if isinstance(value, Mapping):
        return "{" + ", ".join(f"{k}={v}" for k, v in value.items()) + "}"
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)


def normalise(kind: str, value: Any, spec: Mapping[str, Any], path: str, ctx: ParseContext) -> Any:
    """The indexed form of one value, or :class:`DocumentParsingError` as Elasticsearch would raise."""

    def fail(cause_type: str, cause: str) -> DocumentParsingError:
        return DocumentParsingError(
            f"{ctx.position(path.rsplit('.', 1)[-1])} failed to parse field [{path}] of type [{kind}] "
            "in document "
            f"with id '{ctx.doc_id}'. Preview of field's value: '{_preview(value)}'",
            {"type": cause_type, "reason": cause},
        )

    if isinstance(value, Mapping) and kind not in ("geo_point", "flattened"):
        raise fail("illegal_state_exception", "Can't get text on a START_OBJECT at 1:1")
    coerce = spec.get("coerce", True)
    if kind in NUMERIC_INT:
        low, high = NUMERIC_INT[kind]
        number: float
        if isinstance(value, bool):
            raise fail("illegal_argument_exception", f'For input string: "{_preview(value)}"')
        if isinstance(value, (int, float)):
            number = value
        elif isinstance(value, str) and coerce:
            try:
                number = float(value) if re.fullmatch(r"\s*-?\d+(\.\d*)?([eE]-?\d+)?\s*", value) else math.nan
            except ValueError:
                number = math.nan
            if math.isnan(number):
                raise fail("illegal_argument_exception", f'For input string: "{value}"')
        else:
            raise fail("illegal_argument_exception", f'For input string: "{_preview(value)}"')
        if isinstance(number, float) and not number.is_integer() and not coerce:
            raise fail("illegal_argument_exception", f"Value [{value}] has a decimal part")
        if not low <= number <= high:
            raise fail("illegal_argument_exception", f"Value [{value}] is out of range for {kind}")
        return int(number)
    if kind in NUMERIC_FLOAT:
        if isinstance(value, bool):
            raise fail("illegal_argument_exception", f'For input string: "{_preview(value)}"')
        if isinstance(value, (int, float)):
            return float(value)
        if isinstance(value, str) and coerce:
            try:
                return float(value)
            except ValueError:
                pass
        raise fail("number_format_exception", f'For input string: "{_preview(value)}"')
    if kind in ("date", "date_nanos"):
        try:
            nanos = parse_date_nanos(value)
        except (ValueError, OverflowError):
            raise fail(
                "illegal_argument_exception",
                f"failed to parse date field [{_preview(value)}] with format [{DATE_FORMATS}]",
            ) from None
        return nanos if kind == "date_nanos" else nanos // 1_000_000
    if kind == "boolean":
        if value in (True, False):
            return bool(value)
        if value in ("true", "false", ""):
            return value == "true"
        raise fail(
            "illegal_argument_exception",
            f"Failed to parse value [{_preview(value)}] as only [true] or [false] are allowed.",
        )
    if kind == "ip":
        try:
            return ipaddress.ip_address(str(value).strip() if isinstance(value, str) else value)
        except ValueError:
            raise fail(
                "illegal_argument_exception", f"'{_preview(value)}' is not an IP string literal."
            ) from None
    if kind in ("geo_point", "binary", "flattened"):
        return value
    if kind in _STRINGY:
        text = _preview(value) if isinstance(value, bool) else str(value)
        ignore_above = spec.get("ignore_above")
        if ignore_above is not None and len(text) > int(ignore_above):
            return IGNORED
        return text
    raise fail("illegal_argument_exception", f"unsupported field type [{kind}]")


IGNORED = object()


def _dynamic_spec(value: Any, path: str, ctx: ParseContext) -> JSON | None:
    """The mapping dynamic mapping adds for a new field, or ``None`` for a null."""
    if value is None:
        return None
    if isinstance(value, bool):
        match_type = "boolean"
    elif isinstance(value, int):
        match_type = "long"
    elif isinstance(value, float):
        match_type = "double"
    elif isinstance(value, Mapping):
        match_type = "object"
    else:
        match_type = "string"
    leaf = path.rsplit(".", 1)[-1]
    for entry in ctx.dynamic_templates:
        (_, template), *_ = entry.items()
        wanted = template.get("match_mapping_type")
        if wanted not in (None, "*", match_type) and not (wanted == "double" and match_type == "long"):
            continue
        if "match" in template and not fnmatch.fnmatchcase(leaf, template["match"]):
            continue
        if "unmatch" in template and fnmatch.fnmatchcase(leaf, template["unmatch"]):
            continue
        if "path_match" in template and not fnmatch.fnmatchcase(path, template["path_match"]):
            continue
        if "mapping" in template:
            return dict(template["mapping"])
        if "runtime" in template:
            return {"__runtime__": dict(template["runtime"])}
    if match_type == "string":
        if ctx.date_detection:
            with contextlib.suppress(ValueError, OverflowError):
                if _DATE.match(value.strip()) and len(value.strip()) >= 10:
                    parse_date_nanos(value)
                    return {"type": "date"}
        if ctx.numeric_detection and re.fullmatch(r"-?\d+", value.strip()):
            return {"type": "long"}
        if ctx.numeric_detection and re.fullmatch(r"-?\d+\.\d+([eE]-?\d+)?", value.strip()):
            return {"type": "float"}
        return {"type": "text", "fields": {"keyword": {"type": "keyword", "ignore_above": 256}}}
    if match_type == "object":
        return {"properties": {}}
    return {"type": {"double": "float"}.get(match_type, match_type)}


def parse_document(mappings: JSON, source: Any, doc_id: str, raw: str) -> tuple[dict[str, list[Any]], bool]:
    """Index-time parse: the searchable values per path, and whether the mapping grew.

    ``mappings`` is updated in place with dynamically added fields, as Elasticsearch does.
    """
    if not isinstance(source, Mapping):
        raise DocumentParsingError(
            "[1:1] failed to parse: Expected START_OBJECT but found: " + type(source).__name__.upper(),
            type_="document_parsing_exception",
        )
    ctx = ParseContext(
        doc_id=doc_id,
        raw=raw,
        numeric_detection=bool(mappings.get("numeric_detection", False)),
        date_detection=bool(mappings.get("date_detection", True)),
        dynamic_templates=list(mappings.get("dynamic_templates", [])),
    )
    _parse_object(mappings, source, "", mappings.get("dynamic", True), ctx)
    return ctx.values, ctx.mapping_changed


def _parse_object(node: JSON, obj: Mapping[str, Any], prefix: str, dynamic: Any, ctx: ParseContext) -> None:
    dynamic = node.get("dynamic", dynamic)
    if node.get("enabled") is False:
        return
    props = (
        node.setdefault("properties", {}) if dynamic not in (False, "false") else node.get("properties", {})
    )
    for key, value in obj.items():
        if key == "":
            raise DocumentParsingError(
                f"{ctx.position(key)} field name cannot be an empty string",
                type_="document_parsing_exception",
            )
        parts = key.split(".")
        # a dotted key is the same as nested objects
        if len(parts) > 1:
            nested: Any = value
            for part in reversed(parts[1:]):
                nested = {part: nested}
            _parse_object(node, {parts[0]: nested}, prefix, dynamic, ctx)
            continue
        path = f"{prefix}{key}"
        spec = props.get(key)
        if spec is None:
            if dynamic in ("strict",):
                parent = prefix[:-1] or "_doc"
                raise DocumentParsingError(
                    f"{ctx.position(key)} mapping set to strict, dynamic introduction of [{key}] within "
                    f"[{parent}] is not allowed",
                    type_="strict_dynamic_mapping_exception",
                )
            if dynamic in (False, "false"):
                continue
            first = _first_non_null(value)
            if first is None:
                continue
            new_spec = _dynamic_spec(first, path, ctx)
            if new_spec is None:
                continue
            if "__runtime__" in new_spec:
                ctx.values.setdefault(path, []).extend(_leaf_values(value))
                continue
            props[key] = new_spec
            ctx.mapping_changed = True
            spec = new_spec
        kind = spec.get("type", "object")
        if kind == "object":
            for item in value if isinstance(value, list) else [value]:
                if item is None:
                    continue
                if not isinstance(item, Mapping):
                    raise DocumentParsingError(
                        f"{ctx.position(key)} object mapping for [{path}] tried to parse field [{key}] "
                        "as object, "
                        "but found a concrete value"
                    )
                _parse_object(spec, item, f"{path}.", dynamic, ctx)
            continue
        for item in value if isinstance(value, list) else [value]:
            if item is None:
                continue
            if isinstance(item, list):
                for sub in item:
                    _index_leaf(kind, sub, spec, path, ctx)
            else:
                _index_leaf(kind, item, spec, path, ctx)


def _index_leaf(kind: str, item: Any, spec: Mapping[str, Any], path: str, ctx: ParseContext) -> None:
    if spec.get("index") is False and spec.get("doc_values") is False:
        return
    normalised = normalise(kind, item, spec, path, ctx)
    if normalised is not IGNORED:
        ctx.values.setdefault(path, []).append(normalised)
    for sub_name, sub_spec in (spec.get("fields") or {}).items():
        sub_kind = sub_spec.get("type", "keyword")
        with contextlib.suppress(DocumentParsingError):
            sub_value = normalise(sub_kind, item, sub_spec, f"{path}.{sub_name}", ctx)
            if sub_value is not IGNORED:
                ctx.values.setdefault(f"{path}.{sub_name}", []).append(sub_value)


def _first_non_null(value: Any) -> Any:
    if isinstance(value, list):
        for item in value:
            found = _first_non_null(item)
            if found is not None:
                return found
        return None
    return value


def _leaf_values(value: Any) -> list[Any]:
    if isinstance(value, list):
        return [str(v) for v in value if v is not None]
    return [] if value is None else [str(value)]
