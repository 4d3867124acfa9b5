"""Run parameters: windows, validation and the error a user sees."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from pydantic import ValidationError

from coord_core.pipeline.params import PipelineParams

START = datetime(2025, 10, 24, 3, tzinfo=UTC)
END = datetime(2025, 10, 24, 4, tzinfo=UTC)


def test_override_wins_over_the_data_interval() -> None:
    params = PipelineParams.model_validate(
        {"window_start": "2025-10-24T08:00:00Z", "window_end": "2025-10-24T10:00:00+00:00"}
    )
    window = params.window(START, END)
    assert (window.start.hour, window.end.hour) == (8, 10)
    assert PipelineParams().window(START, END).start == START


def test_run_without_logical_date_needs_a_window() -> None:
    with pytest.raises(ValueError, match="give window_start and window_end"):
        PipelineParams().window(None, None)


@pytest.mark.parametrize(
    ("conf", "message"),
    [
        ({"window_start": "2025-10-24T08:00:00Z"}, "must be given together"),
        (
            {"window_start": "2025-10-24T10:00:00Z", "window_end": "2025-10-24T08:00:00Z"},
            "is not after start",
        ),
        ({"source": "kafka"}, "source"),
        ({"session_slack_minutes": -1}, "session_slack_minutes"),
        ({"unknown_knob": 1}, "unknown_knob"),
    ],
)
def test_bad_parameters_are_refused_with_a_reason(conf: dict[str, object], message: str) -> None:
    with pytest.raises(ValidationError, match=message):
        PipelineParams.model_validate(conf)
