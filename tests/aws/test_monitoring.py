"""EKS: AMP's managed scraper collects the StatsD exporter; the rules run in AMP and reach `alerts` through SNS."""

from __future__ import annotations

import re
from typing import Any

import pytest
import stack_checks as checks
import yaml

from components.aws.monitoring import rds_max_connections
from monitoring.rules import alert_rules, metric_names
from review.runner import Run, run_main

WEBHOOK = "https://hooks.acme.example/sns/T0KEN-s3cr3t"
SUBSCRIPTION = "aws:sns/topicSubscription:TopicSubscription"
ALARM = "aws:cloudwatch/metricAlarm:MetricAlarm"


@pytest.fixture(scope="module")
def prod() -> Run:
    config: dict[str, Any] = checks.stack_config("prod")
    config["alerts"] = {"email": ["ops@acme.example"], "webhook": WEBHOOK}
    return run_main(config, stack="prod")


def test_a_managed_scraper_of_the_cluster_writes_to_the_stacks_workspace(prod: Run) -> None:
    scraper = prod.one("aws:amp/scraper:Scraper").inputs
    workspace = prod.one("aws:amp/workspace:Workspace")
    assert scraper["destination"]["amp"]["workspaceArn"] == workspace.outputs["arn"]
    assert scraper["source"]["eks"]["clusterArn"] == prod.one("aws:eks/cluster:Cluster").outputs["arn"]
    subnets = scraper["source"]["eks"]["subnetIds"]
    assert len(subnets) >= 2, "AMP needs subnets in two availability zones"
    assert workspace.inputs["tags"] == {"AMPAgentlessScraper": ""}, "else every update removes the scraper's tag"


def _scrape_jobs(run: Run) -> dict[str, dict[str, Any]]:
    configuration = yaml.safe_load(run.one("aws:amp/scraper:Scraper").inputs["scrapeConfiguration"])
    return {job["job_name"]: job for job in configuration["scrape_configs"]}


def test_the_scraper_keeps_only_the_charts_statsd_exporter(prod: Run) -> None:
    configuration = yaml.safe_load(prod.one("aws:amp/scraper:Scraper").inputs["scrapeConfiguration"])
    job = _scrape_jobs(prod)["airflow-statsd"]
    release = checks.airflow_release(prod).inputs
    assert job["kubernetes_sd_configs"] == [{"role": "endpoints", "namespaces": {"names": [release["namespace"]]}}]
    assert job["relabel_configs"][0] == {
        "action": "keep",
        "source_labels": ["__meta_kubernetes_service_name", "__meta_kubernetes_endpoint_port_name"],
        "regex": f"{release['name']}-statsd;statsd-scrape",
    }
    assert configuration["global"]["scrape_interval"] == "60s"


def test_the_api_server_alert_reads_series_the_kube_state_metrics_addon_serves_and_the_scraper_keeps(prod: Run) -> None:
    # EKS has no managed kube-state-metrics: without the add-on and this job the rule
    # AirflowApiServerUnavailable would read a series nothing collects and never fire.
    [addon] = [a.inputs for a in prod.of_type("aws:eks/addon:Addon") if a.inputs["addonName"] == "kube-state-metrics"]
    assert addon["clusterName"] == prod.one("aws:eks/cluster:Cluster").outputs["name"]
    job = _scrape_jobs(prod)["kube-state-metrics"]
    assert job["kubernetes_sd_configs"] == [{"role": "endpoints", "namespaces": {"names": ["kube-state-metrics"]}}]
    assert job["relabel_configs"][0]["regex"] == "http", "the add-on's Service names its metrics port `http`"
    assert all(r["action"] == "keep" for r in job["relabel_configs"]), "a target `namespace` would rename the series'"
    [keep] = job["metric_relabel_configs"]
    namespace = checks.airflow_release(prod).inputs["namespace"]
    read = {name for rule in alert_rules() for name in metric_names(rule.expr) if name.startswith("kube_")}
    assert read, "the API server rule reads a kube-state-metrics series"
    for series in read:
        assert re.fullmatch(keep["regex"], f"{series};{namespace}"), f"the scraper drops {series}, a rule reads it"
    assert not re.fullmatch(keep["regex"], "kube_pod_info;kube-system"), "every other series would bill"


