"""Real-data validation: silver groups from independent strong signals, each left out in turn.

No labelled honeypot data exists, so on a user's own logs the analysis is checked against
*silver* groups: sources that share one strong, rarely coincidental observable —

``payload_hash``      the same downloaded or uploaded file (shasum; never the empty file's hash,
                      never a file fetched from a public hosting site)
``download_url``      the same download URL (with a usable, globally routed host; never a public
                      hosting site, ``/dev/null`` or another placeholder)
``ssh_key``           the same SSH public key written to ``authorized_keys`` by a command
``wallet``            the same miner payout wallet in a command
``command_sequence``  the same command list of at least three lines (whitespace normalised)
``secret``            the same random-looking password of at least 12 characters

Sources sharing values of one signal form one silver group (connected components per signal),
labelled with that signal. The analysis never sees the silver labels; to keep the check honest
it is run once per signal with that signal *switched off*: the observables that made that
signal's groups are removed from the sessions before the analysis (shasums stripped from
downloads and uploads; URLs taken out of download records — a download that fetched a file is
kept as that file's hash alone, as an upload is, because an empty URL is still a value to an
analysis — and cut out of command lines;
key-injecting and wallet-bearing command lines dropped; the matching command lists emptied;
the password removed from its login attempts). Per group the report gives the cross-source pair
recall of that run (pairs of the group's sources that the analysis put in one campaign whose
verdict is not ``coincidental``), the recall with every signal on, and *conflicts*: campaigns
that join the group's sources with those of a group of another signal that shares no source
with it (a false merge, or a link the silver signals do not see — each worth a look).

Everything is sorted and the analysis is deterministic: the same logs, parameters and code give
the same report, byte for byte.
"""

from __future__ import annotations

import hashlib
import ipaddress
import json
import math
import re
from collections import defaultdict
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from itertools import pairwise
from typing import Any
from urllib.parse import urlsplit

from coord_core.analysis.common_values import EMPTY_CONTENT_HASHES, tranco_top
from coord_core.contracts.campaigns import AnalysisResult, Verdict
from coord_core.contracts.sessions import AttackSession, Download, LoginAttempt, Upload

REPORT_VERSION = "1"

PAYLOAD_HASH = "payload_hash"
DOWNLOAD_URL = "download_url"
SSH_KEY = "ssh_key"
WALLET = "wallet"
COMMAND_SEQUENCE = "command_sequence"
SECRET = "secret"  # noqa: S105 - the name of a signal, not a password
SIGNALS: tuple[str, ...] = (PAYLOAD_HASH, DOWNLOAD_URL, SSH_KEY, WALLET, COMMAND_SEQUENCE, SECRET)

SIGNAL_DEFINITIONS: dict[str, str] = {
    PAYLOAD_HASH: "same downloaded/uploaded file shasum (not the empty file, not from a public host)",
    DOWNLOAD_URL: "same download URL with a global, non-public host (no placeholder)",
    SSH_KEY: "same SSH public key echoed into authorized_keys",
    WALLET: "same miner payout wallet in a command",
    COMMAND_SEQUENCE: f"same command list of >= {3} lines after whitespace normalisation",
    SECRET: "same random-looking password of >= 12 characters",
}
SWITCH_OFF: dict[str, str] = {
    PAYLOAD_HASH: "shasums removed from downloads and uploads",
    DOWNLOAD_URL: "URLs taken out of downloads (a fetched file kept as its hash alone) and command lines",
    SSH_KEY: "command lines carrying the key dropped",
    WALLET: "command lines carrying the wallet dropped",
    COMMAND_SEQUENCE: "the matching command lists emptied",
    SECRET: "the password removed from its login attempts",
}

MIN_SEQUENCE_LINES = 3
MAX_COMMAND_CHARS = 8192  # attacker-controlled text is bounded before a regex reads it
MIN_SECRET_CHARS = 12
MAX_SECRET_CHARS = 256
MIN_SECRET_ENTROPY_RATIO = 0.8  # Shannon entropy over log2(length): characters barely repeat
MAX_SECRET_LETTER_RUN = 3  # a longer run of same-case letters is a word, not noise
MAX_SECRET_PREDICTABLE = 0.5  # share of neighbour pairs that repeat, count or walk the keyboard

