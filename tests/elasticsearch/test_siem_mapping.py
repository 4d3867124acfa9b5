"""DShield-SIEM documents <-> Cowrie events: faithful to the logstash pipeline, lossless where it is."""

from __future__ import annotations

import copy
import json
import re
from typing import Any

import pytest

from coord_core.contracts.events import ClientSize, FirewallHit, LoginAttempt, WebRequest, parse_event
from coord_core.ingest.sessionize import sessionize
from coord_core.ingest.siem_mapping import (
    PIPELINE_REMOVED,
    SiemMappingError,
    SourceEnrichment,
    collect_source_enrichment,
    flatten_document,
    siem_document_to_event_dict,
    siem_hit_to_event,
    source_enrichment_of,
)
from coord_core.scenarios.siem_writer import event_to_siem_document
from tests.elasticsearch.support import real_events


def _round_trip(events: list[dict[str, Any]], **options: Any) -> list[Any]:
    out = []
    for event in events:
        doc = event_to_siem_document(event, **options)
        # through JSON, as Elasticsearch returns it
        hit = {"_index": doc.index, "_id": doc.doc_id, "_source": json.loads(json.dumps(doc.source))}
        out.append(siem_hit_to_event(hit))
    return out


@pytest.mark.parametrize("nested", [False, True], ids=["dotted-keys", "nested-objects"])
def test_real_sample_round_trips_to_identical_sessions_when_the_pipeline_keeps_every_field(
    nested: bool,
) -> None:
    events = real_events()
    from_file = sessionize(parse_event(e) for e in events)
    from_siem = sessionize(_round_trip(events, keep_removed_fields=True, nested=nested))
    assert len(from_file) == 474
    assert from_siem == from_file


def test_real_sample_through_the_stock_pipeline_loses_only_the_kex_algorithm_lists() -> None:
    events = real_events()
    from_file = sessionize(parse_event(e) for e in events)
    from_siem = sessionize(_round_trip(events))
    assert len(from_siem) == len(from_file)
    with_kex = [s for s in from_file if s.kex_algs]
    assert with_kex, "the sample has cowrie.client.kex events"
    # The pipeline removes kexAlgs/keyAlgs/compCS/langCS; everything else of every session survives.
    assert [s.model_copy(update={"kex_algs": []}) for s in from_file] == from_siem
    assert all(s.hassh for s in from_siem if s.session_id in {k.session_id for k in with_kex})


def test_every_real_event_maps_both_ways_with_its_own_fields() -> None:
    for event in real_events():
        doc = event_to_siem_document(event, keep_removed_fields=True)
        back = siem_document_to_event_dict(
            json.loads(json.dumps(doc.source)), index=doc.index, doc_id=doc.doc_id
        )
        assert back == event, event["eventid"]


def test_generated_documents_have_the_layout_the_logstash_pipeline_writes() -> None:
    events = real_events()
    login = next(e for e in events if e["eventid"] == "cowrie.login.failed")
    doc = event_to_siem_document(login)
    source = doc.source
    assert not set(PIPELINE_REMOVED) & set(source), "the pipeline's last mutate removes these"
    assert source["event.outcome"] == "login.failed"  # grok cowrie.%{GREEDYDATA:event.outcome}
    assert source["event.code"] == login["session"]
    assert source["source.address"] == login["src_ip"]
    assert source["related.ip"] == login["src_ip"]
    assert source["user.name"] == login["username"]
    assert source["user.password"] == login["password"]
    assert source["event.action"] == "failed"
    assert source["event.original"] == login["message"]
    assert source["event.dataset"] == "honeypot"
    assert source["event.reference"] == "no match"
    assert source["host"] == {"name": login["sensor"]}
    assert source["@timestamp"] == login["timestamp"]  # full precision, as logstash 8 keeps it
    assert doc.index == "cowrie-2025.10.24-000001"


def test_command_is_what_the_pipeline_grok_extracts_from_the_message() -> None:
    grok = re.compile(r"(?:CMD:|Command found:|Command not found:)\s+(.*)")
    commands = [e for e in real_events() if e["eventid"].startswith("cowrie.command")]
    assert commands
    for event in commands:
        source = event_to_siem_document(event).source
        match = grok.search(event["message"])
        assert match is not None
        assert source["source.user.command"] == match.group(1) == event["input"]


