"""Publish an analysis result back to Elasticsearch: per-session enrichment and per-campaign analytics.

Two indices, each created from an index template shipped in ``include/elasticsearch/``:

* ``coord-session-enrichment``: one document per session of the interval (campaign id,
  verdict, confidence, run id, interval); sessions in no campaign get ``verdict:
  independent``. Kibana can join it to DShield-SIEM's ``event.code`` (the Cowrie session).
* ``coord-campaigns``: one document per campaign with its evidence summary.

Document ids are derived from the interval and the session or campaign id, so a rerun or
backfill of an interval overwrites instead of duplicating; documents of the interval written
by an earlier run that the new result no longer contains are deleted afterwards (only ever
documents of that interval in these indices). A write is tagged with ``write_id``, a digest of
the interval and the result, so rewriting the same result rewrites the same documents. Writes
go through the bulk API; items rejected with 429/5xx are retried with bounded backoff and
anything still failing is raised as one :class:`EnrichmentWriteError` listing every failed item.
"""

from __future__ import annotations

import functools
import hashlib
import json
import logging
from collections.abc import Iterable, Iterator, Mapping, Sequence
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, Final

from elasticsearch import Elasticsearch, NotFoundError

from coord_core.adapters.elasticsearch_retry import RetryPolicy, call_with_retry
from coord_core.contracts.campaigns import AnalysisResult, Campaign, Verdict

log = logging.getLogger(__name__)

TEMPLATE_DIR: Final = Path(__file__).resolve().parents[2] / "include" / "elasticsearch"
SESSION_TEMPLATE: Final = "coord-session-enrichment"
CAMPAIGN_TEMPLATE: Final = "coord-campaigns"
INDEPENDENT: Final = "independent"
MAX_LISTED_FAILURES: Final = 20


@dataclass(frozen=True)
class EnrichmentIndices:
    """Where the enrichment goes; the names must match the templates' index patterns."""

    sessions: str = SESSION_TEMPLATE
    campaigns: str = CAMPAIGN_TEMPLATE


@dataclass(frozen=True)
class TemplateInstall:
    name: str
    action: str  # "created" | "updated" | "unchanged"


@dataclass(frozen=True)
class BulkItemFailure:
    """One document Elasticsearch refused, with its answer."""

    index: str
    doc_id: str
    operation: str
    status: int
    error_type: str
    reason: str

    def __str__(self) -> str:
        where = f"{self.operation} {self.index}/{self.doc_id}"
        return f"{where}: HTTP {self.status} {self.error_type}: {self.reason}"


class EnrichmentWriteError(RuntimeError):
    """Bulk items that still failed after the retries the policy allows."""

    def __init__(self, failures: Sequence[BulkItemFailure], written: int) -> None:
        self.failures = list(failures)
        self.written = written
        listed = "\n  ".join(str(f) for f in self.failures[:MAX_LISTED_FAILURES])
        more = len(self.failures) - MAX_LISTED_FAILURES
        tail = f"\n  ... and {more} more" if more > 0 else ""
        count = len(self.failures)
        super().__init__(
            f"{count} enrichment document(s) could not be written ({written} were):\n  {listed}{tail}"
        )


@dataclass(frozen=True)
class EnrichmentWriteSummary:
    session_documents: int
    campaign_documents: int
    stale_deleted: int
    retried_items: int
    write_id: str
    indices: EnrichmentIndices = field(default_factory=EnrichmentIndices)


# --------------------------------------------------------------------------------------------
# Templates
# --------------------------------------------------------------------------------------------


def load_templates(template_dir: Path = TEMPLATE_DIR) -> dict[str, dict[str, Any]]:
    """Template name -> body, with ``_meta.content_sha256`` so an unchanged template is not re-sent."""
    templates: dict[str, dict[str, Any]] = {}
    for name in (SESSION_TEMPLATE, CAMPAIGN_TEMPLATE):
        path = template_dir / f"{name}.json"
        body = json.loads(path.read_text(encoding="utf-8"))
        digest = hashlib.sha256(json.dumps(body, sort_keys=True).encode("utf-8")).hexdigest()
        body.setdefault("_meta", {})["content_sha256"] = digest
        templates[name] = body
    return templates


