"""The statements that read or rewrite a whole staged interval, named in one place so that their
plans can be checked on a large interval (``tests/store/test_staging_plans.py``: no join that
rescans staging per row, at hundreds of thousands of rows and, by hand, at 10M). Every one takes
the interval as ``%(s)s`` / ``%(e)s``; each is run by the store module named beside it.
"""

from __future__ import annotations

# The staged_events columns of ``staged_validation.EventChecks``, in its order
# (sql/016_staged_event_checks.sql).
CHECK_COLUMNS = (
    "src_ip_text",
    "src_port",
    "dst_port",
    "username_len",
    "password_len",
    "input_len",
    "url_len",
    "user_agent_len",
)

# results.ResultsStore.drop_staged_sessions_starting_outside: a session whose first event lies
# outside the window belongs to another interval.
DROP_SESSIONS_STARTING_OUTSIDE = """
DELETE FROM coord.staged_events e
USING (
    SELECT sensor, session FROM coord.staged_events
    WHERE interval_start = %(s)s AND interval_end = %(e)s
    GROUP BY sensor, session
    HAVING min(ts) < %(s)s OR min(ts) >= %(e)s
) outside
WHERE e.interval_start = %(s)s AND e.interval_end = %(e)s
  AND e.sensor = outside.sensor AND e.session = outside.session
"""

# results.ResultsStore's staged readers: by session (extract builds sessions one at a time) or by
# time.
STAGED_BY_SESSION = """
SELECT ref, raw, ts FROM coord.staged_events
WHERE interval_start = %(s)s AND interval_end = %(e)s ORDER BY sensor, session, ts, ref
"""
STAGED_BY_TIME = """
SELECT ref, raw, ts FROM coord.staged_events
WHERE interval_start = %(s)s AND interval_end = %(e)s ORDER BY ts, ref
"""

# results.ResultsStore.staged_summary: the count and an order-independent fingerprint of everything
# the interval read (staged and parse-quarantined record keys).
STAGED_SUMMARY = """
SELECT (SELECT count(*) FROM coord.staged_events
        WHERE interval_start = %(s)s AND interval_end = %(e)s),
       md5(coalesce((SELECT string_agg(record_key, ',' ORDER BY record_key) FROM (
           SELECT record_key FROM coord.staged_events
           WHERE interval_start = %(s)s AND interval_end = %(e)s
           UNION ALL
           SELECT record_key FROM coord.quarantine
           WHERE interval_start = %(s)s AND interval_end = %(e)s AND stage = 'parse') k), ''))
"""

# staged_validation.iter_event_rows: every event in (ts, ref) order (as STAGED_BY_TIME) with its
# checks, the ordinal of its record key's copy and its session's count of distinct sources: window
# functions over the one scan (no self-join, whose estimate PostgreSQL cannot make), and the raw
# text only where the checks were not staged (rows staged before migration 016), so the sorts carry
# a row's few short columns, not its record. The primary key (interval, ref) makes every staged ref
# unique: ref_copy is 1 for every staged row.
EVENT_ROWS = f"""
SELECT ref, record_key, raw, ts, eventid, sensor, session, {", ".join(CHECK_COLUMNS)},
       record_copy, max(src_ip_rank) OVER (PARTITION BY sensor, session) AS src_ips
FROM (
    SELECT *,
           row_number() OVER (PARTITION BY record_key ORDER BY ts, ref) AS record_copy,
           dense_rank() OVER (PARTITION BY sensor, session ORDER BY src_ip) AS src_ip_rank
    FROM (
        SELECT ref, record_key, CASE WHEN src_ip_text IS NULL THEN raw END AS raw, ts, eventid,
               sensor, session, src_ip, {", ".join(CHECK_COLUMNS)}
        FROM coord.staged_events
        WHERE interval_start = %(s)s AND interval_end = %(e)s
        OFFSET 0  -- keeps the narrow projection below the sorts
    ) narrow
) ranked
ORDER BY ts, ref
"""

# staged_validation.staged_raw_text: the raw text of a few staged events (%(refs)s).
STAGED_RAW_TEXT = """
SELECT ref, raw FROM coord.staged_events
WHERE interval_start = %(s)s AND interval_end = %(e)s AND ref = ANY(%(refs)s)
"""

# staged_validation.staged_records_of_sessions: the events of a few sessions (%(sensors)s,
# %(sessions)s: parallel arrays) less those quarantined in %(stage)s.
SESSIONS_EVENTS = """
SELECT e.ref, e.raw, e.ts
FROM coord.staged_events e
JOIN unnest(%(sensors)s::text[], %(sessions)s::text[]) AS k(sensor, session)
  ON k.sensor = e.sensor AND k.session = e.session
WHERE e.interval_start = %(s)s AND e.interval_end = %(e)s
  AND NOT EXISTS (
      SELECT 1 FROM coord.quarantine q
      WHERE q.interval_start = %(s)s AND q.interval_end = %(e)s
        AND q.stage = %(stage)s AND q.ref = e.ref)
ORDER BY e.sensor, e.session, e.ts, e.ref
"""

# Everything above, by name: what the plan test explains.
STAGING_STATEMENTS = {
    "drop_sessions_starting_outside": DROP_SESSIONS_STARTING_OUTSIDE,
    "staged_by_session": STAGED_BY_SESSION,
    "staged_by_time": STAGED_BY_TIME,
    "staged_summary": STAGED_SUMMARY,
    "event_rows": EVENT_ROWS,
    "staged_raw_text": STAGED_RAW_TEXT,
    "sessions_events": SESSIONS_EVENTS,
}
