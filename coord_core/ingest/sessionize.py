"""Group events into :class:`AttackSession` objects and assign them to data intervals.

A session belongs to the interval that contains its first event. Callers read a slack margin
on both sides of the interval so that sessions straddling an edge are seen whole and counted
exactly once.
"""

from __future__ import annotations

import hashlib
import json
import re
from collections import defaultdict
from collections.abc import Iterable, Sequence
from datetime import datetime
from operator import attrgetter
from typing import Any

from coord_core.contracts.events import (
    CowrieEvent,
    EventRecord,
    event_model,
    event_record,
)
from coord_core.contracts.sessions import (
    AttackSession,
    TcpipRequest,
)

_KIND_BY_EVENT = {"dshield.web.request": "web", "dshield.firewall": "firewall"}


def sessionize(events: Iterable[CowrieEvent | EventRecord]) -> list[AttackSession]:
    """Aggregate events by (sensor, session); order within a session is by timestamp, then input."""
    grouped: dict[tuple[str, str], list[CowrieEvent | EventRecord]] = defaultdict(list)
    for event in events:
        grouped[(event.sensor, event.session)].append(event)
    sessions = [session_from_events(items) for items in grouped.values()]
    sessions.sort(key=lambda s: (s.start, s.sensor, s.session_id))
    return sessions


def event_digest(event: CowrieEvent) -> bytes:
    """Canonical digest of an event's content: every field, parsed, keys sorted.

    Two records of one event (a log read twice, as ``x.json`` and ``x.json.gz``; a line repeated
    by a shipper; the same document with its keys in another order) have the same digest.
    """
    canonical = json.dumps(
        event.model_dump(mode="json"), sort_keys=True, separators=(",", ":"), ensure_ascii=False
    )
    return hashlib.sha256(canonical.encode("utf-8", "surrogatepass")).digest()


def as_record(event: CowrieEvent | EventRecord) -> EventRecord:
    """The plain record of an event (records pass through)."""
    return event if isinstance(event, EventRecord) else event_record(event)


def _without_copies(ordered: list[EventRecord]) -> list[EventRecord]:
    """``ordered`` (stably sorted by time) with identical copies removed, the first copy kept.

    Copies share their event id and timestamp, so only a run of one timestamp is looked into:
    distinct times cost one comparison. Dropping copies after a stable sort keeps the same
    events in the same order as dropping them before it.
    """
    kept: list[EventRecord] = []
    i, n = 0, len(ordered)
    while i < n:
        j = i + 1
        while j < n and ordered[j].timestamp == ordered[i].timestamp:
            j += 1
        if j - i == 1:
            kept.append(ordered[i])
        else:
            kept.extend(_unique_in_run(ordered[i:j]))
        i = j
    return kept


def _unique_in_run(run: list[EventRecord]) -> list[EventRecord]:
    """Events of one timestamp without identical copies: only events that share an event id are
    digested (from their models)."""
    first: dict[str, EventRecord] = {}
    digests: dict[str, set[bytes]] = {}
    kept: list[EventRecord] = []
    for event in run:
        earlier = first.get(event.eventid)
        if earlier is None:
            first[event.eventid] = event
        else:
            seen = digests.get(event.eventid)
            if seen is None:
                seen = digests[event.eventid] = {event_digest(event_model(earlier))}
            digest = event_digest(event_model(event))
            if digest in seen:
                continue
            seen.add(digest)
        kept.append(event)
    return kept


_by_time = attrgetter("timestamp")
# How each modelled event id adds to its session (a test keeps this in step with the models);
# any other id is only counted, and listed as unknown.
_CONNECT, _CLOSED, _VERSION, _KEX, _LOGIN, _COMMAND, _FAILED_COMMAND = range(7)
_DOWNLOAD, _DOWNLOAD_FAILED, _UPLOAD, _PARAMS, _TCPIP, _TCPIP_DATA, _LOG_CLOSED, _PORT = range(7, 15)
_SIZE, _VAR = range(15, 17)
# A client may send any number of env requests: a session keeps the first few (a toolkit's own
# set is short; a flood is the attacker's, not a fingerprint worth the memory).
MAX_ENV_REQUESTS = 16
EVENT_ROLES: dict[str, int] = {
    "cowrie.session.connect": _CONNECT,
    "cowrie.session.closed": _CLOSED,
    "cowrie.client.version": _VERSION,
    "cowrie.client.kex": _KEX,
    "cowrie.client.size": _SIZE,
    "cowrie.client.var": _VAR,
    "cowrie.login.failed": _LOGIN,
    "cowrie.login.success": _LOGIN,
    "cowrie.command.input": _COMMAND,
    "cowrie.command.failed": _FAILED_COMMAND,
    "cowrie.session.file_download": _DOWNLOAD,
    "cowrie.session.file_download.failed": _DOWNLOAD_FAILED,
    "cowrie.session.file_upload": _UPLOAD,
    "cowrie.session.params": _PARAMS,
    "cowrie.direct-tcpip.request": _TCPIP,
    "cowrie.direct-tcpip.data": _TCPIP_DATA,
    "cowrie.log.closed": _LOG_CLOSED,
    "dshield.web.request": _PORT,
    "dshield.firewall": _PORT,
}


