"""Cowrie (and DShield web/firewall) event models.

One model per Cowrie ``eventid``; unknown event ids parse into :class:`UnknownEvent` so that
nothing is dropped. Where Cowrie itself is inconsistent (``duration`` as ``"1.6"``, ports as
strings) values are coerced; anything else that does not fit raises :class:`EventParseError`
with a reason a data engineer can act on.
"""

from __future__ import annotations

import functools
import ipaddress
import json
import math
import re
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Annotated, Any, ClassVar, NamedTuple

from pydantic import BaseModel, BeforeValidator, ConfigDict, Field, ValidationError, field_validator

# Attacker-controlled strings are bounded: a field longer than this is an error record, not data.
MAX_FIELD_CHARS = 65_536


class EventParseError(ValueError):
    """A raw record that could not become an event; ``reason`` says why in one line."""

    def __init__(self, reason: str, raw: Any = None) -> None:
        super().__init__(reason)
        self.reason = reason
        self.raw = raw


def parse_timestamp(value: Any) -> datetime:
    """A timezone-aware UTC datetime, or :class:`ValueError` (never an overflow) for anything else."""
    if isinstance(value, str):  # the usual case first
        ts = datetime.fromisoformat(value.strip())
        if ts.tzinfo is UTC:
            return ts  # what astimezone(UTC) returns for it (itself): a line's usual "...Z"
    elif isinstance(value, datetime):
        ts = value
    elif isinstance(value, (int, float)) and not isinstance(value, bool):
        ts = _from_epoch_seconds(value)
    else:
        raise ValueError(f"timestamp must be an ISO-8601 string, got {type(value).__name__}")
    if ts.tzinfo is None:
        ts = ts.replace(tzinfo=UTC)
    try:
        return ts.astimezone(UTC)
    except OverflowError as exc:  # 0001-01-01T00:00:00+01:00 or 9999-12-31T23:59:59-01:00
        raise ValueError(f"timestamp {ts.isoformat()} is outside the representable range in UTC") from exc


def _from_epoch_seconds(value: float) -> datetime:
    try:
        return datetime.fromtimestamp(float(value), tz=UTC)
    except (OverflowError, OSError, ValueError) as exc:  # 1e300, Infinity, NaN, 1e18
        raise ValueError(f"timestamp {value!r} is not a representable time in epoch seconds") from exc


def _check_ip(value: Any) -> str:
    if not isinstance(value, str):
        raise ValueError(f"IP address must be a string, got {type(value).__name__}")
    return canonical_ip(value)


@functools.lru_cache(maxsize=1 << 16)
def canonical_ip(value: str) -> str:
    """The address in its canonical text (cached: a session repeats its source in every event)."""
    address = ipaddress.ip_address(value.strip())
    if isinstance(address, ipaddress.IPv6Address) and address.scope_id is not None:
        raise ValueError("IP address must not carry a zone index (%...)")
    return str(address)


def _check_identifier(value: Any) -> Any:
    """Identifiers are stored as PostgreSQL text, which cannot hold NUL (the rest is escaped on output)."""
    if isinstance(value, str) and "\x00" in value:
        raise ValueError("must not contain NUL characters")
    return value


def check_sha256(value: Any) -> Any:
    """A Cowrie ``shasum`` is a SHA-256 in hex; an empty one means none."""
    if value is None or value == "":
        return None
    if not isinstance(value, str) or not _SHA256_HEX.fullmatch(value):
        raise ValueError("must be 64 hexadecimal digits (a SHA-256)")
    return value.lower()


_SHA256_HEX = re.compile(r"[0-9a-fA-F]{64}")

Bounded = Field(default="", max_length=MAX_FIELD_CHARS)
# An IP address in canonical text (``_check_ip``): how sources and destinations are compared.
IpAddress = Annotated[str, BeforeValidator(_check_ip)]
# A file's SHA-256 as Cowrie logs it (``shasum``): 64 hex digits, lower-cased; empty means none.
Sha256 = Annotated[str | None, BeforeValidator(check_sha256)]


def _number_as_text(value: Any) -> Any:
    """Numbers where Cowrie means text (numeric telnet passwords, environment values) become text."""
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        return str(value)
    return value