# A document written by hand the way DShield-SIEM's logstash-200-filter-cowrie.conf lays it out
# (renamed fields as literal dotted keys, geoip results as objects, ASN under the dotted
# "source.geo" target, filebeat metadata nested), independent of event_to_siem_document.
PIPELINE_LOGIN_DOC: dict[str, Any] = {
    "@timestamp": "2025-10-24T04:02:55.621164Z",
    "@version": "1",
    "event.outcome": "login.success",
    "event.action": "succeeded",
    "event.code": "c4bed216e8fb",
    "event.original": "login attempt [node/node] succeeded",
    "event.dataset": "honeypot",
    "event.category": "intrusion_detection",
    "event.kind": "alert",
    "event.type": "indicator",
    "event.ingested": "2025-10-24T04:02:57.000Z",
    "event.reference": "Censys",
    "source.address": "193.32.162.146",
    "source.domain": "scanner-17.example.net",
    "related.ip": "193.32.162.146",
    "related.hosts": "scanner-17.example.net",
    "user.name": "node",
    "user.password": "node",
    "interface.alias": "outside",
    "network.direction": "inbound",
    "network.type": "ipv4",
    "file.directory": "/var/lib/cowrie/downloads/",
    "source": {
        "ip": "193.32.162.146",
        "geo": {
            "country_iso_code": "NL",
            "country_name": "Netherlands",
            "city_name": "Amsterdam",
            "continent_code": "EU",
            "location": {"lat": 52.37, "lon": 4.89},
        },
    },
    "source.geo": {
        "as": {"number": 47890, "organization": {"name": "Unmanaged Ltd"}},
        "ip": "193.32.162.146",
    },
    "host": {"name": "37e2115ebaeb"},
    "agent": {"type": "filebeat", "version": "8.19.15"},
    "log": {"file": {"path": "/srv/cowrie/var/log/cowrie/cowrie.json"}},
    "input": {"type": "filestream"},
    "ecs": {"version": "8.0.0"},
}


def test_a_pipeline_document_maps_to_its_cowrie_event_with_geo_asn_and_scanner_kept() -> None:
    hit = {"_index": "cowrie-2025.10.24-000001", "_id": "AbC123", "_source": PIPELINE_LOGIN_DOC}
    event = siem_hit_to_event(hit)
    assert isinstance(event, LoginAttempt)
    assert event.eventid == "cowrie.login.success"
    assert event.success
    assert (event.session, event.src_ip, event.sensor) == ("c4bed216e8fb", "193.32.162.146", "37e2115ebaeb")
    assert (event.username, event.password) == ("node", "node")
    assert event.timestamp.microsecond == 621164
    enrichment = source_enrichment_of(event)
    assert enrichment == SourceEnrichment(
        asn=47890,
        as_org="Unmanaged Ltd",
        country_iso_code="NL",
        country_name="Netherlands",
        city_name="Amsterdam",
        continent_code="EU",
        latitude=52.37,
        longitude=4.89,
        scanner="Censys",
        reverse_dns="scanner-17.example.net",
    )


def test_legacy_asn_fields_and_no_scanner_match_are_read() -> None:
    source = copy.deepcopy(PIPELINE_LOGIN_DOC)
    del source["source.geo"]
    source["source.asn"] = 14061
    source["source.as_org"] = "DIGITALOCEAN-ASN"
    source["event.reference"] = "no match"
    event = siem_hit_to_event({"_index": "cowrie-x", "_id": "1", "_source": source})
    enrichment = source_enrichment_of(event)
    assert enrichment is not None
    assert (enrichment.asn, enrichment.as_org, enrichment.scanner) == (14061, "DIGITALOCEAN-ASN", None)


