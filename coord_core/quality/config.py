"""What a data engineer may tune about the gate: thresholds, time slack, baseline requirements."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

DEFAULT_SUITE_DIR = Path(__file__).resolve().parents[2] / "include" / "gx"


class QualityConfig(BaseModel):
    """Gate parameters.

    A critical expectation fails the gate when its unexpected fraction exceeds its threshold:
    the one in the suite file, else ``thresholds["suite.expectation"]``, else the severity's
    default below. ``thresholds`` overrides win over the suite file.
    """

    model_config = ConfigDict(frozen=True, extra="forbid")

    critical_threshold: float = Field(0.05, ge=0.0, le=1.0)
    warning_threshold: float = Field(0.0, ge=0.0, le=1.0)
    thresholds: dict[str, float] = Field(default_factory=dict, description="'suite.expectation' -> fraction")
    timestamp_slack: timedelta = Field(timedelta(minutes=30), ge=timedelta(0))
    min_baseline_hours: int = Field(
        3, ge=1, description="hours with events in the source's lookback needed before drift checks judge"
    )
    min_baseline_sessions_per_hour: float = Field(
        5.0, ge=0.0, description="a sensor below this baseline rate is too small to judge a drop"
    )
    empty_interval: Literal["succeed", "fail"] = Field(
        "succeed",
        description="an interval with no records: reported as 'no data', and the gate passes or fails",
    )
    example_count: int = Field(5, ge=0, le=50)
    example_chars: int = Field(120, ge=16, le=2000)
    suite_dir: Path = DEFAULT_SUITE_DIR
