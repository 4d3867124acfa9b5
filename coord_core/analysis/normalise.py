"""Command lines -> templates and artefacts.

A template keeps what a toolkit fixes (the commands, flags, paths) and abstracts what varies
between runs of the same toolkit (IPs, hosts, URL paths, numbers, hex, random file names, echoed
strings, keys). Artefacts (URLs, hosts, SSH keys) are pulled out of the raw text before it is
abstracted, because they are what tells two users of one public script apart.
"""

from __future__ import annotations

import hashlib
import ipaddress
import re
from dataclasses import dataclass
from functools import lru_cache

# Attacker-controlled text is bounded before any regex touches it.
MAX_COMMAND_CHARS = 4096
MAX_COMMANDS = 256

_URL = re.compile(r"\b(?:https?|ftp|tftp)://[^\s'\"<>;|&)`]+", re.IGNORECASE)
_SSH_KEY = re.compile(r"\b(ssh-(?:rsa|ed25519|dss)|ecdsa-sha2-nistp\d+)\s+(AAAA[0-9A-Za-z+/]{16,}={0,3})")
_IPV4 = r"(?:25[0-5]|2[0-4]\d|1\d\d|[1-9]?\d)(?:\.(?:25[0-5]|2[0-4]\d|1\d\d|[1-9]?\d)){3}"
_IPV4_RE = re.compile(rf"\b{_IPV4}\b")
_IPV4_FULL = re.compile(_IPV4)
_DEV_TCP = re.compile(r"/dev/(?:tcp|udp)/([^/\s]+)/(\d+)")
_HOSTLIKE = re.compile(r"^(?:[A-Za-z0-9-]{1,63}\.)+[A-Za-z]{2,24}$")
# Commands whose bare (scheme-less) arguments name a remote host.
_FETCHERS = frozenset(
    {"wget", "curl", "tftp", "ftpget", "nc", "ncat", "netcat", "telnet", "scp", "lwp-download"}
)

# Payout identities: Monero, Bitcoin (base58 and bech32) and Ethereum addresses, and the value
# of a miner's ``-u``/``--user`` option.
_WALLET = re.compile(
    r"\b(?:[48][0-9AB][1-9A-HJ-NP-Za-km-z]{93}|bc1[02-9ac-hj-np-z]{25,87}|0x[0-9a-fA-F]{40}|"
    r"[13][1-9A-HJ-NP-Za-km-z]{25,34})\b"
)
_MINER_USER = re.compile(r"(?:\s-u\s+|--user[=\s]+)([A-Za-z0-9._+-]{30,})")
_QUOTED = re.compile(r"'[^']*'|\"(?:[^\"\\]|\\.)*\"")
_HEX = re.compile(r"\b(?:0x)?[0-9a-fA-F]{8,}\b")
_B64 = re.compile(r"\b[A-Za-z0-9+/]{24,}={0,2}")
_NUMBER = re.compile(r"\b\d+\b")
# Per-session random tokens in upper case (Mirai's ``/bin/busybox ECCHI`` check); shell variable
# names (``HISTFILE=``, ``$HISTFILE``, arguments of ``unset``/``export``) are a script's fixed text.
_UPPER_TOKEN = re.compile(r"(?<![A-Za-z0-9_$-])[A-Z]{4,}(?![A-Za-z0-9_=])")
_VARIABLE_BUILTINS = frozenset({"unset", "export", "readonly", "declare", "local", "typeset"})
_SEGMENT = re.compile(r"[^;&|]+|[;&|]+")
_MIXED = re.compile(r"\b(?=[A-Za-z0-9_]*\d)(?=[A-Za-z0-9_]*[A-Za-z])[A-Za-z0-9_]{6,}\b")
_SPACE = re.compile(r"\s+")
_TOKEN = re.compile(r"<[a-z]+>|[A-Za-z0-9_.\-/~*+$:=@%,\[\]]+|[|;&<>()!{}]+")


