"""The feature-prevalence history in PostgreSQL (``coord.feature_prevalence``).

Each interval's analysis replaces its own rows (what it observed, per UTC day); an analysis reads
the rows of intervals that ended before it began, up to ``HISTORY_DAYS`` back.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import UTC, date, datetime, timedelta
from typing import Any

import psycopg

from coord_core.analysis.prevalence import DAY_SECONDS, Prevalence
from coord_core.contracts.window import DataWindow

HISTORY_DAYS = 14
MAX_VALUES_PER_DAY = 20_000  # the most widely held values of a day are kept; the rest says little


def replace_observations(
    conn: psycopg.Connection[Any],
    window: DataWindow,
    observations: Mapping[int, Mapping[str, tuple[int, int]]],
) -> int:
    """Store the interval's daily observations (replacing its earlier ones); returns rows written."""
    rows: list[tuple[datetime, datetime, date, str, int, int]] = []
    for day, seen in sorted(observations.items()):
        when = datetime.fromtimestamp(day * DAY_SECONDS, tz=UTC).date()
        kept = sorted(seen.items(), key=lambda kv: (-kv[1][0], kv[0]))[:MAX_VALUES_PER_DAY]
        rows.extend(
            (window.start, window.end, when, key, sources, networks) for key, (sources, networks) in kept
        )
    with conn.transaction():
        conn.execute(
            "DELETE FROM coord.feature_prevalence WHERE interval_start = %s AND interval_end = %s",
            (window.start, window.end),
        )
        with conn.cursor().copy(
            "COPY coord.feature_prevalence"
            " (interval_start, interval_end, day, feature_key, sources, networks) FROM STDIN"
        ) as copy:
            for row in rows:
                copy.write_row(row)
    return len(rows)


def history_before(conn: psycopg.Connection[Any], window: DataWindow, days: int = HISTORY_DAYS) -> Prevalence:
    """What the stored history says before the window: days observed and, per value, the days on
    which two or more networks shared it."""
    since = window.start - timedelta(days=days)
    bounds = (window.start, since)
    observed = conn.execute(
        """SELECT count(DISTINCT day) FROM coord.feature_prevalence
           WHERE interval_end <= %s AND interval_start >= %s""",
        bounds,
    ).fetchone()
    rows = conn.execute(
        """SELECT feature_key, count(DISTINCT day) FROM coord.feature_prevalence
           WHERE interval_end <= %s AND interval_start >= %s AND networks >= 2
           GROUP BY feature_key ORDER BY feature_key""",
        bounds,
    ).fetchall()
    return Prevalence(
        days_observed=int(observed[0]) if observed else 0,
        days_seen={str(key): int(n) for key, n in rows},
        source="postgres",
    )
