"""Repository over the results database: every task reads and writes PostgreSQL through here.

Writes for an interval replace exactly that interval's rows of the table being written, inside
one transaction, so a rerun or backfill leaves the same state and never touches other
intervals. SQL is always parameterised: attacker strings are data.
"""

from __future__ import annotations

import hashlib
import itertools
import logging
import time
from collections.abc import Callable, Iterable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import psycopg
from psycopg import sql
from psycopg.types.json import Json, Jsonb

from coord_core.contracts.campaigns import AnalysisResult
from coord_core.contracts.data_quality import DQExpectationRow, QuarantineEntry
from coord_core.contracts.events import EventRecord
from coord_core.contracts.sessions import AttackSession, SessionLike, session_json
from coord_core.contracts.source_profile import SourceProfile
from coord_core.contracts.window import DataWindow
from coord_core.ingest.records import ReadRecord, bounded_reason
from coord_core.store.pg_text import pg_text, pg_text_opt
from coord_core.store.staged_validation import (
    EventChecks,
    SessionRow,
    session_row,
    staged_event_record,
    staged_record,
)
from coord_core.store.staging_sql import (
    CHECK_COLUMNS,
    DROP_SESSIONS_STARTING_OUTSIDE,
    STAGED_BY_SESSION,
    STAGED_BY_TIME,
    STAGED_SUMMARY,
)

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class RunRecord:
    dag_id: str
    run_id: str
    try_number: int
    source_kind: str
    source_locations: list[str]
    source_query: dict[str, Any] | None
    code_version: str
    parameters: dict[str, Any]


_RESULT_SHA256 = (
    "SELECT result_sha256 FROM coord.analysis_results WHERE interval_start = %s AND interval_end = %s"
)
_SCORED = (
    _RESULT_SHA256,
    "SELECT campaign_id, verdict, confidence FROM coord.campaigns "
    "WHERE interval_start = %s AND interval_end = %s ORDER BY campaign_id",
    "SELECT evidence_id, score FROM coord.evidence "
    "WHERE interval_start = %s AND interval_end = %s ORDER BY evidence_id",
)


def _window_args(window: DataWindow) -> tuple[datetime, datetime]:
    return (window.start, window.end)


def _clear_interval(conn: psycopg.Connection[Any], table: str, window: DataWindow) -> None:
    """Delete the interval's rows of ``coord.<table>``: the first half of every keyed replace."""
    conn.execute(
        sql.SQL("DELETE FROM coord.{} WHERE interval_start = %s AND interval_end = %s").format(
            sql.Identifier(table)
        ),
        _window_args(window),
    )


