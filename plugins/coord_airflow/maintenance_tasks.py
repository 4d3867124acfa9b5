"""Glue for the maintenance DAG: connections to clients, then the store's retention policy."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import TYPE_CHECKING

from coord_airflow import connections

if TYPE_CHECKING:
    from airflow.sdk import Context


def apply_retention(context: Context) -> dict[str, int]:
    from coord_core.pipeline.stores import ResultsStore, migrate, retention

    conn = connections.results_db()
    try:
        migrate(conn)
        store = ResultsStore(conn)
        for table, days in dict(context["params"].get("keep_days") or {}).items():
            retention.set_retention(conn, table, int(days))
        deleted = retention.apply_retention(conn, datetime.now(UTC))
        dag_run = context["dag_run"]
        store.audit(
            actor=f"airflow:{getattr(dag_run.run_type, 'value', dag_run.run_type)}",
            action="retention_applied",
            dag_id=dag_run.dag_id,
            run_id=dag_run.run_id,
            details={"deleted": deleted, "policy": retention.retention_policy(conn)},
        )
        return deleted
    finally:
        conn.close()
