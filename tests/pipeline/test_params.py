"""Run parameters: windows, validation and the error a user sees."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from pydantic import ValidationError

from coord_core.ingest.cowrie_files import discover_files
from coord_core.ingest.input_paths import BUNDLED_SAMPLE_DIR, InputPathRefused, parse_bases
from coord_core.pipeline.params import ConfRefused, PipelineParams, check_conf

REPO = Path(__file__).resolve().parents[2]

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


# Every conf the issue found accepted on trigger and failing minutes later: refused at once, with a
# message that names the problem and never repeats a huge value.
HUGE = "x" * 10_000_000
REFUSED: list[tuple[dict[str, Any], str]] = [
    ({"window_start": "2025-10-24T10:00:00Z", "window_end": "2025-10-24T08:00:00Z"}, "is not after start"),
    ({"window_start": "2025-13-45T08:00:00Z", "window_end": "2025-10-24T08:00:00Z"}, "window_start: must be"),
    ({"window_start": "2025-02-30T08:00:00Z", "window_end": "2025-03-01T08:00:00Z"}, "window_start: Input"),
    ({"window_start": "2025-10-24T08:00:00"}, "window_start: must be an ISO-8601 timestamp with a timezone"),
    ({"window_start": "2025-10-24T08:00:00Z"}, "must be given together"),
    ({"window_end": "2025-10-24T08:00:00Z"}, "must be given together"),
    ({"window_strat": "2025-10-24T08:00:00Z"}, "unknown parameter 'window_strat'"),
    ({"analysis": {"link_bsae": 6}}, "unknown analysis parameter 'link_bsae'"),
    ({"analysis": {"alpha": 0.9}}, "analysis.alpha: Input should be less than 0.5"),
    ({"input_paths": [HUGE]}, "input_paths[0]: String should have at most 4096 characters"),
    ({"input_paths": ["/x"] * 65}, "input_paths: List should have at most 64 items"),
    ({"index_patterns": ["y" * 256]}, "index_patterns[0]: String should have at most 255 characters"),
    ({"window_start": HUGE, "window_end": "2025-10-24T08:00:00Z"}, "window_start: must be"),
    ({HUGE: 1}, "unknown parameter 'xxxxxxxx"),
    ({"source": "kafka"}, "source: Input should be 'files' or 'elasticsearch'"),
    ({"empty_interval": "maybe"}, "empty_interval"),
]


@pytest.mark.parametrize(("conf", "message"), REFUSED, ids=[str(i) for i in range(len(REFUSED))])
def test_conf_that_cannot_succeed_is_refused_readably(conf: dict[str, object], message: str) -> None:
    with pytest.raises(ConfRefused) as refused:
        check_conf(conf)
    text = str(refused.value)
    assert message in text
    assert len(text) < 400 and "xxxxxxxxxx" * 20 not in text


def test_none_means_the_default_and_a_good_conf_passes() -> None:
    params = check_conf(
        {"window_start": "2025-10-24T08:00:00+02:00", "window_end": "2025-10-24 10:00Z", "source": None}
    )
    assert params.source == "files" and params.window(None, None).start.hour == 6
    assert check_conf({"analysis": {"link_base": 6}}).analysis == {"link_base": 6}


def test_input_paths_outside_the_allowed_folders_are_refused(tmp_path: Path) -> None:
    inside = tmp_path / "logs"
    inside.mkdir()
    (inside / "cowrie.json").write_text("{}\n")
    bases = [inside.resolve()]
    assert check_conf({"input_paths": [str(inside)]}, bases).input_paths == [str(inside)]
    (inside / "escape.json").symlink_to("/etc/hostname")
    for path in (
        "/proc/self/environ",
        str(inside / ".." / "logs2"),
        "relative/x.json",
        str(inside / "escape.json"),
    ):
        with pytest.raises(ConfRefused, match="input_paths\\[0\\]"):
            check_conf({"input_paths": [path]}, bases)
    # Elasticsearch runs read no files: their (unused) input_paths are not judged.
    assert check_conf({"source": "elasticsearch", "input_paths": ["/etc"]}, bases).source == "elasticsearch"


def test_a_symlink_inside_an_allowed_folder_cannot_lead_out(tmp_path: Path) -> None:
    inside = tmp_path / "logs"
    inside.mkdir()
    (inside / "cowrie.json").write_text("{}\n")
    assert discover_files([inside], [inside.resolve()]) == [inside / "cowrie.json"]
    secret = tmp_path / "secret.json"
    secret.write_text('{"password": "hunter2"}\n')
    (inside / "link.json").symlink_to(secret)
    with pytest.raises(InputPathRefused, match="outside the allowed input folders"):
        discover_files([inside], [inside.resolve()])
    assert len(discover_files([inside])) == 2  # without bases (coord analyze): the researcher's own files


def test_allowed_bases_are_configured_or_the_bundled_sample() -> None:
    assert parse_bases(None) == [BUNDLED_SAMPLE_DIR] == parse_bases("  ")
    assert parse_bases('["/data/cowrie", "/srv/logs"]') == [Path("/data/cowrie"), Path("/srv/logs")]
    assert parse_bases("/data/cowrie, /srv/logs") == [Path("/data/cowrie"), Path("/srv/logs")]
    with pytest.raises(InputPathRefused, match="absolute"):
        parse_bases("data/cowrie")


def _dag_params() -> Any:
    from airflow.dag_processing.dagbag import DagBag
    from airflow.serialization.serialized_objects import DagSerialization

    dag = DagBag(dag_folder=str(REPO / "dags")).dags["dshield_coordination"]
    return DagSerialization.from_dict(DagSerialization.to_dict(dag)).params


def test_dag_params_are_derived_from_the_one_definition() -> None:
    """The Params the API server validates on trigger agree with PipelineParams field by field."""
    from airflow.exceptions import ParamValidationError

    params = _dag_params()
    assert sorted(params) == sorted(PipelineParams.model_fields)
    for name, field in PipelineParams.model_fields.items():
        schema = params.get_param(name).schema
        assert schema["title"] == field.title and schema["section"]
        assert params.get_param(name).description == field.description
        assert "null" in schema["type"], f"{name} is marked required in the trigger form"
    assert params.validate()["session_slack_minutes"] == PipelineParams().session_slack_minutes
    per_field = [c for c, _ in REFUSED if len(c) == 1 and next(iter(c)) in PipelineParams.model_fields]
    per_field += [{"window_start": "2025-13-45T08:00:00Z"}]
    for conf in per_field:
        if conf == {"window_start": "2025-10-24T08:00:00Z"} or conf == {"window_end": "2025-10-24T08:00:00Z"}:
            continue  # a pair rule: checked by check_conf at trigger (the API server's guard)
        with pytest.raises(ParamValidationError):
            params.deep_merge(conf).validate()
    good = {"window_start": "2025-10-24T08:00:00Z", "window_end": "2025-10-24T10:00:00Z", "llm": None}
    params.deep_merge(good).validate()
    check_conf(good)
