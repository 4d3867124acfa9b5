"""Link sessions from different source IPs that share a downloaded file hash, a download URL
host or an identical normalised command sequence; components with >= 2 IPs are campaigns.

No statistics: this is the baseline the calibrated analytics are measured against.
"""

from __future__ import annotations

import hashlib
import ipaddress
import re
from collections import defaultdict
from collections.abc import Sequence
from urllib.parse import urlsplit

from coord_core.contracts.campaigns import AnalysisResult, Campaign, Evidence, Link, RunInfo, Verdict
from coord_core.contracts.sessions import AttackSession

_NUMBER = re.compile(r"\b\d+\b")
_SPACE = re.compile(r"\s+")


def normalise_command(command: str) -> str:
    return _SPACE.sub(" ", _NUMBER.sub("<n>", command.strip().lower()))


def session_artifacts(session: AttackSession) -> list[str]:
    """The exact artefacts by which two sessions may be linked, as ``kind:value`` strings."""
    found: set[str] = set()
    for download in session.downloads:
        if download.shasum:
            found.add(f"file_hash:{download.shasum.lower()}")
        host = urlsplit(download.url).hostname
        if host:
            found.add(f"url_host:{host.lower()}")
    for upload in session.uploads:
        if upload.shasum:
            found.add(f"file_hash:{upload.shasum.lower()}")
    if session.commands:
        sequence = "\n".join(normalise_command(c) for c in session.commands)
        found.add(f"command_sequence:{hashlib.sha256(sequence.encode()).hexdigest()[:16]}")
    return sorted(found)


class _UnionFind:
    def __init__(self, n: int) -> None:
        self.parent = list(range(n))

    def find(self, i: int) -> int:
        while self.parent[i] != i:
            self.parent[i] = self.parent[self.parent[i]]
            i = self.parent[i]
        return i

    def union(self, a: int, b: int) -> None:
        ra, rb = self.find(a), self.find(b)
        if ra != rb:
            self.parent[max(ra, rb)] = min(ra, rb)


def _same_slash24(ips: Sequence[str]) -> bool:
    nets = {ipaddress.ip_network(f"{ip}/24", strict=False) for ip in ips if ":" not in ip}
    return len(nets) == 1 and all(":" not in ip for ip in ips)


def analyze(sessions: Sequence[AttackSession], run: RunInfo) -> AnalysisResult:
    ordered = sorted(sessions, key=lambda s: (s.start, s.sensor, s.session_id))
    by_artifact: dict[str, list[int]] = defaultdict(list)
    for index, session in enumerate(ordered):
        for artifact in session_artifacts(session):
            by_artifact[artifact].append(index)
    forest = _UnionFind(len(ordered))
    shared: dict[str, list[int]] = {}
    for artifact, members in sorted(by_artifact.items()):
        if len({ordered[i].src_ip for i in members}) >= 2:
            shared[artifact] = members
            for other in members[1:]:
                forest.union(members[0], other)
    components: dict[int, list[int]] = defaultdict(list)
    for index in range(len(ordered)):
        components[forest.find(index)].append(index)
    campaigns: list[Campaign] = []
    in_campaign: set[int] = set()
    for members in components.values():
        ips = sorted({ordered[i].src_ip for i in members})
        if len(ips) < 2:
            continue
        in_campaign.update(members)
        campaigns.append(_campaign([ordered[i] for i in members], ips, shared, set(members)))
    campaigns.sort(key=lambda c: (c.first_seen, c.campaign_id))
    independent = [s.session_id for i, s in enumerate(ordered) if i not in in_campaign]
    return AnalysisResult(
        run=run, campaigns=campaigns, independent_session_ids=independent, notes=["analyzer: baseline"]
    )


def _campaign(
    members: list[AttackSession], ips: list[str], shared: dict[str, list[int]], member_ix: set[int]
) -> Campaign:
    session_ids = [s.session_id for s in members]
    campaign_id = "cmp-" + hashlib.sha256("\n".join(sorted(session_ids)).encode()).hexdigest()[:16]
    artifacts = sorted(a for a, ix in shared.items() if set(ix) <= member_ix)
    evidence = Evidence(
        evidence_id=f"{campaign_id}:shared_artifacts",
        factor="shared_artifacts",
        score=1.0,
        statistic={"shared": artifacts, "source_ips": len(ips), "sessions": len(members)},
        summary=f"{len(ips)} source IPs share {len(artifacts)} exact artefact(s)",
    )
    links: list[Link] = []
    by_session_artifacts = {s.session_id: set(session_artifacts(s)) for s in members}
    anchor = members[0]
    for other in members[1:]:
        common = sorted(by_session_artifacts[anchor.session_id] & by_session_artifacts[other.session_id])
        if common:
            links.append(
                Link(
                    session_a=anchor.session_id,
                    session_b=other.session_id,
                    features=common,
                    weight=1.0,
                    evidence_ids=[evidence.evidence_id],
                )
            )
    verdict = Verdict.SINGLE_ACTOR_MULTI_SOURCE if _same_slash24(ips) else Verdict.COORDINATED_CAMPAIGN
    return Campaign(
        campaign_id=campaign_id,
        verdict=verdict,
        confidence=round(1.0 - 1.0 / len(ips), 4),
        session_ids=sorted(session_ids),
        source_ips=ips,
        first_seen=min(s.start for s in members),
        last_seen=max(s.end for s in members),
        evidence=[evidence],
        links=links,
        signature=sorted(hashlib.sha256(a.encode()).hexdigest()[:16] for a in artifacts),
    )
