"""The columnar session frame every detector reads.

Sessions become numpy arrays and one sparse (source x feature) incidence matrix. Pydantic
objects are touched once, here; everything they share is interned first (real windows have few
distinct command lists, credential lists, download sets and client fingerprints), so the costly
parsing runs once per distinct profile, not per session.

A *source* is one attacking IP in the window: its sessions are one actor's. Campaigns are sets
of sources.
"""

from __future__ import annotations

import bisect
import hashlib
import ipaddress
import socket
from array import array
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import scipy.sparse as sp

from coord_core import cycle_collection
from coord_core.analysis import features as fk
from coord_core.analysis.common_values import (
    RANDOM_SECRET_MIN_BITS,
    common_stems,
    is_common_password,
    is_placeholder_hash,
    is_placeholder_url,
    is_public_host,
    password_stem,
    secret_bits,
)
from coord_core.analysis.normalise import CommandProfile, normalise_host, normalise_url, profile_commands
from coord_core.contracts.sessions import SessionLike, TcpipRequest, TunnelRecord


@dataclass
class SessionFrame:
    """Sessions in a canonical order, their sources and the sources' features."""

    session_ids: list[str]
    sensors: list[str]
    start: np.ndarray  # float64 epoch seconds, per session
    end: np.ndarray
    source: np.ndarray  # int32 source index per session
    attempts: np.ndarray  # int32 login attempts per session
    commands: np.ndarray  # int32 commands per session
    login_success: np.ndarray  # bool per session
    template_of_session: np.ndarray  # int32 index into ``templates`` (-1: no commands)
    templates: list[CommandProfile]
    template_feature: np.ndarray  # int64 feature id of each template profile
    source_ips: list[str]
    source_ipv4: np.ndarray  # uint32 (0 for IPv6)
    source_is_v6: np.ndarray  # bool
    feature_names: list[str]
    feature_kind: np.ndarray  # int8 index into features.KINDS
    incidence: sp.csr_matrix  # sources x features, 1.0 where the source shows the feature
    n_events: int = 0  # Cowrie events behind the sessions (lineage counts)
    # per source
    source_start: np.ndarray = field(default_factory=lambda: np.empty(0))
    source_end: np.ndarray = field(default_factory=lambda: np.empty(0))
    source_sessions: np.ndarray = field(default_factory=lambda: np.empty(0, dtype=np.int32))
    source_attempts: np.ndarray = field(default_factory=lambda: np.empty(0, dtype=np.int32))
    source_commands: np.ndarray = field(default_factory=lambda: np.empty(0, dtype=np.int32))
    source_success: np.ndarray = field(default_factory=lambda: np.empty(0, dtype=bool))
    feature_sources: np.ndarray = field(default_factory=lambda: np.empty(0, dtype=np.int64))
    # base words of every password a low-attempt source tried, in order (dictionary detection)
    source_stem_lists: dict[int, list[str]] = field(default_factory=dict)
    # per feature: shared by unrelated networks day after day in history (see ``prevalence``)
    endemic: np.ndarray = field(default_factory=lambda: np.empty(0, dtype=bool))
    _by_feature: sp.csc_matrix | None = None
    _masks: dict[tuple[str, ...], np.ndarray] = field(default_factory=dict)
    _columns: dict[tuple[str, ...], tuple[np.ndarray, sp.csr_matrix]] = field(default_factory=dict)

    @property
    def n_sessions(self) -> int:
        return len(self.session_ids)

    @property
    def n_sources(self) -> int:
        return len(self.source_ips)

    def endemic_mask(self) -> np.ndarray:
        """Per feature: endemic in history (all False when no history was applied)."""
        if len(self.endemic) != len(self.feature_names):
            return np.zeros(len(self.feature_names), dtype=bool)
        return self.endemic

    def holders(self, feature: int) -> np.ndarray:
        """Sources holding a feature (sorted source indices)."""
        col = self._columns_by_feature()
        return np.asarray(col.indices[col.indptr[feature] : col.indptr[feature + 1]], dtype=np.int64)

    def holders_of_equal_size(self, features: np.ndarray, size: int) -> np.ndarray:
        """(len(features) x size) sorted holders of features that each have ``size`` holders."""
        col = self._columns_by_feature()
        starts = col.indptr[features].astype(np.int64)
        return np.asarray(col.indices[starts[:, None] + np.arange(size)], dtype=np.int64)

    def _columns_by_feature(self) -> sp.csc_matrix:
        if self._by_feature is None:
            self._by_feature = self.incidence.tocsc()
        return self._by_feature

    def features_of(self, source: int) -> np.ndarray:
        row = self.incidence
        return np.asarray(row.indices[row.indptr[source] : row.indptr[source + 1]], dtype=np.int64)

    def kind_mask(self, *kinds: fk.KindSpec) -> np.ndarray:
        """Boolean mask of the features of the given kinds (cached: detectors ask per group)."""
        key = tuple(sorted(k.name for k in kinds))
        found = self._masks.get(key)
        if found is None:
            wanted = np.array([fk.KIND_INDEX[name] for name in key], dtype=np.int8)
            found = self._masks[key] = np.isin(self.feature_kind, wanted)
            found.flags.writeable = False
        return found

    def kind_columns(self, *kinds: fk.KindSpec) -> tuple[np.ndarray, sp.csr_matrix]:
        """(feature ids, sources x those features) for the given kinds (cached and shared: asked
        per group and per detector, so callers read it and never modify it)."""
        key = tuple(sorted(k.name for k in kinds))
        found = self._columns.get(key)
        if found is None:
            columns = np.flatnonzero(self.kind_mask(*kinds))
            found = self._columns[key] = (columns, self.incidence[:, columns].tocsr())
        return found

    def left_toolkit_artefact(self) -> np.ndarray:
        """Per source: whether it left a payload, URL, remote host, SSH key or wallet."""
        _, artefacts = self.kind_columns(*fk.TOOLKIT_ARTEFACTS)
        held: np.ndarray = np.asarray(artefacts.sum(axis=1)).ravel() > 0
        return held

    def owned_columns(self, spec: fk.KindSpec) -> tuple[np.ndarray, sp.csr_matrix]:
        """``kind_columns`` of one kind of ``fk.EXCLUSIVE_KINDS``: what marks one operator's own.
        A marker counts only when two or more sources typed it (one source's is a random token)."""
        columns, owned = self.kind_columns(spec)
        if spec.name != fk.MARKER.name:
            return columns, owned
        key = ("owned", spec.name)
        found = self._columns.get(key)
        if found is None:
            keep = np.flatnonzero(self.feature_sources[columns] >= 2)
            found = self._columns[key] = (columns[keep], owned[:, keep].tocsr())
        return found