# Public hosting, code sharing and package sites: fetching from them says nothing about who.
_PUBLIC_HOSTS = frozenset(
    (
        "github.com", "githubusercontent.com", "gitlab.com", "bitbucket.org", "sourceforge.net",
        "pastebin.com", "paste.ee", "transfer.sh", "google.com", "pypi.org", "pythonhosted.org",
        "ubuntu.com", "debian.org", "alpinelinux.org", "discordapp.com", "amazonaws.com",
        "cloudfront.net", "dropbox.com", "mega.nz", "ipinfo.io", "ifconfig.me", "ipify.org",
        "icanhazip.com",
    )
)  # fmt: skip
_PLACEHOLDER_URLS = frozenset({"", "-", "/dev/null", "none", "null", "(null)", "about:blank"})
_SSH_KEY = re.compile(r"\b(?:ssh-(?:rsa|ed25519|dss)|ecdsa-sha2-nistp\d+)\s+(AAAA[0-9A-Za-z+/]{16,}={0,3})")
_MONERO = re.compile(r"\b[48][0-9AB][1-9A-HJ-NP-Za-km-z]{93}\b")
_OTHER_WALLET = re.compile(
    r"\b(?:bc1[02-9ac-hj-np-z]{25,87}|0x[0-9a-fA-F]{40}|[13][1-9A-HJ-NP-Za-km-z]{25,34})\b"
)
_MINER_CONTEXT = re.compile(r"xmrig|minerd|cpuminer|stratum|--user|\s-u\s|-o\s+[^\s:]+:\d+|pool|wallet", re.I)
_SPACE = re.compile(r"\s+")
_KEYBOARD_ROWS = ("1234567890-=", "qwertyuiop[]", "asdfghjkl;'", "zxcvbnm,./")


def _keyboard_neighbours() -> dict[str, frozenset[str]]:
    """Keys next to each key on a QWERTY keyboard (rows are staggered: ``q`` is below ``1``/``2``)."""
    where = {ch: (r, c) for r, row in enumerate(_KEYBOARD_ROWS) for c, ch in enumerate(row)}
    steps = {0: (-1, 1), 1: (-1, 0), -1: (0, 1)}  # row step -> column steps that touch
    near: dict[str, set[str]] = defaultdict(set)
    for ch, (r, c) in where.items():
        for other, (r2, c2) in where.items():
            if r2 - r in steps and c2 - c in steps[r2 - r]:
                near[ch].add(other)
    return {ch: frozenset(v) for ch, v in near.items()}


_NEIGHBOURS = _keyboard_neighbours()


# --- the signals of one session --------------------------------------------------------------


def _is_public_name(host: str) -> bool:
    """A public hosting/code-sharing site or a popular domain, or a subdomain of one."""
    parts = host.split(".")
    return any(
        ".".join(parts[i:]) in _PUBLIC_HOSTS or ".".join(parts[i:]) in tranco_top()
        for i in range(len(parts) - 1)
    )


def _host_is_usable(host: str | None) -> bool:
    """A host that can name someone's infrastructure: global address or a non-public DNS name."""
    if not host:
        return False
    host = host.strip("[]").rstrip(".").lower()
    try:
        return ipaddress.ip_address(host).is_global
    except ValueError:
        pass
    if "." not in host or host.endswith((".local", ".localhost", ".invalid", ".example")):
        return False
    return not _is_public_name(host)


def canonical_url(url: str) -> str | None:
    """The URL with scheme and host lower-cased and the fragment cut; ``None`` for a placeholder."""
    text = url.strip()
    if text.lower() in _PLACEHOLDER_URLS:
        return None
    if "://" not in text:
        text = "http://" + text
    try:
        parts = urlsplit(text)
        host = parts.hostname
        port = parts.port
    except ValueError:
        return None
    if not _host_is_usable(host):
        return None
    netloc = f"{host}:{port}" if port is not None else str(host)
    query = f"?{parts.query}" if parts.query else ""
    return f"{parts.scheme.lower()}://{netloc}{parts.path or '/'}{query}"


def _payload_host_is_public(url: str) -> bool:
    """Whether a file came from a public site (then its hash is anyone's, not a campaign's)."""
    text = url.strip()
    if "://" not in text:
        text = "http://" + text
    try:
        host = (urlsplit(text).hostname or "").rstrip(".")
    except ValueError:
        return False
    return "." in host and not host.replace(".", "").isdigit() and _is_public_name(host)


