"""Benign research scanners: the address ranges their operators publish, as MISP warning lists.

Read straight from the lists bundled with ``pymispwarninglists`` (only the scanner lists, not
the package's 100 lists, which take seconds to load), so an address drawn here is matched by
that list for anyone who checks it.
"""

from __future__ import annotations

import ipaddress
import json
import random
from dataclasses import dataclass
from functools import cache
from pathlib import Path

from coord_core.scenarios.clients import GO_COMMON, LIBSSH2_1_11_0, OPENSSH_8_9, ZGRAB, ClientProfile

# list folder -> the client the organisation's scanner announces
_SCANNER_LISTS: dict[str, ClientProfile] = {
    "censys-scanning": GO_COMMON,
    "shadowserver-nt-scanning": LIBSSH2_1_11_0,
    "rapid7-nt-scanning": OPENSSH_8_9,
    "internet-census-nt-scanning": ZGRAB,
    "onyphe-nt-scanning": GO_COMMON,
    "modat-nt-scanning": ZGRAB,
    "alphastrike-scanning": ZGRAB,
    "shodan-scanning": OPENSSH_8_9,
}


@dataclass(frozen=True, slots=True)
class ScannerOrg:
    """One organisation's published scanning ranges (IPv4) and the warning list naming them."""

    list_folder: str
    list_name: str
    prefixes: tuple[ipaddress.IPv4Network, ...]
    client: ClientProfile

    def addresses(self, rng: random.Random, count: int) -> list[str]:
        """Up to ``count`` distinct addresses spread over the organisation's ranges."""
        chosen: list[str] = []
        capacity = sum(p.num_addresses for p in self.prefixes)
        while len(chosen) < min(count, capacity):
            prefix = rng.choice(self.prefixes)
            address = str(prefix.network_address + rng.randrange(prefix.num_addresses))
            if address not in chosen:
                chosen.append(address)
        return chosen


def _lists_root() -> Path:
    import pymispwarninglists

    return Path(pymispwarninglists.__file__).parent / "data" / "misp-warninglists" / "lists"


@cache
def scanner_orgs() -> tuple[ScannerOrg, ...]:
    orgs = []
    root = _lists_root()
    for folder, client in _SCANNER_LISTS.items():
        doc = json.loads((root / folder / "list.json").read_text(encoding="utf-8"))
        prefixes = []
        for entry in doc["list"]:
            network = ipaddress.ip_network(entry, strict=False)
            if isinstance(network, ipaddress.IPv4Network) and network.is_global:
                prefixes.append(network)
        if not prefixes:
            raise ValueError(f"warning list {folder} has no global IPv4 range")
        orgs.append(ScannerOrg(folder, str(doc["name"]), tuple(prefixes), client))
    return tuple(orgs)