def test_enrichment_side_table_keeps_the_latest_facts_per_source_ip() -> None:
    def lookup(ip: str) -> SourceEnrichment | None:
        return SourceEnrichment(asn=64500 + int(ip.rsplit(".", maxsplit=1)[-1]) % 7, country_iso_code="ZZ")

    events = real_events()[:200]
    mapped = []
    for event in events:
        doc = event_to_siem_document(event, enrichment=lookup)
        mapped.append(siem_hit_to_event({"_index": doc.index, "_id": doc.doc_id, "_source": doc.source}))
    table = collect_source_enrichment(mapped)
    assert set(table) == {e["src_ip"] for e in events}
    for ip, facts in table.items():
        assert facts == lookup(ip)


def test_flatten_merges_dotted_and_nested_spellings() -> None:
    flat = flatten_document({"a.b": 1, "a": {"c": 2, "b": 1}, "x": [{"y": 1}, {"y": 2}], "z": [1, 2]})
    assert flat["a.b"] == 1
    assert flat["a.c"] == 2
    assert flat["x.y"] == [1, 2]
    assert flat["z"] == [1, 2]


def _cowrie_doc(**changes: Any) -> dict[str, Any]:
    source = copy.deepcopy(PIPELINE_LOGIN_DOC)
    for key, value in changes.items():
        if value is None:
            source.pop(key, None)
        else:
            source[key] = value
    return source


@pytest.mark.parametrize(
    ("changes", "field", "problem"),
    [
        ({"event.code": None}, "event.code", "is missing"),
        ({"@timestamp": None}, "@timestamp", "is missing"),
        ({"@timestamp": "yesterday"}, "@timestamp", "not a date"),
        ({"event.outcome": None}, "event.outcome", "is missing"),
        ({"event.outcome": "failure"}, "event.outcome", "ECS outcome"),
        ({"source.address": ["193.32.162.146", "198.51.100.9"]}, "source.address", "2 different values"),
        ({"source.address": "not-an-ip", "source": None}, "source.address", "not an IP address"),
        ({"destination.port": "ssh"}, "destination.port", "expected an integer"),
        ({"user.name": {"first": "x"}}, "user.name", "is an object"),
    ],
)
def test_unmappable_documents_name_index_id_and_field(
    changes: dict[str, Any], field: str, problem: str
) -> None:
    source = _cowrie_doc(**changes)
    with pytest.raises(SiemMappingError) as caught:
        siem_hit_to_event({"_index": "cowrie-2025.10.24-000001", "_id": "doc-7", "_source": source})
    error = caught.value
    assert (error.index, error.doc_id, error.field) == ("cowrie-2025.10.24-000001", "doc-7", field)
    assert problem in str(error)
    assert "cowrie-2025.10.24-000001/doc-7" in str(error)


def test_single_element_arrays_are_one_value() -> None:
    source = _cowrie_doc(**{"source.address": ["193.32.162.146"], "related.ip": ["193.32.162.146"]})
    event = siem_hit_to_event({"_index": "cowrie-x", "_id": "1", "_source": source})
    assert event.src_ip == "193.32.162.146"


def test_validation_failures_after_mapping_name_the_document_field() -> None:
    source = _cowrie_doc(**{"event.outcome": "session.connect", "source.port": 70000})
    with pytest.raises(SiemMappingError) as caught:
        siem_hit_to_event({"_index": "cowrie-x", "_id": "9", "_source": source})
    assert caught.value.field == "source.port"


def test_a_document_outside_every_dshield_index_without_dataset_is_refused() -> None:
    source = _cowrie_doc(**{"event.dataset": None})
    with pytest.raises(SiemMappingError) as caught:
        siem_hit_to_event({"_index": "other-index", "_id": "1", "_source": source})
    assert caught.value.field == "event.dataset"


def test_hit_without_source_is_refused() -> None:
    with pytest.raises(SiemMappingError, match=r"_source"):
        siem_hit_to_event({"_index": "cowrie-x", "_id": "1"})


# Firewall and web documents as logstash-201/-202 write them: grok captures are strings.
FIREWALL_DOC: dict[str, Any] = {
    "@timestamp": "2023-01-21T13:56:58.000Z",
    "source.ip": "137.184.200.185",
    "source.address": "137.184.200.185",
    "related.ip": "137.184.200.185",
    "destination.ip": "192.168.25.105",
    "destination.address": "192.168.25.105",
    "source.port": "53322",
    "destination.port": "2222",
    "network.transport": "TCP",
    "network.ttl": "50",
    "network.bytes": "60",
    "event.id": "28738",
    "event.dataset": "iptables",
    "event.outcome": "failure",
    "event.reference": "no match",
    "host": {"name": "pi-sensor"},
}