def test_the_stack_exports_the_endpoint_make_status_reads_alerts_from(prod: Run) -> None:
    links = prod.exports["monitoring"].value
    assert links["prometheusEndpoint"] == prod.one("aws:amp/workspace:Workspace").outputs["prometheusEndpoint"]


def test_the_rule_files_run_in_the_workspace_unchanged(prod: Run) -> None:
    namespace = prod.one("aws:amp/ruleGroupNamespace:RuleGroupNamespace").inputs
    uploaded = [rule["alert"] for group in yaml.safe_load(namespace["data"])["groups"] for rule in group["rules"]]
    assert uploaded == [rule.name for rule in alert_rules()]


def test_the_alert_manager_publishes_to_the_topic_that_reaches_people(prod: Run) -> None:
    topic = prod.one("aws:sns/topic:Topic")
    definition = yaml.safe_load(prod.one("aws:amp/alertManagerDefinition:AlertManagerDefinition").inputs["definition"])
    receivers = yaml.safe_load(definition["alertmanager_config"])["receivers"]
    assert receivers[0]["sns_configs"][0]["topic_arn"] == topic.outputs["arn"]
    subscriptions = {s.inputs["protocol"]: s for s in prod.of_type(SUBSCRIPTION)}
    assert subscriptions["email"].inputs["endpoint"] == "ops@acme.example"
    assert subscriptions["https"].inputs["endpoint"] == WEBHOOK
    assert "endpoint" in subscriptions["https"].secret_inputs, "the webhook URL (its token) is a secret"
    policy = prod.one("aws:sns/topicPolicy:TopicPolicy").inputs["policy"]
    assert '"aps.amazonaws.com"' in policy and "aws:SourceArn" in policy


def test_rds_alarms_watch_the_stacks_database_at_its_limits(prod: Run) -> None:
    alarms = {a.inputs["metricName"]: a.inputs for a in prod.of_type(ALARM)}
    identifier = prod.one("aws:rds/instance:Instance").inputs["identifier"]
    assert {a["dimensions"]["DBInstanceIdentifier"] for a in alarms.values()} == {identifier}
    # db.t4g.large (8 GiB): RDS allows 901 connections; the alarm is at 80%.
    assert alarms["DatabaseConnections"]["threshold"] == 360
    assert alarms["FreeStorageSpace"]["threshold"] == int(50 * 2**30 * 0.15)
    topic = prod.one("aws:sns/topic:Topic").outputs["arn"]
    assert all(a["alarmActions"] == [topic] for a in alarms.values())


def test_rds_connection_limits_follow_memory() -> None:
    assert rds_max_connections("db.t4g.micro") == 112
    assert rds_max_connections("db.r6i.large") == 1802
    assert rds_max_connections("db.x2g.metal") is None


def test_without_alerts_only_the_metrics_are_collected_and_preview_says_so() -> None:
    unrouted = checks.shape_run("prod")
    assert unrouted.one("aws:amp/scraper:Scraper")
    for kind in ("aws:sns/topic:Topic", "aws:amp/ruleGroupNamespace:RuleGroupNamespace", ALARM):
        assert not unrouted.of_type(kind), f"{kind} would bill for alerts that tell nobody"
    assert list(_scrape_jobs(unrouted)) == ["airflow-statsd"], "kube-state-metrics feeds only an alert"
    assert "kube-state-metrics" not in [a.inputs["addonName"] for a in unrouted.of_type("aws:eks/addon:Addon")]
    assert any("alerts.email is unset" in warning for warning in unrouted.warnings)
