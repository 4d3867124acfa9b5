"""Write events as DShield-SIEM indexes them: the logstash pipeline that ``ingest.siem_mapping`` undoes.

For tests and benchmarks (generated scenarios served by an Elasticsearch emulator or a real
cluster), beside the Cowrie log writer. It reads the mapping's own tables (renamed fields,
datasets, message patterns) so writer and reader cannot drift apart.
"""

from __future__ import annotations

import base64
import hashlib
import ipaddress
import json
from collections.abc import Callable, Mapping
from datetime import date, datetime
from typing import Any, Final

from coord_core.contracts.events import parse_timestamp
from coord_core.ingest.siem_mapping import (
    _KIND_DATASET,
    _LOGIN_ACTION,
    _RENAMED,
    _TTY_TRANSACTION,
    FIREWALL_EVENT_ID,
    INDEX_PREFIX,
    KIND_COWRIE,
    KIND_FIREWALL,
    KIND_WEB,
    NO_SCANNER_MATCH,
    PIPELINE_REMOVED,
    WEB_EVENT_ID,
    SiemDocument,
    SourceEnrichment,
)

EnrichmentLookup = Callable[[str], SourceEnrichment | None]


def siem_index_name(kind: str, day: date) -> str:
    """The index DShield-SIEM's ILM rollover writes a day's documents to (first generation)."""
    return f"{INDEX_PREFIX[kind]}-{day:%Y.%m.%d}-000001"


def event_to_siem_document(
    event: Mapping[str, Any],
    *,
    keep_removed_fields: bool = False,
    enrichment: EnrichmentLookup | None = None,
    nested: bool = False,
) -> SiemDocument:
    """The document DShield-SIEM would index for one Cowrie (or DShield web/firewall) event.

    ``keep_removed_fields`` keeps what the pipeline's last ``mutate`` removes (``kexAlgs`` ...),
    as a customised pipeline would. ``enrichment`` supplies geo/ASN/scanner facts per source IP
    (the geoip and translate filters); an event's own ``source_enrichment`` is used otherwise.
    ``nested`` writes every field as nested objects instead of logstash's literal dotted keys.
    """
    eventid = event.get("eventid")
    if not isinstance(eventid, str) or not eventid:
        raise ValueError("event has no eventid")
    moment = parse_timestamp(event.get("timestamp"))
    if eventid == FIREWALL_EVENT_ID:
        kind, source = KIND_FIREWALL, _firewall_source(event)
    elif eventid == WEB_EVENT_ID:
        kind, source = KIND_WEB, _web_source(event)
    elif eventid.startswith("cowrie."):
        kind, source = KIND_COWRIE, _cowrie_source(event, keep_removed_fields=keep_removed_fields)
    else:
        raise ValueError(f"eventid {eventid!r} is neither a Cowrie nor a DShield web/firewall event")
    source["@timestamp"] = _iso(event.get("timestamp"), moment)
    source["@version"] = "1"
    source["event.dataset"] = _KIND_DATASET[kind]
    source["event.ingested"] = source["@timestamp"]
    sensor = str(event.get("sensor") or "")
    source["host"] = {"name": sensor}
    source["agent"] = {"type": "filebeat", "name": sensor, "version": "8.19.15"}
    source["ecs"] = {"version": "8.0.0"}
    source["input"] = {"type": "log" if kind == KIND_FIREWALL else "filestream"}
    source["log"] = {"file": {"path": _LOG_PATHS[kind].format(day=moment.date())}}
    src_ip = str(event.get("src_ip", ""))
    source["source.domain"] = src_ip  # reverse DNS with action => replace keeps the IP when unresolved
    source["related.ip"] = src_ip
    known = enrichment(src_ip) if enrichment is not None else None
    if known is None and isinstance(event.get("source_enrichment"), Mapping):
        known = SourceEnrichment.from_dict(event["source_enrichment"])
    _write_enrichment(source, src_ip, known)
    if kind == KIND_COWRIE:
        doc_id = hashlib.sha256(
            json.dumps(dict(event), sort_keys=True, default=str).encode("utf-8")
        ).hexdigest()[:20]
    else:
        doc_id = str(event.get("session", ""))
        if not doc_id:
            raise ValueError(f"{eventid} event has no session (its document id)")
    return SiemDocument(
        index=siem_index_name(kind, moment.date()),
        doc_id=doc_id,
        source=nest_dotted(source) if nested else source,
    )


_LOG_PATHS: Final[dict[str, str]] = {
    KIND_COWRIE: "/srv/cowrie/var/log/cowrie/cowrie.json",
    KIND_FIREWALL: "/var/log/dshield.log",
    KIND_WEB: "/srv/db/webhoneypot-{day:%Y-%m-%d}.json",
}


def _iso(original: Any, moment: datetime) -> str:
    if isinstance(original, str):
        return original.strip()
    return moment.isoformat().replace("+00:00", "Z")


