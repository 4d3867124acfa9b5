"""Threat intelligence: campaigns out to MISP (live or as a feed), MISP's knowledge back in.

``campaign_event`` turns stored campaign occurrences into one deterministic MISP event per
cross-interval campaign; ``live_publisher`` and ``feed_publisher`` write it; ``threat_intel``
looks the interval's indicators up in MISP and ``evidence`` turns the answer into evidence.
"""