STEM_LIST_MAX_ATTEMPTS = 20
SEQUENCE_GRAM = 3
SEQUENCE_SAMPLE = 4
SEQUENCE_MAX_PER_SOURCE = 64


class _Interner:
    def __init__(self) -> None:
        self.ids: dict[str, int] = {}

    def __call__(self, name: str) -> int:
        found = self.ids.get(name)
        if found is None:
            found = self.ids[name] = len(self.ids)
        return found


def _login_features(
    username: str, password: str | None, key: str | None, intern: _Interner
) -> tuple[tuple[int, ...], str | None]:
    """Feature ids of one login attempt, and the base word of its password (for list walks)."""
    ids = [intern(fk.feature_name(fk.USERNAME, username))]
    if key:
        ids.append(intern(fk.feature_name(fk.SSH_KEY, "login:" + key.lower())))
    elif password is not None:
        # Common passwords still count in the overlap test (they are expected to be shared),
        # but never propose a link.
        common = is_common_password(password)
        kind = fk.COMMON_CREDENTIAL if common else fk.CREDENTIAL
        ids.append(intern(fk.feature_name(kind, f"{username}\x00{password}")))
        stem = None if common else password_stem(password)
        if stem is not None and stem not in common_stems():
            ids.append(intern(fk.feature_name(fk.PASSWORD_STEM, stem)))
        if not common and secret_bits(password) >= RANDOM_SECRET_MIN_BITS:
            ids.append(intern(fk.feature_name(fk.SECRET, password)))
    return tuple(ids), (password_stem(password) if password else None)


