"""A planned honeypot session: what happened and when, before it is written as Cowrie events.

Times are integer microseconds since the Unix epoch, so the Cowrie writer and the in-memory path
render exactly the same instants. A plan holds no randomness of its own: every choice was made
by the archetype that built it.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from coord_core.scenarios.clients import ClientProfile
from coord_core.scenarios.commands import Payload


@dataclass(frozen=True, slots=True)
class Sensor:
    """One honeypot: its Cowrie ``sensor`` name and the address/ports it logs as destination."""

    name: str
    dst_ip: str
    ssh_port: int
    telnet_port: int


@dataclass(frozen=True, slots=True)
class Login:
    at_us: int
    username: str
    password: str
    success: bool


@dataclass(frozen=True, slots=True)
class Download:
    at_us: int
    payload: Payload


@dataclass(frozen=True, slots=True)
class Command:
    """One input line; in exec mode ``done_us`` is when its TTY log closes."""

    at_us: int
    line: str
    known: bool
    done_us: int
    downloads: tuple[Download, ...] = ()


@dataclass(frozen=True, slots=True)
class Upload:
    at_us: int
    filename: str
    sha256: str


FORWARD_DATA_US = 109_000  # the first forwarded bytes arrive this long after the request


@dataclass(frozen=True, slots=True)
class Forward:
    """A ``direct-tcpip`` request: the session used the honeypot as a TCP proxy.

    ``dst_ip`` is what the client asked for, an address or a host name; ``data`` the bytes it
    sent through the tunnel (Cowrie logs their Python ``repr``)."""

    at_us: int
    dst_ip: str
    dst_port: int
    data: bytes


@dataclass(frozen=True, slots=True)
class SavedFile:
    """A file Cowrie stored without fetching a URL, logged as ``cowrie.session.file_download``
    when the session closes: shell redirection (``echo ... > path``) or data sent to a command's
    standard input (an ``scp -t`` upload, ``cat > path``).

    ``style`` is how the Cowrie version writes it: ``"redir"`` and ``"stdin"`` as Cowrie 2.x
    does (no ``url`` key; ``destfile`` the target path, empty for stdin), ``"legacy"`` as
    Cowrie 1.x did (``url`` and ``destfile`` both the redirection target, ``/dev/null``
    included).
    """

    at_us: int
    style: str  # "redir" | "stdin" | "legacy"
    path: str
    sha256: str


@dataclass(slots=True)
class SessionPlan:
    actor_id: str
    session_id: str
    sensor: Sensor
    src_ip: str
    src_port: int
    protocol: str  # "ssh" | "telnet"
    connect_us: int
    close_us: int
    banner: str | None = None  # what the client sent as its version line
    banner_us: int = 0
    client: ClientProfile | None = None  # its key-exchange offer; None: no kex seen
    kex_us: int = 0
    logins: tuple[Login, ...] = ()
    shell_us: int = 0  # when the shell (or first exec channel) opened
    commands: tuple[Command, ...] = ()
    exec_mode: bool = True  # one exec channel (params + TTY log) per command, as bots do
    arch: str = ""
    uploads: tuple[Upload, ...] = ()
    forwards: tuple[Forward, ...] = field(default_factory=tuple)
    saved: tuple[SavedFile, ...] = ()

    @property
    def key(self) -> tuple[str, str]:
        return (self.sensor.name, self.session_id)
