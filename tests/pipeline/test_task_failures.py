"""Errors a retry cannot fix fail the task at once (AirflowFailException), with a readable reason."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Any, cast

import pytest
from airflow.sdk.exceptions import AirflowFailException
from coord_airflow import connections, pipeline_tasks

from coord_core.ingest.input_paths import BUNDLED_SAMPLE_DIR
from coord_core.pipeline.params import check_conf

if TYPE_CHECKING:
    from airflow.sdk import Context

GOOD = {"window_start": "2025-10-24T08:00:00Z", "window_end": "2025-10-24T10:00:00Z"}


def _context(params: dict[str, Any], **more: Any) -> Context:
    """The part of a task context these helpers read."""
    return cast("Context", {"params": params, "data_interval_start": None, "data_interval_end": None, **more})


def test_a_conf_that_bypassed_the_trigger_check_fails_without_retries() -> None:
    with pytest.raises(AirflowFailException, match="unknown parameter 'window_strat'"):
        pipeline_tasks._params(_context({**GOOD, "window_strat": "x"}))
    with pytest.raises(AirflowFailException, match="give window_start and window_end"):
        pipeline_tasks._window(_context({}))


def test_input_paths_are_checked_again_when_the_task_runs(tmp_path: Path) -> None:
    params = check_conf({**GOOD, "input_paths": ["/proc/self/environ"]})
    with pytest.raises(AirflowFailException, match="outside the allowed input folders"):
        pipeline_tasks._input_paths(params, [BUNDLED_SAMPLE_DIR])
    (tmp_path / "cowrie.json").symlink_to("/proc/self/environ")
    with pytest.raises(AirflowFailException, match="resolve outside the allowed input folders"):
        pipeline_tasks._FilesSource([str(tmp_path)], [tmp_path.resolve()])


def test_elasticsearch_source_without_its_connection_fails_without_retries(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(connections, "connection_is_defined", lambda conn_id: False)
    context = _context(GOOD, dag_run=None)
    with pytest.raises(AirflowFailException, match="needs the coord_elasticsearch Airflow connection"):
        pipeline_tasks._elasticsearch_source(context, check_conf({**GOOD, "source": "elasticsearch"}))
