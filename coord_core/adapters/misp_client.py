"""A PyMISP client from plain connection settings (Airflow's ``coord_misp`` or a researcher's own).

PyMISP talks to the server while it is constructed (version, user, types), so opening a client
is itself a call that can fail; callers decide whether that failure is fatal (export) or a
degraded answer (threat-intel lookup).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlsplit

from pymisp import PyMISP


@dataclass(frozen=True)
class MispConnection:
    url: str
    key: str = field(repr=False)
    verify_ssl: bool = True
    ca_path: str | None = None  # a CA bundle to verify the server with (implies verification)
    timeout_s: float = 30.0

    def __post_init__(self) -> None:
        parts = urlsplit(self.url)
        if parts.scheme not in ("http", "https") or not parts.hostname:
            raise ValueError(f"MISP URL must be http(s)://host[:port][/path], got {self.location!r}")
        if not self.key:
            raise ValueError("MISP API key is empty")

    @property
    def location(self) -> str:
        """The URL without any credentials in it: what logs, lineage and exports may show."""
        parts = urlsplit(self.url)
        host = parts.hostname or ""
        port = f":{parts.port}" if parts.port else ""
        return f"{parts.scheme}://{host}{port}{parts.path.rstrip('/')}"

    @property
    def host(self) -> str:
        return urlsplit(self.url).hostname or ""

    def open(self) -> PyMISP:
        ssl: bool | str = self.ca_path if self.ca_path else self.verify_ssl
        return PyMISP(
            self.location + "/", self.key, ssl=ssl, timeout=self.timeout_s, tool="dshield-coordination"
        )


def misp_errors(response: Any) -> str | None:
    """PyMISP's way of returning a 4xx: ``{"errors": (status, body)}``; a short text, or None."""
    if isinstance(response, dict) and "errors" in response:
        return str(response["errors"])[:1000]
    return None
