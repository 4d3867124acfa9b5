"""The Grafana dashboard: valid JSON Grafana provisions, every query on metrics that are exported."""

from __future__ import annotations

import json
from typing import Any

import yaml

from tests.observability.support import DEPLOY, METRIC_NAME, unknown_metrics

GRAFANA = DEPLOY / "grafana"


def _dashboard() -> dict[str, Any]:
    data: dict[str, Any] = json.loads((GRAFANA / "dashboards" / "coord.json").read_text())
    return data


def test_every_panel_queries_exported_metrics_through_the_provisioned_datasource() -> None:
    dashboard = _dashboard()
    datasources = yaml.safe_load((GRAFANA / "provisioning" / "datasources" / "prometheus.yml").read_text())
    uid = datasources["datasources"][0]["uid"]
    panels = dashboard["panels"]
    assert len({p["id"] for p in panels}) == len(panels)
    for panel in panels:
        assert panel["datasource"]["uid"] == uid, panel["title"]
        assert {"x", "y", "w", "h"} <= set(panel["gridPos"]), panel["title"]
        assert panel["targets"], panel["title"]
        for target in panel["targets"]:
            assert METRIC_NAME.search(target["expr"]), (panel["title"], target["expr"])
            assert not unknown_metrics(target["expr"]), (panel["title"], unknown_metrics(target["expr"]))
    variable = dashboard["templating"]["list"][0]
    assert not unknown_metrics(variable["query"]["query"])


def test_the_dashboard_shows_what_operators_asked_for() -> None:
    queries = " ".join(t["expr"] for p in _dashboard()["panels"] for t in p["targets"])
    for metric in (
        "coord_run_last_duration_seconds",  # runs and their duration
        "coord_interval_dq_gate_passed",  # DQ outcomes over time
        "coord_interval_campaigns",  # campaigns by verdict
        "coord_publish_failures_total",  # publish errors
        "coord_llm_last_run_status",  # LLM health
        "airflow_task_duration_seconds",  # stage durations
    ):
        assert metric in queries, metric


def test_grafana_provisioning_points_at_the_mounted_dashboards() -> None:
    providers = yaml.safe_load((GRAFANA / "provisioning" / "dashboards" / "coord.yml").read_text())
    compose = yaml.safe_load((DEPLOY.parent / "docker-compose.yml").read_text())
    mounts = {v.split(":")[1]: v.split(":")[0] for v in compose["services"]["grafana"]["volumes"]}
    path = providers["providers"][0]["options"]["path"]
    assert mounts[path] == "./deploy/grafana/dashboards"
    assert mounts["/etc/grafana/provisioning"] == "./deploy/grafana/provisioning"
