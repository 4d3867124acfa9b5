"""DShield-SIEM Elasticsearch documents <-> Cowrie-shaped event dicts.

DShield-SIEM (github.com/bruneaug/DShield-SIEM) ships sensor logs through filebeat and the
logstash pipeline ``logstash-200-filter-cowrie.conf`` (Cowrie), ``-201-filter-iptables.conf``
(firewall) and ``-202-filter-cowrie-webhoneypot.conf`` (web honeypot) into the indices
``cowrie-*``, ``cowrie.dshield-*`` and ``cowrie.webhoneypot-*``. This module undoes that
pipeline so that Elasticsearch documents become the event dicts
:func:`coord_core.contracts.events.parse_event` accepts (``coord_core.scenarios.siem_writer`` redoes
it, for tests and benchmarks).

How each Cowrie field survives the pipeline (``rename`` unless noted):

============================  =====================================================
Cowrie                        DShield-SIEM document
============================  =====================================================
``eventid``                   removed; its suffix survives as ``event.outcome``
                              (grok ``cowrie.%{GREEDYDATA:event.outcome}``), so
                              ``cowrie.login.failed`` is ``event.outcome: login.failed``
``timestamp``                 removed; parsed into ``@timestamp`` (full precision)
``session``                   ``event.code``
``src_ip``                    ``source.address`` (copied to ``related.ip``; the geoip
                              filter adds ``source.ip``)
``sensor``                    removed; the sensor is filebeat's ``host.name``
``message``                   ``event.original``
``src_port`` / ``dst_port``   ``source.port`` / ``destination.port``
``dst_ip``                    ``destination.address`` (copied to ``destination.ip``)
``protocol``                  ``network.protocol``
``version``                   ``process.name``
``hassh``                     ``ssh.client``
``hasshAlgorithms``           ``hash.algorithm``
``encCS`` / ``macCS``         ``hash.cypher`` / ``hash.hmac``
``kexAlgs keyAlgs compCS      removed (lost: sessions read from Elasticsearch have no
langCS``                      ``kex_algs``); kept when present in a customised pipeline
``username`` / ``password``   ``user.name`` / ``user.password`` (``event.action`` is
                              ``succeeded``/``failed`` from the message)
``input``                     ``source.user.command`` (grok of ``CMD: ...`` /
                              ``Command not found: ...`` messages)
``url``                       ``url.original``
``shasum``                    ``file.hash.sha256`` (copied to ``related.hash``)
``destfile`` / ``filename``   ``file.path`` / ``file.name``
``duration``                  ``event.duration`` (string or number, kept as sent)
``data``                      ``http.request.body.content``
``error``                     ``error.message`` (the index template maps ``error`` as an
                              object; a plain string ``error`` is also read)
everything else               unchanged at the top level (``arch``, ``ttylog``, ``size``,
                              ``outfile``, ``fingerprint``, ``key``, ``type``, ...)
============================  =====================================================

Firewall documents (``event.dataset: iptables``) become ``dshield.firewall`` events and web
documents (``event.dataset: webhoneypot``) ``dshield.web.request`` events; neither has a
session, so their ``session`` is the Elasticsearch document id.

Logstash writes renamed fields as literal dotted keys (``"source.address": ...``) while the
geoip filter and filebeat write nested objects (``"source": {"geo": ...}``); both spellings,
and arrays, are read. Geo, ASN and scanner tags are kept on the event as the extra field
``source_enrichment`` (a :class:`SourceEnrichment` as a dict) and can be folded into a per-IP
side table with :func:`collect_source_enrichment`. The geoip filter runs in ECS v8 mode, so the
ASN is ``source.geo.as.number`` / ``source.geo.as.organization.name``; the legacy names
``source.asn`` / ``source.as_org`` (present in the index template) are read as well.
``event.reference`` is the researcher-scanner tag, ``"no match"`` when none.
"""

from __future__ import annotations

import ipaddress
import json
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, fields
from datetime import UTC, datetime
from typing import Any, Final

from coord_core.contracts.events import (
    CowrieEvent,
    EventParseError,
    json_type_name,
    parse_event,
    parse_timestamp,
)

KIND_COWRIE: Final = "cowrie"
KIND_FIREWALL: Final = "firewall"
KIND_WEB: Final = "web"

FIREWALL_EVENT_ID: Final = "dshield.firewall"
WEB_EVENT_ID: Final = "dshield.web.request"

