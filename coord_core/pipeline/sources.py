"""The sources extract reads: Cowrie/SIEM files, or the DShield-SIEM indices in Elasticsearch.

The Elasticsearch client library is imported only when an Elasticsearch source is opened.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime, timedelta
from typing import TYPE_CHECKING

from coord_core.ingest.cowrie_files import discover_files, read_paths, read_paths_records
from coord_core.ingest.input_paths import (
    BUNDLED_SAMPLE_DIR,
    INPUT_BASES_VARIABLE,
    InputPathRefused,
    confine,
    parse_bases,
)
from coord_core.ingest.records import ReadRecord

if TYPE_CHECKING:
    from elasticsearch import Elasticsearch

    from coord_core.adapters.elasticsearch_source import ElasticsearchIntervalReader
    from coord_core.contracts.source_profile import SourceProfile

__all__ = [
    "BUNDLED_SAMPLE_DIR",
    "INPUT_BASES_VARIABLE",
    "InputPathRefused",
    "ReadRecord",
    "confine",
    "discover_files",
    "elasticsearch_profile",
    "elasticsearch_reader",
    "parse_bases",
    "read_paths",
    "read_paths_records",
]


def elasticsearch_reader(
    client: Elasticsearch, start: datetime, end: datetime, index_patterns: Sequence[str]
) -> ElasticsearchIntervalReader:
    """A reader of ``[start, end)`` from the given indices through one point in time."""
    from coord_core.adapters.elasticsearch_source import ElasticsearchIntervalReader

    return ElasticsearchIntervalReader(client, start, end, index_patterns=index_patterns)


def elasticsearch_profile(
    client: Elasticsearch, interval_start: datetime, *, lookback: timedelta, index_patterns: Sequence[str]
) -> SourceProfile:
    """The drift baseline of the interval from one aggregation request."""
    from coord_core.adapters.elasticsearch_profile import profile_lookback

    return profile_lookback(client, interval_start, lookback=lookback, index_patterns=index_patterns)
