"""The dashboards kept as data: each covers every area, on series the exporter serves, and they agree."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from test_rules import EXPORTER_METRICS

from monitoring.rules import AIRFLOW_PREFIX, KUBE_STATE_PREFIX, metric_names

DASHBOARDS = Path(__file__).resolve().parents[2] / "monitoring" / "dashboards"
AREAS = ("Scheduler", "DAG processing", "Executor slots", "Task outcomes", "Pools", "Database")


def _cloud_monitoring() -> dict[str, list[str]]:
    tiles = json.loads((DASHBOARDS / "cloud-monitoring.json").read_text())["mosaicLayout"]["tiles"]
    return {
        tile["widget"]["title"]: [
            data["timeSeriesQuery"]["prometheusQuery"] for data in tile["widget"]["xyChart"]["dataSets"]
        ]
        for tile in tiles
    }


def _grafana() -> dict[str, Any]:
    return json.loads((DASHBOARDS / "grafana.json").read_text())


@pytest.mark.parametrize("titles", [list(_cloud_monitoring()), [panel["title"] for panel in _grafana()["panels"]]])
def test_every_area_has_a_panel(titles: list[str]) -> None:
    for area in AREAS:
        assert any(title.startswith(area) for title in titles), f"no {area} panel in {titles}"


def test_queries_read_only_series_the_exporter_serves() -> None:
    queries = [query for tile in _cloud_monitoring().values() for query in tile]
    names = {
        name
        for query in queries
        for name in metric_names(query)
        if name.startswith((AIRFLOW_PREFIX, KUBE_STATE_PREFIX))
    }
    assert names and names <= EXPORTER_METRICS, sorted(names - EXPORTER_METRICS)


def test_grafana_shows_the_same_airflow_queries_on_the_amp_workspace() -> None:
    cloud_monitoring = {title: queries for title, queries in _cloud_monitoring().items() if "(Cloud SQL)" not in title}
    grafana = {
        panel["title"]: [target["expr"] for target in panel["targets"]]
        for panel in _grafana()["panels"]
        if panel["datasource"]["type"] == "prometheus"
    }
    assert grafana == cloud_monitoring
    rds = [panel for panel in _grafana()["panels"] if panel["datasource"]["type"] == "cloudwatch"]
    assert {target["namespace"] for panel in rds for target in panel["targets"]} == {"AWS/RDS"}
