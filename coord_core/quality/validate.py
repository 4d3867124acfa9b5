"""Validate one data interval: run the suites, quarantine failing rows, decide the gate.

Call :func:`validate_interval` with the interval's parsed records, its sessions and the source
profile of the hours before it (the drift baseline); write ``outcome.quarantine`` (stage
``validate``), ``outcome.dq_rows()``, ``outcome.gate`` and ``outcome.summary`` to the store, mark
``outcome.quarantined_session_keys``, and run analysis only when ``outcome.gate.passed``.
"""

from __future__ import annotations

import logging
import math
import sys
import time
from collections import defaultdict
from collections.abc import Iterable, Mapping, Sequence
from datetime import datetime
from typing import Any

import pandas as pd

from coord_core.contracts.data_quality import QuarantineEntry
from coord_core.contracts.events import KNOWN_EVENT_IDS
from coord_core.contracts.sessions import AttackSession
from coord_core.contracts.source_profile import SourceProfile
from coord_core.ingest.records import ReadRecord
from coord_core.quality import frames as fr
from coord_core.quality.bounded import preview, reason_category
from coord_core.quality.config import QualityConfig
from coord_core.quality.drift import Baseline, baseline_of, sensor_rows, volume_row
from coord_core.quality.history import build_summary, count_interval
from coord_core.quality.outcome import (
    ExpectationResult,
    GateDecision,
    QualityCounts,
    QualityOutcome,
)
from coord_core.quality.suites import (
    RawResult,
    SuiteDefinitionError,
    SuiteSpec,
    load_suites,
    resolve_thresholds,
    run_suites,
)

log = logging.getLogger(__name__)

_ROW_FRAMES = (fr.EVENTS, fr.SESSIONS)  # frames whose failing rows can be quarantined
_MAX_REASON_CHARS = 2000
_MAX_GATE_FAILURES_LISTED = 10


def validate_interval(
    records: Iterable[ReadRecord],
    sessions: Iterable[AttackSession],
    window_start: datetime,
    window_end: datetime,
    *,
    baseline: SourceProfile | None = None,
    config: QualityConfig | None = None,
    parse_quarantine: Iterable[QuarantineEntry] = (),
) -> QualityOutcome:
    """Validate ``[window_start, window_end)``.

    ``records`` are the interval's records; a record without an event (it failed to parse)
    becomes a ``parse_quarantine`` entry, as do the ``parse_quarantine`` entries passed in (the
    extract task's, so that counts and the report cover the whole interval). ``baseline`` is
    what the source held in the hours before the interval (``None``: drift checks not judged).
    """
    cfg = config or QualityConfig()
    if window_start.tzinfo is None or window_end.tzinfo is None:
        raise ValueError("window bounds must carry a timezone")
    if window_end <= window_start:
        raise ValueError("window end must be after its start")
    started = time.perf_counter()
    parsed: list[ReadRecord] = []
    parse_entries = list(parse_quarantine)
    given_parse = len(parse_entries)
    for record in records:
        if record.event is not None:
            parsed.append(record)
        else:
            parse_entries.append(record.quarantined(record.error or "unparseable record"))
    session_list = list(sessions)
    read = len(parsed) + len(parse_entries)

    suites = load_suites(cfg.suite_dir)
    _check_quarantine_frames(suites)
    thresholds = resolve_thresholds(
        suites,
        cfg.thresholds,
        critical_default=cfg.critical_threshold,
        warning_default=cfg.warning_threshold,
    )
    drift_baseline, notes = baseline_of(baseline, cfg.min_baseline_hours)
    events = [r.event for r in parsed if r.event is not None]
    counts = count_interval(events, session_list, read, len(parse_entries))
    hours = fr.hours_between(window_start, window_end)
    frames = {
        f.name: f
        for f in (
            fr.events_frame(parsed),
            fr.sessions_frame(session_list),
            fr.volume_frame(volume_row(counts, hours, drift_baseline)),
            fr.sensors_frame(sensor_rows(counts, hours, drift_baseline, cfg.min_baseline_sessions_per_hour)),
        )
    }
    built = time.perf_counter()
    gx_was_imported = "great_expectations" in sys.modules
    raw_results = run_suites(
        suites,
        {name: f.data for name, f in frames.items()},
        {
            "ts_min": window_start - cfg.timestamp_slack,
            "ts_max": window_end + cfg.timestamp_slack,
            "window_start": window_start,
            "window_end": window_end,
            "known_event_ids": sorted(KNOWN_EVENT_IDS),
        },
        thresholds,
    )
    validated = time.perf_counter()

    results = [_result(raw, frames[raw.suite.frame], parsed, cfg) for raw in raw_results]
    row_reasons, bad_sessions = _row_decisions(raw_results, frames, parsed)
    quarantine = tuple(_entry(parsed[i], row_reasons[i]) for i in sorted(row_reasons))
    quarantined_rows = set(row_reasons)
    valid = tuple(r for i, r in enumerate(parsed) if i not in quarantined_rows)
    session_keys = frozenset(
        bad_sessions
        | {
            (r.event.sensor, r.event.session)
            for i, r in enumerate(parsed)
            if i in quarantined_rows and r.event
        }
    )
    gate = _gate(results)
    if read == 0 and gate.passed:
        # Nothing failed because nothing was there; a feed that went silent against its baseline,
        # or an expectation that could not run, still fails above.
        gate = _no_data_gate(cfg)
    qcounts = QualityCounts(
        read=read,
        valid=len(valid),
        quarantined_parse=len(parse_entries),
        quarantined_validate=len(quarantine),
    )
    assert qcounts.read == qcounts.valid + qcounts.quarantined  # every record is accounted for
    by_reason: dict[str, int] = defaultdict(int)
    for entry in parse_entries:
        by_reason[f"parse: {reason_category(entry.reason)}"] += 1
    for entry in quarantine:
        by_reason[f"validate: {'+'.join(entry.expectations)}"] += 1
    summary = build_summary(
        window_start=window_start,
        window_end=window_end,
        counts=counts,
        gate_passed=gate.passed,
        gate_outcome=gate.outcome,
        valid_events=len(valid),
        quarantined_validate=len(quarantine),
        sessions_quarantined=len(session_keys & {s.key for s in session_list}),
        quarantine_by_reason=by_reason,
        critical_failures=gate.critical_failures,
        warnings=gate.warnings,
        baseline=_baseline_info(drift_baseline),
    )
    finished = time.perf_counter()
    timings = {
        "frames_s": round(built - started, 4),
        "great_expectations_s": round(validated - built, 4),
        "decisions_s": round(finished - validated, 4),
        "total_s": round(finished - started, 4),
    }
    timings["great_expectations_import_included"] = 0.0 if gx_was_imported else 1.0
    log.info(
        "validated %s..%s: read=%d valid=%d quarantined(parse=%d, validate=%d, given parse=%d) gate=%s in %s",
        window_start.isoformat(),
        window_end.isoformat(),
        qcounts.read,
        qcounts.valid,
        qcounts.quarantined_parse,
        qcounts.quarantined_validate,
        given_parse,
        gate.outcome,
        timings,
    )
    return QualityOutcome(
        window_start=window_start,
        window_end=window_end,
        results=tuple(results),
        quarantine=quarantine,
        parse_quarantine=tuple(parse_entries),
        valid_records=valid,
        quarantined_session_keys=session_keys,
        failed_session_keys=frozenset(bad_sessions),
        gate=gate,
        counts=qcounts,
        summary=summary,
        baseline=drift_baseline,
        notes=tuple(notes),
        timings_s=timings,
    )


