"""The aggregated honeypot session: everything one Cowrie session id did, in order."""

from __future__ import annotations

from datetime import datetime

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
