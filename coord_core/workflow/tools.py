"""The tool coordinator: lookups about a window's sources and artefacts, run concurrently.

Tools: research-scanner lists (every source), offline ASN/geo (grouped sources) and any
``ThreatIntelSource`` (grouped sources and the groups' artefacts). Each tool runs in its own
thread; a tool that raises or reports failure degrades only its own evidence and is recorded in
the result's ``tools`` — the run goes on. Answers are cached per (tool, indicator) for the life
of the coordinator, so a retried or repeated analysis in one worker does not ask twice.
"""

from __future__ import annotations

import logging
import re
import threading
from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from typing import Any, TypedDict

from coord_core.analysis import features as fk
from coord_core.analysis.infrastructure import GeoResolver, default_geo_resolver
from coord_core.analysis.intel_matches import INTEL_TOOL_PREFIX, match_record, merge_matches
from coord_core.analysis.scanners import ScannerRanges, default_scanner_ranges
from coord_core.analysis.stages import LookupTargets, ToolOutput, ToolReportDoc
from coord_core.contracts.threat_intel import Indicator, IndicatorKind, ThreatIntelSource

log = logging.getLogger(__name__)

MAX_ERROR_CHARS = 300
MAX_INTEL_INDICATORS = 5000
_HEX64 = re.compile(r"^[0-9a-f]{64}$")
_HEX32 = re.compile(r"^[0-9a-f]{32}$")
_IPV4 = re.compile(r"^\d{1,3}(?:\.\d{1,3}){3}$")


def indicator_for(feature: str) -> Indicator | None:
    """The MISP-typed indicator of an artefact feature, or ``None`` when it has no such type."""
    kind, value = fk.kind_of(feature), fk.value_of(feature)
    if kind == fk.PAYLOAD.name:
        if _HEX64.match(value):
            return Indicator(kind="sha256", value=value)
        if _HEX32.match(value):
            return Indicator(kind="md5", value=value)
        return None
    if kind == fk.URL.name:
        return Indicator(kind="url", value=value[:2048])
    if kind == fk.HOST.name:
        host_kind: IndicatorKind = "ip-src" if _IPV4.match(value) else "domain"
        return Indicator(kind=host_kind, value=value)
    return None


def empty_tool_output() -> ToolOutput:
    """What the tools produce when none ran: ASN/geo, scanner lists, intel matches and the keys asked."""
    return {"infra": {}, "scanners": {}, "intel_matches": {}, "intel_keys": [], "reports": []}


class ToolAnswer(TypedDict, total=False):
    """What one tool adds to the coordinator's output (the keys it knows about)."""

    infra: dict[str, dict[str, Any]]
    scanners: dict[str, list[str]]
    intel_matches: dict[str, list[dict[str, Any]]]
    intel_keys: list[str]


def _error_text(exc: BaseException) -> str:
    text = f"{type(exc).__name__}: {exc}"
    return text[:MAX_ERROR_CHARS]


