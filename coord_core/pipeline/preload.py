"""The modules the pipeline's stages import when they run, imported ahead of time.

The stages import their heavy dependencies (Great Expectations, pandas, SciPy, LangGraph, PyMISP)
inside the functions that use them, so that parsing a DAG or starting the CLI stays light. A long-
lived process that forks one short-lived process per task (a warm Airflow executor worker) imports
them once here instead, and every task it forks starts with them.
"""

from __future__ import annotations

import importlib

# A test imports each in a fresh interpreter, so the list cannot rot.
STAGE_MODULES = (
    "coord_core.pipeline.params",
    "coord_core.pipeline.stores",
    "coord_core.pipeline.sources",
    "coord_core.pipeline.extract",
    "coord_core.pipeline.validate",
    "coord_core.pipeline.analyze",
    "coord_core.pipeline.load",
    "coord_core.pipeline.publish_redis",
    "coord_core.pipeline.publish_misp",
    "coord_core.pipeline.misp",
    "coord_core.pipeline.publish_elasticsearch",
    "coord_core.pipeline.narrate",
    "coord_core.pipeline.webhooks",
    "coord_core.ingest.cowrie_files",
    "coord_core.intel.feed_publisher",
    "coord_core.intel.live_publisher",
    "coord_core.adapters.misp_client",
    "coord_core.store.prevalence",
    "coord_core.quality.validate",
    "coord_core.quality.suites",
    "coord_core.workflow.graph",
    "coord_core.workflow.checkpoint",
    "great_expectations",
)


def import_stage_modules() -> None:
    """Import :data:`STAGE_MODULES`, Great Expectations' loggers quieted first (as a stage does)."""
    from coord_core.quality.suites import quiet_great_expectations

    quiet_great_expectations()
    for name in STAGE_MODULES:
        importlib.import_module(name)
