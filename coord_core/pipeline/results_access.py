"""The door the campaign pages and the results API use: read-only questions on stored results, the
reader-role session and the shared rate limiter.

The Airflow layer reaches ``coord_core`` through ``coord_core.pipeline`` only (README, "Layering").
"""

from __future__ import annotations

from coord_core.contracts.campaigns import Verdict
from coord_core.store.campaign_queries import (
    CampaignFilter,
    CampaignOrder,
    IndicatorKind,
    SortKey,
    campaigns_of_indicator,
    classify_indicator,
    count_campaigns,
    list_campaigns,
    narrowed_to_indicator,
    parse_network,
)
from coord_core.store.campaign_views import campaign_page, list_runs, run_campaigns
from coord_core.store.lineage import campaign_lineage
from coord_core.store.rate_limiter import RateDecision, SlidingWindowRateLimiter
from coord_core.store.session_limits import READER_ROLE, ReaderAccessError, read_only_as

VERDICTS: tuple[str, ...] = tuple(v.value for v in Verdict)

__all__ = [
    "READER_ROLE",
    "VERDICTS",
    "CampaignFilter",
    "CampaignOrder",
    "IndicatorKind",
    "RateDecision",
    "ReaderAccessError",
    "SlidingWindowRateLimiter",
    "SortKey",
    "campaign_lineage",
    "campaign_page",
    "campaigns_of_indicator",
    "classify_indicator",
    "count_campaigns",
    "list_campaigns",
    "list_runs",
    "narrowed_to_indicator",
    "parse_network",
    "read_only_as",
    "run_campaigns",
]
