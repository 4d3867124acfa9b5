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
from itertools import islice
from operator import attrgetter, eq, lt

from coord_core.contracts.events import (
    CowrieEvent,
    EventRecord,
    event_model,
    event_record,
)
from coord_core.contracts.sessions import (
    AttackSession,
    DownloadRecord,
    LoginRecord,
    SessionRecord,
    TcpipRequest,
    TunnelRecord,
    UploadRecord,
    session_model,
)
from coord_core.ingest.web_exploits import exploit_urls

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
    times = list(map(_by_time, ordered))
    if not any(map(eq, times, islice(times, 1, None))):
        return ordered  # no two events share a time (the usual case, checked in C)
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
_new_tuple = tuple.__new__
_SUCCESS = "cowrie.login.success"
# How each modelled event id adds to its session (a test keeps this in step with the models);
# any other id is only counted, and listed as unknown.
_CONNECT, _CLOSED, _VERSION, _KEX, _LOGIN, _COMMAND, _FAILED_COMMAND = range(7)
_DOWNLOAD, _DOWNLOAD_FAILED, _UPLOAD, _PARAMS, _TCPIP, _TCPIP_DATA, _LOG_CLOSED, _PORT = range(7, 15)
_SIZE, _VAR, _WEB = range(15, 18)
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
    "dshield.web.request": _WEB,
    "dshield.firewall": _PORT,
}


def session_from_events(events: Sequence[CowrieEvent | EventRecord]) -> AttackSession:
    """Aggregate the events of one (sensor, session) into its validated model (see
    :func:`session_record`)."""
    return session_model(session_record(events))


def session_record(events: Sequence[CowrieEvent | EventRecord]) -> SessionRecord:
    """Aggregate the events of one (sensor, session); order is by timestamp, then input order.

    Identical events count once (DESIGN: "Identical events count once"), whichever path
    delivered them: the copies are dropped here, within the session, so memory stays bounded by
    the session, and every caller (files, the staged events of the DAG, validate's rebuild) gets
    the same session from the same distinct events. Event models and plain records give the
    same session.
    """
    return records_session([as_record(event) for event in events])