def session_from_events(events: Sequence[CowrieEvent | EventRecord]) -> AttackSession:
    """Aggregate the events of one (sensor, session); order is by timestamp, then input order.

    Identical events count once (DESIGN: "Identical events count once"), whichever path
    delivered them: the copies are dropped here, within the session, so memory stays bounded by
    the session, and every caller (files, the staged events of the DAG, validate's rebuild) gets
    the same session from the same distinct events. Event models and plain records give the
    same session.
    """
    ordered = _without_copies(sorted((as_record(event) for event in events), key=_by_time))
    first = ordered[0]
    start, end = first.timestamp, ordered[-1].timestamp
    fields: dict[str, object] = {
        "session_id": first.session,
        "sensor": first.sensor,
        "src_ip": first.src_ip,
        "start": start,
        "end": end,
        "event_count": len(ordered),
        "kind": _KIND_BY_EVENT.get(first.eventid, "cowrie"),
    }
    # The parts are validated into their models with the session, in one call.
    logins: list[dict[str, Any]] = []
    commands: list[str] = []
    downloads: list[dict[str, Any]] = []
    uploads: list[dict[str, Any]] = []
    tcpip: list[dict[str, Any] | TcpipRequest] = []
    env: list[str] = []
    unknown: list[str] = []
    counts: dict[str, int] = {}
    for event in ordered:
        eventid = event.eventid
        counts[eventid] = counts.get(eventid, 0) + 1
        role = EVENT_ROLES.get(eventid)
        values = event.values
        if role is None:
            unknown.append(eventid)
        elif role == _LOGIN:
            logins.append(
                {
                    "username": values["username"],
                    "password": values["password"],
                    "success": eventid == "cowrie.login.success",
                    "key_fingerprint": values["fingerprint"],
                }
            )
        elif role == _COMMAND:
            commands.append(values["input"])
        elif role == _FAILED_COMMAND:
            # Cowrie logs an unknown command twice, as command.input then command.failed.
            if commands[-1:] != [values["input"]]:
                commands.append(values["input"])
        elif role == _CONNECT:
            fields.update(
                src_ip=event.src_ip,
                src_port=values["src_port"],
                dst_ip=values["dst_ip"],
                dst_port=values["dst_port"],
                protocol=values["protocol"],
                has_connect=True,
            )
        elif role == _CLOSED:
            fields["has_close"] = True
            if values["duration"] is not None:
                fields["duration"] = values["duration"]
        elif role == _VERSION:
            fields["client_version"] = values["version"]
        elif role == _KEX:
            fields.update(
                hassh=values["hassh"] or None,
                hassh_algorithms=values["hasshAlgorithms"] or None,
                kex_algs=list(values["kexAlgs"]),
            )
        elif role == _SIZE:
            fields["terminal"] = f"{values['width']}x{values['height']}"
        elif role == _VAR:
            if len(env) < MAX_ENV_REQUESTS:
                env.append(f"{values['name']}={values['value']}")
        elif role == _DOWNLOAD:
            downloads.append({"url": values["url"], "shasum": values["shasum"]})
        elif role == _DOWNLOAD_FAILED:
            downloads.append({"url": values["url"], "failed": True})
        elif role == _UPLOAD:
            uploads.append({"filename": values["filename"], "shasum": values["shasum"]})
        elif role == _PARAMS:
            fields["arch"] = values["arch"]
        elif role == _TCPIP:
            tcpip.append({"dst_ip": values["dst_ip"], "dst_port": values["dst_port"]})
        elif role == _TCPIP_DATA:
            tcpip.append(tunnel_data(values["dst_ip"], values["dst_port"], values["data"]))
        elif role == _LOG_CLOSED:
            fields["ttylog_shasum"] = values["shasum"]
        elif values["dst_port"] is not None:  # _PORT: a web request or firewall hit
            fields["dst_port"] = values["dst_port"]
    if fields.get("duration") is None:
        fields["duration"] = (end - start).total_seconds()
    return AttackSession.model_validate(
        {
            **fields,
            "logins": logins,
            "commands": commands,
            "downloads": downloads,
            "uploads": uploads,
            "tcpip_requests": tcpip,
            "env": env,
            "unknown_event_ids": sorted(set(unknown)),
            "event_ids": dict(sorted(counts.items())),
        }
    )


TUNNEL_PAYLOAD_PREFIX_CHARS = 512
# An HTTP request's Host header inside Cowrie's repr of the bytes (``\r\n`` shows escaped).
_HOST_HEADER = re.compile(r"(?:^|\\n)Host:[ \t]*([A-Za-z0-9.-]{1,253})", re.IGNORECASE)


def tunnel_data(dst_ip: str, dst_port: int, data: str) -> TcpipRequest:
    """Tunnelled bytes (Cowrie's ``repr``) as a digest of their bounded prefix: identical payloads
    compare equal, and no attacker-sized blob is kept; with the host an HTTP request names."""
    prefix = data[:TUNNEL_PAYLOAD_PREFIX_CHARS]
    digest = hashlib.sha256(prefix.encode("utf-8", "backslashreplace")).hexdigest()[:32]
    named = _HOST_HEADER.search(prefix)
    return TcpipRequest(
        dst_ip=dst_ip,
        dst_port=dst_port,
        payload=digest,
        payload_chars=len(data),
        payload_host=named.group(1).lower() if named else None,
    )


def in_window(session: AttackSession, start: datetime, end: datetime) -> bool:
    """True when the session started inside ``[start, end)``: that interval owns it."""
    return start <= session.start < end
