"""Time limits on every coord database session, so that no statement or lock wait hangs a task.

Defaults apply only where the session has no limit of its own: one set by the operator through
standard PostgreSQL means (the connection's ``options`` such as ``-c statement_timeout=30min``,
``PGOPTIONS``, or ``ALTER ROLE ... SET``) is kept.
"""

from __future__ import annotations

from typing import Any, Final

import psycopg
from psycopg.pq import TransactionStatus

# The longest single statement of an interval is its COPY into staging, which streams while the
# source is read; ten minutes covers millions of records. A lock wait that long means a stuck peer.
DEFAULT_STATEMENT_TIMEOUT: Final = "10min"
DEFAULT_LOCK_TIMEOUT: Final = "1min"


def apply_session_limits(
    conn: psycopg.Connection[Any],
    *,
    statement_timeout: str = DEFAULT_STATEMENT_TIMEOUT,
    lock_timeout: str = DEFAULT_LOCK_TIMEOUT,
) -> dict[str, str]:
    """Set ``statement_timeout`` and ``lock_timeout`` for the session where unset; return them.

    Call it on a fresh connection: the settings are committed so that a later rollback keeps them.
    """
    if conn.info.transaction_status != TransactionStatus.IDLE:
        raise RuntimeError("session limits must be set on a connection with no transaction open")
    with conn.cursor() as cur:
        for name, default in (("statement_timeout", statement_timeout), ("lock_timeout", lock_timeout)):
            cur.execute("SELECT current_setting(%s)", (name,))
            row = cur.fetchone()
            if row is not None and row[0] == "0":
                cur.execute("SELECT set_config(%s, %s, false)", (name, default))
        cur.execute("SELECT current_setting('statement_timeout'), current_setting('lock_timeout')")
        limits = cur.fetchone()
    if not conn.autocommit:
        conn.commit()
    assert limits is not None
    return {"statement_timeout": str(limits[0]), "lock_timeout": str(limits[1])}


def limited(conn: psycopg.Connection[Any]) -> psycopg.Connection[Any]:
    """A fresh connection with the session limits applied; closed if they cannot be."""
    try:
        apply_session_limits(conn)
    except BaseException:
        conn.close()
        raise
    return conn


def connect(dsn: str, **kwargs: Any) -> psycopg.Connection[Any]:
    """A psycopg connection to a coord database, with the session limits applied."""
    return limited(psycopg.connect(dsn, **kwargs))