def records_session(records: list[EventRecord]) -> SessionRecord:
    """:func:`session_record` of plain records (sorted in place): the values of validated events,
    so the session needs no model (its values are what the model would hold; tests hold it to it)."""
    times = list(map(_by_time, records))
    if all(map(lt, times, islice(times, 1, None))):
        ordered = records  # in time order, no two at one time: no sort, no copies (checked in C)
    else:
        records.sort(key=_by_time)
        ordered = _without_copies(records)
    first = ordered[0]
    start, end = first.timestamp, ordered[-1].timestamp
    src_ip = first.src_ip
    src_port: int | None = None
    dst_ip: str | None = None
    dst_port: int | None = None
    protocol: str | None = None
    duration: float | None = None
    client_version: str | None = None
    hassh: str | None = None
    hassh_algorithms: str | None = None
    kex_algs: list[str] = []
    terminal: str | None = None
    arch: str | None = None
    ttylog_shasum: str | None = None
    has_connect = has_close = False
    logins: list[LoginRecord] = []
    commands: list[str] = []
    downloads: list[DownloadRecord] = []
    uploads: list[UploadRecord] = []
    tcpip: list[TunnelRecord] = []
    env: list[str] = []
    unknown: list[str] = []
    counts: dict[str, int] = {}
    for event in ordered:
        eventid = event.eventid
        counts[eventid] = counts.get(eventid, 0) + 1
        role = EVENT_ROLES.get(eventid)
        values = event.values
        # the roles by how often real logs hold them
        if role == _CONNECT:
            src_ip = event.src_ip
            src_port = values["src_port"]
            dst_ip = values["dst_ip"]
            dst_port = values["dst_port"]
            protocol = values["protocol"]
            has_connect = True
        elif role == _CLOSED:
            has_close = True
            if values["duration"] is not None:
                duration = values["duration"]
        elif role == _LOGIN:
            login = (values["username"], values["password"], eventid == _SUCCESS, values["fingerprint"])
            logins.append(_new_tuple(LoginRecord, login))
        elif role == _VERSION:
            client_version = values["version"]
        elif role == _KEX:
            hassh = values["hassh"] or None
            hassh_algorithms = values["hasshAlgorithms"] or None
            kex_algs = list(values["kexAlgs"])
        elif role == _COMMAND:
            commands.append(values["input"])
        elif role == _LOG_CLOSED:
            ttylog_shasum = values["shasum"]
        elif role == _PARAMS:
            arch = values["arch"]
        elif role == _FAILED_COMMAND:
            # Cowrie logs an unknown command twice, as command.input then command.failed.
            if commands[-1:] != [values["input"]]:
                commands.append(values["input"])
        elif role == _DOWNLOAD:
            downloads.append(DownloadRecord(values["url"], values["shasum"], False))
        elif role == _DOWNLOAD_FAILED:
            downloads.append(DownloadRecord(values["url"], None, True))
        elif role == _UPLOAD:
            uploads.append(UploadRecord(values["filename"], values["shasum"]))
        elif role == _TCPIP:
            tcpip.append(TunnelRecord(values["dst_ip"], values["dst_port"]))
        elif role == _TCPIP_DATA:
            tcpip.append(tunnel_record(values["dst_ip"], values["dst_port"], values["data"]))
        elif role == _SIZE:
            terminal = f"{values['width']}x{values['height']}"
        elif role == _VAR:
            if len(env) < MAX_ENV_REQUESTS:
                env.append(f"{values['name']}={values['value']}")
        elif role is None:
            unknown.append(eventid)
        elif role == _WEB:
            if values["dst_port"] is not None:
                dst_port = values["dst_port"]
            # What the exploit asks the device to fetch is its download (never fetched here).
            downloads.extend(
                DownloadRecord(url, None, True) for url in exploit_urls(values["url"], values["user_agent"])
            )
        elif values["dst_port"] is not None:  # _PORT: a firewall hit
            dst_port = values["dst_port"]
    if duration is None:
        duration = (end - start).total_seconds()
    # tuple.__new__ skips the named tuple's Python-level __new__ (29 arguments, once per session)
    return _new_tuple(
        SessionRecord,
        (
            first.session,
            first.sensor,
            src_ip,
            src_port,
            dst_ip,
            dst_port,
            protocol,
            start,
            end,
            duration,
            client_version,
            hassh,
            hassh_algorithms,
            kex_algs,
            terminal,
            env,
            arch,
            logins,
            commands,
            downloads,
            uploads,
            tcpip,
            ttylog_shasum,
            len(ordered),
            dict(sorted(counts.items())),
            sorted(set(unknown)),
            has_connect,
            has_close,
            _KIND_BY_EVENT.get(first.eventid, "cowrie"),
        ),
    )


TUNNEL_PAYLOAD_PREFIX_CHARS = 512
# An HTTP request's Host header inside Cowrie's repr of the bytes (``\r\n`` shows escaped).
_HOST_HEADER = re.compile(r"(?:^|\\n)Host:[ \t]*([A-Za-z0-9.-]{1,253})", re.IGNORECASE)


def tunnel_data(dst_ip: str, dst_port: int, data: str) -> TcpipRequest:
    """The model of :func:`tunnel_record`."""
    return TcpipRequest(**tunnel_record(dst_ip, dst_port, data)._asdict())


def tunnel_record(dst_ip: str, dst_port: int, data: str) -> TunnelRecord:
    """Tunnelled bytes (Cowrie's ``repr``) as a digest of their bounded prefix: identical payloads
    compare equal, and no attacker-sized blob is kept; with the host an HTTP request names."""
    prefix = data[:TUNNEL_PAYLOAD_PREFIX_CHARS]
    digest = hashlib.sha256(prefix.encode("utf-8", "backslashreplace")).hexdigest()[:32]
    named = _HOST_HEADER.search(prefix)
    return TunnelRecord(dst_ip, dst_port, digest, len(data), named.group(1).lower() if named else None)


def in_window(session: AttackSession, start: datetime, end: datetime) -> bool:
    """True when the session started inside ``[start, end)``: that interval owns it."""
    return start <= session.start < end