def _baseline_info(baseline: Baseline) -> dict[str, Any]:
    """Where the drift baseline came from (part of the stored summary: a function of the source)."""
    return {
        "source_kind": baseline.source_kind,
        "lookback_start": baseline.lookback_start.isoformat() if baseline.lookback_start else None,
        "lookback_end": baseline.lookback_end.isoformat() if baseline.lookback_end else None,
        "hours_with_events": len(baseline.hours),
        "judged": baseline.enough,
    }


def _check_quarantine_frames(suites: Sequence[SuiteSpec]) -> None:
    for suite in suites:
        for spec in suite.expectations:
            if spec.quarantine and suite.frame not in _ROW_FRAMES:
                raise SuiteDefinitionError(
                    f"{suite.key(spec)}: only expectations on {_ROW_FRAMES} frames can quarantine rows"
                )


def _value(frame: fr.Frame, column: str, index: int) -> str:
    columns = column.split(",") if column else []
    values = [frame.data[c].iat[index] for c in columns if c in frame.data.columns]
    return ", ".join(preview(_plain(v), 80) for v in values)


def _plain(value: Any) -> Any:
    """Missing values (``pd.NA``, NaN, NaT) as ``None``; everything else unchanged."""
    if value is None or value is pd.NA or value is pd.NaT:
        return None
    if isinstance(value, float) and math.isnan(value):
        return None
    return value


def _result(
    raw: RawResult, frame: fr.Frame, parsed: Sequence[ReadRecord], cfg: QualityConfig
) -> ExpectationResult:
    spec = raw.spec
    examples: list[dict[str, str]] = []
    for index in raw.unexpected_index[: cfg.example_count]:
        example = {
            "row": preview(frame.data[frame.label_column].iat[index], cfg.example_chars),
            "value": _value(frame, spec.column, index),
        }
        for column in frame.context_columns:
            example[column] = preview(_plain(frame.data[column].iat[index]), cfg.example_chars)
        if spec.example_field and frame.name == fr.EVENTS:
            event = parsed[index].event
            example[spec.example_field] = preview(getattr(event, spec.example_field, None), cfg.example_chars)
        examples.append(example)
    return ExpectationResult(
        suite=raw.suite.name,
        expectation=spec.name,
        column=spec.column,
        type=spec.type,
        kwargs=_jsonable(spec.kwargs),
        severity=spec.severity,
        threshold=raw.threshold,
        quarantines=spec.quarantine,
        reason=spec.reason,
        success=raw.success,
        element_count=raw.element_count,
        unexpected_count=raw.unexpected_count,
        unexpected_percent=raw.unexpected_percent,
        missing_count=raw.missing_count,
        examples=tuple(examples),
        error=raw.error,
    )


