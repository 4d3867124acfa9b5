"""Where attackers come from: real announced prefixes of real cloud, hosting and ISP networks.

Each catalogue entry is an anchor address inside a network the entry claims (a provider and a
kind); the prefix and AS name are read from the offline ``geoip2fast`` ASN data, never typed
in, and an anchor whose AS name does not match the claim is an error. Addresses drawn from a
:class:`Network` therefore resolve to that network's AS for anyone who looks them up.
"""

from __future__ import annotations

import ipaddress
import random
import re
from dataclasses import dataclass
from enum import StrEnum
from functools import cache
from typing import Any


class NetworkKind(StrEnum):
    CLOUD = "cloud"  # large public clouds: rented, short-lived, worldwide
    HOSTING = "hosting"  # small and bulletproof hosters, often one /24 or /23
    RESIDENTIAL = "residential"  # consumer ISPs and mobile carriers: compromised devices


# provider -> (kind, regex the geoip2fast AS name must match, anchor addresses)
_ANCHORS: dict[str, tuple[NetworkKind, str, tuple[str, ...]]] = {
    "aws": (
        NetworkKind.CLOUD,
        r"^AMAZON",
        (
            "3.134.1.1",
            "18.190.1.1",
            "54.80.1.1",
            "13.48.1.1",
            "35.180.1.1",
            "13.233.1.1",
            "54.169.1.1",
            "3.0.1.1",
        ),
    ),
    "azure": (NetworkKind.CLOUD, r"^MICROSOFT", ("20.29.1.1", "40.76.1.1", "52.170.1.1")),
    "gcp": (NetworkKind.CLOUD, r"^GOOGLE-CLOUD", ("34.80.1.1", "35.200.1.1", "34.125.1.1", "104.196.1.1")),
    "digitalocean": (
        NetworkKind.CLOUD,
        r"^DIGITALOCEAN",
        (
            "167.99.1.1",
            "143.198.1.1",
            "134.209.1.1",
            "206.189.1.1",
            "159.89.1.1",
            "138.68.1.1",
            "104.248.1.1",
            "157.245.1.1",
            "64.227.1.1",
            "128.199.1.1",
            "165.22.1.1",
            "188.166.1.1",
            "178.128.1.1",
            "68.183.1.1",
        ),
    ),
    "ovh": (
        NetworkKind.CLOUD,
        r"^OVH",
        ("51.75.1.1", "54.36.1.1", "145.239.1.1", "51.178.1.1", "57.128.1.1", "141.94.1.1", "139.99.1.1"),
    ),
    "hetzner": (
        NetworkKind.CLOUD,
        r"^Hetzner",
        ("88.198.1.1", "95.216.1.1", "65.21.1.1", "135.181.1.1", "78.46.1.1", "5.161.1.1", "49.12.1.1"),
    ),
    "vultr": (
        NetworkKind.CLOUD,
        r"CHOOPA",
        ("45.76.1.1", "45.32.1.1", "207.148.1.1", "108.61.1.1", "140.82.1.1"),
    ),
    "linode": (NetworkKind.CLOUD, r"^Akamai Connected Cloud", ("139.162.1.1", "45.79.1.1", "45.33.1.1")),
    "tencent": (
        NetworkKind.CLOUD,
        r"Tencent",
        ("43.134.1.1", "43.156.1.1", "119.28.1.1", "129.226.1.1", "170.106.1.1", "124.221.1.1", "49.232.1.1"),
    ),
    "alibaba": (
        NetworkKind.CLOUD,
        r"Alibaba",
        ("47.88.1.1", "47.236.1.1", "8.208.1.1", "121.40.1.1", "101.37.1.1", "47.74.1.1", "39.101.1.1"),
    ),
    "huawei": (NetworkKind.CLOUD, r"^HUAWEI CLOUDS", ("119.8.1.1", "159.138.1.1")),
    "oracle": (NetworkKind.CLOUD, r"^ORACLE", ("129.146.1.1", "132.145.1.1", "140.238.1.1", "152.67.1.1")),
    "scaleway": (NetworkKind.CLOUD, r"^Scaleway", ("51.15.1.1", "163.172.1.1")),
    "ionos": (NetworkKind.CLOUD, r"^IONOS", ("74.208.1.1",)),
    "colocrossing": (NetworkKind.CLOUD, r"COLOCROSSING", ("107.173.1.1", "23.94.1.1", "104.168.1.1")),
    "unmanaged": (NetworkKind.HOSTING, r"^Unmanaged Ltd", ("193.32.162.1", "2.57.122.1")),
    "colocationx": (NetworkKind.HOSTING, r"^ColocationX", ("79.124.8.1",)),
    "4media": (NetworkKind.HOSTING, r"^4Media", ("78.128.112.1",)),
    "pt-cloud-hosting": (NetworkKind.HOSTING, r"^PT Cloud Hosting", ("103.146.202.1",)),
    "pptechnology": (NetworkKind.HOSTING, r"^Pptechnology", ("45.148.10.1",)),
    "ss-net": (NetworkKind.HOSTING, r"^SS-Net", ("80.94.95.1",)),
    "host-baltic": (NetworkKind.HOSTING, r"Host Baltic", ("141.98.10.1",)),
    "alsycon": (NetworkKind.HOSTING, r"^Alsycon", ("185.224.128.1",)),
    "media-land": (NetworkKind.HOSTING, r"^Media Land", ("194.26.29.1", "45.141.87.1")),
    "chang-way": (NetworkKind.HOSTING, r"^Chang Way", ("92.255.85.1", "176.111.174.1")),
    "api-versa": (NetworkKind.HOSTING, r"^Api Versa", ("195.178.110.1",)),
    "proton66": (NetworkKind.HOSTING, r"^Proton66", ("45.135.232.1",)),
    "krez": (NetworkKind.HOSTING, r"^Krez", ("5.188.206.1",)),
    "it-hostline": (NetworkKind.HOSTING, r"Hostline", ("154.213.184.1",)),
    "amarutu": (NetworkKind.HOSTING, r"^Amarutu", ("183.81.169.1",)),
    "private-layer": (NetworkKind.HOSTING, r"^Private Layer", ("179.43.180.1",)),
    "ponynet": (NetworkKind.HOSTING, r"^PONYNET", ("104.244.72.1", "107.189.1.1")),
    "bursabil": (NetworkKind.HOSTING, r"^Bursabil", ("185.247.137.1",)),
    "selectel": (NetworkKind.HOSTING, r"Selectel", ("193.201.9.1",)),
    "limenet": (NetworkKind.HOSTING, r"^LIMENET", ("91.92.240.1",)),
    "comcast": (NetworkKind.RESIDENTIAL, r"^COMCAST", ("73.1.1.1", "24.1.1.1")),
    "att": (NetworkKind.RESIDENTIAL, r"^ATT-INTERNET", ("99.1.1.1",)),
    "spectrum": (NetworkKind.RESIDENTIAL, r"^TWC", ("98.1.1.1",)),
    "verizon-wireless": (NetworkKind.RESIDENTIAL, r"^CELLCO", ("97.1.1.1",)),
    "shaw": (NetworkKind.RESIDENTIAL, r"^SHAW", ("174.1.1.1",)),
    "deutsche-telekom": (
        NetworkKind.RESIDENTIAL,
        r"^Deutsche Telekom",
        ("79.200.1.1", "91.1.1.1", "93.200.1.1"),
    ),
    "telefonica-de": (NetworkKind.RESIDENTIAL, r"^Telefonica Germany", ("77.1.1.1", "176.1.1.1")),
    "orange-fr": (NetworkKind.RESIDENTIAL, r"^Orange$", ("90.1.1.1", "86.200.1.1")),
    "sfr": (NetworkKind.RESIDENTIAL, r"SFR", ("109.1.1.1",)),
    "virgin-media": (NetworkKind.RESIDENTIAL, r"^Virgin Media", ("80.1.1.1", "82.1.1.1")),
    "sky-uk": (NetworkKind.RESIDENTIAL, r"^Sky UK", ("94.1.1.1",)),
    "telecom-italia": (NetworkKind.RESIDENTIAL, r"^Telecom Italia", ("79.10.1.1", "87.1.1.1")),
    "orange-pl": (NetworkKind.RESIDENTIAL, r"^Orange Polska", ("83.1.1.1",)),
    "rostelecom": (NetworkKind.RESIDENTIAL, r"^Rostelecom", ("178.64.1.1",)),
    "vimpelcom": (NetworkKind.RESIDENTIAL, r"^PVimpelCom", ("95.24.1.1",)),
    "turk-telekom": (NetworkKind.RESIDENTIAL, r"^Turk Telekom", ("78.160.1.1", "85.100.1.1")),
    "te-data": (NetworkKind.RESIDENTIAL, r"^TE Data", ("41.32.1.1", "156.200.1.1", "197.32.1.1")),
    "ptcl": (NetworkKind.RESIDENTIAL, r"^Pakistan Telecommunication", ("39.55.1.1",)),
    "bsnl": (NetworkKind.RESIDENTIAL, r"^National Internet Backbone", ("117.253.1.1", "61.1.1.1")),
    "jio": (NetworkKind.RESIDENTIAL, r"^Reliance Jio", ("49.36.1.1",)),
    "airtel": (NetworkKind.RESIDENTIAL, r"^Bharti Airtel", ("122.160.1.1",)),
    "telkom-id": (NetworkKind.RESIDENTIAL, r"^PT Telekomunikasi Indonesia", ("36.70.1.1", "180.241.1.1")),
    "telkomsel": (NetworkKind.RESIDENTIAL, r"Telekomunikasi Selular", ("182.1.1.1",)),
    "vnpt": (NetworkKind.RESIDENTIAL, r"^VNPT", ("14.160.1.1", "113.160.1.1")),
    "viettel": (NetworkKind.RESIDENTIAL, r"^Viettel", ("27.64.1.1", "171.224.1.1", "117.1.1.1")),
    "tot-th": (NetworkKind.RESIDENTIAL, r"^TOT", ("1.20.1.1",)),
    "smart-ph": (NetworkKind.RESIDENTIAL, r"^Smart Broadband", ("121.1.1.1",)),
    "chinanet": (
        NetworkKind.RESIDENTIAL,
        r"^Chinanet",
        ("218.92.0.1", "61.177.172.1", "183.1.1.1", "114.138.1.1"),
    ),
    "china-unicom": (
        NetworkKind.RESIDENTIAL,
        r"^CHINA UNICOM",
        ("115.58.1.1", "113.1.1.1", "60.1.1.1", "120.1.1.1"),
    ),
    "china-mobile": (NetworkKind.RESIDENTIAL, r"^China Mobile", ("112.1.1.1", "111.1.1.1")),
    "korea-telecom": (NetworkKind.RESIDENTIAL, r"^Korea Telecom", ("61.80.142.1", "115.1.1.1", "59.1.1.1")),
    "sk-broadband": (NetworkKind.RESIDENTIAL, r"^SK Broadband", ("39.114.14.1",)),
    "softbank": (NetworkKind.RESIDENTIAL, r"^SoftBank", ("220.1.1.1", "219.1.1.1")),
    "kddi": (NetworkKind.RESIDENTIAL, r"^KDDI", ("222.1.1.1",)),
    "telefonica-br": (NetworkKind.RESIDENTIAL, r"^TELEFONICA BRASIL", ("179.100.1.1", "201.1.1.1")),
    "vtal": (NetworkKind.RESIDENTIAL, r"^V tal", ("177.1.1.1", "191.1.1.1")),
    "telecom-argentina": (NetworkKind.RESIDENTIAL, r"^Telecom Argentina", ("186.137.1.1", "181.1.1.1")),
}


