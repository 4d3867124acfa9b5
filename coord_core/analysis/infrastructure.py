"""Where a group's sources sit: prefixes, AS organisations, countries, hosting or residential.

Offline only: the ASN/country database ships inside ``geoip2fast`` (no runtime download).
AS numbers are not in it; the AS organisation name and its announced prefix stand in for them.
"""

from __future__ import annotations

import functools
import ipaddress
import math
import re
import threading
from collections import Counter
from collections.abc import Iterable
from dataclasses import asdict, dataclass
from typing import Any, TypedDict

GEO_DATA_FILE = "geoip2fast-asn.dat.gz"

_HOSTING = re.compile(
    r"hosting|host|cloud|server|data ?cent|datacenter|vps|colo|dedicated|amazon|aws|google|microsoft|azure|"
    r"digitalocean|ovh|hetzner|linode|akamai|vultr|choopa|contabo|alibaba|tencent|oracle|scaleway|leaseweb|"
    r"m247|hostinger|ionos|stark|pfcloud|frantech|buyvm|selectel|timeweb|aeza|constant",
    re.IGNORECASE,
)
_RESIDENTIAL = re.compile(
    r"telecom|telekom|broadband|cable|mobile|wireless|dsl|fiber|fibre|communications|telefonica|vodafone|"
    r"comcast|charter|verizon|at&t|orange|kt corp|korea telecom|sk broadband|chinanet|china unicom|"
    r"china mobile|vnpt|viettel|bharti|reliance|jio|telstra|claro|vivo|tim |turk|rostelecom|mts|beeline",
    re.IGNORECASE,
)


@dataclass(frozen=True)
class SourceInfra:
    ip: str
    country: str | None = None
    as_name: str | None = None
    as_prefix: str | None = None
    network_type: str = "unknown"  # hosting | residential | unknown | private

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)


def network_type(as_name: str | None) -> str:
    if not as_name:
        return "unknown"
    if _HOSTING.search(as_name):
        return "hosting"
    if _RESIDENTIAL.search(as_name):
        return "residential"
    return "unknown"


class GeoResolver:
    """Country, AS organisation and prefix per IP from the database bundled with geoip2fast."""

    def __init__(self, data_file: str = GEO_DATA_FILE) -> None:
        self.data_file = data_file
        self._db: Any = None
        self._lock = threading.Lock()

    def _database(self) -> Any:
        with self._lock:
            if self._db is None:
                from geoip2fast import GeoIP2Fast

                self._db = GeoIP2Fast(geoip2fast_data_file=self.data_file)
            return self._db

    def lookup(self, ips: Iterable[str]) -> dict[str, SourceInfra]:
        db = self._database()
        out: dict[str, SourceInfra] = {}
        for ip in sorted(set(ips)):
            r = db.lookup(ip)
            if getattr(r, "is_private", False):
                out[ip] = SourceInfra(ip=ip, network_type="private")
                continue
            country = r.country_code if r.country_code and r.country_code != "--" else None
            as_name = (r.asn_name or None) if hasattr(r, "asn_name") else None
            prefix = (r.asn_cidr or None) if hasattr(r, "asn_cidr") else None
            out[ip] = SourceInfra(
                ip=ip, country=country, as_name=as_name, as_prefix=prefix, network_type=network_type(as_name)
            )
        return out


@functools.cache
def default_geo_resolver() -> GeoResolver:
    return GeoResolver()


def _prefix(ip: str, bits: int) -> str:
    addr = ipaddress.ip_address(ip)
    if addr.version == 6:
        bits = {24: 48, 16: 32}[bits]
    return str(ipaddress.ip_network(f"{ip}/{bits}", strict=False))


def _entropy(counts: Counter[str]) -> float:
    total = sum(counts.values())
    if total == 0:
        return 0.0
    return -sum((c / total) * math.log2(c / total) for c in counts.values() if c)


class InfrastructureStatistic(TypedDict):
    """Where a group sits, as evidence and the workflow state show it."""

    sources: int
    prefixes_24: int
    prefixes_16: int
    as_organisations: int
    countries: int
    top_prefix24_share: float
    top_as_share: float
    as_entropy_bits: float
    hosting_share: float
    sources_with_as: int
    top_as: str | None


@dataclass(frozen=True)
class GroupInfrastructure:
    sources: int
    prefixes24: int
    prefixes16: int
    as_names: int
    countries: int
    top_prefix24_share: float
    top_as_share: float
    as_entropy_bits: float
    hosting_share: float
    known: int  # sources with AS data
    top_as: str | None

    @property
    def shared(self) -> bool:
        """One /24, or one AS for every source whose AS is known."""
        if self.prefixes24 == 1:
            return True
        return self.known >= 2 and self.known == self.sources and self.as_names == 1

    def as_statistic(self) -> InfrastructureStatistic:
        return {
            "sources": self.sources,
            "prefixes_24": self.prefixes24,
            "prefixes_16": self.prefixes16,
            "as_organisations": self.as_names,
            "countries": self.countries,
            "top_prefix24_share": round(self.top_prefix24_share, 4),
            "top_as_share": round(self.top_as_share, 4),
            "as_entropy_bits": round(self.as_entropy_bits, 4),
            "hosting_share": round(self.hosting_share, 4),
            "sources_with_as": self.known,
            "top_as": self.top_as,
        }


def group_infrastructure(
    ips: list[str], infra: dict[str, SourceInfra], prefixes: tuple[list[int], list[int]] | None = None
) -> GroupInfrastructure:
    """Infrastructure facts of a group; ``prefixes`` (/24 and /16 keys per IP) saves re-parsing."""
    if prefixes is None:
        p24: Counter[object] = Counter(_prefix(ip, 24) for ip in ips)
        p16: Counter[object] = Counter(_prefix(ip, 16) for ip in ips)
    else:
        p24, p16 = Counter(prefixes[0]), Counter(prefixes[1])
    known = [infra[ip] for ip in ips if ip in infra and infra[ip].as_name]
    as_counts = Counter(i.as_name or "" for i in known)
    countries = Counter(i.country for i in known if i.country)
    top_as = min(as_counts.items(), key=lambda kv: (-kv[1], kv[0]))[0] if as_counts else None
    return GroupInfrastructure(
        sources=len(ips),
        prefixes24=len(p24),
        prefixes16=len(p16),
        as_names=len(as_counts),
        countries=len(countries),
        top_prefix24_share=max(p24.values()) / len(ips) if ips else 0.0,
        top_as_share=(max(as_counts.values()) / len(known)) if known else 0.0,
        as_entropy_bits=_entropy(as_counts),
        hosting_share=(sum(1 for i in known if i.network_type == "hosting") / len(known)) if known else 0.0,
        known=len(known),
        top_as=top_as,
    )
