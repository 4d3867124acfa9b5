"""Webhook callbacks of a run: new high-confidence campaigns, spikes found by the trend DAG, a failed
data-quality gate, a failed run.

Payloads are bounded JSON: free text (failure reasons, which may quote attacker data) is cut to
``MAX_TEXT_CHARS``, URL credentials in it are masked, and ``json.dumps`` escapes the rest
(``ensure_ascii``: every non-ASCII and control character is a ``\\u`` escape). Delivery
(signature, retries) is ``coord_core.adapters.webhook``; every attempt becomes one
``coord.audit_log`` row (action ``webhook_delivery``) with its attempt number and status code.
"""

from __future__ import annotations

import hashlib
import json
import logging
import re
import time
from collections.abc import Callable, Iterable
from datetime import UTC, date, datetime, timedelta
from datetime import time as time_of_day
from typing import Any

from coord_core.adapters.webhook import (
    DELIVERY_HEADER,
    EVENT_HEADER,
    SIGNATURE_HEADER,
    TIMESTAMP_HEADER,
    Attempt,
    Delivery,
    WebhookTarget,
    post_signed,
    sign,
    verify,
)
from coord_core.contracts.alerts import spike_alert
from coord_core.contracts.window import DataWindow
from coord_core.store.results import ResultsStore
from coord_core.store.trends import load_trend_report

__all__ = [
    "DELIVERY_HEADER",
    "EVENT_HEADER",
    "SIGNATURE_HEADER",
    "TIMESTAMP_HEADER",
    "Delivery",
    "WebhookTarget",
    "deliver",
    "encode",
    "gate_failed_payload",
    "new_campaigns_payload",
    "run_failed_payload",
    "sign",
    "spikes_payload",
    "verify",
]

log = logging.getLogger(__name__)

NEW_CAMPAIGNS = "new_campaigns"
SPIKES = "spikes"
GATE_FAILED = "dq_gate_failed"
RUN_FAILED = "run_failed"
SCHEMA_VERSION = 1
MAX_TEXT_CHARS = 2000
MAX_CAMPAIGNS = 50
MAX_SPIKES = 100
MAX_BODY_BYTES = 64 * 1024
AUDIT_ACTION = "webhook_delivery"
AUDIT_ACTOR = "airflow:webhook"

_URL_CREDENTIALS = re.compile(r"(?i)\b([a-z][a-z0-9+.-]*://)[^/\s@]*@")


def bounded_text(text: str, *, secrets: Iterable[str] = ()) -> str:
    """Free text fit for a payload: URL credentials and known secrets masked, cut to the bound."""
    masked = _URL_CREDENTIALS.sub(r"\1***@", text)
    for secret in secrets:
        if secret:
            masked = masked.replace(secret, "***")
    if len(masked) <= MAX_TEXT_CHARS:
        return masked
    return masked[: MAX_TEXT_CHARS - 3] + "..."


def _envelope(
    event: str, dag_id: str, run_id: str, window: DataWindow | None, data: dict[str, Any]
) -> dict[str, Any]:
    return {
        "schema_version": SCHEMA_VERSION,
        "event": event,
        "dag_id": dag_id,
        "run_id": run_id,
        "window": {"start": window.start.isoformat(), "end": window.end.isoformat()} if window else None,
        "data": data,
    }


def new_campaigns_payload(
    store: ResultsStore,
    window: DataWindow,
    campaign_ids: Iterable[str],
    *,
    dag_id: str,
    run_id: str,
    alert_confidence: float,
) -> dict[str, Any] | None:
    """The alert for the campaigns that tracking just flagged as new (None when there are none):
    the strongest ``MAX_CAMPAIGNS`` with their tracked facts, and how many there were."""
    wanted = set(campaign_ids)
    if not wanted:
        return None
    tracks = [t for t in store.campaign_tracks_of(window) if t["campaign_id"] in wanted]
    missing = wanted - {t["campaign_id"] for t in tracks}
    if missing:
        raise LookupError(f"{len(missing)} alerted campaign(s) have no track in {window.label}")
    tracks.sort(key=lambda t: (-t["confidence"], t["campaign_id"]))
    campaigns = [
        {
            "campaign_id": t["campaign_id"],
            "verdict": t["verdict"],
            "confidence": t["confidence"],
            "first_seen": t["first_seen"].isoformat(),
            "last_seen": t["last_seen"].isoformat(),
            "intervals": t["intervals"],
            "sessions": t["sessions"],
        }
        for t in tracks[:MAX_CAMPAIGNS]
    ]
    data = {
        "alert_confidence": alert_confidence,
        "total": len(tracks),
        "truncated": len(tracks) > MAX_CAMPAIGNS,
        "campaigns": campaigns,
    }
    return _envelope(NEW_CAMPAIGNS, dag_id, run_id, window, data)