def _usable_hash(shasum: str | None) -> str | None:
    value = (shasum or "").strip().lower()
    if len(value) < 32 or not all(ch in "0123456789abcdef" for ch in value) or value in EMPTY_CONTENT_HASHES:
        return None
    return value


def injected_keys(command: str) -> list[str]:
    """SSH public keys (their base64 body) a command line writes into ``authorized_keys``."""
    command = command[:MAX_COMMAND_CHARS]
    if "authorized_keys" not in command:
        return []
    return [m.group(1) for m in _SSH_KEY.finditer(command)]


def wallets_in(command: str) -> list[str]:
    """Miner payout wallets in a command line (Monero anywhere; others in a miner's context)."""
    command = command[:MAX_COMMAND_CHARS]
    found = [m.group(0) for m in _MONERO.finditer(command)]
    if _MINER_CONTEXT.search(command):
        found += [m.group(0) for m in _OTHER_WALLET.finditer(command)]
    return found


def normalised_commands(commands: Sequence[str]) -> tuple[str, ...]:
    return tuple(line for line in (_SPACE.sub(" ", c).strip() for c in commands) if line)


def sequence_digest(commands: Sequence[str]) -> str | None:
    """Digest of a command list of at least ``MIN_SEQUENCE_LINES`` non-empty lines, else ``None``."""
    lines = normalised_commands(commands)
    if len(lines) < MIN_SEQUENCE_LINES:
        return None
    return "sha256:" + hashlib.sha256("\n".join(lines).encode("utf-8", "surrogatepass")).hexdigest()


def is_random_secret(password: str | None) -> bool:
    """A password that looks drawn at random: long, varied, no words, no keyboard walks or counts."""
    if password is None or not (MIN_SECRET_CHARS <= len(password) <= MAX_SECRET_CHARS):
        return False
    if any(ch.isspace() for ch in password):
        return False
    counts: dict[str, int] = defaultdict(int)
    for ch in password:
        counts[ch] += 1
    n = len(password)
    entropy = -sum(k / n * math.log2(k / n) for k in counts.values())
    if entropy < MIN_SECRET_ENTROPY_RATIO * math.log2(n):
        return False
    classes = sum(
        any(test(ch) for ch in password)
        for test in (str.islower, str.isupper, str.isdigit, lambda ch: not ch.isalnum())
    )
    if classes < 2:
        return False
    run = longest = 0
    for prev, ch in zip(" " + password, password, strict=False):
        same_case = ch.isalpha() and prev.isalpha() and ch.islower() == prev.islower()
        run = run + 1 if same_case else (1 if ch.isalpha() else 0)
        longest = max(longest, run)
    if longest > MAX_SECRET_LETTER_RUN:
        return False
    low = password.lower()
    predictable = sum(
        a == b or abs(ord(a) - ord(b)) == 1 or b in _NEIGHBOURS.get(a, ()) for a, b in pairwise(low)
    )
    return predictable / (n - 1) < MAX_SECRET_PREDICTABLE


def session_signals(session: AttackSession) -> dict[str, set[str]]:
    """The values of every silver signal one session shows."""
    found: dict[str, set[str]] = {signal: set() for signal in SIGNALS}
    for download in session.downloads:
        url = canonical_url(download.url)
        if url:
            found[DOWNLOAD_URL].add(url)
        digest = _usable_hash(download.shasum)
        if digest and not download.failed and not _payload_host_is_public(download.url):
            found[PAYLOAD_HASH].add(digest)
    for upload in session.uploads:
        digest = _usable_hash(upload.shasum)
        if digest:
            found[PAYLOAD_HASH].add(digest)
    for command in session.commands:
        found[SSH_KEY].update(injected_keys(command))
        found[WALLET].update(wallets_in(command))
    sequence = sequence_digest(session.commands)
    if sequence:
        found[COMMAND_SEQUENCE].add(sequence)
    for login in session.logins:
        if is_random_secret(login.password):
            assert login.password is not None
            found[SECRET].add(login.password)
    return found


# --- silver groups ---------------------------------------------------------------------------


@dataclass(frozen=True)
class SilverGroup:
    """Sources that share values of one signal (connected through any value of it)."""

    group_id: str
    signal: str
    sources: tuple[str, ...]
    values: tuple[str, ...]
    sessions: int
    preview: str  # what the shared value looks like, bounded, for people

    @property
    def pair_count(self) -> int:
        """Cross-source pairs of the group (counted, never listed: a botnet has thousands)."""
        n = len(self.sources)
        return n * (n - 1) // 2


