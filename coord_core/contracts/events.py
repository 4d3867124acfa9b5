"""Cowrie (and DShield web/firewall) event models.

One model per Cowrie ``eventid``; unknown event ids parse into :class:`UnknownEvent` so that
nothing is dropped. Where Cowrie itself is inconsistent (``duration`` as ``"1.6"``, ports as
strings) values are coerced; anything else that does not fit raises :class:`EventParseError`
with a reason a data engineer can act on.
"""

from __future__ import annotations

import ipaddress
import re
from datetime import UTC, datetime
from typing import Any, ClassVar

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator

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
    if isinstance(value, datetime):
        ts = value
    elif isinstance(value, (int, float)) and not isinstance(value, bool):
        ts = _from_epoch_seconds(value)
    elif isinstance(value, str):
        ts = datetime.fromisoformat(value.strip())
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
    address = ipaddress.ip_address(value.strip())
    if isinstance(address, ipaddress.IPv6Address) and address.scope_id is not None:
        raise ValueError("IP address must not carry a zone index (%...)")
    return str(address)


def _check_identifier(value: Any) -> Any:
    """Identifiers are stored as PostgreSQL text, which cannot hold NUL (the rest is escaped on output)."""
    if isinstance(value, str) and "\x00" in value:
        raise ValueError("must not contain NUL characters")
    return value


def _check_sha256(value: Any) -> Any:
    """A Cowrie ``shasum`` is a SHA-256 in hex; an empty one means none."""
    if value is None or value == "":
        return None
    if not isinstance(value, str) or not _SHA256_HEX.fullmatch(value):
        raise ValueError("must be 64 hexadecimal digits (a SHA-256)")
    return value.lower()


_SHA256_HEX = re.compile(r"[0-9a-fA-F]{64}")

Bounded = Field(default="", max_length=MAX_FIELD_CHARS)


class CowrieEvent(BaseModel):
    """Fields every Cowrie event carries; subclasses add the fields of one ``eventid``."""

    model_config = ConfigDict(extra="allow", str_strip_whitespace=False, frozen=True)
    EVENT_IDS: ClassVar[tuple[str, ...]] = ()

    eventid: str = Field(min_length=1, max_length=128)
    timestamp: datetime
    session: str = Field(min_length=1, max_length=128)
    src_ip: str
    sensor: str = Field(default="", max_length=256)
    message: str | list[str] = Field(default="", max_length=MAX_FIELD_CHARS)

    @field_validator("timestamp", mode="before")
    @classmethod
    def _ts(cls, value: Any) -> datetime:
        return parse_timestamp(value)

    @field_validator("src_ip", mode="before")
    @classmethod
    def _ip(cls, value: Any) -> str:
        return _check_ip(value)

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
    dst_ip: str
    dst_port: int = Field(ge=0, le=65535)
    protocol: str = Field(default="ssh", max_length=32)

    @field_validator("dst_ip", mode="before")
    @classmethod
    def _dst(cls, value: Any) -> str:
        return _check_ip(value)


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


class LoginAttempt(CowrieEvent):
    EVENT_IDS = ("cowrie.login.failed", "cowrie.login.success")
    username: str = Bounded
    password: str | None = Field(default=None, max_length=MAX_FIELD_CHARS)
    fingerprint: str | None = Field(default=None, max_length=256)
    key: str | None = Field(default=None, max_length=MAX_FIELD_CHARS)
    type: str | None = Field(default=None, max_length=64)

    @field_validator("username", "password", mode="before")
    @classmethod
    def _credential_text(cls, value: Any) -> Any:
        # Telnet dictionaries contain numeric passwords that some pipelines emit as numbers.
        if isinstance(value, (int, float)) and not isinstance(value, bool):
            return str(value)
        return value

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
    shasum: str | None = Field(default=None, max_length=128)
    destfile: str | None = Field(default=None, max_length=4096)

    @field_validator("shasum", mode="before")
    @classmethod
    def _sha(cls, value: Any) -> Any:
        return _check_sha256(value)


class FileDownloadFailed(CowrieEvent):
    EVENT_IDS = ("cowrie.session.file_download.failed",)
    url: str = Bounded
    error: str | None = Field(default=None, max_length=MAX_FIELD_CHARS)


class FileUpload(CowrieEvent):
    EVENT_IDS = ("cowrie.session.file_upload",)
    filename: str = Field(default="", max_length=4096)
    shasum: str | None = Field(default=None, max_length=128)

    @field_validator("shasum", mode="before")
    @classmethod
    def _sha(cls, value: Any) -> Any:
        return _check_sha256(value)


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
    shasum: str | None = Field(default=None, max_length=128)

    @field_validator("shasum", mode="before")
    @classmethod
    def _sha(cls, value: Any) -> Any:
        return _check_sha256(value)


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