# Index prefixes as DShield-SIEM's logstash output names them (ILM rollover alias + date + counter).
INDEX_PREFIX: Final[dict[str, str]] = {
    KIND_COWRIE: "cowrie",
    KIND_FIREWALL: "cowrie.dshield",
    KIND_WEB: "cowrie.webhoneypot",
}
_DATASET_KIND: Final[dict[str, str]] = {
    "honeypot": KIND_COWRIE,
    "iptables": KIND_FIREWALL,
    "webhoneypot": KIND_WEB,
}
_KIND_DATASET: Final[dict[str, str]] = {kind: ds for ds, kind in _DATASET_KIND.items()}

# ECS `event.outcome` values: if a document carries one of these, the Cowrie event id was not kept.
_ECS_OUTCOMES: Final = frozenset({"success", "failure", "unknown"})
NO_SCANNER_MATCH: Final = "no match"

# Cowrie key -> document path, in the order the forward mapping tries them. The first path is the
# one the pipeline writes.
_RENAMED: Final[tuple[tuple[str, tuple[str, ...]], ...]] = (
    ("src_port", ("source.port",)),
    ("dst_ip", ("destination.address", "destination.ip")),
    ("dst_port", ("destination.port",)),
    ("protocol", ("network.protocol",)),
    ("version", ("process.name",)),
    ("hassh", ("ssh.client",)),
    ("hasshAlgorithms", ("hash.algorithm",)),
    ("encCS", ("hash.cypher",)),
    ("macCS", ("hash.hmac",)),
    ("username", ("user.name",)),
    ("password", ("user.password",)),
    ("input", ("source.user.command",)),
    ("url", ("url.original",)),
    ("shasum", ("file.hash.sha256",)),
    ("destfile", ("file.path",)),
    ("filename", ("file.name",)),
    ("duration", ("event.duration",)),
    ("data", ("http.request.body.content",)),
    ("error", ("error.message",)),
)
_RENAMED_CANDIDATES: Final = tuple((key, (*paths, key)) for key, paths in _RENAMED)
_RENAMED_KEYS: Final = frozenset(key for key, _ in _RENAMED)
_LIST_FIELDS: Final = frozenset({"encCS", "macCS", "kexAlgs", "keyAlgs", "compCS", "langCS"})
_PORT_FIELDS: Final = frozenset({"src_port", "dst_port"})
# Removed by the pipeline's last mutate; ``keep_removed_fields`` keeps them in generated documents.
PIPELINE_REMOVED: Final = ("sensor", "compCS", "keyAlgs", "kexAlgs", "langCS", "timestamp", "eventid")
# Top-level names the pipeline, filebeat or ECS own; any other top-level key is a Cowrie field.
_OWNED_ROOTS: Final = frozenset(
    {
        "@timestamp", "@version", "tags", "event", "source", "destination", "related", "host",
        "agent", "ecs", "log", "input", "interface", "network", "file", "hash", "ssh", "process",
        "user", "url", "http", "transaction", "error", "fields", "cloud", "container",
        "data_stream", "rule", "user_agent", "observer", "service", "message", "headers",
        "signature_id", "response_id", "icmp", "dns", "threat", "region", "time",
        # Cowrie's own names that the core of the mapping consumes explicitly:
        "eventid", "timestamp", "session", "src_ip", "sensor",
    }
)  # fmt: skip
_LOGIN_ACTION = re.compile(r"login.*]\s+(succeeded|failed)")
_TTY_TRANSACTION = re.compile(r"var/lib/cowrie/tty/(.*)")
_COMMAND_MESSAGE = re.compile(r"(?:CMD:|Command found:|Command not found:)\s+(.*)")


class SiemMappingError(ValueError):
    """A DShield-SIEM document that cannot become an event: which one, which field, and why."""

    def __init__(self, index: str, doc_id: str, field: str, problem: str) -> None:
        self.index = index
        self.doc_id = doc_id
        self.field = field
        self.problem = problem
        super().__init__(f"cannot map document {index}/{doc_id}: field [{field}] {problem}")


@dataclass(frozen=True, slots=True)
class SourceEnrichment:
    """What DShield-SIEM knows about an attacking address beyond the address itself."""

    asn: int | None = None
    as_org: str | None = None
    country_iso_code: str | None = None
    country_name: str | None = None
    city_name: str | None = None
    continent_code: str | None = None
    latitude: float | None = None
    longitude: float | None = None
    scanner: str | None = None  # DShield-SIEM researcher tag (event.reference), None for "no match"
    reverse_dns: str | None = None

    def as_dict(self) -> dict[str, Any]:
        return {name: value for name in _ENRICHMENT_FIELDS if (value := getattr(self, name)) is not None}

    @classmethod
    def from_dict(cls, raw: Mapping[str, Any]) -> SourceEnrichment:
        return cls(**{k: v for k, v in raw.items() if k in _ENRICHMENT_FIELDS})

    def __bool__(self) -> bool:
        return any(getattr(self, name) is not None for name in _ENRICHMENT_FIELDS)


