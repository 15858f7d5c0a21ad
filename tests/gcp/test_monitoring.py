"""GKE: managed Prometheus scrapes the StatsD exporter; the rules become policies that notify `alerts`."""

from __future__ import annotations

import json
from typing import Any

import pytest
import stack_checks as checks

from components.gcp.monitoring import seconds
from components.gcp.settings import cloud_sql_max_connections
from monitoring.rules import alert_rules
from review.runner import Run, run_main

POLICY = "gcp:monitoring/alertPolicy:AlertPolicy"
CHANNEL = "gcp:monitoring/notificationChannel:NotificationChannel"
DASHBOARD = "gcp:monitoring/dashboard:Dashboard"
POD_MONITORING = "kubernetes:monitoring.googleapis.com/v1:PodMonitoring"
CLUSTER = "gcp:container/cluster:Cluster"
WEBHOOK = "https://hooks.acme.example/services/T0KEN-s3cr3t"
DATABASE_ALERTS = {"AirflowDatabaseConnectionsNearLimit", "AirflowDatabaseStorageLow"}


def _config(**alerts: Any) -> dict[str, Any]:
    config = checks.stack_config("dev")
    if alerts:
        config["alerts"] = alerts
    return config


@pytest.fixture(scope="module")
def routed() -> Run:
    return run_main(_config(email=["ops@acme.example", "oncall@acme.example"], webhook=WEBHOOK), stack="dev")


@pytest.fixture(scope="module")
def unrouted() -> Run:
    return checks.shape_run("dev")


def _cluster_name(run: Run) -> str:
    return str(run.one(CLUSTER).outputs["name"])


def test_the_cluster_runs_managed_collection_and_the_deployment_metrics(routed: Run) -> None:
    monitoring = routed.one(CLUSTER).inputs["monitoringConfig"]
    assert monitoring["managedPrometheus"] == {"enabled": True}
    assert "DEPLOYMENT" in monitoring["enableComponents"], "the API server alert reads kube-state-metrics"
    assert "SYSTEM_COMPONENTS" in monitoring["enableComponents"], "GKE's default component must stay"


def test_a_pod_monitoring_scrapes_the_charts_statsd_exporter(routed: Run) -> None:
    monitor = routed.one(POD_MONITORING).inputs
    values = checks.release_values(routed)
    release = checks.airflow_release(routed).inputs["name"]
    assert values.get("statsd", {}).get("enabled", True), "the chart's exporter must run"
    assert monitor["metadata"]["namespace"] == checks.airflow_release(routed).inputs["namespace"]
    assert monitor["spec"]["selector"]["matchLabels"] == {"tier": "airflow", "component": "statsd", "release": release}
    assert monitor["spec"]["endpoints"][0]["port"] == "statsd-scrape"


def test_every_rule_and_database_alert_is_a_promql_policy_scoped_to_the_stacks_cluster(routed: Run) -> None:
    policies = {
        p.inputs["conditions"][0]["conditionPrometheusQueryLanguage"]["alertRule"]: p for p in routed.of_type(POLICY)
    }
    assert set(policies) == {rule.name for rule in alert_rules()} | DATABASE_ALERTS
    cluster = _cluster_name(routed)
    for rule in alert_rules():
        condition = policies[rule.name].inputs["conditions"][0]["conditionPrometheusQueryLanguage"]
        assert f'cluster="{cluster}"' in condition["query"], f"{rule.name} would alert on other stacks' series"
        assert condition["duration"] == seconds(rule.duration)
        assert rule.runbook in policies[rule.name].inputs["documentation"]["content"]
    for name in DATABASE_ALERTS:
        query = policies[name].inputs["conditions"][0]["conditionPrometheusQueryLanguage"]["query"]
        assert 'database_id="acme-airflow-dev:' in query, f"{name} must watch this stack's Cloud SQL instance"


def test_the_connection_alert_fires_at_80_percent_of_the_tiers_limit(routed: Run) -> None:
    [policy] = [p for p in routed.of_type(POLICY) if p.name.endswith("AirflowDatabaseConnectionsNearLimit")]
    query = policy.inputs["conditions"][0]["conditionPrometheusQueryLanguage"]["query"]
    assert query.endswith("> 20"), "db-f1-micro allows 25 connections"
    assert cloud_sql_max_connections("db-custom-2-7680") == 400
    assert cloud_sql_max_connections("db-perf-optimized-N-2") is None


def test_alerts_reach_every_address_and_the_secret_webhook(routed: Run) -> None:
    channels = routed.of_type(CHANNEL)
    emails = sorted(c.inputs["labels"]["email_address"] for c in channels if c.inputs["type"] == "email")
    assert emails == ["oncall@acme.example", "ops@acme.example"]
    [webhook] = [c for c in channels if c.inputs["type"] == "webhook_tokenauth"]
    assert webhook.inputs["labels"]["url"] == WEBHOOK
    assert "labels" in webhook.secret_inputs, "the webhook URL (its token) is a secret"
    channel_ids = sorted(f"{c.name}-id" for c in channels)
    for policy in routed.of_type(POLICY):
        assert sorted(policy.inputs["notificationChannels"]) == channel_ids, policy.name


def test_without_alerts_no_policy_bills_for_nobody_and_preview_says_so(unrouted: Run) -> None:
    assert not unrouted.of_type(CHANNEL)
    assert not unrouted.of_type(POLICY)
    assert unrouted.one(CLUSTER).inputs["monitoringConfig"]["enableComponents"] == ["SYSTEM_COMPONENTS"]
    assert not any("alerts.email is unset" in warning for warning in unrouted.warnings), "a dev stack may go without"
    assert unrouted.one(DASHBOARD), "metrics and the dashboard stay"


def test_a_dev_stack_is_scraped_every_two_minutes_production_every_minute(unrouted: Run) -> None:
    assert unrouted.one(POD_MONITORING).inputs["spec"]["endpoints"][0]["interval"] == "120s"
    production = run_main(
        {**_config(email=["ops@acme.example"]), "production": True, "ui": {"allowPlainHttp": True}}, "prod"
    )
    assert production.one(POD_MONITORING).inputs["spec"]["endpoints"][0]["interval"] == "60s"


def test_the_dashboard_covers_each_area_on_this_stacks_series(routed: Run) -> None:
    dashboard = json.loads(routed.one(DASHBOARD).inputs["dashboardJson"])
    titles = " ".join(tile["widget"]["title"] for tile in dashboard["mosaicLayout"]["tiles"])
    for area in ("Scheduler", "DAG processing", "Executor slots", "Task outcomes", "Pools", "Database"):
        assert area in titles, f"the dashboard has no {area} tile"
    queries = [
        data["timeSeriesQuery"]["prometheusQuery"]
        for tile in dashboard["mosaicLayout"]["tiles"]
        for data in tile["widget"]["xyChart"]["dataSets"]
    ]
    cluster = _cluster_name(routed)
    assert all(f'cluster="{cluster}"' in q or "database_id=" in q for q in queries)


def test_the_stack_exports_where_to_see_it(routed: Run) -> None:
    links = routed.exports["monitoring"].value
    assert set(links) == {"dashboard", "alerts", "metrics", "project"}
    assert f"project={links['project']}" in links["alerts"], "make status lists the open alerts of this project"
    assert links["dashboard"].startswith("https://console.cloud.google.com/monitoring/dashboards/builder/")