def install_index_templates(
    client: Elasticsearch,
    *,
    template_dir: Path = TEMPLATE_DIR,
    retry: RetryPolicy | None = None,
) -> list[TemplateInstall]:
    """Create or update the enrichment index templates; a no-op when they are already current."""
    policy = retry or RetryPolicy()
    done: list[TemplateInstall] = []
    for name, body in load_templates(template_dir).items():
        current = _installed_template(client, name, policy)
        wanted = body["_meta"]["content_sha256"]
        if current is not None and current.get("_meta", {}).get("content_sha256") == wanted:
            done.append(TemplateInstall(name, "unchanged"))
            continue
        call_with_retry(
            functools.partial(client.indices.put_index_template, name=name, body=body),
            what=f"put index template [{name}]",
            policy=policy,
        )
        action = "created" if current is None else "updated"
        log.info("index template %s %s", name, action)
        done.append(TemplateInstall(name, action))
    return done


def _installed_template(client: Elasticsearch, name: str, policy: RetryPolicy) -> dict[str, Any] | None:
    try:
        response = call_with_retry(
            lambda: client.indices.get_index_template(name=name),
            what=f"get index template [{name}]",
            policy=policy,
        )
    except NotFoundError:
        return None
    for entry in response.body.get("index_templates", []):
        if entry.get("name") == name:
            return dict(entry.get("index_template", {}))
    return None


# --------------------------------------------------------------------------------------------
# Documents
# --------------------------------------------------------------------------------------------


def _iso(moment: datetime) -> str:
    return moment.astimezone(UTC).isoformat().replace("+00:00", "Z")


def document_id(interval_start: datetime, interval_end: datetime, kind: str, key: str) -> str:
    """Deterministic id: the same interval and session/campaign always lands on the same document."""
    natural = f"{_iso(interval_start)}|{_iso(interval_end)}|{kind}|{key}"
    return hashlib.sha256(natural.encode("utf-8")).hexdigest()[:40]


@dataclass(frozen=True)
class _Context:
    run_id: str
    interval_start: datetime
    interval_end: datetime
    write_id: str
    result: AnalysisResult

    def common(self) -> dict[str, Any]:
        return {
            "run_id": self.run_id,
            "interval_start": _iso(self.interval_start),
            "interval_end": _iso(self.interval_end),
            "write_id": self.write_id,
            "code_version": self.result.run.code_version,
            "schema_version": self.result.schema_version,
            "input_fingerprint": self.result.run.input_fingerprint,
        }


def enrichment_actions(
    result: AnalysisResult,
    *,
    run_id: str,
    interval_start: datetime,
    interval_end: datetime,
    indices: EnrichmentIndices = EnrichmentIndices(),
    write_id: str = "",
) -> Iterator[dict[str, Any]]:
    """Bulk ``index`` actions for every session and campaign of ``result`` (a pure function)."""
    if interval_start.tzinfo is None or interval_end.tzinfo is None:
        raise ValueError("interval bounds must carry a timezone")
    ctx = _Context(run_id, interval_start, interval_end, write_id, result)
    seen: set[str] = set()
    for campaign in sorted(result.campaigns, key=lambda c: c.campaign_id):
        yield _action(indices.campaigns, ctx, "campaign", campaign.campaign_id, _campaign_doc(campaign, ctx))
        for session_id in campaign.session_ids:
            if session_id in seen:
                raise ValueError(f"session {session_id} is in more than one campaign of the result")
            seen.add(session_id)
            yield _action(
                indices.sessions, ctx, "session", session_id, _session_doc(session_id, campaign, ctx)
            )
    for session_id in sorted(set(result.independent_session_ids) - seen):
        yield _action(indices.sessions, ctx, "session", session_id, _session_doc(session_id, None, ctx))


def _action(index: str, ctx: _Context, kind: str, key: str, source: dict[str, Any]) -> dict[str, Any]:
    doc_id = document_id(ctx.interval_start, ctx.interval_end, kind, key)
    return {"_op_type": "index", "_index": index, "_id": doc_id, "_source": source}


def _session_doc(session_id: str, campaign: Campaign | None, ctx: _Context) -> dict[str, Any]:
    doc: dict[str, Any] = {
        "@timestamp": _iso(ctx.interval_start),
        "session_id": session_id,
        "in_campaign": campaign is not None,
        **ctx.common(),
    }
    if campaign is None:
        doc["verdict"] = INDEPENDENT
    else:
        doc.update(
            campaign_id=campaign.campaign_id,
            verdict=Verdict(campaign.verdict).value,
            confidence=campaign.confidence,
            campaign_session_count=len(campaign.session_ids),
            campaign_labels=list(campaign.labels),
        )
    return doc