_ENRICHMENT_FIELDS: Final = tuple(f.name for f in fields(SourceEnrichment))


@dataclass(frozen=True, slots=True)
class SiemDocument:
    """A document as DShield-SIEM stores it: target index, id and ``_source``."""

    index: str
    doc_id: str
    source: dict[str, Any]


# --------------------------------------------------------------------------------------------
# Reading documents
# --------------------------------------------------------------------------------------------


class _Conflict(list[Any]):
    """Distinct values found for one path through different spellings (dotted vs nested)."""


def flatten_document(source: Mapping[str, Any]) -> dict[str, Any]:
    """Dotted path -> value for every leaf, merging nested objects and literal dotted keys.

    Arrays of scalars stay one value (a list); arrays of objects contribute each member's
    leaves, as Elasticsearch indexes them. Two spellings of one path with different values
    become a list of the distinct values, which a scalar read reports as ambiguous.
    """
    flat: dict[str, Any] = {}
    _flatten_into(flat, set(), "", source)
    return flat


def _flatten_into(flat: dict[str, Any], objects: set[str], prefix: str, value: Any) -> None:
    """Flatten ``value`` at ``prefix``; ``objects`` collects every path that holds an object."""
    if not isinstance(value, Mapping):
        if isinstance(value, list) and any(isinstance(item, Mapping) for item in value):
            for item in value:
                _flatten_into(flat, objects, prefix, item)
        else:
            _put(flat, prefix, value)
        return
    if prefix:
        objects.add(prefix)
        if not value:
            _put(flat, prefix, {})
    for key, child in value.items():
        name = str(key)
        path = f"{prefix}.{name}" if prefix else name
        if "." in name:  # a literal dotted key: its leading segments are objects too
            head = path.rpartition(".")[0]
            while head and head not in objects:
                objects.add(head)
                head = head.rpartition(".")[0]
        if type(child) is dict or type(child) is list or isinstance(child, Mapping):
            _flatten_into(flat, objects, path, child)
        elif path in flat:
            _put(flat, path, child)
        else:
            flat[path] = child


def _put(flat: dict[str, Any], path: str, value: Any) -> None:
    if path not in flat:
        flat[path] = value
        return
    current = flat[path]
    if current == value:
        return
    merged = _Conflict(current if isinstance(current, _Conflict) else [current])
    if value not in merged:
        merged.append(value)
    flat[path] = merged


class _Doc:
    """One flattened document plus what is needed to name it in errors."""

    def __init__(self, source: Mapping[str, Any], index: str, doc_id: str) -> None:
        if not isinstance(source, Mapping):
            raise SiemMappingError(
                index, doc_id, "_source", f"is a JSON {json_type_name(source)}, not an object"
            )
        self.source = source
        self.flat: dict[str, Any] = {}
        self.objects: set[str] = set()
        _flatten_into(self.flat, self.objects, "", source)
        self.index = index
        self.doc_id = doc_id

    def error(self, field: str, problem: str) -> SiemMappingError:
        return SiemMappingError(self.index, self.doc_id, field, problem)

    def raw(self, *paths: str) -> tuple[str, Any] | None:
        """The first present path and its value (``None`` and ``[]`` count as absent)."""
        for path in paths:
            value = self.flat.get(path)
            if value is not None and value != []:
                return path, value
            if value is None and path in self.objects:
                raise self.error(path, "is an object, expected a single value")
        return None

    def scalar(self, *paths: str) -> Any:
        found = self.raw(*paths)
        if found is None:
            return None
        path, value = found
        if isinstance(value, list):
            distinct = []
            for item in value:
                if item not in distinct:
                    distinct.append(item)
            if len(distinct) != 1:
                raise self.error(
                    path, f"has {len(distinct)} different values {_preview(distinct)}, expected one"
                )
            value = distinct[0]
        if isinstance(value, Mapping):
            raise self.error(path, "is an object, expected a single value")
        return value

    def text(self, *paths: str) -> str | None:
        value = self.scalar(*paths)
        if value is None:
            return None
        if isinstance(value, bool) or not isinstance(value, (str, int, float)):
            raise self.error(_first_present(self, paths), f"is a {type(value).__name__}, expected text")
        return str(value)

    def required_text(self, what: str, *paths: str) -> str:
        value = self.text(*paths)
        if value is None or value == "":
            also = f"; also looked for {', '.join(paths[1:])}" if len(paths) > 1 else ""
            raise self.error(paths[0], f"is missing ({what}{also})")
        return value

    def port(self, *paths: str) -> int | None:
        value = self.scalar(*paths)
        if value is None:
            return None
        return _as_int(self, _first_present(self, paths), value, 0, 65535)

    def small_int(self, path: str, low: int, high: int) -> int | None:
        value = self.scalar(path)
        return None if value is None else _as_int(self, path, value, low, high)


