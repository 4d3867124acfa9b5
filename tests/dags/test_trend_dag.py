"""The trend DAG runs on the campaigns asset the main DAG's load updates, and parses offline."""

from __future__ import annotations

from airflow.dag_processing.dagbag import DagBag
from airflow.sdk import Asset
from airflow.sdk.definitions.asset import AssetAll

from tests.dags.airflow_env import REPO


def test_trend_dag_is_scheduled_on_the_campaigns_asset_of_the_load_task() -> None:
    bag = DagBag(dag_folder=str(REPO / "dags"))
    assert bag.import_errors == {}
    main, trends = bag.dags["dshield_coordination"], bag.dags["coord_trends"]
    (load_outlet,) = main.task_dict["load"].outlets
    condition = trends.timetable.asset_condition
    assert isinstance(condition, AssetAll)
    assert [a.uri for a in condition.objects if isinstance(a, Asset)] == [load_outlet.uri]
    (task,) = trends.tasks
    assert task.task_id == "build_trend_reports" and (task.retries or 0) >= 1
    assert [a.uri for a in task.outlets] == [
        "postgres://coord-results:5432/coord/coord/trend_reports",
        "postgres://coord-results:5432/coord/coord/trend_weekly_reports",
    ]