def _campaign_doc(campaign: Campaign, ctx: _Context) -> dict[str, Any]:
    evidence = sorted(campaign.evidence, key=lambda e: (-e.score, e.factor, e.evidence_id))
    features = sorted({feature for link in campaign.links for feature in link.features})
    doc: dict[str, Any] = {
        "@timestamp": _iso(campaign.first_seen),
        "campaign_id": campaign.campaign_id,
        "verdict": Verdict(campaign.verdict).value,
        "confidence": campaign.confidence,
        "first_seen": _iso(campaign.first_seen),
        "last_seen": _iso(campaign.last_seen),
        "session_count": len(campaign.session_ids),
        "session_ids": sorted(campaign.session_ids),
        "source_ip_count": len(set(campaign.source_ips)),
        "source_ips": sorted(set(campaign.source_ips)),
        "labels": list(campaign.labels),
        "evidence_count": len(evidence),
        "evidence_factors": sorted({e.factor for e in evidence}),
        "evidence": [
            {
                "evidence_id": e.evidence_id,
                "factor": e.factor,
                "score": e.score,
                "summary": e.summary,
                "statistic": json.loads(json.dumps(e.statistic, sort_keys=True, default=str)),
            }
            for e in evidence
        ],
        "link_count": len(campaign.links),
        "link_features": features,
        **ctx.common(),
    }
    if evidence:
        doc["top_factor"] = evidence[0].factor
        doc["top_factor_score"] = evidence[0].score
    return doc


# --------------------------------------------------------------------------------------------
# Writing
# --------------------------------------------------------------------------------------------


def _chunks(actions: Iterable[dict[str, Any]], size: int) -> Iterator[list[dict[str, Any]]]:
    chunk: list[dict[str, Any]] = []
    for action in actions:
        chunk.append(action)
        if len(chunk) >= size:
            yield chunk
            chunk = []
    if chunk:
        yield chunk


def _operations(actions: Sequence[Mapping[str, Any]]) -> list[dict[str, Any]]:
    ops: list[dict[str, Any]] = []
    for action in actions:
        op = action["_op_type"]
        ops.append({op: {"_index": action["_index"], "_id": action["_id"]}})
        if op != "delete":
            ops.append(action["_source"])
    return ops


@dataclass
class _BulkOutcome:
    written: int = 0
    retried: int = 0
    failures: list[BulkItemFailure] = field(default_factory=list)


def _bulk_with_retry(
    client: Elasticsearch, actions: list[dict[str, Any]], policy: RetryPolicy, outcome: _BulkOutcome
) -> None:
    """Send one chunk; resend only the items rejected with a retryable status, up to the policy."""
    pending = actions
    for attempt in range(1, policy.max_attempts + 1):
        operations = _operations(pending)
        response = call_with_retry(
            functools.partial(client.bulk, operations=operations),
            what=f"bulk write of {len(pending)} enrichment document(s)",
            policy=policy,
        )
        items = response.body.get("items", [])
        if len(items) != len(pending):
            raise RuntimeError(f"bulk answered {len(items)} items for {len(pending)} operations")
        again: list[dict[str, Any]] = []
        for action, item in zip(pending, items, strict=True):
            ((operation, info),) = item.items()
            status = int(info.get("status", 0))
            error = info.get("error")
            if error is None:
                if operation != "delete" or status in (200, 404):
                    outcome.written += 1
                continue
            if status in policy.retry_statuses and attempt < policy.max_attempts:
                again.append(action)
                continue
            details = error if isinstance(error, Mapping) else {"type": "error", "reason": str(error)}
            outcome.failures.append(
                BulkItemFailure(
                    index=str(info.get("_index", action["_index"])),
                    doc_id=str(info.get("_id", action["_id"])),
                    operation=operation,
                    status=status,
                    error_type=str(details.get("type", "")),
                    reason=_reason(details),
                )
            )
        if not again:
            return
        outcome.retried += len(again)
        delay = policy.backoff(attempt)
        log.warning(
            "%d bulk item(s) rejected; retrying them in %.2fs (attempt %d)", len(again), delay, attempt + 1
        )
        policy.sleep(delay)
        pending = again


def _reason(error: Mapping[str, Any]) -> str:
    reason = str(error.get("reason", ""))
    cause = error.get("caused_by")
    if isinstance(cause, Mapping) and cause.get("reason"):
        reason = f"{reason} (caused by {cause.get('type')}: {cause.get('reason')})"
    return reason