class CowrieEvent(BaseModel):
    """Fields every Cowrie event carries; subclasses add the fields of one ``eventid``."""

    model_config = ConfigDict(extra="allow", str_strip_whitespace=False, frozen=True)
    EVENT_IDS: ClassVar[tuple[str, ...]] = ()

    eventid: str = Field(min_length=1, max_length=128)
    timestamp: datetime
    session: str = Field(min_length=1, max_length=128)
    src_ip: IpAddress
    sensor: str = Field(default="", max_length=256)
    message: str | list[str] = Field(default="", max_length=MAX_FIELD_CHARS)

    @field_validator("timestamp", mode="before")
    @classmethod
    def _ts(cls, value: Any) -> datetime:
        return parse_timestamp(value)

    @field_validator("session", "sensor", mode="before")
    @classmethod
    def _text_id(cls, value: Any) -> Any:
        # Some exporters write numeric sensor/session ids; they are identifiers, keep them as text.
        if isinstance(value, int) and not isinstance(value, bool):
            return str(value)
        return _check_identifier(value)

    @field_validator("eventid", mode="before")
    @classmethod
    def _eventid(cls, value: Any) -> Any:
        return _check_identifier(value)


class SessionConnect(CowrieEvent):
    EVENT_IDS = ("cowrie.session.connect",)
    src_port: int = Field(ge=0, le=65535)
    dst_ip: IpAddress
    dst_port: int = Field(ge=0, le=65535)
    protocol: str = Field(default="ssh", max_length=32)


class ClientVersion(CowrieEvent):
    EVENT_IDS = ("cowrie.client.version",)
    version: str = Bounded


class ClientKex(CowrieEvent):
    EVENT_IDS = ("cowrie.client.kex",)
    hassh: str = Field(default="", max_length=128)
    hasshAlgorithms: str = Bounded
    kexAlgs: list[str] = Field(default_factory=list)
    keyAlgs: list[str] = Field(default_factory=list)
    encCS: list[str] = Field(default_factory=list)
    macCS: list[str] = Field(default_factory=list)
    compCS: list[str] = Field(default_factory=list)
    langCS: list[str] = Field(default_factory=list)


class ClientSize(CowrieEvent):
    """The terminal size an SSH client asked for with its pty request (interactive sessions)."""

    EVENT_IDS = ("cowrie.client.size",)
    width: int = Field(default=0, ge=0, le=65535)
    height: int = Field(default=0, ge=0, le=65535)


class ClientVar(CowrieEvent):
    """An environment variable an SSH client asked to set (an ``env`` channel request)."""

    EVENT_IDS = ("cowrie.client.var",)
    name: str = Field(default="", max_length=256)
    value: str = Field(default="", max_length=1024)

    # Cowrie 2.x logs the raw bytes' repr or a decoded string; numbers are set as text.
    _value_text = field_validator("value", mode="before")(_number_as_text)


class LoginAttempt(CowrieEvent):
    EVENT_IDS = ("cowrie.login.failed", "cowrie.login.success")
    username: str = Bounded
    password: str | None = Field(default=None, max_length=MAX_FIELD_CHARS)
    fingerprint: str | None = Field(default=None, max_length=256)
    key: str | None = Field(default=None, max_length=MAX_FIELD_CHARS)
    type: str | None = Field(default=None, max_length=64)

    # Telnet dictionaries contain numeric passwords that some pipelines emit as numbers.
    _credential_text = field_validator("username", "password", mode="before")(_number_as_text)

    @property
    def success(self) -> bool:
        return self.eventid == "cowrie.login.success"


class CommandInput(CowrieEvent):
    EVENT_IDS = ("cowrie.command.input", "cowrie.command.failed")
    input: str = Bounded


class FileDownload(CowrieEvent):
    EVENT_IDS = ("cowrie.session.file_download",)
    url: str = Bounded
    outfile: str | None = Field(default=None, max_length=4096)
    shasum: Sha256 = None
    destfile: str | None = Field(default=None, max_length=4096)


class FileDownloadFailed(CowrieEvent):
    EVENT_IDS = ("cowrie.session.file_download.failed",)
    url: str = Bounded
    error: str | None = Field(default=None, max_length=MAX_FIELD_CHARS)


class FileUpload(CowrieEvent):
    EVENT_IDS = ("cowrie.session.file_upload",)
    filename: str = Field(default="", max_length=4096)
    shasum: Sha256 = None


class SessionParams(CowrieEvent):
    EVENT_IDS = ("cowrie.session.params",)
    arch: str = Field(default="", max_length=128)


class DirectTcpipRequest(CowrieEvent):
    EVENT_IDS = ("cowrie.direct-tcpip.request",)
    dst_ip: str = Field(default="", max_length=512)
    dst_port: int = Field(default=0, ge=0, le=65535)