def _shown(text: str, limit: int = 120) -> str:
    text = text.encode("unicode_escape").decode("ascii") if not text.isprintable() else text
    return text if len(text) <= limit else text[: limit - 3] + "..."


def _preview(signal: str, values: Sequence[str], example: Mapping[str, tuple[str, ...]]) -> str:
    first = values[0]
    more = f" (+{len(values) - 1} more)" if len(values) > 1 else ""
    if signal == COMMAND_SEQUENCE:
        lines = example.get(first, ())
        return _shown(f"{len(lines)} lines: " + "; ".join(lines)) + more
    if signal == SSH_KEY:
        return _shown(f"AAAA...{first[-24:]}") + more
    if signal == SECRET:
        return _shown(first[:3] + "*" * (len(first) - 3)) + more  # shown masked; the JSON has it
    return _shown(first) + more


def silver_groups(sessions: Iterable[AttackSession]) -> list[SilverGroup]:
    """The silver groups of a window: per signal, sources joined by any shared value of it."""
    holders: dict[tuple[str, str], set[str]] = defaultdict(set)
    session_keys: dict[tuple[str, str], set[tuple[str, str]]] = defaultdict(set)
    example: dict[str, tuple[str, ...]] = {}
    for session in sessions:
        for signal, values in session_signals(session).items():
            for value in values:
                holders[(signal, value)].add(session.src_ip)
                session_keys[(signal, value)].add(session.key)
                if signal == COMMAND_SEQUENCE and value not in example:
                    example[value] = normalised_commands(session.commands)
    groups: list[SilverGroup] = []
    for signal in SIGNALS:
        shared = sorted(
            (value, sorted(ips)) for (sig, value), ips in holders.items() if sig == signal and len(ips) >= 2
        )
        parent: dict[str, str] = {}
        for _, ips in shared:
            root = _find(parent, ips[0])
            for ip in ips[1:]:
                other = _find(parent, ip)
                if other != root:
                    root, child = min(root, other), max(root, other)
                    parent[child] = root
        members: dict[str, set[str]] = defaultdict(set)
        values_of: dict[str, list[str]] = defaultdict(list)
        for value, ips in shared:
            root = _find(parent, ips[0])
            members[root].update(ips)
            values_of[root].append(value)
        ordered = sorted(members, key=lambda r: (-len(members[r]), sorted(members[r])))
        for number, root in enumerate(ordered, 1):
            shared_values = sorted(values_of[root])
            groups.append(
                SilverGroup(
                    group_id=f"{signal}#{number}",
                    signal=signal,
                    sources=tuple(sorted(members[root], key=_ip_order)),
                    values=tuple(shared_values),
                    sessions=len(set().union(*(session_keys[(signal, v)] for v in shared_values))),
                    preview=_preview(signal, shared_values, example),
                )
            )
    return groups


def _find(parent: dict[str, str], x: str) -> str:
    """Root of ``x`` in a union-find forest (path halving)."""
    while parent.setdefault(x, x) != x:
        parent[x] = parent[parent[x]]
        x = parent[x]
    return x


def _ip_order(ip: str) -> tuple[int, int, str]:
    try:
        address = ipaddress.ip_address(ip)
    except ValueError:
        return (9, 0, ip)
    return (address.version, int(address), ip)


# --- switching a signal off ------------------------------------------------------------------


def _cut_urls(command: str, raw_urls: Sequence[str]) -> str:
    for raw in raw_urls:
        command = command.replace(raw, "")
    return command


def switch_off(sessions: Sequence[AttackSession], signal: str, values: Iterable[str]) -> list[AttackSession]:
    """The sessions with the observables of ``signal`` that carry ``values`` removed.

    Only what made the silver groups goes; every other field of every session is left as it was.
    """
    if signal not in SIGNALS:
        raise ValueError(f"unknown silver signal {signal!r}; choose from {', '.join(SIGNALS)}")
    targets = set(values)
    raw_urls: list[str] = []
    if signal == DOWNLOAD_URL:
        seen: set[str] = set()
        for session in sessions:
            for download in session.downloads:
                if canonical_url(download.url) in targets:
                    raw = download.url.strip()
                    bare = raw.split("://", 1)[-1]
                    for text in (raw, bare):
                        if text and text not in seen:
                            seen.add(text)
                            raw_urls.append(text)
        raw_urls.sort(key=lambda t: (-len(t), t))  # a URL before its scheme-less tail
    return [_without(session, signal, targets, raw_urls) for session in sessions]


