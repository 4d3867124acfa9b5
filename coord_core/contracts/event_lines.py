"""Cowrie lines decoded by a compiled schema straight into plain event records.

The event models (``coord_core.contracts.events``) are the rules; this is the same rules for the
lines real sensors write, checked in C by msgspec while the JSON is decoded, so that a valid line
costs no Python check per field and no dict of its own. Each modelled Cowrie event id has a
struct with the model's fields and bounds, plus the few extra fields Cowrie itself writes
(``duplicate``, ``id``, ...), and no other field is allowed: every value of a line taken here is
decoded and checked, none skipped, so nothing beyond its fields (a deep list, a bad byte, a
number json reads otherwise) can hide in it. A line the schema refuses (an unknown event id or
field, a number where text is usual, a lone surrogate, anything malformed) is not an error here:
the caller reads it the general way, which takes or rejects it, with its reason.
"""

from __future__ import annotations

import functools
import operator
import socket
from collections.abc import Callable
from datetime import datetime
from types import SimpleNamespace
from typing import Annotated, Any, ClassVar, NamedTuple

import msgspec
from msgspec import Meta

from coord_core.contracts.events import (
    MAX_FIELD_CHARS,
    ClientKex,
    ClientSize,
    ClientVar,
    ClientVersion,
    CommandInput,
    CowrieEvent,
    DirectTcpipData,
    DirectTcpipRequest,
    EventRecord,
    FileDownload,
    FileDownloadFailed,
    FileUpload,
    LogClosed,
    LoginAttempt,
    NotPlain,
    SessionClosed,
    SessionConnect,
    SessionParams,
    canonical_ip,
    plain_duration,
    plain_ip,
    plain_sha256,
)

Text = Annotated[str, Meta(max_length=MAX_FIELD_CHARS)]
Port = Annotated[int, Meta(ge=0, le=65535)]
# An extra field Cowrie writes that no model reads: any JSON scalar (kept only in the source line).
Scalar = str | int | float | bool | None


class _Line(msgspec.Struct, tag_field="eventid", forbid_unknown_fields=True, kw_only=True):
    """The fields of every event (``CowrieEvent``); ``timestamp`` is parsed by the caller."""

    timestamp: str
    session: Annotated[str, Meta(min_length=1, max_length=128)]
    src_ip: str
    sensor: Annotated[str, Meta(max_length=256)] = ""
    message: Text | Annotated[list[str], Meta(max_length=MAX_FIELD_CHARS)] = ""

    MODEL: ClassVar[type[CowrieEvent]] = CowrieEvent

    def own_values(self) -> dict[str, Any]:
        """The fields its model adds to ``CowrieEvent``, in the model's order (written out: a dict
        display is a third of the cost of building it by name; :func:`_layout` checks the names)."""
        return {}


class _Connect(_Line, tag="cowrie.session.connect"):
    src_port: Port
    dst_ip: str
    dst_port: Port
    protocol: Annotated[str, Meta(max_length=32)] = "ssh"
    MODEL = SessionConnect

    def own_values(self) -> dict[str, Any]:
        return {
            "src_port": self.src_port,
            "dst_ip": self.dst_ip,
            "dst_port": self.dst_port,
            "protocol": self.protocol,
        }


class _Version(_Line, tag="cowrie.client.version"):
    version: Text = ""
    MODEL = ClientVersion

    def own_values(self) -> dict[str, Any]:
        return {"version": self.version}


class _Kex(_Line, tag="cowrie.client.kex"):
    hassh: Annotated[str, Meta(max_length=128)] = ""
    hasshAlgorithms: Text = ""
    kexAlgs: list[str] = msgspec.field(default_factory=list)
    keyAlgs: list[str] = msgspec.field(default_factory=list)
    encCS: list[str] = msgspec.field(default_factory=list)
    macCS: list[str] = msgspec.field(default_factory=list)
    compCS: list[str] = msgspec.field(default_factory=list)
    langCS: list[str] = msgspec.field(default_factory=list)
    MODEL = ClientKex

    def own_values(self) -> dict[str, Any]:
        return {
            "hassh": self.hassh,
            "hasshAlgorithms": self.hasshAlgorithms,
            "kexAlgs": self.kexAlgs,
            "keyAlgs": self.keyAlgs,
            "encCS": self.encCS,
            "macCS": self.macCS,
            "compCS": self.compCS,
            "langCS": self.langCS,
        }