@dataclass(frozen=True, slots=True)
class Network:
    """One announced prefix of one AS, as the geoip2fast ASN data names it."""

    provider: str
    kind: NetworkKind
    asn_name: str
    prefix: ipaddress.IPv4Network

    def address(self, rng: random.Random) -> str:
        """A host address inside the prefix (never a .0 or .255, which scanners rarely use)."""
        return self.address_in(rng, self.prefix)

    def slash24(self, rng: random.Random) -> ipaddress.IPv4Network:
        if self.prefix.prefixlen >= 24:
            return self.prefix.supernet(new_prefix=24) if self.prefix.prefixlen > 24 else self.prefix
        blocks = self.prefix.num_addresses // 256
        base = int(self.prefix.network_address) + 256 * rng.randrange(blocks)
        return ipaddress.IPv4Network((base, 24))

    @staticmethod
    def address_in(rng: random.Random, prefix: ipaddress.IPv4Network) -> str:
        first = int(prefix.network_address)
        while True:
            value = first + rng.randrange(prefix.num_addresses)
            if value & 0xFF not in (0, 255) or prefix.num_addresses <= 2:
                return str(ipaddress.IPv4Address(value))


@cache
def _geoip() -> Any:
    from geoip2fast import GeoIP2Fast

    return GeoIP2Fast(geoip2fast_data_file="geoip2fast-asn.dat.gz")