def _without(
    session: AttackSession, signal: str, targets: set[str], raw_urls: Sequence[str]
) -> AttackSession:
    update: dict[str, Any] = {}
    if signal == PAYLOAD_HASH:
        if any(_usable_hash(d.shasum) in targets for d in session.downloads):
            update["downloads"] = [
                Download(url=d.url, shasum=None, failed=d.failed) if _usable_hash(d.shasum) in targets else d
                for d in session.downloads
            ]
        if any(_usable_hash(u.shasum) in targets for u in session.uploads):
            update["uploads"] = [
                Upload(filename=u.filename, shasum=None) if _usable_hash(u.shasum) in targets else u
                for u in session.uploads
            ]
    elif signal == DOWNLOAD_URL:
        if any(canonical_url(d.url) in targets for d in session.downloads):
            hit = [canonical_url(d.url) in targets for d in session.downloads]
            update["downloads"] = [d for d, h in zip(session.downloads, hit, strict=True) if not h]
            update["uploads"] = [
                *session.uploads,
                *(
                    Upload(filename="", shasum=d.shasum)
                    for d, h in zip(session.downloads, hit, strict=True)
                    if h and d.shasum and not d.failed
                ),
            ]
        if raw_urls and any(raw in c for c in session.commands for raw in raw_urls):
            update["commands"] = [_cut_urls(c, raw_urls) for c in session.commands]
    elif signal == SSH_KEY:
        if any(set(injected_keys(c)) & targets for c in session.commands):
            update["commands"] = [c for c in session.commands if not set(injected_keys(c)) & targets]
    elif signal == WALLET:
        if any(set(wallets_in(c)) & targets for c in session.commands):
            update["commands"] = [c for c in session.commands if not set(wallets_in(c)) & targets]
    elif signal == COMMAND_SEQUENCE:
        if sequence_digest(session.commands) in targets:
            update["commands"] = []
    elif signal == SECRET and any(login.password in targets for login in session.logins):
        update["logins"] = [
            LoginAttempt(
                username=login.username,
                password=None,
                success=login.success,
                key_fingerprint=login.key_fingerprint,
            )
            if login.password in targets
            else login
            for login in session.logins
        ]
    return session.model_copy(update=update) if update else session


# --- scoring an analysis against the silver groups -------------------------------------------


def _campaigns_of_sources(result: AnalysisResult) -> dict[str, set[str]]:
    """Source IP -> the campaigns (verdict not coincidental) it belongs to."""
    of: dict[str, set[str]] = defaultdict(set)
    for campaign in result.campaigns:
        if campaign.verdict is Verdict.COINCIDENTAL:
            continue
        for ip in campaign.source_ips:
            of[ip].add(campaign.campaign_id)
    return of


def linked_pairs(group: SilverGroup, result: AnalysisResult) -> int:
    """How many of the group's source pairs the analysis put in one non-coincidental campaign.

    Counted over the distinct campaign sets of the members (few), not over the pairs (many).
    """
    of = _campaigns_of_sources(result)
    sizes: dict[frozenset[str], int] = defaultdict(int)
    for ip in group.sources:
        if of.get(ip):
            sizes[frozenset(of[ip])] += 1
    sets = sorted(sizes, key=sorted)
    linked = 0
    for i, a in enumerate(sets):
        linked += sizes[a] * (sizes[a] - 1) // 2
        linked += sum(sizes[a] * sizes[b] for b in sets[i + 1 :] if a & b)
    return linked


def conflicts(
    group: SilverGroup, groups: Sequence[SilverGroup], result: AnalysisResult
) -> list[dict[str, str]]:
    """Campaigns joining ``group`` with a source-disjoint group of another signal."""
    mine = set(group.sources)
    found: list[dict[str, str]] = []
    for campaign in result.campaigns:
        if campaign.verdict is Verdict.COINCIDENTAL:
            continue
        members = set(campaign.source_ips)
        if not members & mine:
            continue
        for other in groups:
            if (
                other.signal != group.signal
                and not mine & set(other.sources)
                and members & set(other.sources)
            ):
                found.append({"campaign_id": campaign.campaign_id, "group_id": other.group_id})
    return sorted(found, key=lambda c: (c["campaign_id"], c["group_id"]))