class DirectTcpipData(CowrieEvent):
    """Bytes a client sent through a requested tunnel (Cowrie logs them as a ``b'...'`` repr)."""

    EVENT_IDS = ("cowrie.direct-tcpip.data",)
    dst_ip: str = Field(default="", max_length=512)
    dst_port: int = Field(default=0, ge=0, le=65535)
    data: str = Bounded


class SessionClosed(CowrieEvent):
    EVENT_IDS = ("cowrie.session.closed",)
    duration: float | None = Field(default=None, ge=0)


class LogClosed(CowrieEvent):
    EVENT_IDS = ("cowrie.log.closed",)
    ttylog: str | None = Field(default=None, max_length=4096)
    size: int | None = Field(default=None, ge=0)
    shasum: Sha256 = None


class WebRequest(CowrieEvent):
    """A DShield web-honeypot request; ``session`` is the source document id."""

    EVENT_IDS = ("dshield.web.request",)
    method: str = Field(default="", max_length=32)
    url: str = Bounded
    user_agent: str = Bounded
    dst_port: int | None = Field(default=None, ge=0, le=65535)
    rule: str | None = Field(default=None, max_length=1024)


class FirewallHit(CowrieEvent):
    """A DShield firewall log line (a probe that reached no service)."""

    EVENT_IDS = ("dshield.firewall",)
    transport: str = Field(default="", max_length=16)
    dst_port: int | None = Field(default=None, ge=0, le=65535)
    ttl: int | None = Field(default=None, ge=0, le=255)


class UnknownEvent(CowrieEvent):
    """An event id this version does not model; kept whole (extra fields preserved)."""


_MODELS: tuple[type[CowrieEvent], ...] = (
    SessionConnect,
    ClientVersion,
    ClientKex,
    ClientSize,
    ClientVar,
    LoginAttempt,
    CommandInput,
    FileDownload,
    FileDownloadFailed,
    FileUpload,
    SessionParams,
    DirectTcpipRequest,
    DirectTcpipData,
    SessionClosed,
    LogClosed,
    WebRequest,
    FirewallHit,
)
EVENT_MODELS: dict[str, type[CowrieEvent]] = {eid: m for m in _MODELS for eid in m.EVENT_IDS}
KNOWN_EVENT_IDS: frozenset[str] = frozenset(EVENT_MODELS)


def _describe(exc: ValidationError) -> str:
    parts = []
    for err in exc.errors(include_url=False, include_input=False)[:5]:
        loc = ".".join(str(p) for p in err["loc"]) or "record"
        parts.append(f"{loc}: {err['msg']}")
    return "; ".join(parts)


_JSON_TYPES: dict[type, str] = {
    type(None): "null", bool: "boolean", int: "number", float: "number", str: "string", list: "array",
}  # fmt: skip


def json_type_name(value: Any) -> str:
    """What a decoded JSON value is, in JSON's words (``null``, not ``NoneType``)."""
    return _JSON_TYPES.get(type(value), type(value).__name__)


def parse_event(raw: Any) -> CowrieEvent:
    """Turn one decoded JSON object into its event model, or raise :class:`EventParseError`."""
    if not isinstance(raw, dict):
        raise EventParseError(f"record is a JSON {json_type_name(raw)}, expected an object", raw)
    eventid = raw.get("eventid")
    if not isinstance(eventid, str) or not eventid:
        raise EventParseError("eventid: missing or not a string", raw)
    model = EVENT_MODELS.get(eventid, UnknownEvent)
    try:
        return model.model_validate(raw)
    except ValidationError as exc:
        raise EventParseError(f"{eventid}: {_describe(exc)}", raw) from exc


class EventRecord(NamedTuple):
    """One valid event as a plain record: what sessionizing reads, without a model object per event.

    ``values`` holds the event kind's own fields (those its model adds to :class:`CowrieEvent`),
    validated and with defaults filled, exactly as the model would hold them. ``source`` is the
    decoded object or the line's text (or bytes) the record was made from, or the model itself:
    :func:`event_model` rebuilds the model from it when one is needed (the digest of identical
    copies).
    """

    eventid: str
    timestamp: datetime
    session: str
    sensor: str
    src_ip: str
    values: dict[str, Any]
    source: dict[str, Any] | str | bytes | CowrieEvent


_BASE_FIELDS = frozenset(CowrieEvent.model_fields)
_ALL_MODELS: tuple[type[CowrieEvent], ...] = (*_MODELS, UnknownEvent)
_OWN_FIELDS: dict[type[CowrieEvent], tuple[str, ...]] = {
    model: tuple(name for name in model.model_fields if name not in _BASE_FIELDS) for model in _ALL_MODELS
}