@dataclass(frozen=True, slots=True)
class CommandProfile:
    """What one session's command list tells: its template and the artefacts in it."""

    template: tuple[str, ...]
    tokens: tuple[str, ...]
    urls: tuple[str, ...]
    hosts: tuple[str, ...]
    ssh_keys: tuple[str, ...]
    wallets: tuple[str, ...] = ()
    # The upper-case tokens abstracted as ``<tok>``: random per session, or a build's fixed marker.
    markers: tuple[str, ...] = ()


def normalise_host(host: str) -> str | None:
    """Lower-case DNS name or canonical IP; ``None`` for anything that is not a usable host."""
    host = host.strip().strip("[]").rstrip(".").lower()
    if not host or len(host) > 253:
        return None
    if _IPV4_FULL.fullmatch(host):
        return host
    if ":" not in host and not host[-1].isdigit():
        return host if _HOSTLIKE.match(host) else None
    try:
        return str(ipaddress.ip_address(host))
    except ValueError:
        pass
    return host if _HOSTLIKE.match(host) else None


_URL_PARTS = re.compile(
    r"^(?P<scheme>[A-Za-z][A-Za-z0-9+.-]*)://(?:[^@/?#]*@)?(?P<host>\[[^\]]*\]|[^:/?#]*)"
    r"(?::(?P<port>\d{1,5}))?(?P<path>[^?#]*)"
)


def normalise_url(url: str) -> tuple[str, str | None]:
    """(canonical URL without query/fragment, host) of a download URL; host ``None`` if unparseable."""
    text = url.strip()[:MAX_COMMAND_CHARS]
    if "://" not in text:
        text = "http://" + text
    match = _URL_PARTS.match(text)
    host = normalise_host(match.group("host")) if match else None
    if match is None or host is None:
        return text.lower(), None
    port = match.group("port")
    netloc = host if port is None or int(port) > 65535 else f"{host}:{int(port)}"
    return f"{match.group('scheme').lower()}://{netloc}{match.group('path') or '/'}", host


# Options whose value is a local or remote file name, never a host (``tftp -r bins.sh``,
# ``wget -O x``), and tftp's ``-c get FILE``.
_FILE_ARGUMENT = frozenset({"-r", "-l", "-O", "-o", "-P", "--output", "--output-document", "get", "put"})
# Fetchers that name exactly one remote host: later host-like words are files (``x.sh`` is a TLD).
_ONE_HOST = frozenset({"tftp", "ftpget", "nc", "ncat", "netcat", "telnet"})


def _bare_hosts(command: str) -> list[str]:
    """Hosts named without a URL scheme: ``wget 1.2.3.4/x``, ``nc host 4444``, ``/dev/tcp/h/p``.

    A file argument is not a host: the value of a file option is skipped, and a fetcher that
    talks to one host names it once (``tftp 1.2.3.4 -c get t.sh``: ``t.sh`` is the file)."""
    found = [m.group(1) for m in _DEV_TCP.finditer(command)]
    words = command.replace(";", " ; ").replace("|", " | ").replace("&&", " && ").split()
    for i, word in enumerate(words):
        name = word.rsplit("/", 1)[-1]
        if name not in _FETCHERS:
            continue
        skip_next = False
        for arg in words[i + 1 : i + 12]:
            if arg in (";", "|", "&&", "||"):
                break
            if skip_next:
                skip_next = False
                continue
            if arg in _FILE_ARGUMENT:
                skip_next = True
                continue
            if arg.startswith("-") or "://" in arg:
                continue
            candidate = arg.strip("'\"").split("/", 1)[0].split(":", 1)[0]
            if normalise_host(candidate) and ("." in candidate):
                found.append(candidate)
                if name in _ONE_HOST:
                    break
    return found