def _cowrie_source(event: Mapping[str, Any], *, keep_removed_fields: bool) -> dict[str, Any]:
    eventid = str(event["eventid"])
    source: dict[str, Any] = {
        "event.outcome": eventid.removeprefix("cowrie."),
        "event.code": event.get("session"),
        "source.address": event.get("src_ip"),
        "event.original": event.get("message", ""),
        "event.category": "intrusion_detection",
        "event.kind": "alert",
        "event.type": "indicator",
        "interface.alias": "outside",
        "network.direction": "inbound",
        "network.type": "ipv4",
        "file.directory": "/var/lib/cowrie/downloads/",
    }
    message = event.get("message")
    if isinstance(message, str) and (login := _LOGIN_ACTION.search(message)):
        source["event.action"] = login.group(1)
    renamed = dict(_RENAMED)
    handled = {"eventid", "timestamp", "session", "src_ip", "sensor", "message", "source_enrichment"}
    for key, value in event.items():
        if key in handled:
            continue
        if key in renamed:
            path = renamed[key][0]
            source[path] = value
            if key == "shasum":
                source["related.hash"] = value
            elif key == "dst_ip" and _is_ip(value):
                source["destination.ip"] = value
        elif key in PIPELINE_REMOVED:
            if keep_removed_fields:
                source[key] = value
        else:
            source[key] = value
    if keep_removed_fields:
        source.update({k: event[k] for k in ("eventid", "timestamp", "sensor") if k in event})
    ttylog = event.get("ttylog")
    if isinstance(ttylog, str) and (tty := _TTY_TRANSACTION.search(ttylog)):
        source["transaction.id"] = tty.group(1)
    return source


def _firewall_source(event: Mapping[str, Any]) -> dict[str, Any]:
    # The iptables grok captures numbers as strings; the document keeps them that way.
    source: dict[str, Any] = {
        "source.ip": event.get("src_ip"),
        "source.address": event.get("src_ip"),
        "network.transport": event.get("transport", ""),
        "event.category": "network",
        "event.kind": "event",
        "event.type": "denied",
        "event.outcome": "failure",
        "interface.alias": "outside",
        "network.direction": "inbound",
        "network.type": "ipv4",
    }
    for key, path in (("dst_port", "destination.port"), ("src_port", "source.port"), ("ttl", "network.ttl")):
        if event.get(key) is not None:
            source[path] = str(event[key])
    if event.get("dst_ip"):
        source["destination.ip"] = event["dst_ip"]
        source["destination.address"] = event["dst_ip"]
    if event.get("message"):
        source["event.original"] = event["message"]
    return source


def _web_source(event: Mapping[str, Any]) -> dict[str, Any]:
    url = str(event.get("url", ""))
    source: dict[str, Any] = {
        "source.address": event.get("src_ip"),
        "source.ip": event.get("src_ip"),
        "http.request.method": event.get("method", ""),
        "url.original": url,
        "http.request.body.content": url,
        # the pipeline's last ruby filter: Base64.encode64 (newline every 60 chars and at the end)
        "url.query": base64.encodebytes(url.encode("utf-8")).decode("ascii"),
        "user_agent.original": event.get("user_agent", ""),
        "event.category": "intrusion_detection",
        "event.kind": "alert",
        "event.type": "indicator",
        "event.outcome": "unknown",
        "file.directory": "/srv/db/",
        "interface.alias": "outside",
        "network.direction": "inbound",
        "network.type": "ipv4",
        "http.response.status_code": "200",
    }
    if event.get("rule") is not None:
        source["rule.name"] = event["rule"]
    if event.get("dst_port") is not None:
        source["destination.port"] = str(event["dst_port"])
        source["url.port"] = str(event["dst_port"])
    if event.get("dst_ip"):
        source["destination.address"] = event["dst_ip"]
    if event.get("message"):
        source["event.original"] = event["message"]
    return source


def _is_ip(value: Any) -> bool:
    try:
        ipaddress.ip_address(str(value))
    except ValueError:
        return False
    return True


def _write_enrichment(source: dict[str, Any], src_ip: str, known: SourceEnrichment | None) -> None:
    """Write geoip/translate results the way the pipeline's filters lay them out."""
    source["event.reference"] = (known.scanner if known and known.scanner else None) or NO_SCANNER_MATCH
    if known is None or not known:
        return
    if known.reverse_dns:
        source["source.domain"] = known.reverse_dns
        source["related.hosts"] = known.reverse_dns
    geo: dict[str, Any] = {}
    for name in ("country_iso_code", "country_name", "city_name", "continent_code"):
        if getattr(known, name) is not None:
            geo[name] = getattr(known, name)
    if known.latitude is not None and known.longitude is not None:
        geo["location"] = {"lat": known.latitude, "lon": known.longitude}
    if geo:
        # geoip (City database) with target "source": nested object
        source["source"] = {"geo": geo, "ip": src_ip}
    if known.asn is not None or known.as_org is not None:
        # geoip (ASN database) with target "source.geo": logstash writes a literal dotted key
        asys: dict[str, Any] = {}
        if known.asn is not None:
            asys["number"] = known.asn
        if known.as_org is not None:
            asys["organization"] = {"name": known.as_org}
        source["source.geo"] = {"as": asys, "ip": src_ip}


def nest_dotted(source: Mapping[str, Any]) -> dict[str, Any]:
    """The same document with every dotted key expanded into nested objects (merged)."""
    out: dict[str, Any] = {}
    for key, value in source.items():
        parts = key.split(".")
        target = out
        for part in parts[:-1]:
            child = target.get(part)
            if not isinstance(child, dict):
                child = {}
                target[part] = child
            target = child
        leaf = parts[-1]
        expanded = nest_dotted(value) if isinstance(value, Mapping) else value
        if isinstance(target.get(leaf), dict) and isinstance(expanded, dict):
            _merge(target[leaf], expanded)
        else:
            target[leaf] = expanded
    return out


def _merge(into: dict[str, Any], other: Mapping[str, Any]) -> None:
    for key, value in other.items():
        if isinstance(into.get(key), dict) and isinstance(value, Mapping):
            _merge(into[key], value)
        else:
            into[key] = value
