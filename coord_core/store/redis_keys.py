"""Every Redis key and channel the project uses, in one place, all under the ``coord:`` namespace.

| key / channel | type | TTL | written by |
|---|---|---|---|
| ``coord:run:{dag}:{window}`` | string (JSON run summary) | 7 d | publish step |
| ``coord:result:{window}:{input}:{params}:{code}:{intel}`` | string (result JSON) | 24 h | analyze step |
| ``coord:workflow:{thread}`` | hash (node -> status JSON) | 1 h | analysis workflow |
| ``coord:campaigns:active`` | sorted set (campaign id, score = last seen epoch) | trimmed | publish step |
| ``coord:campaign:{id}`` | hash (verdict, confidence, first/last seen, intervals) | 7 d | publish step |
| ``coord:alerted:{id}`` | string (marker: new-campaign alert sent once) | 30 d | publish step |
| ``coord:alert-sent:{alert id}`` | string (marker: spike alert sent once) | 30 d | trend step |
| ``coord:alerts`` | pub/sub channel (JSON alert, ``contracts.alerts``) | — | publish and trend steps |
| ``coord:alerts:stream`` | stream (the same alerts, newest ~1000) | trimmed | publish and trend steps |
| ``coord:ratelimit:{name}`` | sorted set (sliding window) | window | outbound lookups |
| ``coord:ti:{source}:{kind}:{value}`` | string (threat-intel lookup JSON) | configurable | MISP lookups |

Threat-intel values are attacker-controlled: a value longer than 200 characters or holding
anything but printable ASCII is keyed by its SHA-256 instead (``coord:ti:{source}:{kind}:sha256:{hex}``).
``{intel}`` and ``{source}`` are short digests of the threat-intel sources' identities (which MISP
answers): a result or an answer from one MISP, or from none, is never served for another.
Result and threat-intel values are sealed entries (``cache_integrity``), verified on every read.
"""

from __future__ import annotations

import hashlib

from coord_core.contracts.window import DataWindow

NAMESPACE = "coord"
ALERT_CHANNEL = f"{NAMESPACE}:alerts"
ALERT_STREAM = f"{NAMESPACE}:alerts:stream"
ACTIVE_CAMPAIGNS = f"{NAMESPACE}:campaigns:active"


def run_summary(dag_id: str, window: DataWindow) -> str:
    """JSON summary of the latest run for an interval (campaign counts, verdicts, top campaigns)."""
    return f"{NAMESPACE}:run:{dag_id}:{window.label}"


def source_digest(*identities: str) -> str:
    """Short stable digest of threat-intel source identities (order-independent)."""
    return hashlib.sha256("\n".join(sorted(identities)).encode()).hexdigest()[:12]


def analysis_result(
    window: DataWindow,
    input_fingerprint: str,
    parameters_hash: str,
    code_version: str,
    intel_sources: str = "",
) -> str:
    """``intel_sources`` is ``source_digest`` of the sources the analysis consulted."""
    head = f"{NAMESPACE}:result:{window.label}:{input_fingerprint}:{parameters_hash}:{code_version}"
    return f"{head}:{intel_sources or source_digest()}"


def workflow_state(thread_id: str) -> str:
    return f"{NAMESPACE}:workflow:{thread_id}"


def campaign(campaign_id: str) -> str:
    return f"{NAMESPACE}:campaign:{campaign_id}"


def alerted(campaign_id: str) -> str:
    return f"{NAMESPACE}:alerted:{campaign_id}"


def alert_sent(alert_id: str) -> str:
    """Marker of an alert other than a new campaign's (those keep ``alerted``), by its alert id."""
    return f"{NAMESPACE}:alert-sent:{alert_id}"


def rate_limit(name: str) -> str:
    return f"{NAMESPACE}:ratelimit:{name}"


_PLAIN_TI_VALUE_MAX = 200


def threat_intel(source_identity: str, kind: str, value: str) -> str:
    """Cached answer of one threat-intel source (by its identity) for one indicator."""
    source = source_digest(source_identity)
    plain = value.isascii() and value.isprintable() and " " not in value
    if plain and len(value) <= _PLAIN_TI_VALUE_MAX and not value.startswith("sha256:"):
        return f"{NAMESPACE}:ti:{source}:{kind}:{value}"
    digest = hashlib.sha256(value.encode("utf-8", "surrogatepass")).hexdigest()
    return f"{NAMESPACE}:ti:{source}:{kind}:sha256:{digest}"