class _Size(_Line, tag="cowrie.client.size"):
    width: Port = 0
    height: Port = 0
    MODEL = ClientSize

    def own_values(self) -> dict[str, Any]:
        return {"width": self.width, "height": self.height}


class _Var(_Line, tag="cowrie.client.var"):
    name: Annotated[str, Meta(max_length=256)] = ""
    value: Annotated[str, Meta(max_length=1024)] = ""
    MODEL = ClientVar

    def own_values(self) -> dict[str, Any]:
        return {"name": self.name, "value": self.value}


class _Login(_Line):
    username: Text = ""
    password: Text | None = None
    fingerprint: Annotated[str, Meta(max_length=256)] | None = None
    key: Text | None = None
    type: Annotated[str, Meta(max_length=64)] | None = None
    MODEL = LoginAttempt

    def own_values(self) -> dict[str, Any]:
        return {
            "username": self.username,
            "password": self.password,
            "fingerprint": self.fingerprint,
            "key": self.key,
            "type": self.type,
        }


class _LoginFailed(_Login, tag="cowrie.login.failed"):
    pass


class _LoginSuccess(_Login, tag="cowrie.login.success"):
    pass


class _Command(_Line):
    input: Text = ""
    MODEL = CommandInput

    def own_values(self) -> dict[str, Any]:
        return {"input": self.input}


class _CommandInput(_Command, tag="cowrie.command.input"):
    pass


class _CommandFailed(_Command, tag="cowrie.command.failed"):
    pass


class _Download(_Line, tag="cowrie.session.file_download"):
    url: Text = ""
    outfile: Annotated[str, Meta(max_length=4096)] | None = None
    shasum: str | None = None
    destfile: Annotated[str, Meta(max_length=4096)] | None = None
    duplicate: Scalar = None
    MODEL = FileDownload

    def own_values(self) -> dict[str, Any]:
        return {"url": self.url, "outfile": self.outfile, "shasum": self.shasum, "destfile": self.destfile}


class _DownloadFailed(_Line, tag="cowrie.session.file_download.failed"):
    url: Text = ""
    error: Text | None = None
    MODEL = FileDownloadFailed

    def own_values(self) -> dict[str, Any]:
        return {"url": self.url, "error": self.error}


class _Upload(_Line, tag="cowrie.session.file_upload"):
    filename: Annotated[str, Meta(max_length=4096)] = ""
    shasum: str | None = None
    outfile: Scalar = None
    MODEL = FileUpload

    def own_values(self) -> dict[str, Any]:
        return {"filename": self.filename, "shasum": self.shasum}


class _Params(_Line, tag="cowrie.session.params"):
    arch: Annotated[str, Meta(max_length=128)] = ""
    MODEL = SessionParams

    def own_values(self) -> dict[str, Any]:
        return {"arch": self.arch}


class _TcpipRequest(_Line, tag="cowrie.direct-tcpip.request"):
    dst_ip: Annotated[str, Meta(max_length=512)] = ""
    dst_port: Port = 0
    src_port: Scalar = None
    MODEL = DirectTcpipRequest

    def own_values(self) -> dict[str, Any]:
        return {"dst_ip": self.dst_ip, "dst_port": self.dst_port}


class _TcpipData(_Line, tag="cowrie.direct-tcpip.data"):
    dst_ip: Annotated[str, Meta(max_length=512)] = ""
    dst_port: Port = 0
    data: Text = ""
    id: Scalar = None
    MODEL = DirectTcpipData

    def own_values(self) -> dict[str, Any]:
        return {"dst_ip": self.dst_ip, "dst_port": self.dst_port, "data": self.data}


class _Closed(_Line, tag="cowrie.session.closed"):
    duration: float | int | str | None = None
    MODEL = SessionClosed

    def own_values(self) -> dict[str, Any]:
        return {"duration": self.duration}


class _LogClosed(_Line, tag="cowrie.log.closed"):
    ttylog: Annotated[str, Meta(max_length=4096)] | None = None
    size: Annotated[int, Meta(ge=0, le=2**63 - 1)] | None = None
    shasum: str | None = None
    duplicate: Scalar = None
    duration: Scalar = None
    MODEL = LogClosed

    def own_values(self) -> dict[str, Any]:
        return {"ttylog": self.ttylog, "size": self.size, "shasum": self.shasum}


