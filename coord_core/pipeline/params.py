"""Run parameters: what a user may set per run (DAG params, REST API ``conf``, CLI), defined once.

``PipelineParams`` is the one definition. The DAG's Airflow ``Param`` objects are derived from it
(``airflow_param_specs``), so the trigger form and Airflow's own per-field validation show and
check the same titles, bounds and formats the tasks parse with; ``check_conf`` adds what Airflow
cannot check per field (unknown keys, the window pair, allowed input folders) and turns every
problem into one readable message that never repeats a huge value.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from datetime import datetime, timedelta
from pathlib import Path
from typing import Annotated, Any, Literal

from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    StringConstraints,
    ValidationError,
    field_validator,
    model_validator,
)

from coord_core.analysis.parameters import AnalysisParameters
from coord_core.contracts.window import DataWindow
from coord_core.ingest.input_paths import InputPathRefused, confine

DEFAULT_INDEX_PATTERNS = ["cowrie-*", "cowrie.dshield-*", "cowrie.webhoneypot-*"]

# ISO-8601 with a zone, month 01-12, day 01-31, hour 00-23 (calendar checks follow in parsing).
# JSON-schema "format" is only enforced by Airflow when rfc3339-validator is installed; a pattern
# always is, so even a trigger that bypasses ``check_conf`` refuses 2025-13-45.
ISO_8601_WITH_ZONE = (
    r"^\d{4}-(0[1-9]|1[0-2])-(0[1-9]|[12]\d|3[01])[T ]([01]\d|2[0-3]):[0-5]\d"
    r"(:[0-5]\d(\.\d{1,6})?)?(Z|[+-]([01]\d|2[0-3]):[0-5]\d)$"
)
_ISO = re.compile(ISO_8601_WITH_ZONE)
TIMESTAMP_MAX_CHARS = 40
MAX_INPUT_PATHS = 64
MAX_PATH_CHARS = 4096
MAX_INDEX_PATTERNS = 32
MAX_INDEX_PATTERN_CHARS = 255
# A readable refusal: at most this many problems, each naming at most this much of a value.
_MAX_PROBLEMS = 8
_MAX_LOCATION_CHARS = 80

WINDOW = "Data window"
SOURCE = "Source"
QUALITY = "Data quality"
ANALYSIS = "Analysis"
PUBLISH = "Publishing"

PathText = Annotated[str, StringConstraints(min_length=1, max_length=MAX_PATH_CHARS)]
IndexPattern = Annotated[str, StringConstraints(min_length=1, max_length=MAX_INDEX_PATTERN_CHARS)]


def _timestamp_schema(schema: dict[str, Any]) -> None:
    """A text field checked by pattern (the form's date-time picker would send local times)."""
    schema.pop("format", None)
    for variant in schema.get("anyOf", []):
        variant.pop("format", None)
    schema.update(pattern=ISO_8601_WITH_ZONE, maxLength=TIMESTAMP_MAX_CHARS, section=WINDOW)


def _analysis_schema(schema: dict[str, Any]) -> None:
    """Only the analysis' known keys, each with its own bounds (from ``AnalysisParameters``)."""
    known = AnalysisParameters.model_json_schema()["properties"]
    schema.update(properties=known, additionalProperties=False, maxProperties=len(known), section=ANALYSIS)


def _param(section: str, *default: Any, **field: Any) -> Any:
    """A run parameter shown in ``section`` of the trigger form (its description is the docstring
    under it)."""
    return Field(*default, json_schema_extra={"section": section}, **field)


class PipelineParams(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid", use_attribute_docstrings=True)

    window_start: datetime | None = Field(None, title="Window start", json_schema_extra=_timestamp_schema)
    """Start of the interval to analyse instead of the run's data interval (ISO-8601 with a
    timezone, e.g. 2025-10-24T08:00:00Z). Give window_end too."""
    window_end: datetime | None = Field(None, title="Window end", json_schema_extra=_timestamp_schema)
    """End (exclusive) of the interval to analyse; after window_start. Give both or neither."""
    source: Literal["files", "elasticsearch"] = _param(SOURCE, "files", title="Source")
    """Where the events come from: Cowrie log files, or the DShield-SIEM Elasticsearch of the
    coord_elasticsearch connection."""
    input_paths: list[PathText] = _param(
        SOURCE, default_factory=list, max_length=MAX_INPUT_PATHS, title="Input paths"
    )
    """Cowrie log files or folders for the file source (absolute, inside the folders the Airflow
    Variable coord_input_bases allows). Empty: the Variable coord_input_paths, else the bundled
    sample."""
    index_patterns: list[IndexPattern] = _param(
        SOURCE,
        default_factory=lambda: list(DEFAULT_INDEX_PATTERNS),
        min_length=1,
        max_length=MAX_INDEX_PATTERNS,
        title="Index patterns",
    )
    """Elasticsearch indices read by the elasticsearch source (given here, they win over the
    connection's extra index_patterns)."""
    session_slack_minutes: int = _param(SOURCE, 30, ge=0, le=24 * 60, title="Session slack (minutes)")
    """Minutes read on each side of the interval so sessions crossing its edges are whole."""
    baseline_lookback_hours: int = _param(QUALITY, 24, ge=0, le=168, title="Drift baseline (hours)")
    """Hours before the interval profiled as the drift baseline (0: drift checks off)."""
    critical_failure_threshold: float = _param(
        QUALITY, 0.05, ge=0.0, le=1.0, title="Critical failure threshold"
    )
    """Share of failing rows a critical expectation may have before the gate stops the run."""
    empty_interval: Literal["succeed", "fail"] = _param(QUALITY, "succeed", title="Interval with no data")
    """What the gate does when the interval holds no events: succeed (reported as 'no data') or
    fail the run."""
    min_publish_confidence: float = _param(
        PUBLISH, 0.5, ge=0.0, le=1.0, title="Minimum confidence to publish"
    )
    """Campaigns below this confidence are not exported to MISP."""
    alert_confidence: float = _param(PUBLISH, 0.8, ge=0.0, le=1.0, title="Alert confidence")
    """New campaigns at or above this confidence are pushed to the Redis alert list."""
    identity_max_gap_hours: float = _param(
        ANALYSIS, 24.0, gt=0, le=24 * 30, title="Campaign identity gap (hours)"
    )
    """Longest gap after which a returning campaign still keeps its identity."""
    llm: bool = _param(ANALYSIS, False, title="LLM narrative")
    """Write an LLM narrative per campaign (narrate task, gpu queue, coord_ollama)."""
    analysis: dict[str, Any] = Field(
        default_factory=dict, title="Analysis overrides", json_schema_extra=_analysis_schema
    )
    """Analysis parameters to override for this run, e.g. {"link_base": 6}; only known keys (see
    coord_core/analysis/parameters.py)."""

    @field_validator("window_start", "window_end", mode="before")
    @classmethod
    def _iso_timestamp(cls, value: Any) -> Any:
        if isinstance(value, str) and (len(value) > TIMESTAMP_MAX_CHARS or not _ISO.match(value)):
            raise ValueError("must be an ISO-8601 timestamp with a timezone, e.g. 2025-10-24T08:00:00Z")
        if value is not None and not isinstance(value, (str, datetime)):
            raise ValueError("must be an ISO-8601 timestamp string")
        return value

    @field_validator("analysis", mode="after")
    @classmethod
    def _known_analysis_keys(cls, value: dict[str, Any]) -> dict[str, Any]:
        AnalysisParameters.from_overrides(value)  # unknown keys and bad values refused
        return value

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


class ConfRefused(ValueError):
    """A run's conf that cannot succeed, with every problem in one readable, bounded message."""

    def __init__(self, problems: Sequence[str]) -> None:
        self.problems = list(problems)
        shown_problems = self.problems[:_MAX_PROBLEMS]
        more = len(self.problems) - len(shown_problems)
        tail = f"; and {more} more" if more > 0 else ""
        super().__init__("invalid run parameters: " + "; ".join(shown_problems) + tail)


def _location(loc: Sequence[int | str]) -> str:
    parts: list[str] = []
    for part in loc:
        if isinstance(part, int):
            parts.append(f"[{part}]")
        else:
            text = part if len(part) <= _MAX_LOCATION_CHARS else part[:_MAX_LOCATION_CHARS] + "..."
            parts.append(("." if parts else "") + text)
    return "".join(parts)


def _problem(error: Mapping[str, Any]) -> str:
    """One pydantic error as a sentence: where, what; the input value itself is never repeated."""
    loc = tuple(error.get("loc", ()))
    where = _location(loc)
    if error.get("type") == "extra_forbidden":
        if len(loc) == 2 and loc[0] == "analysis":
            return f"unknown analysis parameter {_location(loc[1:])!r}"
        return f"unknown parameter {where!r}"
    message = str(error.get("msg", "invalid")).removeprefix("Value error, ")
    return f"{where}: {message}" if where else message


def _analysis_problems(value: object) -> list[str]:
    """The analysis overrides' own errors, located under ``analysis``."""
    try:
        AnalysisParameters.from_overrides(value if isinstance(value, dict) else None)
    except ValidationError as exc:
        return [
            _problem({**err, "loc": ("analysis", *err["loc"])})
            for err in exc.errors(include_url=False, include_input=False)
        ]
    return []


def check_conf(conf: Mapping[str, Any] | None, allowed_bases: Sequence[Path] | None = None) -> PipelineParams:
    """The run's parameters from its conf (None values mean "the default"), else ``ConfRefused``.

    ``allowed_bases``: when given, every ``input_paths`` entry must resolve under one of them.
    """
    if conf is not None and not isinstance(conf, Mapping):
        raise ConfRefused([f"conf must be a JSON object, not {type(conf).__name__}"])
    raw = {str(k): v for k, v in (conf or {}).items() if v is not None}
    try:
        params = PipelineParams.model_validate(raw)
    except ValidationError as exc:
        problems: list[str] = []
        for err in exc.errors(include_url=False, include_input=False):
            if tuple(err.get("loc", ())) == ("analysis",) and err.get("type") == "value_error":
                problems += _analysis_problems(raw.get("analysis")) or [_problem(err)]
            else:
                problems.append(_problem(err))
        raise ConfRefused(problems) from None
    if allowed_bases is not None and params.source == "files" and params.input_paths:
        try:
            confine(params.input_paths, allowed_bases)
        except InputPathRefused as exc:
            raise ConfRefused([str(exc)]) from None
    return params


def airflow_param_specs() -> dict[str, dict[str, Any]]:
    """Per parameter: ``default``, ``description`` and the JSON schema (title, section, bounds) of
    its Airflow ``Param``, derived from ``PipelineParams``. Every type admits null, meaning "the
    default", so the trigger form marks nothing required."""
    properties = PipelineParams.model_json_schema()["properties"]
    defaults = PipelineParams().model_dump(mode="json")
    specs: dict[str, dict[str, Any]] = {}
    for name, prop in properties.items():
        schema = dict(prop)
        schema.pop("default", None)
        description = schema.pop("description")
        variants = schema.pop("anyOf", None)
        if variants:
            (concrete,) = [v for v in variants if v.get("type") != "null"]
            schema = {**concrete, **schema}
        schema["type"] = ["null", schema["type"]]
        if "enum" in schema:
            schema["enum"] = [*schema["enum"], None]
        specs[name] = {"default": defaults[name], "description": description, "schema": schema}
    return specs
