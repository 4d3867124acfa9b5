"""A Prometheus collector over the results database: stateless, each scrape reads PostgreSQL afresh."""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Iterator
from contextlib import AbstractContextManager
from typing import Any

import psycopg
from prometheus_client import CollectorRegistry, generate_latest
from prometheus_client.core import GaugeMetricFamily, Metric
from prometheus_client.registry import Collector

from coord_core.observability.metric_rows import read_metric_rows
from coord_core.observability.metrics import project_metrics
from coord_core.pipeline.params import PipelineParams

log = logging.getLogger(__name__)

ConnectionFactory = Callable[[], AbstractContextManager[psycopg.Connection[Any]]]
# The DAG's default alert threshold: a campaign at or above it counts as high-confidence.
HIGH_CONFIDENCE = float(PipelineParams.model_fields["alert_confidence"].default)


class CoordMetricsCollector(Collector):
    """Yields the project's metrics; an unreachable database gives ``coord_store_up 0`` and a logged error."""

    def __init__(self, connect: ConnectionFactory, *, high_confidence: float = HIGH_CONFIDENCE) -> None:
        self._connect = connect
        self._high_confidence = high_confidence

    def collect(self) -> Iterator[Metric]:
        began = time.perf_counter()
        up = GaugeMetricFamily("coord_store_up", "1 if the results database answered this scrape")
        try:
            with self._connect() as conn:
                rows = read_metric_rows(conn, high_confidence=self._high_confidence)
        except psycopg.Error as exc:
            log.error("metrics: the results database could not be read: %s", exc)
            up.add_metric([], 0.0)
            yield up
        else:
            up.add_metric([], 1.0)
            yield up
            yield from project_metrics(rows)
        took = GaugeMetricFamily(
            "coord_metrics_read_seconds", "Time this scrape spent reading the results database"
        )
        took.add_metric([], time.perf_counter() - began)
        yield took


def render(collector: Collector) -> bytes:
    """The Prometheus text exposition of one collector alone (no process or platform metrics)."""
    registry = CollectorRegistry(auto_describe=False)
    registry.register(collector)
    return generate_latest(registry)
