"""Validate one data interval: run the suites, quarantine failing rows, decide the gate.

Call :func:`validate_rows` with the interval's event rows and sessions as they stream from staging
(or :func:`validate_interval` with records in memory) and the source profile of the hours before
it (the drift baseline); write ``outcome.quarantine`` (stage
``validate``), ``outcome.dq_rows()``, ``outcome.gate`` and ``outcome.summary`` to the store, mark
``outcome.quarantined_session_keys``, and run analysis only when ``outcome.gate.passed``.
"""

from __future__ import annotations

import itertools
import logging
import math
import sys
import time
from collections import defaultdict
from collections.abc import Callable, Collection, Iterable, Iterator, Mapping, Sequence
from datetime import datetime
from typing import Any, TypeVar

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
from coord_core.quality.history import IntervalTally, build_summary
from coord_core.quality.outcome import (
    ExpectationResult,
    GateDecision,
    QualityCounts,
    QualityOutcome,
)
from coord_core.quality.suites import (
    ExpectationSpec,
    RawResult,
    SuiteDefinitionError,
    SuiteRunner,
    SuiteSpec,
    check_parted_suite,
    combine_parts,
    load_suites,
    resolve_thresholds,
)
from coord_core.store.staged_validation import EventRow, SessionRow

log = logging.getLogger(__name__)

_ROW_FRAMES = (fr.EVENTS, fr.SESSIONS)  # frames whose failing rows can be quarantined
_MAX_REASON_CHARS = 2000
_MAX_GATE_FAILURES_LISTED = 10


# Rows per part of a frame validated in parts (events and sessions from staging): bounds memory
# (a part's records, frame and GX's work on it) whatever the interval's size.
PART_ROWS = 50_000


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
    """Validate ``[window_start, window_end)`` from records in memory (one part per frame).

    ``records`` are the interval's records; a record without an event (it failed to parse)
    becomes a ``parse_quarantine`` entry, as do the ``parse_quarantine`` entries passed in (the
    extract task's, so that counts and the report cover the whole interval). ``baseline`` is
    what the source held in the hours before the interval (``None``: drift checks not judged).
    """
    parsed: list[ReadRecord] = []
    parse_entries = list(parse_quarantine)
    for record in records:
        if record.event is not None:
            parsed.append(record)
        else:
            parse_entries.append(record.quarantined(record.error or "unparseable record"))
    return validate_rows(
        fr.event_rows(parsed),
        sessions,
        window_start,
        window_end,
        baseline=baseline,
        config=config,
        parse_quarantine=parse_entries,
        part_rows=None,
    )


