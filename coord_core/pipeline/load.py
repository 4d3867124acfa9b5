"""Load the stored analysis result of an interval into the relational campaign tables."""

from __future__ import annotations

import logging
from datetime import timedelta
from typing import Any

from coord_core.contracts.window import DataWindow
from coord_core.store.campaign_identity import DEFAULT_MAX_GAP, rebuild_campaign_identity
from coord_core.store.results import ResultsStore

log = logging.getLogger(__name__)


def load_interval(
    store: ResultsStore, window: DataWindow, *, identity_max_gap: timedelta = DEFAULT_MAX_GAP
) -> dict[str, Any]:
    """Load the interval's campaigns, then re-derive campaign identity across all intervals."""
    result = store.load_analysis_result(window)
    if result is None:
        raise LookupError(f"no analysis result stored for {window.label}; run the analyze step first")
    campaigns = store.replace_campaigns(window, result)
    rekeyed = rebuild_campaign_identity(store.conn, identity_max_gap)
    members = sum(len(c.session_ids) for c in result.campaigns)
    log.info("loaded %s: %d campaigns, %d member sessions", window.label, campaigns, members)
    return {"campaigns": campaigns, "member_sessions": members, "campaigns_rekeyed": rekeyed}