def _artefact_features(
    downloads: tuple[tuple[str, str | None], ...],
    uploads: tuple[str | None, ...],
    profile: CommandProfile | None,
    src_ip: str,
    intern: _Interner,
) -> tuple[tuple[int, ...], frozenset[str]]:
    """Artefact feature ids, and every host named (to spot sessions fetching from themselves)."""
    ids: set[int] = set()
    urls: list[str] = list(profile.urls) if profile else []
    hosts: list[str] = list(profile.hosts) if profile else []
    for url, shasum in downloads:
        host = None
        if not is_placeholder_url(url):
            canonical, host = normalise_url(url)
            if host:  # a URL naming no host is no shared resource
                urls.append(canonical)
                hosts.append(host)
        if not is_placeholder_hash(shasum):
            kind = fk.PUBLIC_PAYLOAD if host and is_public_host(host) else fk.PAYLOAD
            ids.add(intern(fk.feature_name(kind, str(shasum).strip().lower())))
    for shasum in uploads:
        if not is_placeholder_hash(shasum):
            ids.add(intern(fk.feature_name(fk.PAYLOAD, str(shasum).strip().lower())))
    for marker in profile.markers if profile else ():
        ids.add(intern(fk.feature_name(fk.MARKER, marker)))
    for host in hosts:
        if host == src_ip:
            continue  # self-hosted payload (worm spreading): says nothing about shared infrastructure
        kind = fk.PUBLIC_HOST if is_public_host(host) else fk.HOST
        ids.add(intern(fk.feature_name(kind, host)))
    for url in urls:
        _, host = normalise_url(url)
        if host is None or host == src_ip or is_public_host(host):
            continue
        ids.add(intern(fk.feature_name(fk.URL, url)))
    if profile:
        for key in profile.ssh_keys:
            ids.add(intern(fk.feature_name(fk.SSH_KEY, key)))
        for wallet in profile.wallets:
            ids.add(intern(fk.feature_name(fk.WALLET, wallet)))
    return tuple(sorted(ids)), frozenset(hosts)


TUNNEL_PAYLOAD_MIN_CHARS = 24  # a few bytes (an SMTP ``E``, a TLS record header) say nothing


def _specific_tunnel(request: TcpipRequest | TunnelRecord) -> bool:
    """Identical tunnelled bytes are a shared value only towards a non-public destination:
    every proxy checker sends the same request to the same popular site, and when it tunnels to
    the site's address the request still names the site (``Host: ip-api.com``)."""
    host = normalise_host(request.dst_ip)
    named = normalise_host(request.payload_host) if request.payload_host else None
    return (
        request.payload_chars >= TUNNEL_PAYLOAD_MIN_CHARS
        and host is not None
        and not is_public_host(host)
        and not (named is not None and is_public_host(named))
    )


def _ip_key(ip: str) -> tuple[int, int]:
    """(version, integer value) of a canonical IP string; the fast path skips ``ipaddress``."""
    if ":" not in ip:
        return 4, int.from_bytes(socket.inet_aton(ip), "big")
    return 6, int(ipaddress.ip_address(ip))


def _ipv4(ip: str, key: tuple[int, int]) -> tuple[int, bool]:
    if key[0] == 4:
        return key[1], False
    mapped = ipaddress.IPv6Address(key[1]).ipv4_mapped
    return (int(mapped), False) if mapped is not None else (0, True)


