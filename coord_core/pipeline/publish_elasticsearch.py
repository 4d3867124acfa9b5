"""Publish an interval's stored result to Elasticsearch: index templates, then enrichment documents.

Works from the ``AnalysisResult`` stored for the interval, whatever analyzer produced it. Every
write is keyed by the interval (deterministic document ids, stale documents of the interval
removed), so a rerun or backfill leaves the same documents; the export and the audit record say
where they went. A document Elasticsearch still refuses after the retries raises
:class:`~coord_core.adapters.elasticsearch_enrichment.EnrichmentWriteError` listing every one.
"""

from __future__ import annotations

import logging
from dataclasses import asdict
from typing import Any

from elasticsearch import Elasticsearch

from coord_core.adapters.elasticsearch_enrichment import (
    CAMPAIGN_TEMPLATE,
    SESSION_TEMPLATE,
    EnrichmentIndices,
    EnrichmentWriteError,
    document_id,
    install_index_templates,
    write_enrichment,
)
from coord_core.adapters.elasticsearch_retry import RetryPolicy
from coord_core.contracts.window import DataWindow
from coord_core.store import exports
from coord_core.store.results import ResultsStore

__all__ = [
    "EXPORT_TARGET",
    "EnrichmentIndices",
    "EnrichmentWriteError",
    "check_indices",
    "publish_enrichment",
]

log = logging.getLogger(__name__)

EXPORT_TARGET = "elasticsearch"


def check_indices(indices: EnrichmentIndices) -> None:
    """Refuse index names the shipped templates do not cover (they would get dynamic mappings)."""
    for name, template in ((indices.sessions, SESSION_TEMPLATE), (indices.campaigns, CAMPAIGN_TEMPLATE)):
        if not name.startswith(template) or name != name.lower():
            raise ValueError(
                f"enrichment index {name!r} does not match the template pattern '{template}*'; "
                "name it with that prefix so the template's strict mapping applies"
            )


def publish_enrichment(
    client: Elasticsearch,
    store: ResultsStore,
    window: DataWindow,
    *,
    dag_id: str,
    run_id: str,
    location: str,
    actor: str,
    indices: EnrichmentIndices | None = None,
    retry: RetryPolicy | None = None,
) -> dict[str, Any]:
    """Install the templates (idempotently) and write the interval's enrichment; record the export."""
    targets = indices or EnrichmentIndices()
    check_indices(targets)
    result = store.load_analysis_result(window)
    if result is None:
        raise LookupError(f"no analysis result is stored for {window.label}: analyze and load run first")
    templates = install_index_templates(client, retry=retry)
    summary = write_enrichment(
        client,
        result,
        run_id=run_id,
        interval_start=window.start,
        interval_end=window.end,
        indices=targets,
        retry=retry,
    )
    items = {
        "indices": {"sessions": targets.sessions, "campaigns": targets.campaigns},
        "session_documents": summary.session_documents,
        "campaign_documents": summary.campaign_documents,
        "campaigns": {
            c.campaign_id: document_id(window.start, window.end, "campaign", c.campaign_id)
            for c in sorted(result.campaigns, key=lambda c: c.campaign_id)
        },
    }
    exports.record_export(store.conn, window, EXPORT_TARGET, location, items)
    store.audit(
        actor=actor,
        action="exported",
        dag_id=dag_id,
        run_id=run_id,
        window=window,
        details={
            "target": EXPORT_TARGET,
            "location": location,
            "session_documents": summary.session_documents,
            "campaign_documents": summary.campaign_documents,
            "stale_deleted": summary.stale_deleted,
            "retried_items": summary.retried_items,
            "templates": {t.name: t.action for t in templates},
        },
    )
    log.info("published %s to %s: %s", window.label, location, asdict(summary))
    return {
        **asdict(summary),
        "templates": {t.name: t.action for t in templates},
        "location": location,
    }
