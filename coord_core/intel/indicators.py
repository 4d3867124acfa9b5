"""The observables of honeypot sessions, typed and normalised as MISP types them.

Every value here is attacker-controlled. A value that MISP would reject (an IP that is not an
IP, a hash of the wrong length, a URL without a host, control characters) is refused with a
reason instead of being sent; values are bounded in length and never interpreted.
"""

from __future__ import annotations

import ipaddress
import re
from collections.abc import Iterable
from dataclasses import dataclass
from urllib.parse import urlsplit

from coord_core.contracts.sessions import AttackSession
from coord_core.contracts.threat_intel import Indicator, IndicatorKind

MAX_VALUE_CHARS = 2048  # also the contract's bound on an indicator
MAX_COMMAND_SEQUENCE_CHARS = 4096
_HEX = re.compile(r"[0-9a-f]+")
# MISP's own domain/hostname check (AttributeValidationTool::isDomainValid).
_HOSTNAME = re.compile(r"[a-z0-9.\-_]+\.[a-z0-9\-]{2,}")
_HASH_TYPES = {32: "md5", 40: "sha1", 64: "sha256"}
_CONTROL = re.compile(r"[\x00-\x1f\x7f]")
_URL_SCHEMES = frozenset({"http", "https", "ftp", "tftp", "ftps", "sftp"})


@dataclass(frozen=True, order=True)
class Observable:
    """One value of a MISP attribute type, already normalised the way MISP stores it."""

    misp_type: str
    value: str


@dataclass(frozen=True)
class Rejected:
    """A value that cannot become an attribute, and why."""

    misp_type: str
    value: str  # bounded copy, for the error record
    reason: str


def _bounded(value: str, limit: int = 200) -> str:
    return value if len(value) <= limit else value[:limit] + "…"


def ip_observable(raw: str, misp_type: str = "ip-src") -> Observable | Rejected:
    try:
        return Observable(misp_type, str(ipaddress.ip_address(raw.strip())))
    except ValueError:
        return Rejected(misp_type, _bounded(raw), "not an IP address")


def hash_observable(raw: str) -> Observable | Rejected:
    value = raw.strip().lower()
    misp_type = _HASH_TYPES.get(len(value))
    if misp_type is None or not _HEX.fullmatch(value):
        return Rejected("sha256", _bounded(raw), "not an MD5/SHA-1/SHA-256 hex digest")
    return Observable(misp_type, value)


def host_observable(raw: str) -> Observable | Rejected:
    """A URL's host: an IP literal, a two-label domain or a longer hostname."""
    host = raw.strip().strip(".").lower()
    try:
        return Observable("ip-dst", str(ipaddress.ip_address(host.strip("[]"))))
    except ValueError:
        pass
    if len(host) > 253 or not _HOSTNAME.fullmatch(host):
        return Rejected("hostname", _bounded(raw), "not a valid host name")
    return Observable("domain" if host.count(".") == 1 else "hostname", host)


def url_observables(raw: str) -> list[Observable | Rejected]:
    """The URL itself and its host, or why the URL is unusable."""
    value = raw.strip()
    if not value or len(value) > MAX_VALUE_CHARS:
        return [Rejected("url", _bounded(value), f"empty or longer than {MAX_VALUE_CHARS} characters")]
    if _CONTROL.search(value) or " " in value:
        return [Rejected("url", _bounded(value), "contains spaces or control characters")]
    try:
        parts = urlsplit(value)
        host = parts.hostname
    except ValueError:
        return [Rejected("url", _bounded(value), "not a parseable URL")]
    if parts.scheme.lower() not in _URL_SCHEMES or not host:
        return [Rejected("url", _bounded(value), "no supported scheme or no host")]
    return [Observable("url", value), host_observable(host)]


def hassh_observable(raw: str) -> Observable | Rejected:
    value = raw.strip().lower()
    if len(value) != 32 or not _HEX.fullmatch(value):
        return Rejected("hassh-md5", _bounded(raw), "not a 32-hex-digit HASSH")
    return Observable("hassh-md5", value)


def key_fingerprint_observable(raw: str) -> Observable | Rejected:
    """An SSH public-key fingerprint as Cowrie logs it (colon-separated MD5)."""
    value = raw.strip().lower()
    digits = value.removeprefix("md5:").replace(":", "")
    if len(digits) != 32 or not _HEX.fullmatch(digits):
        return Rejected("ssh-fingerprint", _bounded(raw), "not an MD5 key fingerprint")
    return Observable("ssh-fingerprint", value)


def command_sequence(session: AttackSession) -> Observable | None:
    """The session's commands, one per line, bounded: shared tooling, not an IDS indicator."""
    lines = [_CONTROL.sub(" ", c).strip() for c in session.commands]
    text = "\n".join(line for line in lines if line)
    if not text:
        return None
    if len(text) > MAX_COMMAND_SEQUENCE_CHARS:
        text = text[:MAX_COMMAND_SEQUENCE_CHARS] + "\n[truncated]"
    return Observable("text", text)


def session_observables(session: AttackSession) -> list[Observable | Rejected]:
    """Everything in a session that identifies infrastructure or tooling."""
    found: list[Observable | Rejected] = [ip_observable(session.src_ip)]
    for download in session.downloads:
        found.extend(url_observables(download.url))
        if download.shasum:
            found.append(hash_observable(download.shasum))
    for upload in session.uploads:
        if upload.shasum:
            found.append(hash_observable(upload.shasum))
    if session.hassh:
        found.append(hassh_observable(session.hassh))
    for login in session.logins:
        if login.key_fingerprint:
            found.append(key_fingerprint_observable(login.key_fingerprint))
    sequence = command_sequence(session)
    if sequence is not None:
        found.append(sequence)
    return found


_KIND_OF_TYPE: dict[str, IndicatorKind] = {
    "ip-src": "ip-src",
    "ip-dst": "ip-src",
    "url": "url",
    "domain": "domain",
    "hostname": "domain",
    "sha256": "sha256",
    "md5": "md5",
    "hassh-md5": "hassh",
    "ssh-fingerprint": "ssh-key-fingerprint",
}

# The MISP attribute types a lookup of each indicator kind searches.
MISP_TYPES_OF_KIND: dict[IndicatorKind, tuple[str, ...]] = {
    "ip-src": ("ip-src", "ip-dst", "ip-src|port", "ip-dst|port", "domain|ip"),
    "url": ("url", "uri", "link"),
    "domain": ("domain", "hostname", "domain|ip", "hostname|port"),
    "sha256": ("sha256", "filename|sha256"),
    "md5": ("md5", "filename|md5", "malware-sample"),
    "hassh": ("hassh-md5",),
    "ssh-key-fingerprint": ("ssh-fingerprint",),
}


def indicator_of(observable: Observable) -> Indicator | None:
    """The threat-intel indicator for an observable (command text and SHA-1 have none)."""
    kind = _KIND_OF_TYPE.get(observable.misp_type)
    return Indicator(kind=kind, value=observable.value) if kind else None


def interval_indicators(sessions: Iterable[AttackSession]) -> list[Indicator]:
    """The distinct indicators of the sessions, in a stable order (what a lookup batch sends)."""
    found: set[Indicator] = set()
    for session in sessions:
        for item in session_observables(session):
            if isinstance(item, Observable) and (indicator := indicator_of(item)) is not None:
                found.add(indicator)
    return sorted(found, key=lambda i: (i.kind, i.value))