WEB_DOC: dict[str, Any] = {
    "@timestamp": "2024-06-22T10:11:12.123456Z",
    "source.address": "203.0.113.5",
    "source.ip": "203.0.113.5",
    "destination.address": "192.168.25.105",
    "http.request.method": "GET",
    "url.original": "/.env",
    "url.query": "Ly5lbnY=\n",
    "user_agent.original": "Mozilla/5.0 zgrab/0.x",
    "rule.name": "Env file access",
    "destination.port": "8080",
    "url.port": "8080",
    "event.dataset": "webhoneypot",
    "event.outcome": "unknown",
    "host": {"name": "pi-sensor"},
}


def test_firewall_documents_become_firewall_events_keyed_by_document_id() -> None:
    event = siem_hit_to_event(
        {"_index": "cowrie.dshield-2023.01.21-000001", "_id": "fw1", "_source": FIREWALL_DOC}
    )
    assert isinstance(event, FirewallHit)
    assert (event.eventid, event.session, event.src_ip, event.sensor) == (
        "dshield.firewall",
        "fw1",
        "137.184.200.185",
        "pi-sensor",
    )
    assert (event.transport, event.dst_port, event.ttl) == ("TCP", 2222, 50)
    assert (event.model_extra or {})["src_port"] == 53322


def test_web_documents_become_web_requests_keyed_by_document_id() -> None:
    event = siem_hit_to_event(
        {"_index": "cowrie.webhoneypot-2024.06.22-000001", "_id": "w1", "_source": WEB_DOC}
    )
    assert isinstance(event, WebRequest)
    assert (event.session, event.method, event.url, event.dst_port, event.rule) == (
        "w1",
        "GET",
        "/.env",
        8080,
        "Env file access",
    )
    assert event.user_agent == "Mozilla/5.0 zgrab/0.x"


@pytest.mark.parametrize("doc", [FIREWALL_DOC, WEB_DOC], ids=["firewall", "web"])
def test_firewall_and_web_events_round_trip(doc: dict[str, Any]) -> None:
    index = "cowrie.dshield-x" if doc is FIREWALL_DOC else "cowrie.webhoneypot-x"
    event = siem_document_to_event_dict(doc, index=index, doc_id="d1")
    again = event_to_siem_document(event)
    assert again.doc_id == "d1"
    assert siem_document_to_event_dict(again.source, index=again.index, doc_id=again.doc_id) == event


def test_an_unknown_cowrie_event_id_is_kept_with_its_fields() -> None:
    event = {
        "eventid": "cowrie.client.fingerprint",
        "timestamp": "2025-10-24T04:02:55.900000Z",
        "session": "c4bed216e8fb",
        "src_ip": "193.32.162.146",
        "sensor": "s1",
        "message": "public key attempt",
        "fingerprint": "9d:38:5b:83:a9:17:52:92:56:1a:5e:c4:d4:81:8e:0a",
    }
    doc = event_to_siem_document(event)
    assert doc.source["event.outcome"] == "client.fingerprint"
    back = siem_hit_to_event({"_index": doc.index, "_id": doc.doc_id, "_source": doc.source})
    assert back.eventid == "cowrie.client.fingerprint"
    assert (back.model_extra or {}).get("fingerprint") == event["fingerprint"]


def test_a_terminal_size_event_comes_back_from_the_index_as_its_model() -> None:
    event = {
        "eventid": "cowrie.client.size",
        "timestamp": "2025-10-24T04:02:55.900000Z",
        "session": "c4bed216e8fb",
        "src_ip": "193.32.162.146",
        "sensor": "s1",
        "message": "Terminal Size: 211 51",
        "width": 211,
        "height": 51,
    }
    doc = event_to_siem_document(event)
    back = siem_hit_to_event({"_index": doc.index, "_id": doc.doc_id, "_source": doc.source})
    assert isinstance(back, ClientSize)
    assert (back.width, back.height) == (211, 51)
