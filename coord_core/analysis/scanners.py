"""Known benign research scanners, from the range lists shipped in ``pymispwarninglists``.

Only the lists of research/measurement scanners are used (Censys, Shodan, Shadowserver,
Rapid7, Internet census, Onyphe, Modat, ...); a source on one of them is labelled with the
list's name and never reported as an attack campaign. IPv4 lookups are vectorised (sorted
range starts + ``searchsorted``); nested ranges of different lists all match.
"""

from __future__ import annotations

import functools
import ipaddress
import json
import socket
import threading
from dataclasses import dataclass
from pathlib import Path

import numpy as np

_SCANNER_MARKERS = ("scanning", "scanner", "shadowserver")


@dataclass(frozen=True)
class ScannerList:
    folder: str
    name: str
    version: int


class ScannerRanges:
    def __init__(self, lists_dir: Path | None = None) -> None:
        self.lists_dir = lists_dir
        self._lock = threading.Lock()
        self._loaded = False
        self.lists: list[ScannerList] = []
        self._v4_start = np.empty(0, dtype=np.uint64)
        self._v4_end = np.empty(0, dtype=np.uint64)
        self._v4_list = np.empty(0, dtype=np.int32)
        self._v6: list[tuple[ipaddress.IPv6Network, int]] = []

    def _directory(self) -> Path:
        if self.lists_dir is not None:
            return self.lists_dir
        import pymispwarninglists

        return Path(pymispwarninglists.__file__).parent / "data" / "misp-warninglists" / "lists"

    def load(self) -> None:
        with self._lock:
            if self._loaded:
                return
            starts: list[int] = []
            ends: list[int] = []
            owners: list[int] = []
            for folder in sorted(p for p in self._directory().iterdir() if p.is_dir()):
                if not any(marker in folder.name for marker in _SCANNER_MARKERS):
                    continue
                path = folder / "list.json"
                if not path.is_file():
                    continue
                doc = json.loads(path.read_text(encoding="utf-8"))
                if doc.get("type") not in ("cidr", "string"):
                    continue
                index = len(self.lists)
                self.lists.append(
                    ScannerList(folder.name, str(doc.get("name", folder.name)), int(doc.get("version", 0)))
                )
                for entry in doc.get("list", []):
                    try:
                        net = ipaddress.ip_network(str(entry).strip(), strict=False)
                    except ValueError:
                        continue
                    if isinstance(net, ipaddress.IPv4Network):
                        starts.append(int(net.network_address))
                        ends.append(int(net.broadcast_address))
                        owners.append(index)
                    else:
                        self._v6.append((net, index))
            order = (
                np.lexsort((np.asarray(owners), np.asarray(starts)))
                if starts
                else np.empty(0, dtype=np.int64)
            )
            self._v4_start = np.asarray(starts, dtype=np.uint64)[order]
            self._v4_end = np.asarray(ends, dtype=np.uint64)[order]
            self._v4_list = np.asarray(owners, dtype=np.int32)[order]
            self._loaded = True

    def match(self, ips: list[str]) -> dict[str, list[ScannerList]]:
        """IP -> the scanner lists it is on (only IPs on at least one list)."""
        self.load()
        out: dict[str, list[ScannerList]] = {}
        v4_ips: list[str] = []
        v4_vals: list[int] = []
        for ip in ips:
            if ":" not in ip:
                v4_ips.append(ip)
                v4_vals.append(int.from_bytes(socket.inet_aton(ip), "big"))
            else:
                addr = ipaddress.ip_address(ip)
                hits = sorted({i for net, i in self._v6 if addr in net})
                if hits:
                    out[ip] = [self.lists[i] for i in hits]
        if v4_vals and len(self._v4_start):
            values = np.asarray(v4_vals, dtype=np.uint64)
            # Ranges are few (a few thousand): check every range starting at or before the IP.
            upto = np.searchsorted(self._v4_start, values, side="right")
            reach = np.maximum.accumulate(self._v4_end)
            inside = (upto > 0) & (reach[np.maximum(upto - 1, 0)] >= values)
            for k in np.flatnonzero(inside):
                ip, value, limit = v4_ips[k], values[k], upto[k]
                candidates = np.flatnonzero(self._v4_end[:limit] >= value)
                if len(candidates):
                    hits = sorted({int(self._v4_list[c]) for c in candidates})
                    out[ip] = [self.lists[i] for i in hits]
        return out


@functools.cache
def default_scanner_ranges() -> ScannerRanges:
    return ScannerRanges()
