"""Airflow notifiers that send the run's signed webhooks through the ``coord_webhook`` connection.

``NewCampaignsWebhook`` (publish_redis's success callback) reports the campaigns that Redis
tracking flagged as new at or above ``alert_confidence``; ``SpikesWebhook`` (the trend task's
success callback) the spikes it alerted for the first time; ``GateFailedWebhook`` (validate's
failure callback) the data-quality gate stopping the run; ``RunFailedWebhook`` (the DAG's failure
callback) a failed run. Without the connection webhooks are off, said once per process. Light to
import (the DAG file instantiates them at parse time): everything else is imported when one fires.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import TYPE_CHECKING, Any, ClassVar, TypeAlias

from airflow.sdk import BaseNotifier

if TYPE_CHECKING:
    from airflow.sdk import Context

    from coord_core.contracts.window import DataWindow
    from coord_core.pipeline.stores import ResultsStore
    from coord_core.pipeline.webhooks import WebhookTarget

    # A payload and its interval, or None when a callback has nothing to report.
    Built: TypeAlias = tuple[dict[str, Any], DataWindow | None] | None

log = logging.getLogger(__name__)

WEBHOOK_CONN_ID = "coord_webhook"  # connections.WEBHOOK_CONN_ID, without importing it at parse time
_reported_off: set[str] = set()


def _target(conn_id: str) -> WebhookTarget | None:
    """The configured receiver, or None (said once per process) when webhooks are off."""
    from coord_airflow import connections

    if not connections.connection_is_defined(conn_id):
        if conn_id not in _reported_off:
            _reported_off.add(conn_id)
            log.info("no %s connection: webhooks are off", conn_id)
        return None
    return connections.webhook_target(conn_id)


@contextmanager
def _audit_store() -> Iterator[ResultsStore | None]:
    """The results store for the audit rows; None (logged) when it cannot be opened, so that a run
    failed by its database still gets its webhook."""
    from coord_airflow import connections
    from coord_core.pipeline.stores import ResultsStore

    try:
        conn = connections.results_db()
    except Exception as exc:
        log.error("results database unavailable (%s): webhook attempts are logged, not audited", exc)
        yield None
        return
    try:
        yield ResultsStore(conn)
    finally:
        conn.close()


class CoordWebhook(BaseNotifier):
    """Shared delivery: resolve the connection, build the payload, deliver and audit each attempt."""

    event: ClassVar[str] = ""

    def __init__(
        self, conn_id: str = WEBHOOK_CONN_ID, *, sleep: Callable[[float], None] | None = None
    ) -> None:
        super().__init__()
        self.conn_id = conn_id
        self.sleep = sleep

    def build(self, context: Context, store: ResultsStore | None, target: WebhookTarget) -> Built:
        """The payload and its interval, or None when this callback has nothing to report."""
        raise NotImplementedError

    def build_all(self, context: Context, store: ResultsStore | None, target: WebhookTarget) -> list[Built]:
        """Every payload this callback sends (one, by default: ``build``'s)."""
        return [self.build(context, store, target)]

    def render_template_fields(self, context: Context, jinja_env: Any = None) -> None:
        """Nothing is templated; skipping the render also spares the DAG callback of `dags test`,
        whose context holds a serialized DAG without a template environment."""

    def notify(self, context: Context) -> None:
        import time

        from coord_core.pipeline.webhooks import deliver

        target = _target(self.conn_id)
        if target is None:
            return
        with _audit_store() as store:
            for built in self.build_all(context, store, target):
                if built is None:
                    continue
                payload, window = built
                delivery = deliver(
                    target, payload, store=store, window=window, sleep=self.sleep or time.sleep
                )
                if not delivery.delivered:
                    log.error(
                        "webhook %s to %s not delivered after %d attempt(s) (last status %s)",
                        self.event,
                        target.location,
                        len(delivery.attempts),
                        delivery.status,
                    )


def _run_ids(context: Context) -> tuple[str, str]:
    dag_run = context.get("dag_run")
    if dag_run is not None:
        return dag_run.dag_id, dag_run.run_id
    return context["dag"].dag_id, str(context.get("run_id"))


class NewCampaignsWebhook(CoordWebhook):
    """Success callback of publish_redis: the campaigns its tracking flagged as new alerts (read
    from the task's XCom, ids only)."""

    event = "new_campaigns"

    def build(self, context: Context, store: ResultsStore | None, target: WebhookTarget) -> Built:
        from coord_airflow import pipeline_tasks
        from coord_core.pipeline.webhooks import new_campaigns_payload

        ti = context["ti"]
        outcome = ti.xcom_pull(task_ids=ti.task_id)
        alerts = list(outcome.get("alerts") or []) if isinstance(outcome, dict) else []
        if not alerts:
            return None
        if store is None:
            raise RuntimeError("the results database is needed to describe the new campaigns")
        window = pipeline_tasks._window(context)
        dag_id, run_id = _run_ids(context)
        payload = new_campaigns_payload(
            store,
            window,
            alerts,
            dag_id=dag_id,
            run_id=run_id,
            alert_confidence=pipeline_tasks._params(context).alert_confidence,
        )
        return (payload, window) if payload is not None else None


class SpikesWebhook(CoordWebhook):
    """Success callback of the trend task: per report day, the spikes it alerted for the first time
    (their alert ids from the task's XCom; the facts from the stored report)."""

    event = "spikes"

    def build_all(self, context: Context, store: ResultsStore | None, target: WebhookTarget) -> list[Built]:
        from datetime import date

        from coord_core.pipeline.webhooks import spikes_payload

        ti = context["ti"]
        outcome = ti.xcom_pull(task_ids=ti.task_id)
        days = (
            [d for d in outcome if isinstance(d, dict) and d.get("spike_alerts")]
            if isinstance(outcome, list)
            else []
        )
        if not days:
            return []
        if store is None:
            raise RuntimeError("the results database is needed to describe the spikes")
        dag_id, run_id = _run_ids(context)
        return [
            spikes_payload(
                store, date.fromisoformat(d["day"]), d["spike_alerts"], dag_id=dag_id, run_id=run_id
            )
            for d in days
        ]


class GateFailedWebhook(CoordWebhook):
    """Failure callback of validate: sends only when the data-quality gate failed (not for any
    other error of the task)."""

    event = "dq_gate_failed"

    def build(self, context: Context, store: ResultsStore | None, target: WebhookTarget) -> Built:
        from coord_airflow import pipeline_tasks
        from coord_core.pipeline.webhooks import gate_failed_payload

        error = context.get("exception")
        if not isinstance(error, pipeline_tasks.DataQualityGateFailed):
            return None
        window = pipeline_tasks._window(context)
        dag_id, run_id = _run_ids(context)
        payload = gate_failed_payload(
            window, error.reason, dag_id=dag_id, run_id=run_id, secrets=[target.secret]
        )
        return payload, window


class RunFailedWebhook(CoordWebhook):
    """The DAG's failure callback: the failing task and the reason the run row recorded."""

    event = "run_failed"

    def build(self, context: Context, store: ResultsStore | None, target: WebhookTarget) -> Built:
        from airflow.sdk.exceptions import AirflowFailException

        from coord_airflow import pipeline_tasks
        from coord_core.pipeline.webhooks import run_failed_payload

        dag_id, run_id = _run_ids(context)
        window = None
        if "params" in context:  # the full context; a minimal one has no interval to name
            try:
                window = pipeline_tasks._window(context)
            except AirflowFailException as exc:  # the conf itself was the failure
                log.info("run %s has no usable window (%s)", run_id, exc)
        reason = store.run_failure_reason(dag_id, window, run_id) if store and window else None
        ti = context.get("ti")
        payload = run_failed_payload(
            window,
            dag_id=dag_id,
            run_id=run_id,
            reason=reason or context.get("reason"),
            failed_task=getattr(ti, "task_id", None),
            secrets=[target.secret],
        )
        return payload, window
