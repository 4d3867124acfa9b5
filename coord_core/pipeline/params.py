"""Run parameters: what a user may set per run (DAG params, REST API ``conf``, CLI)."""

from __future__ import annotations

import hashlib
import json
from datetime import datetime, timedelta
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, model_validator

from coord_core.contracts.window import DataWindow

DEFAULT_INDEX_PATTERNS = ["cowrie-*", "cowrie.dshield-*", "cowrie.webhoneypot-*"]


class PipelineParams(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")

    window_start: datetime | None = Field(None, description="override the data interval start (ISO-8601)")
    window_end: datetime | None = Field(None, description="override the data interval end (ISO-8601)")
    source: Literal["files", "elasticsearch"] = "files"
    input_paths: list[str] = Field(default_factory=list, description="files/folders for the file source")
    index_patterns: list[str] = Field(default_factory=lambda: list(DEFAULT_INDEX_PATTERNS))
    session_slack_minutes: int = Field(30, ge=0, le=24 * 60)
    baseline_lookback_hours: int = Field(
        24, ge=0, le=168, description="hours before the interval the drift baseline profiles (0: off)"
    )
    critical_failure_threshold: float = Field(0.05, ge=0.0, le=1.0)
    min_publish_confidence: float = Field(0.5, ge=0.0, le=1.0)
    alert_confidence: float = Field(0.8, ge=0.0, le=1.0, description="alert on new campaigns at or above")
    identity_max_gap_hours: float = Field(24.0, gt=0, le=24 * 30)
    llm: bool = False
    analysis: dict[str, Any] = Field(default_factory=dict, description="analysis parameter overrides")

    @model_validator(mode="after")
    def _window_pair(self) -> PipelineParams:
        if (self.window_start is None) != (self.window_end is None):
            raise ValueError("window_start and window_end must be given together")
        if self.window_start is not None and self.window_end is not None:
            DataWindow(start=self.window_start, end=self.window_end)
        return self

    def window(self, interval_start: datetime | None, interval_end: datetime | None) -> DataWindow:
        """The window this run owns: the override when given, else Airflow's data interval."""
        if self.window_start is not None and self.window_end is not None:
            return DataWindow(start=self.window_start, end=self.window_end)
        if interval_start is None or interval_end is None or interval_start == interval_end:
            raise ValueError(
                "this run has no data interval (triggered without a logical date); "
                "give window_start and window_end in the run's conf"
            )
        return DataWindow(start=interval_start, end=interval_end)

    @property
    def session_slack(self) -> timedelta:
        return timedelta(minutes=self.session_slack_minutes)

    @property
    def baseline_lookback(self) -> timedelta | None:
        return timedelta(hours=self.baseline_lookback_hours) if self.baseline_lookback_hours else None

    def analysis_hash(self) -> str:
        return hashlib.sha256(json.dumps(self.analysis, sort_keys=True).encode()).hexdigest()[:16]
