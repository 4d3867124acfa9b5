"""Group events into :class:`AttackSession` objects and assign them to data intervals.

A session belongs to the interval that contains its first event. Callers read a slack margin
on both sides of the interval so that sessions straddling an edge are seen whole and counted
exactly once.
"""

from __future__ import annotations

import hashlib
import json
from collections import Counter, defaultdict
from collections.abc import Iterable
from datetime import datetime

from coord_core.contracts import events as ev
from coord_core.contracts.events import KNOWN_EVENT_IDS, CowrieEvent
from coord_core.contracts.sessions import (
    AttackSession,
    Download,
    LoginAttempt,
    TcpipRequest,
    Upload,
)

_KIND_BY_EVENT = {"dshield.web.request": "web", "dshield.firewall": "firewall"}


def sessionize(events: Iterable[CowrieEvent]) -> list[AttackSession]:
    """Aggregate events by (sensor, session); order within a session is by timestamp, then input."""
    grouped: dict[tuple[str, str], list[tuple[datetime, int, CowrieEvent]]] = defaultdict(list)
    for seq, event in enumerate(events):
        grouped[(event.sensor, event.session)].append((event.timestamp, seq, event))
    sessions = [session_from_events([event for _, _, event in items]) for items in grouped.values()]
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


def unique_events(events: Iterable[CowrieEvent]) -> list[CowrieEvent]:
    """The events with identical copies removed (the first copy kept, input order otherwise kept).

    Copies share their event id and timestamp, so only events that collide on those two are
    digested: distinct events cost a dictionary lookup.
    """
    first: dict[tuple[str, datetime], CowrieEvent] = {}
    digests: dict[tuple[str, datetime], set[bytes]] = {}
    kept: list[CowrieEvent] = []
    for event in events:
        key = (event.eventid, event.timestamp)
        earlier = first.get(key)
        if earlier is None:
            first[key] = event
        else:
            seen = digests.setdefault(key, {event_digest(earlier)})
            digest = event_digest(event)
            if digest in seen:
                continue
            seen.add(digest)
        kept.append(event)
    return kept


def session_from_events(events: list[CowrieEvent]) -> AttackSession:
    """Aggregate the events of one (sensor, session); order is by timestamp, then input order.

    Identical events count once (DESIGN: "Identical events count once"), whichever path
    delivered them: the copies are dropped here, within the session, so memory stays bounded by
    the session, and every caller (files, the staged events of the DAG, validate's rebuild) gets
    the same session from the same distinct events.
    """
    events = unique_events(events)
    items = sorted(((event.timestamp, seq, event) for seq, event in enumerate(events)), key=lambda i: i[:2])
    ordered = [event for _, _, event in items]
    first = ordered[0]
    fields: dict[str, object] = {
        "session_id": first.session,
        "sensor": first.sensor,
        "src_ip": first.src_ip,
        "start": items[0][0],
        "end": items[-1][0],
        "event_count": len(ordered),
        "kind": _KIND_BY_EVENT.get(first.eventid, "cowrie"),
    }
    logins: list[LoginAttempt] = []
    commands: list[str] = []
    downloads: list[Download] = []
    uploads: list[Upload] = []
    tcpip: list[TcpipRequest] = []
    unknown: list[str] = []
    counts: Counter[str] = Counter()
    for event in ordered:
        counts[event.eventid] += 1
        match event:
            case ev.SessionConnect():
                fields.update(
                    src_ip=event.src_ip,
                    src_port=event.src_port,
                    dst_ip=event.dst_ip,
                    dst_port=event.dst_port,
                    protocol=event.protocol,
                    has_connect=True,
                )
            case ev.SessionClosed():
                fields["has_close"] = True
                if event.duration is not None:
                    fields["duration"] = event.duration
            case ev.ClientVersion():
                fields["client_version"] = event.version
            case ev.ClientKex():
                fields.update(
                    hassh=event.hassh or None,
                    hassh_algorithms=event.hasshAlgorithms or None,
                    kex_algs=list(event.kexAlgs),
                )
            case ev.LoginAttempt():
                logins.append(
                    LoginAttempt(
                        username=event.username,
                        password=event.password,
                        success=event.success,
                        key_fingerprint=event.fingerprint,
                    )
                )
            case ev.CommandInput():
                # Cowrie logs an unknown command twice, as command.input then command.failed.
                repeat = event.eventid == "cowrie.command.failed" and commands[-1:] == [event.input]
                if not repeat:
                    commands.append(event.input)
            case ev.FileDownload():
                downloads.append(Download(url=event.url, shasum=event.shasum))
            case ev.FileDownloadFailed():
                downloads.append(Download(url=event.url, failed=True))
            case ev.FileUpload():
                uploads.append(Upload(filename=event.filename, shasum=event.shasum))
            case ev.SessionParams():
                fields["arch"] = event.arch
            case ev.DirectTcpipRequest():
                tcpip.append(TcpipRequest(dst_ip=event.dst_ip, dst_port=event.dst_port))
            case ev.DirectTcpipData():
                tcpip.append(tunnel_data(event.dst_ip, event.dst_port, event.data))
            case ev.LogClosed():
                fields["ttylog_shasum"] = event.shasum
            case ev.WebRequest() | ev.FirewallHit():
                if event.dst_port is not None:
                    fields["dst_port"] = event.dst_port
            case _:
                if event.eventid not in KNOWN_EVENT_IDS:
                    unknown.append(event.eventid)
    if fields.get("duration") is None:
        fields["duration"] = (items[-1][0] - items[0][0]).total_seconds()
    return AttackSession.model_validate(
        {
            **fields,
            "logins": logins,
            "commands": commands,
            "downloads": downloads,
            "uploads": uploads,
            "tcpip_requests": tcpip,
            "unknown_event_ids": sorted(set(unknown)),
            "event_ids": dict(sorted(counts.items())),
        }
    )


TUNNEL_PAYLOAD_PREFIX_CHARS = 512


def tunnel_data(dst_ip: str, dst_port: int, data: str) -> TcpipRequest:
    """Tunnelled bytes (Cowrie's ``repr``) as a digest of their bounded prefix: identical payloads
    compare equal, and no attacker-sized blob is kept."""
    prefix = data[:TUNNEL_PAYLOAD_PREFIX_CHARS]
    digest = hashlib.sha256(prefix.encode("utf-8", "backslashreplace")).hexdigest()[:32]
    return TcpipRequest(dst_ip=dst_ip, dst_port=dst_port, payload=digest, payload_chars=len(data))


def in_window(session: AttackSession, start: datetime, end: datetime) -> bool:
    """True when the session started inside ``[start, end)``: that interval owns it."""
    return start <= session.start < end