def spikes_payload(
    store: ResultsStore,
    report_day: date,
    alert_ids: Iterable[str],
    *,
    dag_id: str,
    run_id: str,
) -> tuple[dict[str, Any], DataWindow] | None:
    """The spikes of ``report_day``'s stored trend report that were just alerted (``alert_ids``, the
    trend task's answer), with each method's baseline and threshold; the first ``MAX_SPIKES`` by
    campaign, and how many there were. None when there are none. The window is the UTC day."""
    wanted = set(alert_ids)
    if not wanted:
        return None
    stored = load_trend_report(store.conn, report_day)
    if stored is None:
        raise LookupError(f"no stored trend report of {report_day}")
    alerts = [
        spike_alert(report_day, row, emitted_at=datetime.now(UTC)) for row in stored["report"]["spikes"]
    ]
    found = [a for a in alerts if a.alert_id in wanted]
    if len(found) != len(wanted):
        raise LookupError(
            f"{len(wanted) - len(found)} alerted spike(s) are not in the report of {report_day}"
        )
    spikes = [
        {"alert_id": a.alert_id, "campaign_id": a.campaign_id, **a.facts.model_dump(mode="json")}
        for a in found[:MAX_SPIKES]
    ]
    data = {
        "day": report_day.isoformat(),
        "total": len(found),
        "truncated": len(found) > MAX_SPIKES,
        "spikes": spikes,
    }
    start = datetime.combine(report_day, time_of_day(), UTC)
    window = DataWindow(start=start, end=start + timedelta(days=1))
    return _envelope(SPIKES, dag_id, run_id, window, data), window


def gate_failed_payload(
    window: DataWindow, reason: str, *, dag_id: str, run_id: str, secrets: Iterable[str] = ()
) -> dict[str, Any]:
    """The data-quality gate stopped the run: why, and where the report is in the Airflow UI."""
    from urllib.parse import urlencode

    data = {
        "reason": bounded_text(reason, secrets=secrets),
        "report_path": "/coord-dq/report?" + urlencode({"dag_id": dag_id, "run_id": run_id}),
    }
    return _envelope(GATE_FAILED, dag_id, run_id, window, data)


def run_failed_payload(
    window: DataWindow | None,
    *,
    dag_id: str,
    run_id: str,
    reason: str | None,
    failed_task: str | None,
    secrets: Iterable[str] = (),
) -> dict[str, Any]:
    """The run failed: the failing task and reason as recorded, the interval when it is known."""
    data = {
        "failed_task": failed_task,
        "reason": bounded_text(reason, secrets=secrets) if reason else None,
    }
    return _envelope(RUN_FAILED, dag_id, run_id, window, data)


def encode(payload: dict[str, Any]) -> bytes:
    """The exact bytes that are signed and sent (sorted keys, ASCII only, compact)."""
    body = json.dumps(payload, sort_keys=True, separators=(",", ":"), ensure_ascii=True).encode()
    if len(body) > MAX_BODY_BYTES:  # the field bounds above keep far below this
        raise ValueError(f"webhook payload of {len(body)} bytes exceeds {MAX_BODY_BYTES}")
    return body


def delivery_id(payload: dict[str, Any]) -> str:
    """Stable for one event of one run and interval, so a receiver can drop a duplicate (a rerun)."""
    window = payload.get("window") or {}
    parts = (payload["event"], payload["dag_id"], payload["run_id"], window.get("start"), window.get("end"))
    key = "|".join(str(part) for part in parts)
    return hashlib.sha256(key.encode()).hexdigest()[:32]


def deliver(
    target: WebhookTarget,
    payload: dict[str, Any],
    *,
    store: ResultsStore | None,
    window: DataWindow | None,
    sleep: Callable[[float], None] = time.sleep,
) -> Delivery:
    """Sign and send ``payload``; each attempt is audited in ``store`` (logged only without one)."""
    body = encode(payload)
    event = str(payload["event"])
    ident = delivery_id(payload)
    audit_failed = False

    def record(attempt: Attempt) -> None:
        nonlocal audit_failed
        details = {
            "event": event,
            "delivery_id": ident,
            "target": target.location,
            "attempt": attempt.number,
            "max_attempts": target.max_attempts,
            "status_code": attempt.status,
            "outcome": attempt.outcome,
            "error": attempt.error,
            "elapsed_ms": attempt.elapsed_ms,
            "body_bytes": len(body),
        }
        level = logging.INFO if attempt.outcome == "delivered" else logging.WARNING
        log.log(
            level,
            "webhook %s to %s: attempt %d/%d -> %s (%s)",
            event,
            target.location,
            attempt.number,
            target.max_attempts,
            attempt.status if attempt.status is not None else attempt.error,
            attempt.outcome,
        )
        if store is None or audit_failed:
            return
        try:
            store.audit(
                actor=AUDIT_ACTOR,
                action=AUDIT_ACTION,
                dag_id=str(payload["dag_id"]),
                run_id=str(payload["run_id"]),
                window=window,
                details=details,
            )
        except Exception as exc:  # the delivery still goes out; the log above holds every attempt
            audit_failed = True
            log.error("webhook attempts of %s cannot be audited (%s); logged only", ident, exc)

    return post_signed(target, event, ident, body, on_attempt=record, sleep=sleep)