def write_enrichment(
    client: Elasticsearch,
    result: AnalysisResult,
    *,
    run_id: str,
    interval_start: datetime,
    interval_end: datetime,
    indices: EnrichmentIndices = EnrichmentIndices(),
    retry: RetryPolicy | None = None,
    chunk_size: int = 500,
    refresh: bool = True,
) -> EnrichmentWriteSummary:
    """Write the result's session and campaign documents for one interval (idempotent).

    Raises :class:`EnrichmentWriteError` listing every document still refused after retries;
    stale documents are only removed when everything was written. ``refresh`` makes the final
    state searchable before returning (the write itself is always refreshed before the stale
    search, which must see it).
    """
    policy = retry or RetryPolicy()
    write_id = write_digest(result, interval_start, interval_end)
    outcome = _BulkOutcome()
    sessions = campaigns = 0
    actions = enrichment_actions(
        result,
        run_id=run_id,
        interval_start=interval_start,
        interval_end=interval_end,
        indices=indices,
        write_id=write_id,
    )
    for chunk in _chunks(actions, chunk_size):
        sessions += sum(1 for a in chunk if a["_index"] == indices.sessions)
        campaigns += sum(1 for a in chunk if a["_index"] == indices.campaigns)
        _bulk_with_retry(client, chunk, policy, outcome)
    if outcome.failures:
        raise EnrichmentWriteError(outcome.failures, outcome.written)
    targets = [indices.sessions, indices.campaigns]
    # The stale search must see this write: an unrefreshed overwrite still shows the old write_id.
    _refresh(client, targets, policy)
    stale = _delete_stale(
        client,
        targets,
        interval_start=interval_start,
        interval_end=interval_end,
        write_id=write_id,
        policy=policy,
        chunk_size=chunk_size,
    )
    if stale and refresh:
        _refresh(client, targets, policy)
    summary = EnrichmentWriteSummary(sessions, campaigns, stale, outcome.retried, write_id, indices)
    log.info("enrichment for %s: %s", run_id, asdict(summary))
    return summary


def write_digest(result: AnalysisResult, interval_start: datetime, interval_end: datetime) -> str:
    """The ``write_id`` of writing ``result`` for an interval: the same result, the same id."""
    natural = f"{_iso(interval_start)}|{_iso(interval_end)}|{result.to_canonical_json()}"
    return hashlib.sha256(natural.encode("utf-8")).hexdigest()[:32]


def _existing(client: Elasticsearch, names: Sequence[str], policy: RetryPolicy) -> list[str]:
    present = []
    for name in names:
        exists = call_with_retry(
            functools.partial(client.indices.exists, index=name), what=f"check index [{name}]", policy=policy
        )
        if exists:
            present.append(name)
    return present


def _refresh(client: Elasticsearch, names: Sequence[str], policy: RetryPolicy) -> None:
    present = _existing(client, names, policy)
    if present:
        call_with_retry(
            lambda: client.indices.refresh(index=",".join(present)), what="refresh enrichment", policy=policy
        )


def _delete_stale(
    client: Elasticsearch,
    names: Sequence[str],
    *,
    interval_start: datetime,
    interval_end: datetime,
    write_id: str,
    policy: RetryPolicy,
    chunk_size: int,
) -> int:
    """Delete this interval's documents left by earlier writes (those not carrying ``write_id``)."""
    present = _existing(client, names, policy)
    if not present:
        return 0
    query = {
        "bool": {
            "filter": [
                {"term": {"interval_start": _iso(interval_start)}},
                {"term": {"interval_end": _iso(interval_end)}},
            ],
            "must_not": [{"term": {"write_id": write_id}}],
        }
    }
    target = ",".join(present)
    deleted = _BulkOutcome()
    found = 0
    opened = call_with_retry(
        lambda: client.open_point_in_time(index=target, keep_alive="2m"),
        what="open point in time",
        policy=policy,
    )
    pit_id = str(opened["id"])
    try:
        search_after: list[Any] | None = None
        while True:
            request: dict[str, Any] = {
                "pit": {"id": pit_id, "keep_alive": "2m"},
                "query": query,
                "sort": [{"_shard_doc": "asc"}],
                "size": chunk_size,
                "_source": False,
                "track_total_hits": False,
            }
            if search_after is not None:
                request["search_after"] = search_after
            page = call_with_retry(
                functools.partial(client.search, **request), what="find stale enrichment", policy=policy
            )
            pit_id = str(page.body.get("pit_id", pit_id))
            hits = page.body["hits"]["hits"]
            # deleting while paging is safe: the point in time keeps the view the search started with
            deletes = [{"_op_type": "delete", "_index": h["_index"], "_id": h["_id"]} for h in hits]
            if deletes:
                found += len(deletes)
                _bulk_with_retry(client, deletes, policy, deleted)
            if len(hits) < chunk_size:
                break
            search_after = hits[-1]["sort"]
    finally:
        try:
            client.close_point_in_time(id=pit_id)
        except NotFoundError:
            log.info("point in time for stale enrichment had already expired")
    if deleted.failures:
        raise EnrichmentWriteError(deleted.failures, deleted.written)
    return found
