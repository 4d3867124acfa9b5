"""Load the stored analysis result of an interval into the relational campaign tables."""

from __future__ import annotations

import logging
from datetime import timedelta
from typing import Any

from coord_core.contracts.window import DataWindow
from coord_core.store.campaign_identity import (
    DEFAULT_MAX_GAP,
    interval_inputs,
    lock_campaign_identity,
    update_campaign_identity,
)
from coord_core.store.results import ResultsStore

log = logging.getLogger(__name__)


def load_interval(
    store: ResultsStore, window: DataWindow, *, identity_max_gap: timedelta = DEFAULT_MAX_GAP
) -> dict[str, Any]:
    """Load the interval's campaigns and bring campaign identity across intervals up to date, in one
    transaction: the stored identity never lags the stored campaigns."""
    result = store.load_analysis_result(window)
    if result is None:
        raise LookupError(f"no analysis result stored for {window.label}; run the analyze step first")
    with store.conn.transaction():
        lock_campaign_identity(store.conn)  # before the campaign rows: concurrent loads queue here
        interval = (window.start, window.end)
        before = interval_inputs(store.conn, interval)
        campaigns = store.replace_campaigns(window, result)
        identity = update_campaign_identity(store.conn, interval, identity_max_gap, before=before)
    members = sum(len(c.session_ids) for c in result.campaigns)
    log.info("loaded %s: %d campaigns, %d member sessions", window.label, campaigns, members)
    return {
        "campaigns": campaigns,
        "member_sessions": members,
        "campaigns_rekeyed": identity.rekeyed,
        "identity_recomputed": identity.rebuilt,
    }