def event_record(event: CowrieEvent) -> EventRecord:
    """The plain record of a validated event model."""
    values = {name: getattr(event, name) for name in _OWN_FIELDS[type(event)]}
    return EventRecord(
        event.eventid, event.timestamp, event.session, event.sensor, event.src_ip, values, event
    )


def event_model(record: EventRecord) -> CowrieEvent:
    """The event model of a record (the one it was made from, or validated again from its source)."""
    source = record.source
    if isinstance(source, CowrieEvent):
        return source
    # A line's text (or its UTF-8 bytes): read as json reads it (integers exact), as the reader did.
    if isinstance(source, bytes):
        source = source.decode("utf-8", "backslashreplace")
    return parse_event(json.loads(source) if isinstance(source, str) else source)


class NotPlain(Exception):
    """A value the fast check does not take as is: the event model decides (and words any error)."""


def _text(max_length: int, min_length: int = 0) -> Callable[[Any], Any]:
    def check(value: Any) -> Any:
        if type(value) is str and min_length <= len(value) <= max_length:
            return value
        raise NotPlain

    return check


def _optional_text(max_length: int) -> Callable[[Any], Any]:
    def check(value: Any) -> Any:
        if value is None or (type(value) is str and len(value) <= max_length):
            return value
        raise NotPlain

    return check


def _integer(low: int, high: int, optional: bool = False) -> Callable[[Any], Any]:
    def check(value: Any) -> Any:
        if (type(value) is int and low <= value <= high) or (optional and value is None):
            return value
        raise NotPlain

    return check


def _text_list(value: Any) -> Any:
    if type(value) is list and all(type(item) is str for item in value):
        return list(value)
    raise NotPlain


def _credential(max_length: int, optional: bool) -> Callable[[Any], Any]:
    def check(value: Any) -> Any:
        if type(value) is int or type(value) is float:
            value = str(value)  # as LoginAttempt._credential_text does
        if (type(value) is str and len(value) <= max_length) or (optional and value is None):
            return value
        raise NotPlain

    return check


def plain_sha256(value: Any) -> Any:
    """A digest as the event model keeps it (lower-case hex, or None); the model words any error."""
    try:
        return check_sha256(value)
    except ValueError:
        raise NotPlain from None


def plain_ip(value: Any) -> Any:
    """An address as the event model keeps it (canonical text); the model words any error."""
    try:
        return _check_ip(value)
    except ValueError:
        raise NotPlain from None


_DECIMAL = re.compile(r"[0-9]{1,15}(?:\.[0-9]{1,15})?")


def plain_duration(value: Any) -> Any:
    """``duration`` as SessionClosed keeps it: a float >= 0 (Cowrie writes "1.6" on SSH)."""
    if value is None:
        return None
    if type(value) is float and value >= 0 and math.isfinite(value):
        return value
    if type(value) is int and 0 <= value < 2**53:
        return float(value)
    if type(value) is str and _DECIMAL.fullmatch(value):
        return float(value)
    raise NotPlain