def validate_rows(
    rows: Iterable[EventRow],
    sessions: Iterable[AttackSession | SessionRow],
    window_start: datetime,
    window_end: datetime,
    *,
    baseline: SourceProfile | None = None,
    config: QualityConfig | None = None,
    parse_quarantine: Sequence[QuarantineEntry] = (),
    part_rows: int | None = PART_ROWS,
    raw_text: RawTextReader | None = None,
) -> QualityOutcome:
    """Validate ``[window_start, window_end)`` from its event rows and sessions, streamed: each of the
    two frames is built and validated ``part_rows`` rows at a time (``None``: in one part), so only a
    part is ever held. Sessions come first: a session that fails a session-level check quarantines
    its events. The rows' copy and source counts must cover the whole interval (staging counts them);
    the sessions' key must be unique across parts (staging's primary key). Rows without their raw
    text get it from ``raw_text`` when they are quarantined or shown as an example."""
    cfg = config or QualityConfig()
    if window_start.tzinfo is None or window_end.tzinfo is None:
        raise ValueError("window bounds must carry a timezone")
    if window_end <= window_start:
        raise ValueError("window end must be after its start")
    started = time.perf_counter()
    suites = load_suites(cfg.suite_dir)
    _check_quarantine_frames(suites)
    thresholds = resolve_thresholds(
        suites,
        cfg.thresholds,
        critical_default=cfg.critical_threshold,
        warning_default=cfg.warning_threshold,
    )
    drift_baseline, notes = baseline_of(baseline, cfg.min_baseline_hours)
    gx_was_imported = "great_expectations" in sys.modules
    parameters = {
        "ts_min": window_start - cfg.timestamp_slack,
        "ts_max": window_end + cfg.timestamp_slack,
        "window_start": window_start,
        "window_end": window_end,
        "known_event_ids": sorted(KNOWN_EVENT_IDS),
    }
    runner = SuiteRunner(suites, parameters, thresholds)
    if part_rows is not None:
        for suite in suites:
            if suite.frame in fr.PART_KEYS:
                check_parted_suite(suite, fr.PART_KEYS[suite.frame])
    judged = _Judged(suites, runner, cfg)
    tally = IntervalTally()

    frames_s = 0.0  # building the parts' frames
    session_reasons: dict[tuple[str, str], list[tuple[str, str]]] = defaultdict(list)
    session_keys: set[tuple[str, str]] = set()
    for session_part in _parts(sessions, part_rows):
        for session in session_part:
            tally.add_session(session)
            session_keys.add(session.key)
        built = time.perf_counter()
        frame = fr.sessions_frame(session_part)
        frames_s += time.perf_counter() - built
        for raw in judged.validate(frame, lambda index, field: None):
            for index in _quarantining(raw):
                sensor = str(frame.data["sensor"].iat[index])
                session_id = str(frame.data["session_id"].iat[index])
                label = fr.session_label(sensor, session_id)
                text = f"{raw.spec.reason} ({raw.spec.column}={_value(frame, raw.spec.column, index)})"
                session_reasons[(sensor, session_id)].append(
                    (raw.suite.key(raw.spec), f"session {preview(label)}: {text}")
                )

    quarantine: list[QuarantineEntry] = []
    quarantined_keys: set[tuple[str, str]] = set()
    event_count = 0
    for row_part in _parts(rows, part_rows):
        for row in row_part:
            src_ip = row.checks.src_ip if row.checks is not None else row.parsed_event().src_ip
            tally.add_event(row.eventid, row.sensor, src_ip)
        event_count += len(row_part)
        built = time.perf_counter()
        frame = fr.events_frame(row_part)
        frames_s += time.perf_counter() - built

        def event_field(index: int, field: str, part: list[EventRow] = row_part) -> Any:
            _read_raw_text(part, [index], raw_text)
            return getattr(part[index].parsed_event(), field, None)

        row_reasons: dict[int, list[tuple[str, str]]] = defaultdict(list)
        for raw in judged.validate(frame, event_field):
            for index in _quarantining(raw):
                text = f"{raw.spec.reason} ({raw.spec.column}={_value(frame, raw.spec.column, index)})"
                row_reasons[index].append((raw.suite.key(raw.spec), text))
        if session_reasons:
            for index, row in enumerate(row_part):
                if (row.sensor, row.session) in session_reasons:
                    row_reasons[index].extend(session_reasons[(row.sensor, row.session)])
        _read_raw_text(row_part, row_reasons, raw_text)
        for index in sorted(row_reasons):
            row = row_part[index]
            quarantine.append(_entry(row.record(), row_reasons[index]))
            quarantined_keys.add((row.sensor, row.session))
    parts_done = time.perf_counter()

    read = event_count + len(parse_quarantine)
    counts = tally.counts(read, len(parse_quarantine))
    hours = fr.hours_between(window_start, window_end)
    for frame in (
        fr.volume_frame(volume_row(counts, hours, drift_baseline)),
        fr.sensors_frame(sensor_rows(counts, hours, drift_baseline, cfg.min_baseline_sessions_per_hour)),
    ):
        judged.validate(frame, lambda index, field: None)
    validated = time.perf_counter()

    results = judged.results()
    bad_sessions = frozenset(session_reasons)
    session_keys_quarantined = frozenset(bad_sessions | quarantined_keys)
    gate = _gate(results)
    if read == 0 and gate.passed:
        # Nothing failed because nothing was there; a feed that went silent against its baseline,
        # or an expectation that could not run, still fails above.
        gate = _no_data_gate(cfg)
    qcounts = QualityCounts(
        read=read,
        valid=event_count - len(quarantine),
        quarantined_parse=len(parse_quarantine),
        quarantined_validate=len(quarantine),
    )
    assert qcounts.read == qcounts.valid + qcounts.quarantined  # every record is accounted for
    by_reason: dict[str, int] = defaultdict(int)
    for entry in parse_quarantine:
        by_reason[f"parse: {reason_category(entry.reason)}"] += 1
    for entry in quarantine:
        by_reason[f"validate: {'+'.join(entry.expectations)}"] += 1
    summary = build_summary(
        window_start=window_start,
        window_end=window_end,
        counts=counts,
        gate_passed=gate.passed,
        gate_outcome=gate.outcome,
        valid_events=qcounts.valid,
        quarantined_validate=len(quarantine),
        sessions_quarantined=len(session_keys_quarantined & session_keys),
        quarantine_by_reason=by_reason,
        critical_failures=gate.critical_failures,
        warnings=gate.warnings,
        baseline=_baseline_info(drift_baseline),
    )
    finished = time.perf_counter()
    timings = {
        "frames_s": round(frames_s, 4),
        "great_expectations_s": round(judged.gx_s, 4),
        "parts_s": round(parts_done - started, 4),
        "decisions_s": round(finished - validated, 4),
        "total_s": round(finished - started, 4),
    }
    timings["great_expectations_import_included"] = 0.0 if gx_was_imported else 1.0
    log.info(
        "validated %s..%s: read=%d valid=%d quarantined(parse=%d, validate=%d) gate=%s in %s",
        window_start.isoformat(),
        window_end.isoformat(),
        qcounts.read,
        qcounts.valid,
        qcounts.quarantined_parse,
        qcounts.quarantined_validate,
        gate.outcome,
        timings,
    )
    return QualityOutcome(
        window_start=window_start,
        window_end=window_end,
        results=tuple(results),
        quarantine=tuple(quarantine),
        parse_quarantine=tuple(parse_quarantine),
        quarantined_session_keys=session_keys_quarantined,
        failed_session_keys=bad_sessions,
        gate=gate,
        counts=qcounts,
        summary=summary,
        baseline=drift_baseline,
        notes=tuple(notes),
        timings_s=timings,
    )