def _jsonable(value: Any) -> Any:
    if isinstance(value, dict):
        return {str(k): _jsonable(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_jsonable(v) for v in value]
    if value is None or isinstance(value, (str, int, float, bool)):
        return value
    return str(value)


def _row_decisions(
    raw_results: Sequence[RawResult], frames: Mapping[str, fr.Frame], parsed: Sequence[ReadRecord]
) -> tuple[dict[int, list[tuple[str, str]]], set[tuple[str, str]]]:
    """Reasons per quarantined events-frame row, and the sessions failing a session-level check."""
    row_reasons: dict[int, list[tuple[str, str]]] = defaultdict(list)
    session_reasons: dict[tuple[str, str], list[tuple[str, str]]] = defaultdict(list)
    for raw in raw_results:
        if not raw.spec.quarantine or raw.error is not None:
            continue
        frame = frames[raw.suite.frame]
        key = raw.suite.key(raw.spec)
        for index in raw.unexpected_index:
            text = f"{raw.spec.reason} ({raw.spec.column}={_value(frame, raw.spec.column, index)})"
            if frame.name == fr.EVENTS:
                row_reasons[index].append((key, text))
            else:
                sensor = str(frame.data["sensor"].iat[index])
                session = str(frame.data["session_id"].iat[index])
                label = fr.session_label(sensor, session)
                session_reasons[(sensor, session)].append((key, f"session {preview(label)}: {text}"))
    if session_reasons:
        for index, record in enumerate(parsed):
            event = record.event
            if event is not None and (event.sensor, event.session) in session_reasons:
                row_reasons[index].extend(session_reasons[(event.sensor, event.session)])
    return row_reasons, set(session_reasons)


def _entry(record: ReadRecord, reasons: Sequence[tuple[str, str]]) -> QuarantineEntry:
    keys = tuple(sorted({key for key, _ in reasons}))
    text = "; ".join(dict.fromkeys(reason for _, reason in reasons))
    if len(text) > _MAX_REASON_CHARS:
        text = text[: _MAX_REASON_CHARS - 1] + "…"
    return record.quarantined(text, keys)


def _describe_failure(result: ExpectationResult) -> str:
    if result.error is not None:
        return f"{result.key} could not be evaluated: {result.error}"
    shown = "; ".join(f"{e['row']}: {e['value']}" for e in result.examples[:3])
    return (
        f"{result.key} failed on column '{result.column}': {result.unexpected_count} of "
        f"{result.element_count} rows unexpected ({result.unexpected_percent:.2f}% > threshold "
        f"{result.threshold * 100:.2f}%): {result.reason}" + (f"; examples: {shown}" if shown else "")
    )


def _no_data_gate(cfg: QualityConfig) -> GateDecision:
    """No record in the interval: nothing to judge, which is neither a pass nor a data failure."""
    if cfg.empty_interval == "fail":
        return GateDecision(
            False, "gate failed: no data: the interval holds no records (empty_interval = fail)", no_data=True
        )
    return GateDecision(
        True, "no data: the interval holds no records; no expectation was judged", no_data=True
    )


def _gate(results: Sequence[ExpectationResult]) -> GateDecision:
    failures = [r for r in results if r.critical and not r.success]
    warnings = [r for r in results if not r.critical and (not r.success or r.unexpected_count > 0)]
    tolerated = [r for r in results if r.critical and r.success and r.unexpected_count > 0]
    warning_keys = tuple(r.key for r in warnings)
    if failures:
        listed = [_describe_failure(r) for r in failures[:_MAX_GATE_FAILURES_LISTED]]
        more = len(failures) - len(listed)
        reason = f"gate failed: {len(failures)} critical expectation(s) failed: " + " | ".join(listed)
        if more > 0:
            reason += f" | and {more} more"
        return GateDecision(False, reason, tuple(r.key for r in failures), warning_keys)
    critical_count = sum(1 for r in results if r.critical)
    reason = f"passed: {critical_count} critical expectations within their thresholds"
    if tolerated:
        reason += "; within threshold: " + ", ".join(
            f"{r.key} ({r.unexpected_count} rows)" for r in tolerated
        )
    if warnings:
        reason += "; warnings: " + ", ".join(f"{r.key} ({r.unexpected_count} rows)" for r in warnings)
    return GateDecision(True, reason, (), warning_keys)
