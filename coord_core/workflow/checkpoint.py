"""PostgreSQL checkpoints for the analysis workflow (LangGraph's PostgresSaver).

The saver gets its own connection whose search_path is the ``coord_workflow`` schema (created
by migration 004), so its unqualified tables stay out of ``coord`` and ``public``. Its table
setup runs under an advisory lock: concurrent DAG runs may open the first checkpointer at once.
"""

from __future__ import annotations

from typing import Any

import psycopg
from langgraph.checkpoint.postgres import PostgresSaver

SCHEMA = "coord_workflow"
_SETUP_LOCK_ID = 0x434F4F5257  # "COORW"


def open_checkpointer(conn: psycopg.Connection[Any]) -> PostgresSaver:
    """A ready PostgresSaver on ``conn`` (a connection of its own; it is switched to autocommit)."""
    if not conn.autocommit:
        conn.rollback()
        conn.autocommit = True
    conn.execute(f"CREATE SCHEMA IF NOT EXISTS {SCHEMA}")
    conn.execute(f"SET search_path TO {SCHEMA}")
    saver = PostgresSaver(conn)
    conn.execute("SELECT pg_advisory_lock(%s)", (_SETUP_LOCK_ID,))
    try:
        saver.setup()
    finally:
        conn.execute("SELECT pg_advisory_unlock(%s)", (_SETUP_LOCK_ID,))
    return saver