def _first_present(doc: _Doc, paths: tuple[str, ...]) -> str:
    found = doc.raw(*paths)
    return found[0] if found else paths[0]


def _as_int(doc: _Doc, path: str, value: Any, low: int, high: int) -> int:
    number: int | None = None
    if isinstance(value, int) and not isinstance(value, bool):
        number = value
    elif isinstance(value, float) and value.is_integer():
        number = int(value)
    elif isinstance(value, str) and value.strip().isdigit():
        number = int(value.strip())
    if number is None or not low <= number <= high:
        raise doc.error(path, f"is {_preview(value)}, expected an integer in [{low}, {high}]")
    return number


def _preview(value: Any) -> str:
    text = json.dumps(value, default=str, ensure_ascii=True)
    return text if len(text) <= 80 else text[:77] + "..."


def _kind(doc: _Doc) -> str:
    dataset = doc.text("event.dataset")
    index, doc_id = doc.index, doc.doc_id
    if dataset in _DATASET_KIND:
        return _DATASET_KIND[dataset]
    kind = kind_of_index(index)
    if kind is None:
        raise SiemMappingError(
            index,
            doc_id,
            "event.dataset",
            f"is {_preview(dataset)} and the index name matches no DShield-SIEM index pattern",
        )
    return kind


def kind_of_index(index: str) -> str | None:
    """The DShield log kind an index name belongs to, or ``None``."""
    if index.startswith("cowrie.dshield"):
        return KIND_FIREWALL
    if index.startswith("cowrie.webhoneypot"):
        return KIND_WEB
    if index.startswith("cowrie-"):
        return KIND_COWRIE
    return None


def siem_document_to_event_dict(source: Mapping[str, Any], *, index: str, doc_id: str) -> dict[str, Any]:
    """The Cowrie-shaped event dict for one document's ``_source``; raises :class:`SiemMappingError`."""
    doc = _Doc(source, index, doc_id)
    kind = _kind(doc)
    if kind == KIND_FIREWALL:
        event = _firewall_event(doc)
    elif kind == KIND_WEB:
        event = _web_event(doc)
    else:
        event = _cowrie_event(doc)
    enrichment = _enrichment(doc)
    if enrichment:
        event["source_enrichment"] = enrichment.as_dict()
    return event


def siem_hit_to_event(hit: Mapping[str, Any]) -> CowrieEvent:
    """Map and validate one search hit (``_index``, ``_id``, ``_source``) into an event model."""
    return map_hit(hit)[1]


def map_hit(hit: Mapping[str, Any]) -> tuple[dict[str, Any], CowrieEvent]:
    """The Cowrie-shaped event dict of one search hit and its validated model.

    Whatever goes wrong with one hit is a :class:`SiemMappingError` naming it, never another
    exception: a hostile document is that document's error, not the read's.
    """
    if not isinstance(hit, Mapping):
        raise SiemMappingError("?", "?", "_source", f"the hit is a JSON {json_type_name(hit)}, not an object")
    index = _bounded_id(hit.get("_index", "?"))
    doc_id = _bounded_id(hit.get("_id", "?"))
    if "_source" not in hit:
        raise SiemMappingError(index, doc_id, "_source", "is missing (was _source disabled in the request?)")
    try:
        event = siem_document_to_event_dict(hit["_source"], index=index, doc_id=doc_id)
        try:
            return event, parse_event(event)
        except EventParseError as exc:
            field = _siem_field_for(exc.reason, str(event.get("eventid")))
            raise SiemMappingError(index, doc_id, field, f"is invalid: {_bounded(exc.reason)}") from exc
    except SiemMappingError:
        raise
    except RecursionError as exc:
        raise SiemMappingError(index, doc_id, "_source", "is nested too deeply to read") from exc
    except Exception as exc:  # the mapping's guard: any other failure is this document's error
        problem = f"could not be mapped ({type(exc).__name__}: {_bounded(str(exc))})"
        raise SiemMappingError(index, doc_id, "_source", problem) from exc