class ResultsStore:
    """Typed access to the ``coord`` schema for one psycopg connection."""

    def __init__(self, conn: psycopg.Connection[Any]) -> None:
        # Autocommit, with explicit transaction blocks around each atomic write: nothing is left
        # pending in an implicit transaction that a later close() would silently roll back.
        if not conn.autocommit:
            conn.rollback()
            conn.autocommit = True
        self.conn = conn

    # -- runs and audit ---------------------------------------------------------------------

    def start_run(self, window: DataWindow, run: RunRecord) -> None:
        with self.conn.transaction():
            self.conn.execute(
                """
                INSERT INTO coord.runs (dag_id, interval_start, interval_end, run_id, try_number,
                    source_kind, source_locations, source_query, code_version, parameters, status)
                VALUES (%s, %s, %s, %s, %s, %s, %s, %s, %s, %s, 'running')
                ON CONFLICT (dag_id, interval_start, interval_end) DO UPDATE SET
                    run_id = EXCLUDED.run_id, try_number = EXCLUDED.try_number,
                    source_kind = EXCLUDED.source_kind, source_locations = EXCLUDED.source_locations,
                    source_query = EXCLUDED.source_query, code_version = EXCLUDED.code_version,
                    parameters = EXCLUDED.parameters, status = 'running', updated_at = now(),
                    -- what an earlier try found is not this try's: it is written again as this try runs
                    document_count = NULL, input_fingerprint = NULL, event_count = NULL,
                    session_count = NULL, quarantined_count = NULL, campaign_count = NULL,
                    run_type = NULL, triggered_by = NULL, parameters_hash = NULL,
                    analysis_input_fingerprint = NULL, result_sha256 = NULL, dq_gate_passed = NULL,
                    analysis_cache_hit = NULL, models = '[]', failure_reason = NULL,
                    cache_rejected_count = NULL,
                    -- a retry of the same run keeps the record of its failed tries
                    failed_tries = CASE WHEN coord.runs.run_id = EXCLUDED.run_id
                                        THEN coord.runs.failed_tries ELSE '[]' END
                """,
                (
                    run.dag_id,
                    *_window_args(window),
                    run.run_id,
                    run.try_number,
                    run.source_kind,
                    Jsonb(run.source_locations),
                    Jsonb(run.source_query) if run.source_query is not None else None,
                    run.code_version,
                    Jsonb(run.parameters),
                ),
            )

    def update_run(self, dag_id: str, window: DataWindow, **fields: Any) -> None:
        allowed = {
            "status",
            "event_count",
            "session_count",
            "quarantined_count",
            "campaign_count",
            "document_count",
            "input_fingerprint",
            "analysis_input_fingerprint",
            "parameters_hash",
            "result_sha256",
            "analysis_cache_hit",
            "cache_rejected_count",
            "dq_gate_passed",
            "run_type",
            "triggered_by",
            "models",
            "source_query",
            "source_locations",
        }
        unknown = set(fields) - allowed
        if unknown:
            raise ValueError(f"unknown run fields: {sorted(unknown)}")
        if not fields:
            return
        assignments = ", ".join(f"{name} = %s" for name in sorted(fields))
        json_columns = {"source_query", "source_locations", "models"}
        values = [
            Jsonb(fields[name])
            if name in json_columns and isinstance(fields[name], (dict, list))
            else fields[name]
            for name in sorted(fields)
        ]
        with self.conn.transaction():
            self.conn.execute(
                f"UPDATE coord.runs SET {assignments}, updated_at = now() "
                "WHERE dag_id = %s AND interval_start = %s AND interval_end = %s",
                (*values, dag_id, *_window_args(window)),
            )

    def mark_run_failed(self, dag_id: str, window: DataWindow, run_id: str, reason: str) -> bool:
        """Record that run ``run_id`` of the interval failed and why; ``False`` when the interval's
        row belongs to another run (a later one took the interval over) or none was written."""
        with self.conn.transaction():
            cur = self.conn.execute(
                "UPDATE coord.runs SET status = 'failed', failure_reason = %s, updated_at = now() "
                "WHERE dag_id = %s AND interval_start = %s AND interval_end = %s AND run_id = %s",
                (pg_text(bounded_reason(reason)), dag_id, *_window_args(window), run_id),
            )
            return cur.rowcount == 1

    def record_failed_try(
        self, dag_id: str, window: DataWindow, run_id: str, *, task: str, try_number: int, reason: str
    ) -> bool:
        """Append one failed try of run ``run_id`` to the interval's ``failed_tries``; ``False`` when
        the interval's row belongs to another run or none was written. Recording the same try twice
        (a retry callback, then the failure callback) keeps one entry."""
        entry = {"task": task, "try_number": try_number, "reason": pg_text(bounded_reason(reason))}
        with self.conn.transaction():
            cur = self.conn.execute(
                """
                UPDATE coord.runs SET updated_at = now(), failed_tries = failed_tries
                    || jsonb_build_array(%s::jsonb || jsonb_build_object('at', now()))
                WHERE dag_id = %s AND interval_start = %s AND interval_end = %s AND run_id = %s
                  AND NOT failed_tries @> jsonb_build_array(
                        jsonb_build_object('task', %s::text, 'try_number', %s::int))
                """,
                (Jsonb(entry), dag_id, *_window_args(window), run_id, task, try_number),
            )
            if cur.rowcount == 1:
                return True
            row = self.conn.execute(
                "SELECT 1 FROM coord.runs "
                "WHERE dag_id = %s AND interval_start = %s AND interval_end = %s AND run_id = %s",
                (dag_id, *_window_args(window), run_id),
            ).fetchone()
            return row is not None

    def run_failure_reason(self, dag_id: str, window: DataWindow, run_id: str) -> str | None:
        """Why run ``run_id`` of the interval failed, as the failure callback recorded it (else None)."""
        row = self.conn.execute(
            "SELECT failure_reason FROM coord.runs "
            "WHERE dag_id = %s AND interval_start = %s AND interval_end = %s AND run_id = %s",
            (dag_id, *_window_args(window), run_id),
        ).fetchone()
        return str(row[0]) if row and row[0] is not None else None

    @contextmanager
    def interval_lock(self, dag_id: str, window: DataWindow, *, poll_seconds: float = 1.0) -> Iterator[None]:
        """Hold the interval for this session: a concurrent run of the same interval waits (polling,
        so the wait is bounded by the task's time limit, not by ``lock_timeout``) instead of colliding."""
        key = f"coord-interval|{dag_id}|{window.start.isoformat()}|{window.end.isoformat()}"
        waited = False
        while True:
            row = self.conn.execute("SELECT pg_try_advisory_lock(hashtextextended(%s, 0))", (key,)).fetchone()
            if row is not None and row[0]:
                break
            if not waited:
                log.info("interval %s is held by another run of %s: waiting for it", window.label, dag_id)
                waited = True
            time.sleep(poll_seconds)
        try:
            yield
        finally:
            self._unlock(key)

    def _unlock(self, key: str) -> None:
        if self.conn.closed:
            return  # the session ended: PostgreSQL released its locks with it
        try:
            self.conn.execute("SELECT pg_advisory_unlock(hashtextextended(%s, 0))", (key,))
        except psycopg.Error as exc:  # never mask the error that ended the work; the session end releases it
            log.warning("could not release the interval lock %s now (%s); it ends with the session", key, exc)

    def audit(
        self,
        actor: str,
        action: str,
        *,
        dag_id: str | None = None,
        run_id: str | None = None,
        window: DataWindow | None = None,
        details: dict[str, Any] | None = None,
    ) -> None:
        with self.conn.transaction():
            self.conn.execute(
                """INSERT INTO coord.audit_log
                   (actor, action, dag_id, run_id, interval_start, interval_end, details)
                   VALUES (%s, %s, %s, %s, %s, %s, %s)""",
                (
                    actor,
                    action,
                    dag_id,
                    run_id,
                    window.start if window else None,
                    window.end if window else None,
                    Jsonb(details or {}),
                ),
            )

    # -- staging ----------------------------------------------------------------------------

    def replace_staged_events(
        self,
        window: DataWindow,
        records: Iterable[ReadRecord[Any]],
        checks: Callable[[Any], EventChecks] | None = None,
    ) -> int:
        """Stage the parsed events of the interval (COPY: their events as models or plain records),
        with what ``checks`` computes of each event for validation (without it those columns stay
        NULL and validation parses the rows); returns how many were staged."""
        count = 0
        unchecked = (None,) * len(CHECK_COLUMNS)
        with self.conn.transaction():
            _clear_interval(self.conn, "staged_events", window)
            with self.conn.cursor().copy(
                "COPY coord.staged_events (interval_start, interval_end, ref, record_key, ts, eventid, "
                f"sensor, session, src_ip, raw, {', '.join(CHECK_COLUMNS)}) FROM STDIN"
            ) as copy:
                for record in records:
                    event = record.event
                    if event is None:
                        raise ValueError(f"{record.ref}: only parsed records can be staged")
                    copy.write_row(
                        (
                            window.start,
                            window.end,
                            record.ref,
                            record.record_key,
                            event.timestamp,
                            event.eventid,
                            event.sensor,
                            event.session,
                            event.src_ip,
                            pg_text(record.raw),
                            *(checks(event) if checks is not None else unchecked),
                        )
                    )
                    count += 1
        self.refresh_staging_statistics()
        return count

    def refresh_staging_statistics(self) -> None:
        """``ANALYZE`` staging after a bulk load: the interval's follow-up queries (the removal of
        sessions owned by other intervals, the read back by session) must not be planned on
        statistics that predate it, which turns their joins quadratic."""
        self.conn.execute("ANALYZE coord.staged_events")

    def _staged_rows(self, sql: str, window: DataWindow, batch_size: int) -> Iterator[tuple[Any, ...]]:
        """The interval's staged (ref, raw, ts) rows through a server-side cursor, in ``sql``'s order."""
        with self.conn.transaction(), self.conn.cursor(name="staged_events_reader") as cur:
            cur.itersize = batch_size
            cur.execute(sql, {"s": window.start, "e": window.end})
            yield from cur

    def iter_staged_records(self, window: DataWindow, *, batch_size: int = 5000) -> Iterator[ReadRecord]:
        """The interval's staged events by time, re-parsed from their original text as records."""
        for ref, raw, ts in self._staged_rows(STAGED_BY_TIME, window, batch_size):
            yield staged_record(ref, raw, ts)

    def iter_staged_events_by_session(
        self, window: DataWindow, *, batch_size: int = 5000
    ) -> Iterator[EventRecord]:
        """The interval's staged events as plain records (``staged_event_record``), ordered by
        (sensor, session, ts): what extract builds sessions from, one at a time."""
        for ref, raw, _ts in self._staged_rows(STAGED_BY_SESSION, window, batch_size):
            yield staged_event_record(ref, raw)

    def drop_staged_sessions_starting_outside(self, window: DataWindow) -> None:
        """Keep only the staged events of sessions whose first event lies inside the window."""
        with self.conn.transaction():
            self.conn.execute(DROP_SESSIONS_STARTING_OUTSIDE, {"s": window.start, "e": window.end})

    def staged_summary(self, window: DataWindow) -> tuple[int, str]:
        """Count of staged events and an order-independent fingerprint of everything the interval read
        (staged and parse-quarantined record keys)."""
        row = self.conn.execute(STAGED_SUMMARY, {"s": window.start, "e": window.end}).fetchone()
        assert row is not None
        return int(row[0]), str(row[1])

    def replace_quarantine(self, window: DataWindow, stage: str, entries: Iterable[QuarantineEntry]) -> int:
        count = 0
        with self.conn.transaction():
            self.conn.execute(
                "DELETE FROM coord.quarantine WHERE interval_start = %s AND interval_end = %s AND stage = %s",
                (*_window_args(window), stage),
            )
            with self.conn.cursor().copy(
                "COPY coord.quarantine (interval_start, interval_end, stage, ref, record_key, reason, "
                "expectations, preview, raw_sha256, raw_length) FROM STDIN"
            ) as copy:
                for entry in entries:
                    copy.write_row(
                        (
                            window.start,
                            window.end,
                            stage,
                            entry.ref,
                            entry.record_key,
                            pg_text(entry.reason),
                            list(entry.expectations),
                            pg_text(entry.preview),
                            entry.raw_sha256,
                            entry.raw_length,
                        )
                    )
                    count += 1
        return count

    def load_quarantine(self, window: DataWindow, stage: str) -> list[QuarantineEntry]:
        """The interval's quarantine entries of one stage, by ref."""
        rows = self.conn.execute(
            "SELECT ref, record_key, reason, preview, raw_sha256, raw_length, expectations "
            "FROM coord.quarantine WHERE interval_start = %s AND interval_end = %s AND stage = %s "
            "ORDER BY ref",
            (*_window_args(window), stage),
        ).fetchall()
        return [
            QuarantineEntry(
                ref=r[0],
                record_key=r[1],
                reason=r[2],
                preview=r[3],
                raw_sha256=r[4],
                raw_length=int(r[5]),
                expectations=tuple(r[6] or ()),
            )
            for r in rows
        ]

    def quarantine_counts(self, window: DataWindow) -> dict[str, int]:
        rows = self.conn.execute(
            "SELECT stage, count(*) FROM coord.quarantine "
            "WHERE interval_start = %s AND interval_end = %s GROUP BY stage",
            _window_args(window),
        ).fetchall()
        return {stage: int(n) for stage, n in rows}

    # -- sessions ---------------------------------------------------------------------------

    def replace_sessions(self, window: DataWindow, sessions: Iterable[SessionLike]) -> int:
        """Stage the interval's sessions (none quarantined yet: validation marks them later)."""
        count = 0
        with self.conn.transaction():
            _clear_interval(self.conn, "sessions", window)
            # Batches: ``sessions`` may stream from a cursor on this same connection, which must
            # not be read while a COPY holds it.
            for batch in _batches(sessions, 2000):
                self._copy_sessions(window, batch)
                count += len(batch)
        return count

    def _copy_sessions(self, window: DataWindow, sessions: Sequence[SessionLike]) -> None:
        """COPY the sessions' rows; ``doc`` is the model's JSON (``session_json``: byte for byte, also
        for a plain record)."""
        with self.conn.cursor().copy(
            "COPY coord.sessions (interval_start, interval_end, sensor, session_id, src_ip, start_ts, "
            "end_ts, duration, protocol, dst_port, client_version, hassh, login_count, command_count, "
            "download_count, event_count, has_connect, has_close, quarantined, doc) FROM STDIN"
        ) as copy:
            for s in sessions:
                copy.write_row(
                    (
                        window.start,
                        window.end,
                        s.sensor,
                        s.session_id,
                        s.src_ip,
                        s.start,
                        s.end,
                        s.duration,
                        s.protocol,
                        s.dst_port,
                        pg_text_opt(s.client_version),
                        s.hassh,
                        len(s.logins),
                        len(s.commands),
                        len(s.downloads),
                        s.event_count,
                        s.has_connect,
                        s.has_close,
                        False,
                        pg_text(session_json(s).decode()),
                    )
                )

    def replace_session_rows(self, window: DataWindow, sessions: Sequence[AttackSession]) -> None:
        """Replace the given sessions' rows of the interval (validation rebuilt them)."""
        if not sessions:
            return
        with self.conn.transaction():
            with self.conn.cursor() as cur:
                cur.executemany(
                    "DELETE FROM coord.sessions WHERE interval_start = %s AND interval_end = %s "
                    "AND sensor = %s AND session_id = %s",
                    [(window.start, window.end, s.sensor, s.session_id) for s in sessions],
                )
            self._copy_sessions(window, sessions)

    def mark_sessions_quarantined(self, window: DataWindow, keys: Iterable[tuple[str, str]]) -> None:
        rows = [(window.start, window.end, sensor, session) for sensor, session in keys]
        with self.conn.transaction():
            self.conn.execute(
                "UPDATE coord.sessions SET quarantined = false "
                "WHERE interval_start = %s AND interval_end = %s",
                _window_args(window),
            )
            if rows:
                with self.conn.cursor() as cur:
                    cur.executemany(
                        "UPDATE coord.sessions SET quarantined = true WHERE interval_start = %s "
                        "AND interval_end = %s AND sensor = %s AND session_id = %s",
                        rows,
                    )

    def load_sessions(self, window: DataWindow, *, include_quarantined: bool = False) -> list[AttackSession]:
        return list(self.iter_sessions(window, include_quarantined=include_quarantined))

    def _session_docs(self, window: DataWindow, *, include_quarantined: bool, batch: int) -> Iterator[str]:
        """The interval's session documents in canonical order through a server-side cursor."""
        sql = (
            "SELECT doc::text FROM coord.sessions WHERE interval_start = %s AND interval_end = %s"
            + ("" if include_quarantined else " AND NOT quarantined")
            + " ORDER BY start_ts, sensor, session_id"
        )
        with self.conn.transaction(), self.conn.cursor(name="coord_iter_sessions") as cur:
            cur.itersize = batch
            cur.execute(sql, _window_args(window))
            for (doc,) in cur:
                yield doc

    def iter_sessions(
        self, window: DataWindow, *, include_quarantined: bool = False, batch: int = 2000
    ) -> Iterator[AttackSession]:
        """The interval's sessions in canonical order (flat memory)."""
        for doc in self._session_docs(window, include_quarantined=include_quarantined, batch=batch):
            yield AttackSession.model_validate_json(doc)

    def iter_session_rows(self, window: DataWindow, *, batch: int = 2000) -> Iterator[SessionRow]:
        """Every session of the interval (quarantined too) as the session checks read it
        (``staged_validation.SessionRow``), in canonical order: no model per session."""
        for doc in self._session_docs(window, include_quarantined=True, batch=batch):
            yield session_row(doc)

    def sessions_with_ids(self, window: DataWindow, session_ids: Sequence[str]) -> list[AttackSession]:
        """The interval's (not quarantined) sessions with these Cowrie session ids, in canonical
        order: one set-based read for a batch of campaign members."""
        rows = self.conn.execute(
            "SELECT doc::text FROM coord.sessions WHERE interval_start = %s AND interval_end = %s "
            "AND session_id = ANY(%s) AND NOT quarantined ORDER BY start_ts, sensor, session_id",
            (*_window_args(window), list(session_ids)),
        ).fetchall()
        return [AttackSession.model_validate_json(doc) for (doc,) in rows]

    # -- data quality -----------------------------------------------------------------------

    def save_data_quality(
        self,
        window: DataWindow,
        rows: Sequence[DQExpectationRow],
        *,
        gate_passed: bool,
        gate_reason: str,
        summary: dict[str, Any],
        html: str,
    ) -> None:
        with self.conn.transaction():
            args = _window_args(window)
            _clear_interval(self.conn, "dq_results", window)
            with self.conn.cursor() as cur:
                cur.executemany(
                    """INSERT INTO coord.dq_results (interval_start, interval_end, suite, expectation,
                       column_name, success, critical, element_count, unexpected_count,
                       unexpected_percent, details) VALUES (%s,%s,%s,%s,%s,%s,%s,%s,%s,%s,%s)""",
                    [
                        (
                            *args,
                            r.suite,
                            r.expectation,
                            r.column,
                            r.success,
                            r.critical,
                            r.element_count,
                            r.unexpected_count,
                            r.unexpected_percent,
                            Json(r.details),
                        )
                        for r in rows
                    ],
                )
            self.conn.execute(
                """INSERT INTO coord.dq_reports (interval_start, interval_end, gate_passed, gate_reason,
                       summary, html) VALUES (%s, %s, %s, %s, %s, %s)
                   ON CONFLICT (interval_start, interval_end) DO UPDATE SET
                       gate_passed = EXCLUDED.gate_passed, gate_reason = EXCLUDED.gate_reason,
                       summary = EXCLUDED.summary, html = EXCLUDED.html""",
                (*args, gate_passed, gate_reason, Jsonb(summary), pg_text(html)),
            )

    def save_source_profile(self, window: DataWindow, profile: SourceProfile) -> None:
        """Stage the interval's drift baseline (replaces the interval's earlier one)."""
        with self.conn.transaction():
            self.conn.execute(
                """INSERT INTO coord.dq_baselines (interval_start, interval_end, source_kind,
                       lookback_start, lookback_end, query, profile) VALUES (%s, %s, %s, %s, %s, %s, %s)
                   ON CONFLICT (interval_start, interval_end) DO UPDATE SET
                       source_kind = EXCLUDED.source_kind, lookback_start = EXCLUDED.lookback_start,
                       lookback_end = EXCLUDED.lookback_end, query = EXCLUDED.query,
                       profile = EXCLUDED.profile""",
                (
                    *_window_args(window),
                    profile.source_kind,
                    profile.lookback_start,
                    profile.lookback_end,
                    Jsonb(profile.query) if profile.query is not None else None,
                    Jsonb(profile.to_json()),
                ),
            )

    def clear_source_profile(self, window: DataWindow) -> None:
        """No baseline for the interval (lookback switched off): drift checks are not judged."""
        with self.conn.transaction():
            _clear_interval(self.conn, "dq_baselines", window)

    def load_source_profile(self, window: DataWindow) -> SourceProfile | None:
        row = self.conn.execute(
            "SELECT profile, query FROM coord.dq_baselines WHERE interval_start = %s AND interval_end = %s",
            _window_args(window),
        ).fetchone()
        return SourceProfile.from_json(row[0], row[1]) if row else None

    # -- analysis results -------------------------------------------------------------------

    def save_analysis_result(
        self, window: DataWindow, result: AnalysisResult, *, parameters_hash: str
    ) -> str:
        canonical = result.to_canonical_json()
        digest = hashlib.sha256(canonical.encode()).hexdigest()
        with self.conn.transaction():
            self.conn.execute(
                """INSERT INTO coord.analysis_results (interval_start, interval_end, input_fingerprint,
                       parameters_hash, code_version, result_sha256, result)
                   VALUES (%s, %s, %s, %s, %s, %s, %s::json)
                   ON CONFLICT (interval_start, interval_end) DO UPDATE SET
                       input_fingerprint = EXCLUDED.input_fingerprint,
                       parameters_hash = EXCLUDED.parameters_hash,
                       code_version = EXCLUDED.code_version,
                       result_sha256 = EXCLUDED.result_sha256, result = EXCLUDED.result""",
                (
                    *_window_args(window),
                    result.run.input_fingerprint,
                    parameters_hash,
                    result.run.code_version,
                    digest,
                    canonical,
                ),
            )
        return digest

    def load_analysis_result(self, window: DataWindow) -> AnalysisResult | None:
        row = self.conn.execute(
            "SELECT result::text FROM coord.analysis_results WHERE interval_start = %s AND interval_end = %s",
            _window_args(window),
        ).fetchone()
        return AnalysisResult.model_validate_json(row[0]) if row else None

    def analysis_result_sha256(self, window: DataWindow) -> str | None:
        row = self.conn.execute(_RESULT_SHA256, _window_args(window)).fetchone()
        return row[0] if row else None

    def scored_rows(self, window: DataWindow) -> list[list[tuple[Any, ...]]]:
        """What the analysis scored for the interval: the stored result's digest, every campaign's
        verdict and confidence, every evidence score (in a stable order)."""
        return [self.conn.execute(sql, _window_args(window)).fetchall() for sql in _SCORED]

    def campaign_tracks_of(self, window: DataWindow) -> list[dict[str, Any]]:
        """The cross-interval campaigns that have an occurrence in this interval."""
        rows = self.conn.execute(
            """SELECT t.campaign_id, c.verdict, c.confidence, t.first_seen, t.last_seen, t.intervals,
                      t.sessions
               FROM coord.campaign_identity i
               JOIN coord.campaigns c ON c.interval_start = i.interval_start
                    AND c.interval_end = i.interval_end AND c.campaign_id = i.occurrence_id
               JOIN coord.campaign_tracks t ON t.campaign_id = i.campaign_id
               WHERE i.interval_start = %s AND i.interval_end = %s
               ORDER BY t.campaign_id""",
            _window_args(window),
        ).fetchall()
        return [
            {
                "campaign_id": cid,
                "verdict": verdict,
                "confidence": float(confidence),
                "first_seen": first,
                "last_seen": last,
                "intervals": int(intervals),
                "sessions": int(sessions),
            }
            for cid, verdict, confidence, first, last, intervals, sessions in rows
        ]

    def replace_campaigns(self, window: DataWindow, result: AnalysisResult) -> int:
        """Load the result's campaigns, members, evidence and links for the interval."""
        args = _window_args(window)
        ip_rows = self.conn.execute(
            "SELECT session_id, host(src_ip) FROM coord.sessions "
            "WHERE interval_start = %s AND interval_end = %s",
            args,
        ).fetchall()
        ip_of_session: dict[str, str] = dict(ip_rows)
        with self.conn.transaction():
            for table in ("campaign_features", "evidence_links", "evidence", "campaign_members", "campaigns"):
                self.conn.execute(
                    f"DELETE FROM coord.{table} WHERE interval_start = %s AND interval_end = %s", args
                )
            with self.conn.cursor() as cur:
                cur.executemany(
                    """INSERT INTO coord.campaigns (interval_start, interval_end, campaign_id, verdict,
                       confidence, first_seen, last_seen, session_count, source_ip_count, labels)
                       VALUES (%s,%s,%s,%s,%s,%s,%s,%s,%s,%s)""",
                    [
                        (
                            *args,
                            c.campaign_id,
                            c.verdict.value,
                            c.confidence,
                            c.first_seen,
                            c.last_seen,
                            len(c.session_ids),
                            len(c.source_ips),
                            list(c.labels),
                        )
                        for c in result.campaigns
                    ],
                )
                cur.executemany(
                    """INSERT INTO coord.campaign_members (interval_start, interval_end, campaign_id,
                       session_id, src_ip) VALUES (%s,%s,%s,%s,%s)""",
                    [
                        (*args, c.campaign_id, sid, _member_ip(sid, ip_of_session, c.source_ips))
                        for c in result.campaigns
                        for sid in c.session_ids
                    ],
                )
                cur.executemany(
                    """INSERT INTO coord.evidence (interval_start, interval_end, campaign_id, evidence_id,
                       factor, score, statistic, summary) VALUES (%s,%s,%s,%s,%s,%s,%s,%s)""",
                    [
                        (
                            *args,
                            c.campaign_id,
                            e.evidence_id,
                            e.factor,
                            e.score,
                            Json(e.statistic),
                            pg_text(e.summary),
                        )
                        for c in result.campaigns
                        for e in c.evidence
                    ],
                )
                cur.executemany(
                    """INSERT INTO coord.campaign_features (interval_start, interval_end,
                       campaign_id, feature) VALUES (%s,%s,%s,%s)""",
                    [(*args, c.campaign_id, f) for c in result.campaigns for f in sorted(set(c.signature))],
                )
                cur.executemany(
                    """INSERT INTO coord.evidence_links (interval_start, interval_end, campaign_id,
                       session_a, session_b, features, weight, evidence_ids)
                       VALUES (%s,%s,%s,%s,%s,%s,%s,%s)""",
                    [
                        (
                            *args,
                            c.campaign_id,
                            link.session_a,
                            link.session_b,
                            list(link.features),
                            link.weight,
                            list(link.evidence_ids),
                        )
                        for c in result.campaigns
                        for link in c.links
                    ],
                )
        return len(result.campaigns)


def _batches(items: Iterable[SessionLike], size: int) -> Iterator[list[SessionLike]]:
    iterator = iter(items)
    while batch := list(itertools.islice(iterator, size)):
        yield batch


def _member_ip(session_id: str, ip_of_session: dict[str, str], campaign_ips: Sequence[str]) -> str:
    ip = ip_of_session.get(session_id)
    if ip is not None:
        return ip
    if len(campaign_ips) == 1:
        return campaign_ips[0]
    raise LookupError(f"session {session_id} of a campaign is not among the interval's sessions")
