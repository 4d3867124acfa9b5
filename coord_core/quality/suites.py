"""Expectation suites: load the JSON definitions in ``include/gx/`` and run them with Great Expectations.

A suite file is a Great Expectations 1.x suite (``name``, ``expectations`` of ``type``/``kwargs``/
``meta``) whose ``meta`` also says which frame it validates and, per expectation, how a failure
is treated: ``severity`` (``critical`` decides the gate, ``warning`` is reported), ``threshold``
(tolerated unexpected fraction, passed to GX as ``mostly``), ``quarantine`` (failing rows are
quarantined) and a one-line ``reason`` a data engineer can act on.

Great Expectations is imported only inside :func:`run_suites`: the import takes seconds and
nothing that the DAG imports at parse time may pay for it.
"""

from __future__ import annotations

import json
import logging
import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, replace
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError, model_validator

if TYPE_CHECKING:
    import pandas as pd

log = logging.getLogger(__name__)

Severity = Literal["critical", "warning"]
_NAME = r"^[a-z][a-z0-9_]*$"
_GX_LOGGERS = ("great_expectations", "great_expectations.core", "great_expectations.expectations")


class SuiteDefinitionError(ValueError):
    """A suite file that cannot be used; the message names the file and the problem."""


class ExpectationSpec(BaseModel):
    """One expectation of a suite file with the project's handling of its failures."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    name: str = Field(pattern=_NAME)
    type: str = Field(pattern=r"^expect_[a-z0-9_]+$")
    kwargs: dict[str, Any]
    severity: Severity
    threshold: float | None = Field(None, ge=0.0, le=1.0)
    quarantine: bool = False
    reason: str = Field(min_length=1, max_length=200)
    example_field: str | None = None

    @property
    def column(self) -> str:
        """The column(s) the expectation reads, as stored in ``dq_results.column_name``."""
        if isinstance(self.kwargs.get("column"), str):
            return str(self.kwargs["column"])
        columns = self.kwargs.get("column_list")
        if isinstance(columns, list):
            return ",".join(str(c) for c in columns)
        return ""

    @model_validator(mode="after")
    def _no_mostly(self) -> ExpectationSpec:
        if "mostly" in self.kwargs:
            raise ValueError("set 'threshold' in meta, not 'mostly' in kwargs (the gate derives mostly)")
        return self


class SuiteSpec(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")

    name: str = Field(pattern=_NAME)
    frame: str = Field(pattern=_NAME)
    description: str = ""
    expectations: tuple[ExpectationSpec, ...]

    @model_validator(mode="after")
    def _unique_names(self) -> SuiteSpec:
        names = [e.name for e in self.expectations]
        duplicated = sorted({n for n in names if names.count(n) > 1})
        if duplicated:
            raise ValueError(f"expectation names must be unique in a suite: {duplicated}")
        return self

    def key(self, expectation: ExpectationSpec) -> str:
        return f"{self.name}.{expectation.name}"


def load_suite(path: Path) -> SuiteSpec:
    """Read one suite file (GX suite JSON with the project's ``meta``)."""
    try:
        doc = json.loads(path.read_text(encoding="utf-8"))
        meta = doc.get("meta", {})
        return SuiteSpec(
            name=doc["name"],
            frame=meta["frame"],
            description=meta.get("description", ""),
            expectations=tuple(
                ExpectationSpec(type=item["type"], kwargs=item.get("kwargs", {}), **item.get("meta", {}))
                for item in doc["expectations"]
            ),
        )
    except ValidationError as exc:
        problems = "; ".join(
            f"{'.'.join(str(p) for p in e['loc']) or 'expectation'}: {e['msg']}"
            for e in exc.errors(include_url=False, include_input=False)
        )
        raise SuiteDefinitionError(f"{path}: {problems}") from exc
    except (OSError, json.JSONDecodeError, KeyError, TypeError) as exc:
        raise SuiteDefinitionError(f"{path}: {type(exc).__name__}: {exc}") from exc


def load_suites(suite_dir: Path) -> tuple[SuiteSpec, ...]:
    """All suite files of a folder, in name order."""
    paths = sorted(suite_dir.glob("*.json"))
    if not paths:
        raise SuiteDefinitionError(f"no suite files (*.json) in {suite_dir}")
    suites = tuple(load_suite(p) for p in paths)
    names = [s.name for s in suites]
    if len(set(names)) != len(names):
        raise SuiteDefinitionError(f"{suite_dir}: two suite files share a name: {names}")
    return suites


def resolve_thresholds(
    suites: Iterable[SuiteSpec],
    overrides: Mapping[str, float],
    *,
    critical_default: float,
    warning_default: float,
) -> dict[str, float]:
    """Threshold per ``suite.expectation``: override, else the suite file's, else the severity default."""
    resolved: dict[str, float] = {}
    for suite in suites:
        for spec in suite.expectations:
            default = critical_default if spec.severity == "critical" else warning_default
            resolved[suite.key(spec)] = spec.threshold if spec.threshold is not None else default
    unknown = sorted(set(overrides) - set(resolved))
    if unknown:
        raise SuiteDefinitionError(f"threshold overrides name no expectation: {unknown}")
    for key, value in overrides.items():
        if not 0.0 <= value <= 1.0:
            raise SuiteDefinitionError(f"threshold for {key} must be within [0, 1], got {value}")
        resolved[key] = value
    return resolved


@dataclass(frozen=True)
class RawResult:
    """What GX said about one expectation, before the gate interprets it."""

    suite: SuiteSpec
    spec: ExpectationSpec
    threshold: float
    success: bool
    element_count: int
    unexpected_count: int
    unexpected_percent: float
    missing_count: int
    unexpected_index: tuple[int, ...]
    error: str | None


def quiet_great_expectations() -> None:
    for name in _GX_LOGGERS:
        logging.getLogger(name).setLevel(logging.WARNING)


def run_suites(
    suites: Sequence[SuiteSpec],
    frames: Mapping[str, pd.DataFrame],
    parameters: Mapping[str, Any],
    thresholds: Mapping[str, float],
) -> list[RawResult]:
    """Validate each suite's frame in one ephemeral GX context; results keep the suites' order."""
    runner = SuiteRunner(suites, parameters, thresholds)
    results: list[RawResult] = []
    for suite in suites:
        if suite.frame not in frames:
            raise SuiteDefinitionError(f"suite {suite.name!r} validates unknown frame {suite.frame!r}")
        results.extend(runner.validate(suite, frames[suite.frame]))
    return results


class SuiteRunner:
    """One ephemeral GX context that validates the suites' frames, as often as a frame comes in
    parts (the context and each suite are set up once, not per part)."""

    def __init__(
        self, suites: Sequence[SuiteSpec], parameters: Mapping[str, Any], thresholds: Mapping[str, float]
    ) -> None:
        quiet_great_expectations()
        import great_expectations as gx
        from great_expectations.data_context.types.base import (
            DataContextConfig,
            InMemoryStoreBackendDefaults,
            ProgressBarsConfig,
        )
        from great_expectations.expectations.expectation_configuration import ExpectationConfiguration

        quiet_great_expectations()
        context = gx.get_context(
            mode="ephemeral",
            project_config=DataContextConfig(
                store_backend_defaults=InMemoryStoreBackendDefaults(),
                analytics_enabled=False,
                progress_bars=ProgressBarsConfig(globally=False),
            ),
        )
        datasource = context.data_sources.add_pandas("coord_quality")
        self.parameters = dict(parameters)
        self.thresholds = thresholds
        self._batches: dict[str, Any] = {}
        self._gx_suites: dict[str, Any] = {}
        for suite in suites:
            asset = datasource.add_dataframe_asset(name=f"{suite.name}_frame")
            self._batches[suite.name] = asset.add_batch_definition_whole_dataframe("whole")
            configs = []
            for spec in suite.expectations:
                kwargs = dict(spec.kwargs)
                threshold = thresholds[suite.key(spec)]
                if threshold > 0:
                    kwargs["mostly"] = 1.0 - threshold
                configs.append(
                    ExpectationConfiguration(type=spec.type, kwargs=kwargs, meta={"name": spec.name})
                )
            self._gx_suites[suite.name] = gx.ExpectationSuite(name=suite.name, expectations=configs)

    def validate(self, suite: SuiteSpec, frame: pd.DataFrame) -> list[RawResult]:
        """The suite's expectations on ``frame`` (the whole frame, or one part of it), in suite order."""
        batch = self._batches[suite.name].get_batch(batch_parameters={"dataframe": frame})
        validation = batch.validate(
            self._gx_suites[suite.name],
            expectation_parameters=self.parameters,
            result_format={"result_format": "COMPLETE", "partial_unexpected_count": 0},
        )
        by_name = {str(r.expectation_config.meta["name"]): r for r in validation.results}
        return [
            _raw(suite, spec, self.thresholds[suite.key(spec)], by_name.get(spec.name), len(frame))
            for spec in suite.expectations
        ]


# Expectations that compare rows with each other: over a frame validated in parts they hold only on
# columns no two parts can share a value of (the frame's key, unique in its staging table).
_CROSS_ROW_TYPES = frozenset(
    {
        "expect_column_values_to_be_unique",
        "expect_compound_columns_to_be_unique",
        "expect_multicolumn_values_to_be_unique",
        "expect_column_values_to_be_increasing",
        "expect_column_values_to_be_decreasing",
    }
)


def check_parted_suite(suite: SuiteSpec, key: Sequence[str]) -> None:
    """A frame validated in parts is judged row by row, so its suite may hold map expectations only,
    and uniqueness only over ``key``; anything else would be judged per part, not per interval."""
    from great_expectations.exceptions.exceptions import ExpectationNotFoundError
    from great_expectations.expectations.expectation import (
        ColumnMapExpectation,
        ColumnPairMapExpectation,
        MulticolumnMapExpectation,
    )
    from great_expectations.expectations.registry import get_expectation_impl

    for spec in suite.expectations:
        try:
            impl = get_expectation_impl(spec.type)
        except ExpectationNotFoundError:
            continue  # an unknown type: GX reports it as that expectation's error
        row_by_row = issubclass(
            impl, (ColumnMapExpectation, ColumnPairMapExpectation, MulticolumnMapExpectation)
        )
        if not row_by_row:
            raise SuiteDefinitionError(
                f"{suite.key(spec)}: {spec.type} judges frame {suite.frame!r} as a whole, which is "
                "validated in parts; only row-by-row (map) expectations can check it"
            )
        if spec.type in _CROSS_ROW_TYPES and set(spec.column.split(",")) != set(key):
            raise SuiteDefinitionError(
                f"{suite.key(spec)}: {spec.type} compares rows of frame {suite.frame!r}, which is "
                f"validated in parts; only its key {list(key)} can be checked so"
            )


def combine_parts(parts: Sequence[RawResult]) -> RawResult:
    """One expectation's results over the parts of a frame as GX gives it over the whole frame (map
    expectations: each row judged alone): counts add up, success is GX's ``mostly`` rule on the
    totals. Row indexes are not kept (the caller read them part by part)."""
    first = parts[0]
    if len(parts) == 1:
        return replace(first, unexpected_index=())
    errors = [p.error for p in parts if p.error is not None]
    element = sum(p.element_count for p in parts)
    missing = sum(p.missing_count for p in parts)
    unexpected = sum(p.unexpected_count for p in parts)
    nonmissing = element - missing
    if errors:
        return replace(
            first,
            success=False,
            element_count=element,
            unexpected_count=0,
            unexpected_percent=0.0,
            missing_count=0,
            unexpected_index=(),
            error=errors[0],
        )
    if element == 0 or nonmissing == 0:
        success = True  # vacuously, as GX decides it
    else:
        mostly = 1.0 - first.threshold if first.threshold > 0 else 1.0
        success = (float(nonmissing) - float(unexpected)) / float(nonmissing) >= mostly
    return replace(
        first,
        success=success,
        element_count=element,
        unexpected_count=unexpected,
        unexpected_percent=unexpected / nonmissing * 100 if element > 0 and nonmissing > 0 else 0.0,
        missing_count=missing,
        unexpected_index=(),
    )


def _raw(suite: SuiteSpec, spec: ExpectationSpec, threshold: float, result: Any, rows: int) -> RawResult:
    if result is None:
        return RawResult(suite, spec, threshold, False, rows, 0, 0.0, 0, (), "GX returned no result")
    error = _exception_message(result.exception_info or {})
    body = result.result or {}
    if error is None and not body and not result.success:
        error = "GX returned no result for this expectation"
    index = tuple(int(i) for i in body.get("unexpected_index_list") or ())
    percent = body.get("unexpected_percent")
    return RawResult(
        suite=suite,
        spec=spec,
        threshold=threshold,
        success=bool(result.success) and error is None,
        element_count=int(body.get("element_count", rows) or 0),
        unexpected_count=int(body.get("unexpected_count", 0) or 0),
        unexpected_percent=float(percent) if percent is not None else 0.0,
        missing_count=int(body.get("missing_count", 0) or 0),
        unexpected_index=index,
        error=error,
    )


def _exception_message(info: Mapping[str, Any]) -> str | None:
    """GX reports errors flat, or per metric (a dict of such dicts); the first message wins."""
    candidates = [info, *(v for v in info.values() if isinstance(v, Mapping))]
    for item in candidates:
        if item.get("raised_exception"):
            return _one_line(str(item.get("exception_message") or "expectation raised an exception"))
    return None


def _one_line(text: str, limit: int = 300) -> str:
    return re.sub(r"\s+", " ", text).strip()[:limit]