_STRUCTS: tuple[type[_Line], ...] = (
    _Connect,
    _Version,
    _Kex,
    _Size,
    _Var,
    _LoginFailed,
    _LoginSuccess,
    _CommandInput,
    _CommandFailed,
    _Download,
    _DownloadFailed,
    _Upload,
    _Params,
    _TcpipRequest,
    _TcpipData,
    _Closed,
    _LogClosed,
)
# One decoder for all of them: the line's ``eventid`` picks its struct.
_DECODER = msgspec.json.Decoder(functools.reduce(operator.or_, _STRUCTS))


# Values the schema cannot finish: converted as the model converts them (or NotPlain).
_FINISH: dict[str, Callable[[Any], Any]] = {"shasum": plain_sha256, "duration": plain_duration}
_FINISH_BY_MODEL: dict[type[CowrieEvent], dict[str, Callable[[Any], Any]]] = {
    SessionConnect: {"dst_ip": plain_ip}
}


class _Layout(NamedTuple):
    eventid: str
    values: Callable[[Any], dict[str, Any]]  # the model's own fields of a decoded line
    finish: tuple[tuple[str, Callable[[Any], Any]], ...]  # (own field, finisher)


def _layout(struct: type[_Line]) -> _Layout:
    model = struct.MODEL
    own = tuple(name for name in model.model_fields if name not in CowrieEvent.model_fields)
    if set(own) - set(struct.__struct_fields__):
        raise TypeError(f"{struct.__name__} lacks fields of {model.__name__}")
    finish = _FINISH | _FINISH_BY_MODEL.get(model, {})
    every_field = SimpleNamespace(**{name: name for name in struct.__struct_fields__})
    if tuple(struct.own_values(every_field)) != own:  # type: ignore[arg-type]
        raise TypeError(f"{struct.__name__}.own_values does not give the fields of {model.__name__}")
    values = struct.own_values
    tag = struct.__struct_config__.tag
    if not isinstance(tag, str):
        raise TypeError(f"{struct.__name__} has no event id")
    return _Layout(tag, values, tuple((n, finish[n]) for n in own if n in finish))


_LAYOUTS = {struct: _layout(struct) for struct in _STRUCTS}


# Addresses as written -> canonical, as canonical_ip gives them: a dict lookup per line is a third
# of a call to its cache. Bounded: emptied when full.
_CANONICAL_IPS: dict[str, str] = {}
_MAX_CANONICAL_IPS = 1 << 16
_inet_aton, _inet_ntoa = socket.inet_aton, socket.inet_ntoa


def _canonical_ip(value: str) -> str:
    try:
        if _inet_ntoa(_inet_aton(value)) == value:
            return value  # a dotted quad written as ipaddress writes it (canonical_ip gives it back)
    except (OSError, ValueError):
        pass  # not IPv4 (or in another form): canonical_ip reads it
    if len(_CANONICAL_IPS) >= _MAX_CANONICAL_IPS:
        _CANONICAL_IPS.clear()
    canonical = _CANONICAL_IPS[value] = canonical_ip(value)
    return canonical


def decode_line(data: bytes) -> _Line | None:
    """The line as its event id's struct, or None where the schema refuses it."""
    try:
        line: _Line = _DECODER.decode(data)
    except (msgspec.DecodeError, ValueError, RecursionError):
        return None
    return line


def line_record(line: _Line, timestamp: datetime, source: str | bytes) -> EventRecord | None:
    """The plain record of a decoded line, as ``parse_event_record`` makes it from the same line; None
    where a value needs the model (a NUL in an id, an address to check, a hash or duration to convert).

    ``timestamp`` is the line's ``timestamp`` parsed with ``parse_timestamp``; ``source`` is the
    line's text or bytes (the model is rebuilt from it when one is needed).
    """
    session, sensor = line.session, line.sensor
    if "\x00" in session or "\x00" in sensor:
        return None
    eventid, values_of, finishers = _LAYOUTS[type(line)]
    try:
        src_ip = _CANONICAL_IPS.get(line.src_ip) or _canonical_ip(line.src_ip)
        values = values_of(line)
        for name, finish in finishers:
            values[name] = finish(values[name])
    except (ValueError, NotPlain):
        return None
    # tuple.__new__ skips the named tuple's Python-level __new__: one record is made per line.
    return _new_tuple(EventRecord, (eventid, timestamp, session, sensor, src_ip, values, source))


_new_tuple = tuple.__new__