T = TypeVar("T")
# Reads the raw text of staged events by ref (``coord_core.store.staged_validation.staged_raw_text``).
RawTextReader = Callable[[Collection[str]], Mapping[str, str]]


def _read_raw_text(part: list[EventRow], indices: Iterable[int], raw_text: RawTextReader | None) -> None:
    """Fill in, in place, the raw text of these rows of a part that came without it (one read)."""
    missing = [i for i in indices if part[i].raw is None]
    if not missing:
        return
    if raw_text is None:
        raise ValueError("event rows without their raw text need a raw_text reader")
    found = raw_text([part[i].ref for i in missing])
    for i in missing:
        part[i] = part[i]._replace(raw=found[part[i].ref])


def _parts(items: Iterable[T], size: int | None) -> Iterator[list[T]]:
    """``items`` in lists of ``size`` (``None``: one list); at least one, empty when there are none,
    so an empty frame is validated as before."""
    iterator = iter(items)
    first = True
    while True:
        part = list(iterator) if size is None else list(itertools.islice(iterator, size))
        if part or first:
            yield part
        if not part or size is None or len(part) < size:
            return
        first = False


def _quarantining(raw: RawResult) -> tuple[int, ...]:
    """The rows of a part that this result quarantines."""
    if not raw.spec.quarantine or raw.error is not None:
        return ()
    return raw.unexpected_index


class _Judged:
    """Every expectation's results over the parts of its frame, and the first examples of its
    unexpected rows (described while their part is at hand)."""

    def __init__(self, suites: Sequence[SuiteSpec], runner: SuiteRunner, cfg: QualityConfig) -> None:
        self.suites = suites
        self.runner = runner
        self.cfg = cfg
        self.parts: dict[str, list[RawResult]] = defaultdict(list)
        self.examples: dict[str, list[dict[str, str]]] = defaultdict(list)
        self.gx_s = 0.0

    def validate(self, frame: fr.Frame, event_field: Callable[[int, str], Any]) -> list[RawResult]:
        """The frame's suites on this part of it; returns its results (row indexes within the part)."""
        started = time.perf_counter()
        raws = [
            raw
            for suite in self.suites
            if suite.frame == frame.name
            for raw in self.runner.validate(suite, frame.data)
        ]
        self.gx_s += time.perf_counter() - started
        for raw in raws:
            key = raw.suite.key(raw.spec)
            self.parts[key].append(raw)
            wanted = self.cfg.example_count - len(self.examples[key])
            for index in raw.unexpected_index[: max(wanted, 0)]:
                self.examples[key].append(_example(raw.spec, frame, index, event_field, self.cfg))
        return raws

    def results(self) -> list[ExpectationResult]:
        """Every expectation's result over its whole frame, in suite order."""
        results = []
        for suite in self.suites:
            for spec in suite.expectations:
                key = suite.key(spec)
                results.append(_result(combine_parts(self.parts[key]), tuple(self.examples[key])))
        return results


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


def _example(
    spec: ExpectationSpec,
    frame: fr.Frame,
    index: int,
    event_field: Callable[[int, str], Any],
    cfg: QualityConfig,
) -> dict[str, str]:
    """One unexpected row as the report shows it: its label, the checked value and its context."""
    example = {
        "row": preview(frame.data[frame.label_column].iat[index], cfg.example_chars),
        "value": _value(frame, spec.column, index),
    }
    for column in frame.context_columns:
        example[column] = preview(_plain(frame.data[column].iat[index]), cfg.example_chars)
    if spec.example_field and frame.name == fr.EVENTS:
        example[spec.example_field] = preview(event_field(index, spec.example_field), cfg.example_chars)
    return example


def _result(raw: RawResult, examples: tuple[dict[str, str], ...]) -> ExpectationResult:
    spec = raw.spec
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
        examples=examples,
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