def _bounded(text: str, limit: int = 300) -> str:
    return text if len(text) <= limit else text[: limit - 3] + "..."


def _bounded_id(value: Any) -> str:
    return _bounded(str(value), 256)


def _siem_field_for(reason: str, eventid: str) -> str:
    """Name the document field behind a validation failure of the mapped event."""
    loc = reason.removeprefix(f"{eventid}: ").split(":", 1)[0].split(".", 1)[0]
    core = {
        "timestamp": "@timestamp",
        "session": "event.code",
        "src_ip": "source.address",
        "sensor": "host.name",
        "message": "event.original",
        "method": "http.request.method",
        "user_agent": "user_agent.original",
        "rule": "rule.name",
        "transport": "network.transport",
        "ttl": "network.ttl",
    }
    if loc in core:
        return core[loc]
    for key, paths in _RENAMED:
        if key == loc:
            return paths[0]
    return loc or "_source"


def _timestamp(doc: _Doc) -> str:
    found = doc.raw("@timestamp", "timestamp")
    if found is None:
        raise doc.error("@timestamp", "is missing")
    path, value = found
    value = doc.scalar(path)
    try:
        if isinstance(value, (int, float)) and not isinstance(value, bool):
            moment = datetime.fromtimestamp(value / 1000.0, tz=UTC)  # epoch_millis, as Elasticsearch reads it
        else:
            moment = parse_timestamp(value)
    except (ValueError, TypeError, OverflowError, OSError) as exc:
        raise doc.error(path, f"is {_preview(value)}, not a date ({exc})") from exc
    if isinstance(value, str):
        return value.strip()
    return moment.isoformat().replace("+00:00", "Z")


def _sensor(doc: _Doc) -> str:
    return doc.text("sensor", "host.name", "agent.hostname", "agent.name") or ""


def _src_ip(doc: _Doc, *paths: str) -> str:
    value = doc.required_text("attacker address", *paths)
    try:
        return str(ipaddress.ip_address(value.strip()))
    except ValueError as exc:
        raise doc.error(_first_present(doc, paths), f"is {_preview(value)}, not an IP address") from exc


def _message(doc: _Doc) -> Any:
    path = next((p for p in ("event.original", "message") if doc.flat.get(p) is not None), None)
    if path is None:
        return ""
    value = doc.flat[path]
    if isinstance(value, str) or (isinstance(value, list) and all(isinstance(v, str) for v in value)):
        return value
    raise doc.error(path, f"is {_preview(value)}, expected text")


def _cowrie_eventid(doc: _Doc) -> str:
    native = doc.text("eventid")
    if native:
        return native
    outcome = doc.text("event.outcome")
    if outcome is None or outcome == "":
        raise doc.error("event.outcome", "is missing (it carries the Cowrie eventid after 'cowrie.')")
    if outcome in _ECS_OUTCOMES:
        raise doc.error(
            "event.outcome",
            f"is the ECS outcome {outcome!r}, not a Cowrie eventid suffix; the eventid was not kept",
        )
    return f"cowrie.{outcome}"


def _cowrie_event(doc: _Doc) -> dict[str, Any]:
    eventid = _cowrie_eventid(doc)
    event: dict[str, Any] = {
        "eventid": eventid,
        "timestamp": _timestamp(doc),
        "session": doc.required_text("Cowrie session id", "event.code", "session"),
        "src_ip": _src_ip(doc, "source.address", "source.ip", "related.ip", "src_ip"),
        "sensor": _sensor(doc),
        "message": _message(doc),
    }
    flat, objects = doc.flat, doc.objects
    for key, candidates in _RENAMED_CANDIDATES:
        if not any(c in flat or c in objects for c in candidates):
            continue
        if key == "input":
            value: Any = doc.text("source.user.command")
            if value is None and isinstance(doc.source.get("input"), str):
                value = doc.source["input"]
        elif key == "error":
            value = doc.text("error.message")
            if value is None and isinstance(doc.source.get("error"), str):
                value = doc.source["error"]
        elif key in _PORT_FIELDS:
            value = doc.port(*candidates)
        elif key in _LIST_FIELDS:
            found = doc.raw(*candidates)
            value = None if found is None else (found[1] if isinstance(found[1], list) else [found[1]])
        elif key == "duration":
            value = doc.scalar(*candidates)
        else:
            value = doc.text(*candidates)
        if value is not None:
            event[key] = value
    for key, value in doc.source.items():
        if key in _RENAMED_KEYS or key.split(".", 1)[0] in _OWNED_ROOTS:
            continue
        event[key] = value
    return event