def _abstract_upper_tokens(segment: str, markers: list[str]) -> str:
    """Upper-case random tokens of one simple command (collected into ``markers``); a variable
    builtin's arguments are names."""
    words = segment.split(None, 1)
    if words and words[0] in _VARIABLE_BUILTINS:
        return segment
    markers.extend(_UPPER_TOKEN.findall(segment))
    return _UPPER_TOKEN.sub("<tok>", segment)


def _abstract(command: str, bare_hosts: list[str], markers: list[str]) -> str:
    text = _URL.sub("<url>", command)
    text = _WALLET.sub("<wallet>", text)
    for host in sorted(set(bare_hosts), key=len, reverse=True):
        text = text.replace(host, "<host>")
    text = _SSH_KEY.sub("<sshkey>", text)
    text = _QUOTED.sub("<s>", text)
    text = _IPV4_RE.sub("<ip>", text)
    text = _B64.sub("<b64>", text)
    text = _HEX.sub("<hex>", text)
    text = _MIXED.sub("<rnd>", text)
    text = "".join(_abstract_upper_tokens(part, markers) for part in _SEGMENT.findall(text))
    text = _NUMBER.sub("<n>", text)
    return _SPACE.sub(" ", text).strip()


@dataclass(frozen=True)
class _LineProfile:
    urls: tuple[str, ...]
    hosts: tuple[str, ...]
    ssh_keys: tuple[str, ...]
    wallets: tuple[str, ...]
    template: str  # the abstracted line ("" when nothing is left)
    markers: tuple[str, ...]


@lru_cache(maxsize=131_072)
def _profile_line(command: str) -> _LineProfile:
    """One command line's artefacts and template (lines recur across many command lists)."""
    urls: list[str] = []
    hosts: list[str] = []
    for match in _URL.finditer(command):
        url, host = normalise_url(match.group(0))
        urls.append(url)
        if host:
            hosts.append(host)
    bare = _bare_hosts(command)
    for candidate in bare:
        host = normalise_host(candidate)
        if host:
            hosts.append(host)
    keys = [hashlib.sha256(m.group(2).encode()).hexdigest()[:32] for m in _SSH_KEY.finditer(command)]
    wallets: list[str] = []
    if "-u" in command or "--user" in command or len(command) > 40:
        wallets.extend(m.group(0) for m in _WALLET.finditer(command))
        wallets.extend(m.group(1).split(".", 1)[0] for m in _MINER_USER.finditer(command))
    markers: list[str] = []
    template = _abstract(command, bare, markers)
    return _LineProfile(tuple(urls), tuple(hosts), tuple(keys), tuple(wallets), template, tuple(markers))


def profile_commands(commands: tuple[str, ...]) -> CommandProfile:
    """Template and artefacts of a command list (pure; callers cache by the raw tuple)."""
    urls: set[str] = set()
    hosts: set[str] = set()
    keys: set[str] = set()
    wallets: set[str] = set()
    markers: set[str] = set()
    template: list[str] = []
    for raw in commands[:MAX_COMMANDS]:
        line = _profile_line(raw[:MAX_COMMAND_CHARS])
        urls.update(line.urls)
        hosts.update(line.hosts)
        keys.update(line.ssh_keys)
        wallets.update(line.wallets)
        markers.update(line.markers)
        if line.template:
            template.append(line.template)
    tokens = tuple(tok for line in template for tok in (*_TOKEN.findall(line), "<eol>"))
    return CommandProfile(
        template=tuple(template),
        tokens=tokens,
        urls=tuple(sorted(urls)),
        hosts=tuple(sorted(hosts)),
        ssh_keys=tuple(sorted(keys)),
        wallets=tuple(sorted(wallets)),
        markers=tuple(sorted(markers)),
    )


def shingles(tokens: tuple[str, ...], size: int = 3) -> list[str]:
    """Overlapping token k-grams (a template shorter than ``size`` is one shingle)."""
    if len(tokens) <= size:
        return [" ".join(tokens)] if tokens else []
    return [" ".join(tokens[i : i + size]) for i in range(len(tokens) - size + 1)]
