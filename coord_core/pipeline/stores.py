"""The stores an orchestrator opens around the stages: results, schema, retention, Redis cache, DQ reports.

The Airflow layer reaches ``coord_core`` through ``coord_core.pipeline`` only (README, "Layering");
this module is its door to the store package and the code version that runs record.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import psycopg

from coord_core.quality.stored_reports import StoredReport, StoredReportReader
from coord_core.store import liveness, retention
from coord_core.store.cache_integrity import CacheSigner
from coord_core.store.migrations import migrate
from coord_core.store.redis_resilience import BestEffortRedis
from coord_core.store.result_cache import AnalysisResultCache
from coord_core.store.results import ResultsStore, RunRecord
from coord_core.store.session_limits import limited
from coord_core.version import code_version

if TYPE_CHECKING:
    from langgraph.checkpoint.postgres import PostgresSaver

__all__ = [
    "AnalysisResultCache",
    "BestEffortRedis",
    "CacheSigner",
    "ResultsStore",
    "RunRecord",
    "StoredReport",
    "StoredReportReader",
    "code_version",
    "limited",
    "liveness",
    "migrate",
    "retention",
    "workflow_checkpointer",
]


def workflow_checkpointer(conn: psycopg.Connection[Any]) -> PostgresSaver:
    """The analysis workflow's checkpointer on its own connection (LangGraph is imported only here)."""
    from coord_core.workflow.checkpoint import open_checkpointer

    return open_checkpointer(conn)
