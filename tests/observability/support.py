"""What the deploy/ configuration is checked against: the metric names the project exports."""

from __future__ import annotations

import re
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING, Any

import yaml
from prometheus_client.core import CounterMetricFamily

from coord_core.observability.metric_rows import MetricRows
from coord_core.observability.metrics import project_metrics

if TYPE_CHECKING:
    from fastapi import FastAPI, Request

REPO = Path(__file__).resolve().parents[2]
DEPLOY = REPO / "deploy"
RULES = DEPLOY / "prometheus" / "rules"
METRIC_NAME = re.compile(r"\b((?:coord|airflow)_[a-z0-9_]+)\b")
_HISTOGRAM_SUFFIXES = ("_bucket", "_count", "_sum")


def coord_metric_names() -> set[str]:
    """Every sample name the collector exports (counters with their ``_total``)."""
    names = {"coord_store_up", "coord_metrics_read_seconds"}
    for family in project_metrics(MetricRows()):
        names.add(family.name + "_total" if isinstance(family, CounterMetricFamily) else family.name)
    return names


def airflow_metric_names() -> set[str]:
    """Names the statsd_exporter mapping gives Airflow's metrics (histograms with their series)."""
    mapping = yaml.safe_load((DEPLOY / "statsd" / "airflow-mapping.yml").read_text())
    names = set()
    for entry in mapping["mappings"]:
        if entry.get("action") == "drop":
            continue
        names.add(entry["name"])
        names.update(entry["name"] + suffix for suffix in _HISTOGRAM_SUFFIXES)
    return names


def unknown_metrics(expression: str) -> set[str]:
    """Metric names in a PromQL expression that neither the project nor the mapping exports."""
    known = coord_metric_names() | airflow_metric_names()
    return {name for name in METRIC_NAME.findall(expression) if name not in known}


def metrics_app(dsn: str, token: str | None) -> FastAPI:
    """The metrics app on ``dsn`` admitting the scrape ``token``; anything else is refused (401)
    where Airflow would ask its own authentication (the plugin and FastAPI are imported here only:
    the configuration checks above need neither)."""
    import psycopg
    from coord_airflow.metrics_app import create_app, token_or_airflow
    from fastapi import HTTPException

    @contextmanager
    def connect() -> Iterator[psycopg.Connection[Any]]:
        with psycopg.connect(dsn) as conn:
            yield conn

    async def no_airflow_user(request: Request) -> None:
        raise HTTPException(status_code=401, detail="Not authenticated")

    return create_app(connect, token_or_airflow(lambda: token, fallback=no_airflow_user))
