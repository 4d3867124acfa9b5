"""The aggregated honeypot session: everything one Cowrie session id did, in order."""

from __future__ import annotations

from datetime import datetime
from typing import Any, NamedTuple

import orjson
from pydantic import BaseModel, ConfigDict, Field


class LoginAttempt(BaseModel):
    model_config = ConfigDict(frozen=True)

    username: str
    password: str | None = None
    success: bool = False
    key_fingerprint: str | None = None


class Download(BaseModel):
    model_config = ConfigDict(frozen=True)

    url: str
    shasum: str | None = None
    failed: bool = False


class Upload(BaseModel):
    model_config = ConfigDict(frozen=True)

    filename: str
    shasum: str | None = None


class TcpipRequest(BaseModel):
    """A tunnel request, or data sent through one (``payload``: digest of the bytes' prefix)."""

    model_config = ConfigDict(frozen=True)

    dst_ip: str
    dst_port: int
    payload: str | None = None
    payload_chars: int = 0
    payload_host: str | None = None  # the host the bytes ask for (an HTTP request's Host header)


class AttackSession(BaseModel):
    """One attacker session on one sensor, aggregated from its events.

    ``session_id`` is Cowrie's ``session`` value; (``sensor``, ``session_id``) is the natural key.
    ``has_connect``/``has_close`` say whether the session's edges were seen in the window read.
    """

    model_config = ConfigDict(frozen=True)

    session_id: str
    sensor: str
    src_ip: str
    src_port: int | None = None
    dst_ip: str | None = None
    dst_port: int | None = None
    protocol: str | None = None
    start: datetime
    end: datetime
    duration: float | None = None
    client_version: str | None = None
    hassh: str | None = None
    hassh_algorithms: str | None = None
    kex_algs: list[str] = Field(default_factory=list)
    terminal: str | None = None  # "WIDTHxHEIGHT" of the client's pty request
    env: list[str] = Field(default_factory=list)  # "NAME=value" env requests, in request order
    arch: str | None = None
    logins: list[LoginAttempt] = Field(default_factory=list)
    commands: list[str] = Field(default_factory=list)
    downloads: list[Download] = Field(default_factory=list)
    uploads: list[Upload] = Field(default_factory=list)
    tcpip_requests: list[TcpipRequest] = Field(default_factory=list)
    ttylog_shasum: str | None = None
    event_count: int = 0
    event_ids: dict[str, int] = Field(default_factory=dict)
    unknown_event_ids: list[str] = Field(default_factory=list)
    has_connect: bool = False
    has_close: bool = False
    kind: str = "cowrie"  # cowrie | web | firewall

    @property
    def key(self) -> tuple[str, str]:
        return (self.sensor, self.session_id)

    @property
    def login_success(self) -> bool:
        return any(attempt.success for attempt in self.logins)


class LoginRecord(NamedTuple):
    """:class:`LoginAttempt` as plain values (a part of :class:`SessionRecord`)."""

    username: str
    password: str | None
    success: bool
    key_fingerprint: str | None


class DownloadRecord(NamedTuple):
    """:class:`Download` as plain values."""

    url: str
    shasum: str | None
    failed: bool


class UploadRecord(NamedTuple):
    """:class:`Upload` as plain values."""

    filename: str
    shasum: str | None


class TunnelRecord(NamedTuple):
    """:class:`TcpipRequest` as plain values."""

    dst_ip: str
    dst_port: int
    payload: str | None = None
    payload_chars: int = 0
    payload_host: str | None = None


class SessionRecord(NamedTuple):
    """An :class:`AttackSession` as plain values, built from validated events by the sessionizer.

    The streaming read makes one per session: validating a model for each cost as much as the
    rest of sessionizing. Every value is already what the model would hold (a test holds the
    fields to the model's, and :func:`session_json` to its JSON byte for byte);
    :func:`session_model` validates it into the model where one is needed (the edge).
    """

    session_id: str
    sensor: str
    src_ip: str
    src_port: int | None
    dst_ip: str | None
    dst_port: int | None
    protocol: str | None
    start: datetime
    end: datetime
    duration: float | None
    client_version: str | None
    hassh: str | None
    hassh_algorithms: str | None
    kex_algs: list[str]
    terminal: str | None
    env: list[str]
    arch: str | None
    logins: list[LoginRecord]
    commands: list[str]
    downloads: list[DownloadRecord]
    uploads: list[UploadRecord]
    tcpip_requests: list[TunnelRecord]
    ttylog_shasum: str | None
    event_count: int
    event_ids: dict[str, int]
    unknown_event_ids: list[str]
    has_connect: bool
    has_close: bool
    kind: str

    @property
    def key(self) -> tuple[str, str]:
        return (self.sensor, self.session_id)


# A session as the analysis reads it: the model, or its plain record (the same attributes).
SessionLike = AttackSession | SessionRecord

_FIELDS = SessionRecord._fields


def session_fields(record: SessionRecord) -> dict[str, Any]:
    """The record as the model's fields, in the model's order (parts as dicts)."""
    fields: dict[str, Any] = dict(zip(_FIELDS, record, strict=True))
    if record.logins:
        fields["logins"] = [part._asdict() for part in record.logins]
    if record.downloads:
        fields["downloads"] = [part._asdict() for part in record.downloads]
    if record.uploads:
        fields["uploads"] = [part._asdict() for part in record.uploads]
    if record.tcpip_requests:
        fields["tcpip_requests"] = [part._asdict() for part in record.tcpip_requests]
    return fields


def session_model(record: SessionRecord) -> AttackSession:
    """The validated model of a plain session."""
    return AttackSession.model_validate(session_fields(record))


_MODEL_JSON = AttackSession.__pydantic_serializer__.to_json


def session_json(session: SessionLike) -> bytes:
    """The bytes of ``session_model(session).model_dump_json()``, written directly for a record.

    orjson writes the same text as pydantic for these values (UTC as ``Z``, floats shortest,
    non-finite as null, UTF-8 unescaped); what it refuses (a lone surrogate) goes to the model.
    """
    if type(session) is not SessionRecord:
        return _MODEL_JSON(session)
    try:
        return orjson.dumps(session_fields(session), option=orjson.OPT_UTC_Z)
    except TypeError:  # orjson.JSONEncodeError
        return _MODEL_JSON(session_model(session))