def _common_fields(doc: _Doc, eventid: str, *src_ip_fields: str) -> dict[str, Any]:
    """What every mapped non-Cowrie event starts with: its id, time, session, source, sensor and message."""
    return {
        "eventid": eventid,
        "timestamp": _timestamp(doc),
        "session": doc.doc_id,
        "src_ip": _src_ip(doc, *src_ip_fields),
        "sensor": _sensor(doc),
        "message": _message(doc),
    }


def _firewall_event(doc: _Doc) -> dict[str, Any]:
    event = _common_fields(doc, FIREWALL_EVENT_ID, "source.ip", "source.address", "related.ip")
    event["transport"] = doc.text("network.transport") or ""
    optional = {
        "dst_port": doc.port("destination.port"),
        "ttl": doc.small_int("network.ttl", 0, 255),
        "src_port": doc.port("source.port"),
        "dst_ip": doc.text("destination.ip", "destination.address"),
    }
    event.update({k: v for k, v in optional.items() if v is not None})
    return event


def _web_event(doc: _Doc) -> dict[str, Any]:
    event = {
        **_common_fields(doc, WEB_EVENT_ID, "source.address", "source.ip", "related.ip"),
        "method": doc.text("http.request.method") or "",
        "url": doc.text("url.original") or "",
        "user_agent": doc.text("user_agent.original") or "",
    }
    optional = {
        "dst_port": doc.port("destination.port", "url.port"),
        "rule": doc.text("rule.name"),
        "dst_ip": doc.text("destination.address", "destination.ip"),
    }
    event.update({k: v for k, v in optional.items() if v is not None})
    return event


def _enrichment(doc: _Doc) -> SourceEnrichment:
    asn_value = doc.scalar("source.geo.as.number", "source.as.number", "source.asn")
    asn = None if asn_value is None else _as_int(doc, "source.geo.as.number", asn_value, 0, 2**32 - 1)
    lat = doc.scalar("source.geo.location.lat")
    lon = doc.scalar("source.geo.location.lon")
    scanner = doc.text("event.reference")
    reverse_dns = doc.text("source.domain")
    address = doc.text("source.address", "source.ip")
    return SourceEnrichment(
        asn=asn,
        as_org=doc.text("source.geo.as.organization.name", "source.as.organization.name", "source.as_org"),
        country_iso_code=doc.text("source.geo.country_iso_code"),
        country_name=doc.text("source.geo.country_name"),
        city_name=doc.text("source.geo.city_name"),
        continent_code=doc.text("source.geo.continent_code"),
        latitude=float(lat) if isinstance(lat, (int, float, str)) and _is_number(lat) else None,
        longitude=float(lon) if isinstance(lon, (int, float, str)) and _is_number(lon) else None,
        scanner=None if scanner in (None, "", NO_SCANNER_MATCH) else scanner,
        reverse_dns=None if reverse_dns in (None, "", address) else reverse_dns,
    )


def _is_number(value: Any) -> bool:
    try:
        float(value)
    except (TypeError, ValueError):
        return False
    return not isinstance(value, bool)


def source_enrichment_of(event: CowrieEvent) -> SourceEnrichment | None:
    """The geo/ASN/scanner facts a DShield-SIEM document carried for this event's source."""
    extra = event.model_extra or {}
    raw = extra.get("source_enrichment")
    if not isinstance(raw, Mapping):
        return None
    enrichment = SourceEnrichment.from_dict(raw)
    return enrichment or None


def collect_source_enrichment(events: Iterable[CowrieEvent]) -> dict[str, SourceEnrichment]:
    """Per source IP, the enrichment of its most recent event that had one (a side table)."""
    latest: dict[str, tuple[datetime, SourceEnrichment]] = {}
    for event in events:
        enrichment = source_enrichment_of(event)
        if enrichment is None:
            continue
        seen = latest.get(event.src_ip)
        if seen is None or event.timestamp >= seen[0]:
            latest[event.src_ip] = (event.timestamp, enrichment)
    return {ip: enrichment for ip, (_, enrichment) in sorted(latest.items())}