# --- the whole validation --------------------------------------------------------------------


@dataclass
class GroupOutcome:
    group: SilverGroup
    linked_off: int
    linked_on: int
    conflicts_off: list[dict[str, str]]
    conflicts_on: list[dict[str, str]]

    @property
    def pairs(self) -> int:
        return self.group.pair_count

    @property
    def recall_off(self) -> float:
        return self.linked_off / self.pairs if self.pairs else 0.0

    @property
    def recall_on(self) -> float:
        return self.linked_on / self.pairs if self.pairs else 0.0

    def to_dict(self) -> dict[str, Any]:
        g = self.group
        return {
            "group_id": g.group_id,
            "signal": g.signal,
            "sources": list(g.sources),
            "sessions": g.sessions,
            "values": list(g.values),
            "preview": g.preview,
            "pairs": self.pairs,
            "linked_pairs_signal_off": self.linked_off,
            "pair_recall_signal_off": round(self.recall_off, 4),
            "linked_pairs_all_on": self.linked_on,
            "pair_recall_all_on": round(self.recall_on, 4),
            "conflicts_signal_off": self.conflicts_off,
            "conflicts_all_on": self.conflicts_on,
        }


@dataclass
class SilverReport:
    sessions: int
    sources: int
    events: int
    input_fingerprint: str
    parameters: dict[str, Any]
    code_version: str
    outcomes: list[GroupOutcome]
    runs: dict[str, dict[str, Any]] = field(default_factory=dict)

    def summary(self) -> dict[str, Any]:
        pairs = sum(o.pairs for o in self.outcomes)
        off = sum(o.linked_off for o in self.outcomes)
        on = sum(o.linked_on for o in self.outcomes)
        conflict_keys = {
            (c["campaign_id"], *sorted((o.group.group_id, c["group_id"])))
            for o in self.outcomes
            for c in o.conflicts_on
        }
        by_signal: dict[str, dict[str, Any]] = {}
        for signal in SIGNALS:
            mine = [o for o in self.outcomes if o.group.signal == signal]
            if not mine:
                continue
            p = sum(o.pairs for o in mine)
            by_signal[signal] = {
                "groups": len(mine),
                "pairs": p,
                "linked_pairs_signal_off": sum(o.linked_off for o in mine),
                "pair_recall_signal_off": round(sum(o.linked_off for o in mine) / p, 4) if p else None,
                "linked_pairs_all_on": sum(o.linked_on for o in mine),
                "pair_recall_all_on": round(sum(o.linked_on for o in mine) / p, 4) if p else None,
            }
        return {
            "groups": len(self.outcomes),
            "pairs": pairs,
            "linked_pairs_signal_off": off,
            "pair_recall_signal_off": round(off / pairs, 4) if pairs else None,
            "linked_pairs_all_on": on,
            "pair_recall_all_on": round(on / pairs, 4) if pairs else None,
            "conflicts_all_on": len(conflict_keys),
            "conflicts_signal_off": sum(len(o.conflicts_off) for o in self.outcomes),
            "by_signal": by_signal,
        }

    def to_dict(self) -> dict[str, Any]:
        return {
            "report_version": REPORT_VERSION,
            "sessions": self.sessions,
            "sources": self.sources,
            "events": self.events,
            "input_fingerprint": self.input_fingerprint,
            "parameters": self.parameters,
            "code_version": self.code_version,
            "signals": {
                s: {"definition": SIGNAL_DEFINITIONS[s], "switched_off_by": SWITCH_OFF[s]} for s in SIGNALS
            },
            "groups": [o.to_dict() for o in self.outcomes],
            "runs": self.runs,
            "summary": self.summary(),
        }

    def to_json(self) -> str:
        return json.dumps(self.to_dict(), indent=2, sort_keys=True) + "\n"


Analyzer = Callable[[list[AttackSession], dict[str, Any]], AnalysisResult]


def _default_analyzer(sessions: list[AttackSession], parameters: dict[str, Any]) -> AnalysisResult:
    from coord_core.pipeline.analyze import analyze_sessions

    return analyze_sessions(sessions, parameters)