class _ProfileTable:
    """Distinct profiles of one kind (credential lists, artefact sets, tooling): key -> id."""

    def __init__(self) -> None:
        self.ids: dict[object, int] = {}
        self.features: list[tuple[int, ...]] = []
        self.arrival = array("q")  # profile id per session in arrival order (-1: none)
        self.of_session = np.empty(0, dtype=np.int64)  # per session in canonical order (finish)

    def get(self, key: object) -> int | None:
        return self.ids.get(key)

    def add(self, key: object, features: tuple[int, ...]) -> int:
        pid = self.ids[key] = len(self.features)
        self.features.append(features)
        return pid

    def incidence(self, source: np.ndarray, n_features: int) -> tuple[np.ndarray, np.ndarray]:
        """(source row, feature col) pairs of every session that has a profile of this kind."""
        has = self.of_session >= 0
        if not has.any() or not self.features:
            return np.empty(0, dtype=np.int64), np.empty(0, dtype=np.int64)
        lengths = np.fromiter((len(f) for f in self.features), dtype=np.int64, count=len(self.features))
        indptr = np.concatenate(([0], np.cumsum(lengths)))
        indices = np.fromiter((f for fs in self.features for f in fs), dtype=np.int64, count=int(indptr[-1]))
        table = sp.csr_matrix(
            (np.ones(len(indices)), indices, indptr), shape=(len(self.features), max(n_features, 1))
        )
        picked = table[self.of_session[has]].tocoo()
        return source[has][picked.row].astype(np.int64), picked.col.astype(np.int64)


def terminal_request(size: str | None, env: Sequence[str]) -> str:
    """One value for how a client asks for its terminal: ``80x24 LANG=C.UTF-8 TERM=xterm``."""
    return " ".join((size or "-", *env))


def _tool_features(s: SessionLike, intern: _Interner) -> tuple[int, ...]:
    ids: list[int] = []
    if s.client_version:
        ids.append(intern(fk.feature_name(fk.CLIENT, s.client_version)))
    if s.hassh:
        ids.append(intern(fk.feature_name(fk.HASSH, s.hassh)))
    if s.kex_algs:
        ids.append(intern(fk.feature_name(fk.KEX, ",".join(s.kex_algs))))
    if s.terminal or s.env:
        ids.append(intern(fk.feature_name(fk.TERMINAL, terminal_request(s.terminal, s.env))))
    if s.dst_port is not None:
        ids.append(intern(fk.feature_name(fk.PORT, f"{s.kind}/{s.protocol or ''}/{s.dst_port}")))
    return tuple(ids)


def build_frame(sessions: Iterable[SessionLike]) -> SessionFrame:
    """Intern the sessions into a frame; the order is canonical whatever order they came in."""
    builder = FrameBuilder()
    for session in sessions:
        builder.add(session)
    return builder.finish()


