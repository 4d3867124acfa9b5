"""The MISP side of a run: the connection, the threat-intel source behind its rate limiter, the publishers."""

from __future__ import annotations

from coord_core.adapters.misp_client import MispConnection
from coord_core.intel.feed_publisher import FeedPublisher
from coord_core.intel.live_publisher import LiveMispPublisher
from coord_core.intel.settings import MispExportSettings
from coord_core.intel.threat_intel import MispThreatIntel, UnconfiguredThreatIntel
from coord_core.store.rate_limiter import SlidingWindowRateLimiter

__all__ = [
    "FeedPublisher",
    "LiveMispPublisher",
    "MispConnection",
    "MispExportSettings",
    "MispThreatIntel",
    "SlidingWindowRateLimiter",
    "UnconfiguredThreatIntel",
]