def _run_doc(result: AnalysisResult, switched_off: list[str]) -> dict[str, Any]:
    verdicts: dict[str, int] = defaultdict(int)
    for campaign in result.campaigns:
        verdicts[campaign.verdict.value] += 1
    return {
        "input_fingerprint": result.run.input_fingerprint,
        "campaigns": dict(sorted(verdicts.items())),
        "switched_off_values": len(switched_off),
    }


def validate_sessions(
    sessions: Sequence[AttackSession],
    parameters: Mapping[str, Any] | None = None,
    *,
    analyzer: Analyzer | None = None,
    progress: Callable[[str], None] | None = None,
) -> SilverReport:
    """Silver groups of the sessions, the analysis with all signals on, and once per signal off."""
    analyze = analyzer or _default_analyzer
    params = dict(parameters or {})
    sessions = list(sessions)
    groups = silver_groups(sessions)
    if progress:
        progress(f"{len(groups)} silver groups; analysing with every signal on")
    full = analyze(sessions, params)
    runs = {"all_on": _run_doc(full, [])}
    off_results: dict[str, AnalysisResult] = {}
    for signal in SIGNALS:
        values = sorted({v for g in groups if g.signal == signal for v in g.values})
        if not values:
            continue
        if progress:
            progress(f"analysing with {signal} switched off ({len(values)} values)")
        off_results[signal] = analyze(switch_off(sessions, signal, values), params)
        runs[f"{signal}_off"] = _run_doc(off_results[signal], values)
    outcomes = [
        GroupOutcome(
            group=g,
            linked_off=linked_pairs(g, off_results[g.signal]),
            linked_on=linked_pairs(g, full),
            conflicts_off=conflicts(g, groups, off_results[g.signal]),
            conflicts_on=conflicts(g, groups, full),
        )
        for g in groups
    ]
    return SilverReport(
        sessions=len(sessions),
        sources=len({s.src_ip for s in sessions}),
        events=sum(s.event_count for s in sessions),
        input_fingerprint=full.run.input_fingerprint,
        parameters=params,
        code_version=full.run.code_version,
        outcomes=outcomes,
        runs=runs,
    )


def _count(n: int, noun: str) -> str:
    return f"{n} {noun}" + ("" if n == 1 else "s")


def render(report: SilverReport) -> str:
    """The report as a table for people: one line per silver group and a summary line."""
    lines = [
        "silver groups: sources that share one strong signal. recall off: share of the group's source pairs",
        "the analysis put in one non-coincidental campaign with that signal switched off; all on: the same",
        "with every signal on. conflicts: campaigns (signal off) that join the group with a disjoint group",
        "of another signal.",
        f"{'group':<22} {'sources':>7} {'pairs':>6} {'recall off':>16} {'all on':>6} {'conflicts':>9}"
        "  shared value",
    ]
    for o in report.outcomes:
        g = o.group
        lines.append(
            f"{g.group_id:<22} {len(g.sources):>7} {o.pairs:>6} "
            f"{f'{o.recall_off:.3f} ({o.linked_off}/{o.pairs})':>16} {o.recall_on:>6.3f} "
            f"{len(o.conflicts_off):>9}  {g.preview}"
        )
        shown = ", ".join(g.sources[:8]) + (f", ... (+{len(g.sources) - 8})" if len(g.sources) > 8 else "")
        lines.append(f"{'':<22} sources: {shown}")
        for c in o.conflicts_off:
            lines.append(f"{'':<22} conflict: campaign {c['campaign_id']} also holds {c['group_id']}")
    if not report.outcomes:
        lines.append("(no silver group: no two sources share a strong signal in these logs)")
    s = report.summary()
    off = f"{s['pair_recall_signal_off']:.3f}" if s["pairs"] else "n/a"
    on = f"{s['pair_recall_all_on']:.3f}" if s["pairs"] else "n/a"
    signals = ", ".join(f"{k} {v['groups']}" for k, v in s["by_signal"].items()) or "none"
    lines.append(
        f"summary: {report.sessions} sessions, {report.sources} sources; "
        f"{_count(s['groups'], 'silver group')} "
        f"({signals}), {_count(s['pairs'], 'pair')}; pair recall with the signal off {off} "
        f"({s['linked_pairs_signal_off']}/{s['pairs']}), all on {on}; "
        f"conflicts {s['conflicts_signal_off']} with the signal off, {s['conflicts_all_on']} all on"
    )
    return "\n".join(lines)