class ToolCoordinator:
    def __init__(
        self,
        *,
        intel_sources: Sequence[ThreatIntelSource] = (),
        geo: GeoResolver | None = None,
        scanners: ScannerRanges | None = None,
        use_geo: bool = True,
        use_scanners: bool = True,
    ) -> None:
        self.intel_sources = list(intel_sources)
        self.geo = geo or default_geo_resolver()
        self.scanners = scanners or default_scanner_ranges()
        self.use_geo = use_geo
        self.use_scanners = use_scanners
        self._cache: dict[tuple[str, str], Any] = {}
        self._lock = threading.Lock()

    def _cached(
        self, tool: str, keys: list[str], fetch: Callable[[list[str]], dict[str, Any]]
    ) -> tuple[dict[str, Any], int]:
        with self._lock:
            hits = {k: self._cache[(tool, k)] for k in keys if (tool, k) in self._cache}
        missing = [k for k in keys if k not in hits]
        fresh = fetch(missing) if missing else {}
        with self._lock:
            for k in missing:
                self._cache[(tool, k)] = fresh.get(k)
        merged = {
            **{k: v for k, v in hits.items() if v is not None},
            **{k: v for k, v in fresh.items() if v is not None},
        }
        return merged, len(hits)

    def _lookup(
        self, tool: str, keys: list[str], fetch: Callable[[list[str]], dict[str, Any]]
    ) -> tuple[dict[str, Any], ToolReportDoc]:
        """What ``tool`` knows of ``keys`` (cached, or fetched), by key, and its report."""
        found, cached = self._cached(tool, keys, fetch)
        report: ToolReportDoc = {
            "tool": tool,
            "status": "ok",
            "looked_up": len(keys),
            "from_cache": cached,
            "matches": len(found),
        }
        return dict(sorted(found.items())), report

    def _scanner_tool(self, ips: list[str]) -> tuple[ToolAnswer, ToolReportDoc]:
        def fetch(keys: list[str]) -> dict[str, Any]:
            return {ip: sorted(lst.name for lst in lists) for ip, lists in self.scanners.match(keys).items()}

        found, report = self._lookup("scanner_lists", ips, fetch)
        return {"scanners": found}, report

    def _geo_tool(self, ips: list[str]) -> tuple[ToolAnswer, ToolReportDoc]:
        def fetch(keys: list[str]) -> dict[str, Any]:
            return {ip: info.as_dict() for ip, info in self.geo.lookup(keys).items()}

        found, report = self._lookup("asn_geo", ips, fetch)
        return {"infra": found}, report

    def _intel_tool(
        self, source: ThreatIntelSource, ips: list[str], artefacts: list[str]
    ) -> tuple[ToolAnswer, ToolReportDoc]:
        """Match records (``match_record``) keyed by source IP or artefact feature name."""
        indicators: dict[str, Indicator] = {ip: Indicator(kind="ip-src", value=ip) for ip in ips}
        for feature in artefacts:
            ind = indicator_for(feature)
            if ind is not None:
                indicators[feature] = ind
        tool = f"{INTEL_TOOL_PREFIX}{source.name}"
        ordered = sorted(indicators)[:MAX_INTEL_INDICATORS]
        with self._lock:
            hits = {k: self._cache[(tool, k)] for k in ordered if (tool, k) in self._cache}
        missing = [k for k in ordered if k not in hits]
        matches: dict[str, list[dict[str, Any]]] = {k: v for k, v in hits.items() if v}
        report: ToolReportDoc = {
            "tool": tool,
            "status": "ok",
            "looked_up": len(ordered),
            "from_cache": len(hits),
        }
        if missing:
            by_indicator: dict[tuple[str, str], str] = {
                (indicators[k].kind, indicators[k].value): k for k in missing
            }
            outcome = source.lookup([indicators[k] for k in missing])
            report["from_cache"] += outcome.from_cache
            if outcome.failed:
                report["status"] = "failed"
                report["error"] = (outcome.error or "lookup failed")[:MAX_ERROR_CHARS]
            else:
                fresh: dict[str, list[dict[str, Any]]] = {k: [] for k in missing}
                for m in outcome.matches:
                    key = by_indicator.get((m.indicator.kind, m.indicator.value))
                    if key is not None:
                        fresh[key].append(match_record(m.model_copy(update={"source": source.name})))
                with self._lock:
                    for k, v in fresh.items():
                        self._cache[(tool, k)] = merge_matches(v)
                matches.update({k: merge_matches(v) for k, v in fresh.items() if v})
        report["matches"] = sum(len(v) for v in matches.values())
        return {"intel_matches": matches, "intel_keys": ordered}, report

    def run(self, targets: LookupTargets) -> ToolOutput:
        """Run every tool concurrently; returns infra, scanners, intel matches and one report per tool."""
        jobs: list[tuple[str, Callable[[], tuple[ToolAnswer, ToolReportDoc]]]] = []
        if self.use_scanners:
            jobs.append(("scanner_lists", lambda: self._scanner_tool(targets["all_sources"])))
        if self.use_geo:
            jobs.append(("asn_geo", lambda: self._geo_tool(targets["grouped_sources"])))
        for source in self.intel_sources:
            jobs.append(
                (
                    f"{INTEL_TOOL_PREFIX}{source.name}",
                    lambda s=source: self._intel_tool(s, targets["grouped_sources"], targets["artefacts"]),  # type: ignore[misc]
                )
            )
        out = empty_tool_output()
        if not jobs:
            return out
        with ThreadPoolExecutor(max_workers=len(jobs), thread_name_prefix="coord-tool") as pool:
            futures = [(name, pool.submit(job)) for name, job in jobs]
            for name, future in futures:
                try:
                    data, report = future.result()
                except Exception as exc:  # a tool's failure degrades its evidence, never the run
                    log.warning("analysis tool %s failed: %s", name, _error_text(exc))
                    out["reports"].append({"tool": name, "status": "failed", "error": _error_text(exc)})
                    continue
                _merge(out, data)
                out["reports"].append(report)
        out["reports"].sort(key=lambda r: r["tool"])
        return out


def _merge(out: ToolOutput, answer: ToolAnswer) -> None:
    """Add one tool's answer: infra and scanner lists by IP, intel matches merged, keys united."""
    out["infra"].update(answer.get("infra", {}))
    out["scanners"].update(answer.get("scanners", {}))
    for key, matches in answer.get("intel_matches", {}).items():
        out["intel_matches"][key] = merge_matches(out["intel_matches"].get(key, []), matches)
    if "intel_keys" in answer:
        out["intel_keys"] = sorted(set(out["intel_keys"]) | set(answer["intel_keys"]))