class FrameBuilder:
    """Builds a frame one session at a time, keeping only compact columns and distinct profiles.

    Nothing holds on to a session after ``add``, so a window streamed from a generator or a
    database cursor never has to fit in memory as objects; ``finish`` puts the columns in the
    canonical order (start, sensor, session id) and renumbers sources and templates to match.
    """

    def __init__(self) -> None:
        self._intern = _Interner()
        self._ip_ids: dict[str, int] = {}  # source IP -> id in arrival order
        self._session_ids: list[str] = []
        self._sensors: list[str] = []
        self._start = array("d")
        self._end = array("d")
        self._source = array("q")  # arrival-order source id
        self._attempts = array("i")
        self._commands = array("i")
        self._success = array("b")
        self._template = array("i")  # arrival-order template id (-1: no commands)
        self._command_cache: dict[tuple[str, ...], int] = {}
        self._templates: list[CommandProfile] = []
        self._creds = _ProfileTable()
        self._arts = _ProfileTable()
        self._tools = _ProfileTable()
        self._art_hosts: dict[int, frozenset[str]] = {}
        self._login_stems: list[tuple[str, ...]] = []
        self._login_uncommon: list[tuple[str, ...]] = []  # per credential profile, in order
        self._logins: dict[tuple[str, str | None, str | None], tuple[tuple[int, ...], str | None]] = {}
        self._tcpip_sources = array("q")  # arrival-order source id of each forwarding request
        self._tcpip_features = array("q")
        self.n_events = 0

    def add(self, s: SessionLike) -> None:
        intern = self._intern
        self._session_ids.append(s.session_id)
        self._sensors.append(s.sensor)
        self._start.append(s.start.timestamp())
        self._end.append(s.end.timestamp())
        src_ip = s.src_ip
        src = self._ip_ids.get(src_ip)
        if src is None:
            src = self._ip_ids[src_ip] = len(self._ip_ids)
        self._source.append(src)
        self.n_events += s.event_count
        profile: CommandProfile | None = None
        template = -1
        if s.commands:
            key = tuple(s.commands)
            t = self._command_cache.get(key)
            if t is None:
                t = self._command_cache[key] = len(self._templates)
                self._templates.append(profile_commands(key))
            template = t
            profile = self._templates[t]
        self._template.append(template)
        self._commands.append(len(s.commands))
        cred = -1
        success = False
        if s.logins:
            logins = tuple([(a.username, a.password, a.key_fingerprint) for a in s.logins])
            success = True in [a.success for a in s.logins]  # s.login_success, without a generator
            pid = self._creds.get(logins)
            if pid is None:
                ids: set[int] = set()
                stems: list[str] = []
                for login in logins:
                    known = self._logins.get(login)
                    if known is None:
                        known = self._logins[login] = _login_features(*login, intern)
                    ids.update(known[0])
                    if known[1]:
                        stems.append(known[1])
                pid = self._creds.add(logins, tuple(sorted(ids)))
                self._login_stems.append(tuple(stems))
                self._login_uncommon.append(
                    tuple(
                        f"{u}\x00{p}" for u, p, key in logins if p and not key and not is_common_password(p)
                    )
                )
            cred = pid
        self._creds.arrival.append(cred)
        self._attempts.append(len(s.logins))
        self._success.append(success)
        art = -1
        if s.downloads or s.uploads or profile is not None:
            akey: tuple[object, ...] = (
                tuple((d.url, d.shasum) for d in s.downloads),
                tuple(u.shasum for u in s.uploads),
                template,
            )
            pid = self._arts.get(akey)
            if pid is None:
                feats, hosts = _artefact_features(akey[0], akey[1], profile, "", intern)  # type: ignore[arg-type]
                pid = self._arts.add(akey, feats)
                self._art_hosts[pid] = hosts
            if src_ip in self._art_hosts[pid]:
                # The session fetches from its own address: that host is no shared infrastructure.
                own = (*akey, src_ip)
                pid = self._arts.get(own)
                if pid is None:
                    feats, _ = _artefact_features(akey[0], akey[1], profile, src_ip, intern)  # type: ignore[arg-type]
                    pid = self._arts.add(own, feats)
                    self._art_hosts[pid] = frozenset()
            art = pid
        self._arts.arrival.append(art)
        tkey = (
            s.client_version,
            s.hassh,
            tuple(s.kex_algs),
            s.terminal,
            tuple(s.env),
            s.protocol,
            s.dst_port,
            s.kind,
        )
        pid = self._tools.get(tkey)
        if pid is None:
            pid = self._tools.add(tkey, _tool_features(s, intern))
        self._tools.arrival.append(pid)
        for req in s.tcpip_requests:
            self._tcpip_sources.append(src)
            self._tcpip_features.append(intern(fk.feature_name(fk.TCPIP, f"{req.dst_ip}:{req.dst_port}")))
            if req.payload and _specific_tunnel(req):
                self._tcpip_sources.append(src)
                self._tcpip_features.append(
                    intern(fk.feature_name(fk.TUNNEL_PAYLOAD, f"{req.dst_ip}:{req.dst_port}:{req.payload}"))
                )

    def _sequence_features(self, source: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """(source, feature) of sampled ordered runs of three uncommon credentials per source.

        Runs are sampled by their own digest (one in ``SEQUENCE_SAMPLE``), so two sources walking
        the same list keep the same runs wherever they start in it; a source keeps a bounded few.
        """
        creds = self._creds.of_session
        has_uncommon = np.fromiter(
            (len(u) > 0 for u in self._login_uncommon), dtype=bool, count=len(self._login_uncommon)
        )
        with_uncommon = np.flatnonzero(creds >= 0)
        with_uncommon = with_uncommon[has_uncommon[creds[with_uncommon]]]
        per_source: dict[int, list[str]] = {}
        uncommon_of = self._login_uncommon
        for src, profile in zip(source[with_uncommon].tolist(), creds[with_uncommon].tolist(), strict=True):
            per_source.setdefault(src, []).extend(uncommon_of[profile])
        rows: list[int] = []
        cols: list[int] = []
        sampled: dict[str, int] = {}  # run -> its feature, -1 when not sampled (lists are walked often)
        for src, seq in per_source.items():
            kept = 0
            for k in range(len(seq) - SEQUENCE_GRAM + 1):
                gram = seq[k : k + SEQUENCE_GRAM]
                if len(set(gram)) < SEQUENCE_GRAM:
                    continue
                run = "\x01".join(gram)
                feature = sampled.get(run)
                if feature is None:
                    digest = hashlib.blake2b(run.encode("utf-8", "backslashreplace"), digest_size=8)
                    feature = sampled[run] = (
                        -1
                        if digest.digest()[-1] % SEQUENCE_SAMPLE
                        else self._intern(fk.feature_name(fk.CRED_SEQUENCE, digest.hexdigest()))
                    )
                if feature < 0:
                    continue
                rows.append(src)
                cols.append(feature)
                kept += 1
                if kept >= SEQUENCE_MAX_PER_SOURCE:
                    break
        return np.asarray(rows, dtype=np.int64), np.asarray(cols, dtype=np.int64)

    def finish(self) -> SessionFrame:
        with cycle_collection.paused():
            return self._finish()

    def _finish(self) -> SessionFrame:
        intern = self._intern
        n = len(self._session_ids)
        starts = np.frombuffer(self._start, dtype=np.float64) if n else np.empty(0)
        order = (
            _canonical_order(starts, self._sensors, self._session_ids) if n else np.empty(0, dtype=np.int64)
        )
        session_ids = [self._session_ids[k] for k in order.tolist()]
        sensors = [self._sensors[k] for k in order.tolist()]
        self._session_ids, self._sensors = [], []  # a builder is finished once; free as we go

        arrival_ips = list(self._ip_ids)  # numbered as they came: 0, 1, 2, ...
        arrival_keys = [_ip_key(ip) for ip in arrival_ips]
        by_key = sorted(range(len(arrival_ips)), key=arrival_keys.__getitem__)
        source_ips = [arrival_ips[k] for k in by_key]
        ip_keys = [arrival_keys[k] for k in by_key]  # per source
        source_of_arrival = np.empty(len(arrival_ips), dtype=np.int64)
        source_of_arrival[by_key] = np.arange(len(arrival_ips), dtype=np.int64)
        del arrival_ips, arrival_keys, by_key

        def column(values: array[Any], dtype: type) -> np.ndarray:
            return np.asarray(values, dtype=dtype)[order] if n else np.empty(0, dtype=dtype)

        start = starts[order] if n else np.empty(0)
        end = column(self._end, np.float64)
        source = source_of_arrival[column(self._source, np.int64)] if n else np.empty(0, dtype=np.int64)
        attempts = column(self._attempts, np.int32)
        n_commands = column(self._commands, np.int32)
        success = column(self._success, np.bool_)
        for table in (self._creds, self._arts, self._tools):
            table.of_session = column(table.arrival, np.int64)
            table.arrival = array("q")

        # Templates numbered by their first session in canonical order, as if read in that order.
        arrival_template = column(self._template, np.int64)
        templates: list[CommandProfile] = []
        template_of = np.full(n, -1, dtype=np.int32)
        has_template = arrival_template >= 0
        if has_template.any():
            firsts, first_at = np.unique(arrival_template[has_template], return_index=True)
            by_first = firsts[np.argsort(first_at, kind="stable")]
            renumber = np.full(len(self._templates), -1, dtype=np.int32)
            renumber[by_first] = np.arange(len(by_first), dtype=np.int32)
            template_of[has_template] = renumber[arrival_template[has_template]]
            templates = [self._templates[int(k)] for k in by_first]

        # Templates are features of the sources that ran them (weighted later by what they say).
        template_features = [intern(fk.feature_name(fk.TEMPLATE, "\n".join(p.template))) for p in templates]
        tcpip_sources = np.asarray(self._tcpip_sources, dtype=np.int64)
        row_parts = [
            source_of_arrival[tcpip_sources] if len(tcpip_sources) else np.empty(0, dtype=np.int64),
            source[has_template],
        ]
        col_parts = [
            np.asarray(self._tcpip_features, dtype=np.int64),
            np.asarray(template_features, dtype=np.int64)[template_of[has_template]]
            if templates
            else np.empty(0, dtype=np.int64),
        ]

        n_sources = len(source_ips)
        values: list[int] = []
        v6_flags: list[bool] = []
        infra_rows: list[int] = []
        infra_cols: list[int] = []
        net24: dict[int, int] = {}  # feature of each /24 (and /16) met, by its network number
        net16: dict[int, int] = {}
        for j, (ip, key) in enumerate(zip(source_ips, ip_keys, strict=True)):
            value, v6 = (key[1], False) if key[0] == 4 else _ipv4(ip, key)
            values.append(value)
            v6_flags.append(v6)
            if v6:
                continue
            # Infrastructure features: the source's /24 and /16 (IPv4).
            infra_rows.extend((j, j))
            c24 = net24.get(value >> 8)
            if c24 is None:
                prefix24 = f"{value >> 24}.{(value >> 16) & 255}.{(value >> 8) & 255}.0/24"
                c24 = net24[value >> 8] = intern(fk.feature_name(fk.PREFIX24, prefix24))
            c16 = net16.get(value >> 16)
            if c16 is None:
                prefix16 = f"{value >> 24}.{(value >> 16) & 255}.0.0/16"
                c16 = net16[value >> 16] = intern(fk.feature_name(fk.PREFIX16, prefix16))
            infra_cols.extend((c24, c16))
        ipv4 = np.array(values, dtype=np.uint32) if n_sources else np.zeros(0, dtype=np.uint32)
        is_v6 = np.array(v6_flags, dtype=bool) if n_sources else np.zeros(0, dtype=bool)
        del values, v6_flags, net24, net16
        row_parts.append(np.asarray(infra_rows, dtype=np.int64))
        col_parts.append(np.asarray(infra_cols, dtype=np.int64))
        seq_rows, seq_cols = self._sequence_features(source)
        row_parts.append(seq_rows)
        col_parts.append(seq_cols)
        for table in (self._creds, self._arts, self._tools):
            r, c = table.incidence(source, len(intern.ids))
            row_parts.append(r)
            col_parts.append(c)
        rows = np.concatenate(row_parts)
        cols = np.concatenate(col_parts)
        del row_parts, col_parts

        names = list(intern.ids)  # the interner numbers names as they come: 0, 1, 2, ...
        # Canonical feature order (by name), so ids do not depend on the input order.
        by_name = sorted(range(len(names)), key=names.__getitem__)
        order_f = np.array(by_name, dtype=np.int64)
        remap = np.empty(len(names), dtype=np.int64)
        remap[order_f] = np.arange(len(names))
        names = [names[k] for k in by_name]
        del by_name
        kinds = _kinds_of(names)
        col_arr = remap[cols] if len(cols) else np.empty(0, dtype=np.int64)
        incidence = sp.csr_matrix(
            (np.ones(len(col_arr), dtype=np.float64), (rows, col_arr)),
            shape=(n_sources, len(names)),
        )
        incidence.sum_duplicates()
        incidence.data[:] = 1.0
        incidence.sort_indices()

        frame = SessionFrame(
            session_ids=session_ids,
            sensors=sensors,
            start=start,
            end=end,
            source=source,
            attempts=attempts,
            commands=n_commands,
            login_success=success,
            template_of_session=template_of,
            templates=templates,
            template_feature=remap[np.asarray(template_features, dtype=np.int64)]
            if templates
            else np.empty(0, dtype=np.int64),
            source_ips=source_ips,
            source_ipv4=ipv4,
            source_is_v6=is_v6,
            feature_names=names,
            feature_kind=kinds,
            incidence=incidence,
            n_events=self.n_events,
        )
        _source_stats(frame)
        low = frame.source_attempts <= STEM_LIST_MAX_ATTEMPTS
        creds = self._creds.of_session
        stem_lists = frame.source_stem_lists
        listed = np.flatnonzero((creds >= 0) & low[source])
        for src, profile in zip(source[listed].tolist(), creds[listed].tolist(), strict=True):
            stem_lists.setdefault(src, []).extend(self._login_stems[profile])
        # A builder is finished once: drop the lookup tables now, not when the builder goes.
        self._logins.clear()
        self._command_cache.clear()
        for table in (self._creds, self._arts, self._tools):
            table.ids.clear()
        return frame


def _kinds_of(names: list[str]) -> np.ndarray:
    """``fk.KIND_INDEX`` of each name's kind, for names in sorted order: the names of one kind are
    one run (all begin with ``kind:``), found by bisection instead of splitting every name."""
    kinds = np.full(len(names), -1, dtype=np.int8)
    for kind, index in fk.KIND_INDEX.items():
        first = bisect.bisect_left(names, kind + ":")
        kinds[first : bisect.bisect_left(names, kind + ";", first)] = index
    if (kinds < 0).any():  # a name of no known kind: the KeyError it always raised
        return np.array([fk.KIND_INDEX[fk.kind_of(name)] for name in names], dtype=np.int8)
    return kinds


def _canonical_order(starts: np.ndarray, sensors: list[str], session_ids: list[str]) -> np.ndarray:
    """The order by (start, sensor, session id), ties kept in arrival order: ``np.lexsort`` of the
    three columns (strings as numpy compares them: trailing NULs aside), without making string
    arrays of every id. Sorted by start, then each run of one start by its strings."""
    order = np.argsort(starts, kind="stable")
    ordered = starts[order]
    same = ordered[1:] == ordered[:-1]
    if same.any():
        edges = np.flatnonzero(np.diff(np.concatenate(([0], same.view(np.int8), [0]))))
        for first, last in edges.reshape(-1, 2).tolist():
            run = sorted(
                order[first : last + 1].tolist(),
                key=lambda k: (sensors[k].rstrip("\x00"), session_ids[k].rstrip("\x00")),
            )
            order[first : last + 1] = run
    return order


def _source_stats(frame: SessionFrame) -> None:
    n = frame.n_sources
    src = frame.source
    frame.source_start = np.full(n, np.inf)
    np.minimum.at(frame.source_start, src, frame.start)
    frame.source_end = np.full(n, -np.inf)
    np.maximum.at(frame.source_end, src, frame.end)
    frame.source_sessions = np.bincount(src, minlength=n).astype(np.int32)
    frame.source_attempts = np.bincount(src, weights=frame.attempts, minlength=n).astype(np.int32)
    frame.source_commands = np.bincount(src, weights=frame.commands, minlength=n).astype(np.int32)
    frame.source_success = np.bincount(src, weights=frame.login_success, minlength=n) > 0
    frame.feature_sources = np.diff(frame.incidence.tocsc().indptr).astype(np.int64)
