"""Threat intelligence: campaigns out to MISP (live or as a feed), MISP's knowledge back in.

``campaign_event`` turns stored campaign occurrences into one deterministic MISP event per
cross-interval campaign; ``live_publisher`` and ``feed_publisher`` write it. Back in, for an
analysis step (the Airflow glue builds the source with ``connections.threat_intel_source``)::

    lookup = source.lookup(interval_indicators(campaign_sessions))   # never raises

and ``coord_core.analysis.intel_evidence`` scores the lookup as the campaign's ``threat_intel`` evidence.
"""