def lookup_asn(ip: str) -> tuple[str, str]:
    """(AS name, AS prefix) of an address per the bundled geoip2fast data; empty when unknown."""
    result = _geoip().lookup(ip)
    return str(result.asn_name or ""), str(result.asn_cidr or "")


class NetworkCatalogue:
    """The resolved anchors, by kind and provider, in a fixed order (determinism)."""

    def __init__(self, networks: list[Network]) -> None:
        self.networks = networks
        self.by_kind: dict[NetworkKind, list[Network]] = {kind: [] for kind in NetworkKind}
        self.by_provider: dict[str, list[Network]] = {}
        for network in networks:
            self.by_kind[network.kind].append(network)
            self.by_provider.setdefault(network.provider, []).append(network)

    def pick(self, rng: random.Random, kind: NetworkKind) -> Network:
        return rng.choice(self.by_kind[kind])

    def pick_mixed(self, rng: random.Random, weights: dict[NetworkKind, float]) -> Network:
        kinds = list(weights)
        kind = rng.choices(kinds, weights=[weights[k] for k in kinds])[0]
        return self.pick(rng, kind)

    def providers(self, kind: NetworkKind) -> list[str]:
        return sorted({network.provider for network in self.by_kind[kind]})


@cache
def default_catalogue() -> NetworkCatalogue:
    """Resolve every anchor once per process (geoip2fast loads in ~0.2 s)."""
    networks: list[Network] = []
    seen: set[ipaddress.IPv4Network] = set()
    for provider, (kind, pattern, anchors) in _ANCHORS.items():
        for anchor in anchors:
            asn_name, cidr = lookup_asn(anchor)
            if not cidr or not re.search(pattern, asn_name):
                raise ValueError(
                    f"network anchor {anchor} ({provider}) should belong to an AS matching {pattern!r}, "
                    f"geoip2fast says {asn_name!r} {cidr!r}"
                )
            prefix = ipaddress.IPv4Network(cidr)
            last = str(prefix.broadcast_address)
            if lookup_asn(last) != (asn_name, cidr):
                raise ValueError(f"prefix {cidr} of anchor {anchor} is not one AS entry end to end")
            if prefix not in seen:
                seen.add(prefix)
                networks.append(Network(provider, kind, asn_name, prefix))
    return NetworkCatalogue(networks)
