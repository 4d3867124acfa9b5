"""Helpers shared by the Elasticsearch tests: DShield-SIEM-like indices and loading documents."""

from __future__ import annotations

import json
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from elasticsearch import Elasticsearch, helpers

from coord_core.ingest.siem_mapping import (
    INDEX_PREFIX,
    KIND_COWRIE,
    KIND_FIREWALL,
    KIND_WEB,
    SiemDocument,
)
from coord_core.scenarios.siem_writer import event_to_siem_document

REPO = Path(__file__).resolve().parents[2]
REAL_SAMPLE = REPO / "include" / "sample_data" / "tpot-cowrie-2025-10-24.json"

# Field types as DShield-SIEM's index templates (scripts/cowrie*-index.json) declare them for the
# fields this project reads; strings default to keyword and numeric strings are detected, as there.
DSHIELD_LIKE_MAPPINGS: dict[str, Any] = {
    "numeric_detection": True,
    "dynamic_templates": [
        {
            "strings_as_keyword": {
                "match_mapping_type": "string",
                "mapping": {"type": "keyword", "ignore_above": 1024},
            }
        }
    ],
    "properties": {
        "@timestamp": {"type": "date"},
        "event": {
            "properties": {
                "code": {"type": "keyword"},
                "outcome": {"type": "keyword"},
                "duration": {"type": "long"},
                "original": {"type": "keyword"},
                "reference": {"type": "keyword"},
                "dataset": {"type": "keyword"},
                "ingested": {"type": "date"},
            }
        },
        "source": {
            "properties": {
                "address": {"type": "keyword", "ignore_above": 1024},
                "ip": {"type": "ip"},
                "port": {"type": "long"},
                "asn": {"type": "long"},
                "as_org": {"type": "keyword"},
                "geo": {
                    "properties": {
                        "country_iso_code": {"type": "keyword"},
                        "country_name": {"type": "keyword"},
                        "city_name": {"type": "keyword"},
                        "location": {"type": "geo_point"},
                    }
                },
                "user": {"properties": {"command": {"type": "keyword"}}},
            }
        },
        "destination": {
            "properties": {
                "address": {"type": "keyword", "ignore_above": 1024},
                "ip": {"type": "ip"},
                "port": {"type": "long"},
            }
        },
        "related": {"properties": {"ip": {"type": "ip"}, "hash": {"type": "keyword"}}},
        "user": {"properties": {"name": {"type": "keyword"}, "password": {"type": "keyword"}}},
        "ssh": {"properties": {"client": {"type": "keyword"}}},
        "process": {"properties": {"name": {"type": "keyword"}}},
        "network": {"properties": {"protocol": {"type": "keyword"}, "transport": {"type": "keyword"}}},
        "url": {"properties": {"original": {"type": "keyword"}, "port": {"type": "long"}}},
        "http": {"properties": {"method": {"type": "keyword"}}},
        "user_agent": {"properties": {"original": {"type": "keyword"}}},
        "error": {"properties": {"message": {"type": "keyword"}}},
        "host": {"properties": {"name": {"type": "keyword"}}},
    },
}


@dataclass(frozen=True)
class SiemIndices:
    """Index names of one test: DShield-SIEM's prefixes plus the test's unique token."""

    token: str

    def prefix(self, kind: str) -> str:
        return f"{INDEX_PREFIX[kind]}-{self.token}"

    def patterns(self) -> list[str]:
        return [f"{self.prefix(kind)}-*" for kind in (KIND_COWRIE, KIND_FIREWALL, KIND_WEB)]

    def retarget(self, doc: SiemDocument) -> str:
        """The test's index for a document DShield-SIEM would write to ``doc.index``."""
        for kind in (KIND_FIREWALL, KIND_WEB, KIND_COWRIE):  # longest prefixes first
            base = INDEX_PREFIX[kind] + "-"
            if doc.index.startswith(base):
                return self.prefix(kind) + "-" + doc.index[len(base) :]
        raise ValueError(doc.index)


def real_events() -> list[dict[str, Any]]:
    with REAL_SAMPLE.open(encoding="utf-8") as handle:
        return [json.loads(line) for line in handle if line.strip()]


def create_index(
    es: Elasticsearch, name: str, mappings: dict[str, Any] | None = None, shards: int = 1
) -> None:
    es.indices.create(
        index=name,
        mappings=mappings if mappings is not None else DSHIELD_LIKE_MAPPINGS,
        settings={"number_of_shards": shards, "number_of_replicas": 0},
    )


def load(es: Elasticsearch, indices: SiemIndices, docs: Iterable[SiemDocument], *, shards: int = 1) -> int:
    """Index documents into the test's DShield-SIEM-like indices (created on first use), refreshed."""
    docs = list(docs)
    targets = {indices.retarget(d) for d in docs}
    for name in sorted(targets):
        if not es.indices.exists(index=name):
            create_index(es, name, shards=shards)
    actions = ({"_index": indices.retarget(d), "_id": d.doc_id, "_source": d.source} for d in docs)
    count, errors = helpers.bulk(es, actions, chunk_size=500, refresh=True, raise_on_error=True)
    assert not errors
    return count


def load_events(
    es: Elasticsearch, indices: SiemIndices, events: Iterable[dict[str, Any]], **options: Any
) -> int:
    shards = options.pop("shards", 1)
    return load(es, indices, (event_to_siem_document(e, **options) for e in events), shards=shards)


def web_and_firewall_events(sensor: str, first: datetime, count: int) -> list[dict[str, Any]]:
    """DShield firewall probes and web-honeypot requests as event dicts (their ``session`` is the
    document id), one every 97 seconds from ``first``: what ``cowrie.dshield-*`` and
    ``cowrie.webhoneypot-*`` hold next to the Cowrie documents."""
    events: list[dict[str, Any]] = []
    for i in range(count):
        moment = (first + timedelta(seconds=97 * i)).astimezone(UTC)
        stamp = moment.isoformat().replace("+00:00", "Z")
        src = f"91.92.{240 + i % 8}.{10 + i % 40}"
        if i % 2:
            events.append(
                {
                    "eventid": "dshield.web.request",
                    "timestamp": stamp,
                    "session": f"web-{sensor}-{i:05d}",
                    "src_ip": src,
                    "sensor": sensor,
                    "message": f"GET /.env HTTP/1.1 #{i}",
                    "method": "GET",
                    "url": "/.env" if i % 4 == 1 else f"/cgi-bin/luci;stok=/locale?n={i}",
                    "user_agent": "Mozilla/5.0 zgrab/0.x",
                    "dst_port": 8080,
                    "rule": "Env file access",
                }
            )
        else:
            events.append(
                {
                    "eventid": "dshield.firewall",
                    "timestamp": stamp,
                    "session": f"fw-{sensor}-{i:05d}",
                    "src_ip": src,
                    "sensor": sensor,
                    "message": f"DROP IN=eth0 SRC={src} DPT=2222 #{i}",
                    "transport": "TCP",
                    "dst_port": 2222,
                    "ttl": 50,
                    "src_port": 40000 + i,
                }
            )
    return events