_MISSING: Any = object()
_REQUIRED: Any = object()
# Per event kind, its own fields: (name, check, default or _REQUIRED). The checks take only values
# the model would take unchanged or convert exactly so; anything else goes to the model.
_PLAIN_FIELDS: dict[type[CowrieEvent], tuple[tuple[str, Callable[[Any], Any], Any], ...]] = {
    SessionConnect: (
        ("src_port", _integer(0, 65535), _REQUIRED),
        ("dst_ip", plain_ip, _REQUIRED),
        ("dst_port", _integer(0, 65535), _REQUIRED),
        ("protocol", _text(32), "ssh"),
    ),
    ClientVersion: (("version", _text(MAX_FIELD_CHARS), ""),),
    ClientKex: (
        ("hassh", _text(128), ""),
        ("hasshAlgorithms", _text(MAX_FIELD_CHARS), ""),
        *((name, _text_list, _MISSING) for name in ("kexAlgs", "keyAlgs", "encCS", "macCS", "compCS")),
        ("langCS", _text_list, _MISSING),
    ),
    ClientSize: (("width", _integer(0, 65535), 0), ("height", _integer(0, 65535), 0)),
    ClientVar: (("name", _text(256), ""), ("value", _text(1024), "")),
    LoginAttempt: (
        ("username", _credential(MAX_FIELD_CHARS, optional=False), ""),
        ("password", _credential(MAX_FIELD_CHARS, optional=True), None),
        ("fingerprint", _optional_text(256), None),
        ("key", _optional_text(MAX_FIELD_CHARS), None),
        ("type", _optional_text(64), None),
    ),
    CommandInput: (("input", _text(MAX_FIELD_CHARS), ""),),
    FileDownload: (
        ("url", _text(MAX_FIELD_CHARS), ""),
        ("outfile", _optional_text(4096), None),
        ("shasum", plain_sha256, None),
        ("destfile", _optional_text(4096), None),
    ),
    FileDownloadFailed: (
        ("url", _text(MAX_FIELD_CHARS), ""),
        ("error", _optional_text(MAX_FIELD_CHARS), None),
    ),
    FileUpload: (("filename", _text(4096), ""), ("shasum", plain_sha256, None)),
    SessionParams: (("arch", _text(128), ""),),
    DirectTcpipRequest: (("dst_ip", _text(512), ""), ("dst_port", _integer(0, 65535), 0)),
    DirectTcpipData: (
        ("dst_ip", _text(512), ""),
        ("dst_port", _integer(0, 65535), 0),
        ("data", _text(MAX_FIELD_CHARS), ""),
    ),
    SessionClosed: (("duration", plain_duration, None),),
    LogClosed: (
        ("ttylog", _optional_text(4096), None),
        ("size", _integer(0, 2**63 - 1, optional=True), None),
        ("shasum", plain_sha256, None),
    ),
}
_PLAIN_FIELDS_BY_ID = {
    eventid: _PLAIN_FIELDS[model] for eventid, model in EVENT_MODELS.items() if model in _PLAIN_FIELDS
}


def _texts(value: Any) -> bool:
    """A ``message`` that is a list of texts (Cowrie's params events) within the bound."""
    return type(value) is list and len(value) <= MAX_FIELD_CHARS and all(type(item) is str for item in value)


def _plain_record(raw: dict[str, Any], timestamp: datetime) -> EventRecord:
    eventid = raw.get("eventid")
    if type(eventid) is not str:
        raise NotPlain
    fields = _PLAIN_FIELDS_BY_ID.get(eventid)
    if fields is None:
        if eventid in EVENT_MODELS:
            raise NotPlain  # a kind only its model checks (SIEM web requests, firewall hits)
        fields = ()  # an unknown event id: the common fields only
    session = raw.get("session")
    if type(session) is int:
        session = str(session)  # numeric ids are kept as text, as CowrieEvent._text_id does
    sensor = raw.get("sensor", "")
    if type(sensor) is int:
        sensor = str(sensor)
    src_ip = raw.get("src_ip")
    message = raw.get("message", "")
    if not (
        0 < len(eventid) <= 128
        and "\x00" not in eventid
        and type(session) is str
        and 0 < len(session) <= 128
        and "\x00" not in session
        and type(sensor) is str
        and len(sensor) <= 256
        and "\x00" not in sensor
        and type(src_ip) is str
        and ((type(message) is str and len(message) <= MAX_FIELD_CHARS) or _texts(message))
    ):
        raise NotPlain
    try:
        src_ip = canonical_ip(src_ip)
    except ValueError:
        raise NotPlain from None
    values: dict[str, Any] = {}
    for name, check, default in fields:
        value = raw.get(name, _MISSING)
        if value is _MISSING:
            if default is _REQUIRED:
                raise NotPlain
            values[name] = [] if default is _MISSING else default
        else:
            values[name] = check(value)
    return EventRecord(eventid, timestamp, session, sensor, src_ip, values, raw)


def parse_event_record(raw: Any, timestamp: datetime | None = None, *, plain: bool = True) -> EventRecord:
    """Turn one decoded JSON object into its :class:`EventRecord`, or raise :class:`EventParseError`.

    It holds what :func:`parse_event` would, and rejects what it would, with the same reason:
    values the model would take as they are (or convert exactly: numeric ids and credentials to
    text, a decimal duration to float) are checked here, all else is left to the model.
    ``timestamp`` is the object's ``timestamp`` already parsed with :func:`parse_timestamp`;
    ``plain`` says that every string in ``raw`` is valid Unicode (orjson decoded it), which the
    model checks and this fast check does not.
    """
    if plain and timestamp is not None and type(raw) is dict:
        try:
            return _plain_record(raw, timestamp)
        except NotPlain:
            pass
    return event_record(parse_event(raw))
