"""The validate stage: the Great Expectations gate on the staged interval (see ``coord_core.quality``)."""

from __future__ import annotations

from datetime import timedelta
from typing import Literal

from coord_core.contracts.window import DataWindow
from coord_core.quality.config import QualityConfig
from coord_core.quality.outcome import QualityOutcome
from coord_core.quality.stage import validate_stage
from coord_core.store.results import ResultsStore


def validate_interval(
    store: ResultsStore,
    window: DataWindow,
    *,
    critical_threshold: float,
    timestamp_slack: timedelta,
    empty_interval: Literal["succeed", "fail"] = "succeed",
) -> QualityOutcome:
    """Validate the staged interval with the run's thresholds; quarantine and results are stored."""
    config = QualityConfig(
        critical_threshold=critical_threshold, timestamp_slack=timestamp_slack, empty_interval=empty_interval
    )
    return validate_stage(store, window, config)
