"""Metrics, alerts and a dashboard on GKE: Managed Service for Prometheus and Cloud Monitoring.

GKE's managed collection (enabled on the cluster, components/gcp/cluster.py)
runs Google's collectors; the stack adds a `PodMonitoring` for the chart's
StatsD exporter, one Cloud Monitoring PromQL alert policy per rule of
monitoring/rules/ plus the Cloud SQL alerts (monitoring/database.py), the
notification channels of `alerts`, and the dashboard of
monitoring/dashboards/cloud-monitoring.json. No agent of the stack's own runs.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from pathlib import Path

import pulumi
import pulumi_gcp as gcp
import pulumi_kubernetes as k8s

from components.gcp.settings import cloud_sql_max_connections
from components.platform import MonitoringArgs
from monitoring import database
from monitoring.rules import (
    AIRFLOW_PREFIX,
    CLOUD_SQL_PREFIX,
    KUBE_STATE_PREFIX,
    AlertRule,
    alert_rules,
    scoped,
    scrape_interval,
)

DASHBOARD = Path(__file__).resolve().parents[2] / "monitoring" / "dashboards" / "cloud-monitoring.json"
# The chart's StatsD exporter: its pods' labels and the named port serving /metrics
# (chart 1.22.0 statsd-deployment.yaml; ../shared/reference/airflow-chart.md).
STATSD_COMPONENT = "statsd"
STATSD_SCRAPE_PORT = "statsd-scrape"
EVALUATION_INTERVAL = "60s"
# SYSTEM_COMPONENTS is GKE's default and stays listed; GKE's managed kube-state-metrics
# package for Deployments feeds the API server alert, so it runs (and bills) only
# where alerts are routed. https://cloud.google.com/kubernetes-engine/docs/how-to/configure-metrics
SYSTEM_COMPONENTS = ("SYSTEM_COMPONENTS",)
DEPLOYMENT_METRICS = "DEPLOYMENT"


def monitored_components(alerts_routed: bool) -> list[str]:
    return [*SYSTEM_COMPONENTS, *([DEPLOYMENT_METRICS] if alerts_routed else [])]


_SEVERITIES = {"critical": "CRITICAL", "warning": "WARNING"}
_UNTEMPLATED = re.compile(r"\{\{[^}]*\}\}")
_DURATION = re.compile(r"^(?P<number>\d+)(?P<unit>[smh])$")


def seconds(duration: str) -> str:
    """A Prometheus duration ("15m") as Cloud Monitoring writes it ("900s")."""
    match = _DURATION.match(duration)
    if match is None:
        raise ValueError(f"not a Prometheus duration in s, m or h: {duration!r}")
    return f"{int(match.group('number')) * {'s': 1, 'm': 60, 'h': 3600}[match.group('unit')]}s"


@dataclass(frozen=True)
class GkeMonitoringArgs(MonitoringArgs):
    project: str
    stack: str
    cluster_name: pulumi.Input[str]
    # `<project>:<instance>`, the `database_id` Cloud SQL labels its metrics with.
    database_id: pulumi.Input[str]
    database_tier: str
    provider: k8s.Provider
    # The cluster (its managed collection installs the PodMonitoring CRD) and the monitoring API.
    depends_on: list[pulumi.Resource]


class GkeMonitoring(pulumi.ComponentResource):
    pod_monitoring: k8s.apiextensions.CustomResource
    channels: list[gcp.monitoring.NotificationChannel]
    policies: dict[str, gcp.monitoring.AlertPolicy]
    dashboard: gcp.monitoring.Dashboard

    def __init__(self, name: str, args: GkeMonitoringArgs, opts: pulumi.ResourceOptions | None = None) -> None:
        super().__init__("airflow-platform:gcp:Monitoring", name, None, opts)
        self.pod_monitoring = k8s.apiextensions.CustomResource(
            f"{name}-statsd",
            api_version="monitoring.googleapis.com/v1",
            kind="PodMonitoring",
            metadata={"name": f"{args.release_name}-statsd", "namespace": args.namespace},
            spec={
                "selector": {
                    "matchLabels": {"tier": "airflow", "component": STATSD_COMPONENT, "release": args.release_name}
                },
                "endpoints": [{"port": STATSD_SCRAPE_PORT, "interval": scrape_interval(args.production)}],
            },
            opts=pulumi.ResourceOptions(parent=self, provider=args.provider, depends_on=args.depends_on),
        )

        cloud = pulumi.ResourceOptions(parent=self, depends_on=args.depends_on)
        self.channels = [
            gcp.monitoring.NotificationChannel(
                f"{name}-email-{index}",
                project=args.project,
                display_name=f"Airflow {args.stack}: {email}",
                type="email",
                labels={"email_address": email},
                opts=cloud,
            )
            for index, email in enumerate(args.alerts.emails)
        ]
        if args.webhook is not None:
            # The URL (its token) goes in as a secret Output: encrypted in the state, masked in previews.
            self.channels.append(
                gcp.monitoring.NotificationChannel(
                    f"{name}-webhook",
                    project=args.project,
                    display_name=f"Airflow {args.stack}: webhook",
                    type="webhook_tokenauth",
                    labels={"url": args.webhook},
                    opts=cloud,
                )
            )
        channel_ids = [channel.id for channel in self.channels]

        scopes = pulumi.Output.all(args.cluster_name, args.database_id).apply(
            lambda parts: {
                AIRFLOW_PREFIX: {"cluster": parts[0]},
                KUBE_STATE_PREFIX: {"cluster": parts[0]},
                CLOUD_SQL_PREFIX: {"database_id": parts[1]},
            }
        )
        # Policies that notify nobody would bill per condition for nothing: without
        # `alerts` a stack gets the metrics and the dashboard, and a production one a preview warning.
        self.policies = {}
        for rule in alert_rules() if args.alerts.routed else []:
            self.policies[rule.name] = self._policy(name, args, rule, scopes, channel_ids, cloud)
        for alert, expr in self._database_rules(args).items() if args.alerts.routed else []:
            rule = AlertRule("database", alert.name, expr, "5m", {"severity": "critical"}, alert.summary, alert.runbook)
            self.policies[rule.name] = self._policy(name, args, rule, scopes, channel_ids, cloud)

        dashboard = DASHBOARD.read_text()
        self.dashboard = gcp.monitoring.Dashboard(
            f"{name}-dashboard",
            project=args.project,
            dashboard_json=scopes.apply(lambda scope: json.dumps(scoped_dashboard(dashboard, scope, args.stack))),
            opts=cloud,
        )
        self.register_outputs({"dashboard": self.dashboard.id, "policies": len(self.policies)})

    @staticmethod
    def _database_rules(args: GkeMonitoringArgs) -> dict[database.DatabaseAlert, str]:
        rules = {
            database.STORAGE: f"max({CLOUD_SQL_PREFIX}database_disk_utilization) > {database.STORAGE_FRACTION}",
        }
        limit = cloud_sql_max_connections(args.database_tier)
        if limit is None:
            pulumi.log.warn(
                f"gcp.databaseTier {args.database_tier}: its max_connections is not in "
                "components/gcp/monitoring.py, so no connection alert is created"
            )
        else:
            threshold = int(limit * database.CONNECTIONS_FRACTION)
            rules[database.CONNECTIONS] = f"sum({CLOUD_SQL_PREFIX}database_postgresql_num_backends) > {threshold}"
        return rules

    def _policy(
        self,
        name: str,
        args: GkeMonitoringArgs,
        rule: AlertRule,
        scopes: pulumi.Output[dict[str, dict[str, str]]],
        channels: list[pulumi.Output[str]],
        opts: pulumi.ResourceOptions,
    ) -> gcp.monitoring.AlertPolicy:
        return gcp.monitoring.AlertPolicy(
            f"{name}-{rule.name}",
            project=args.project,
            display_name=f"{rule.name} ({args.stack})",
            # Off while the stack sleeps (MonitoringArgs.asleep), on again when it wakes.
            enabled=not args.asleep,
            combiner="OR",
            severity=_SEVERITIES[rule.labels["severity"]],
            conditions=[
                gcp.monitoring.AlertPolicyConditionArgs(
                    display_name=rule.name,
                    condition_prometheus_query_language=gcp.monitoring.AlertPolicyConditionConditionPrometheusQueryLanguageArgs(
                        query=scopes.apply(lambda scope: scoped(rule.expr, scope)),
                        duration=seconds(rule.duration),
                        evaluation_interval=EVALUATION_INTERVAL,
                        alert_rule=rule.name,
                        rule_group=rule.group,
                        labels=dict(rule.labels),
                    ),
                )
            ],
            documentation=gcp.monitoring.AlertPolicyDocumentationArgs(
                # The summary's Prometheus templates ({{ $value }}) mean nothing to Cloud Monitoring.
                content=f"{_UNTEMPLATED.sub('...', rule.summary)}\n\nWhat to do: {rule.runbook}",
                mime_type="text/markdown",
            ),
            notification_channels=channels,
            opts=opts,
        )


def scoped_dashboard(text: str, scopes: dict[str, dict[str, str]], stack: str) -> dict[str, object]:
    """The dashboard JSON with every PromQL query narrowed to this stack's cluster and database."""
    dashboard = json.loads(text)
    dashboard["displayName"] = f"{dashboard['displayName']} ({stack})"
    for tile in dashboard["mosaicLayout"]["tiles"]:
        for data_set in tile["widget"]["xyChart"]["dataSets"]:
            query = data_set["timeSeriesQuery"]
            query["prometheusQuery"] = scoped(query["prometheusQuery"], scopes)
    return dashboard


def console_links(project: str, dashboard_id: pulumi.Output[str]) -> dict[str, pulumi.Input[str]]:
    """Where a person sees the stack's metrics, alerts and dashboard (the `monitoring` output)."""
    console = "https://console.cloud.google.com/monitoring"
    return {
        # The id is `projects/<number>/dashboards/<id>`; the console addresses it by the last part.
        "dashboard": dashboard_id.apply(
            lambda full_id: f"{console}/dashboards/builder/{full_id.rsplit('/', 1)[-1]}?project={project}"
        ),
        "alerts": f"{console}/alerting?project={project}",
        "metrics": f"{console}/metrics-explorer?project={project}",
        # Where `make status` lists the open alerts (`gcloud monitoring alerts list`, monitoring/status.py).
        "project": project,
    }
