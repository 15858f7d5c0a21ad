"""Metrics and alerts on EKS: Amazon Managed Service for Prometheus, its managed scraper, SNS, CloudWatch.

An AMP workspace receives what AMP's agentless scraper collects from the
chart's StatsD exporter; the rules of monitoring/rules/ run in the
workspace's rule engine and its alert manager publishes to an SNS topic,
which mails `alerts.email` (and posts to `alerts.webhook`). The RDS alerts
(monitoring/database.py) are CloudWatch alarms on the same topic. The Grafana
dashboard (monitoring/dashboards/grafana.json) is imported by hand (README,
"Operations"). No agent of the stack's own runs in the cluster: the API
server alert's kube-state-metrics series come from EKS's kube-state-metrics
community add-on, scraped by the same managed scraper.
"""

from __future__ import annotations

import json
import re
from collections.abc import Sequence
from dataclasses import dataclass

import pulumi
import pulumi_aws as aws
import yaml

from components.aws.addons import managed_addon
from components.platform import MonitoringArgs
from monitoring import database
from monitoring.rules import kube_state_series, rule_groups_yaml, scrape_interval

# The chart's StatsD exporter: `<release>-statsd` and its port name (chart 1.22.0; the same pair
# the GKE PodMonitoring selects, components/gcp/monitoring.py).
STATSD_PORT_NAME = "statsd-scrape"
RULES_NAMESPACE = "airflow"
# EKS has no managed kube-state-metrics (GKE's DEPLOYMENT package), so the API server alert
# reads the EKS community add-on's: add-on `kube-state-metrics`, installed in its own namespace
# `kube-state-metrics` (EKS user guide, "Community add-ons", awsdocs/amazon-eks-user-guide
# latest/ug/workloads/community-addons.adoc), built from the prometheus-community chart whose
# Service serves /metrics on the port named `http`, 8080 (charts/kube-state-metrics/templates/
# service.yaml). AWS validates its versions per Kubernetes version; it runs on 1.36 (GOV.UK's
# alphagov/govuk-infrastructure#4470, 2026-07-07, moved it to v2.19.1 for their 1.36 upgrade).
KUBE_STATE_METRICS_ADDON = "kube-state-metrics"
KUBE_STATE_METRICS_NAMESPACE = "kube-state-metrics"
KUBE_STATE_METRICS_PORT_NAME = "http"
# RDS for PostgreSQL: max_connections = LEAST(DBInstanceClassMemory/9531392, 5000)
# (https://docs.aws.amazon.com/AmazonRDS/latest/UserGuide/CHAP_Limits.html#RDS_Limits.MaxConnections).
_RDS_BYTES_PER_CONNECTION = 9531392
_RDS_MAX_CONNECTIONS = 5000
# Memory of the general-purpose and burstable classes by size (GiB); r-classes have twice as much.
_RDS_MEMORY_GIB = {"micro": 1, "small": 2, "medium": 4, "large": 8, "xlarge": 16, "2xlarge": 32, "4xlarge": 64}
_RDS_CLASS = re.compile(r"^db\.(?P<family>[a-z]+)\d+[a-z]*\.(?P<size>[0-9a-z]+)$")


def rds_max_connections(instance_class: str) -> int | None:
    """RDS PostgreSQL's default max_connections for a class (its full memory; RDS reserves a little)."""
    match = _RDS_CLASS.match(instance_class)
    if match is None or match.group("size") not in _RDS_MEMORY_GIB:
        return None
    memory_gib = _RDS_MEMORY_GIB[match.group("size")] * (2 if match.group("family") in ("r", "x") else 1)
    return min(memory_gib * 2**30 // _RDS_BYTES_PER_CONNECTION, _RDS_MAX_CONNECTIONS)


def scrape_configuration(namespace: str, release_name: str, interval: str, kube_state_metrics: bool) -> str:
    """The scraper's Prometheus configuration: the StatsD exporter's endpoints in the Airflow namespace,
    and with `kube_state_metrics` the add-on's series the rules read, for the Airflow namespace only.

    AMP's scrapers take no interval under 30 s (AMP user guide, "Scraper configuration").
    """
    jobs = [_statsd_job(namespace, release_name)]
    if kube_state_metrics:
        jobs.append(_kube_state_metrics_job(namespace))
    return yaml.safe_dump({"global": {"scrape_interval": interval}, "scrape_configs": jobs}, sort_keys=False)


def _kube_state_metrics_job(namespace: str) -> dict[str, object]:
    # kube-state-metrics serves a series per object of the whole cluster and AMP bills every
    # sample: keep only the series the rules read, of the Airflow namespace. No relabelling sets
    # a `namespace` target label here: it would rename the series' own `namespace` (the
    # Deployment's, which the rules select on) to `exported_namespace`.
    return {
        "job_name": "kube-state-metrics",
        "kubernetes_sd_configs": [{"role": "endpoints", "namespaces": {"names": [KUBE_STATE_METRICS_NAMESPACE]}}],
        "relabel_configs": [
            {
                "action": "keep",
                "source_labels": ["__meta_kubernetes_endpoint_port_name"],
                "regex": KUBE_STATE_METRICS_PORT_NAME,
            }
        ],
        "metric_relabel_configs": [
            {
                "action": "keep",
                "source_labels": ["__name__", "namespace"],
                "regex": f"({'|'.join(kube_state_series())});{namespace}",
            }
        ],
    }


def _statsd_job(namespace: str, release_name: str) -> dict[str, object]:
    return {
        "job_name": "airflow-statsd",
        "kubernetes_sd_configs": [{"role": "endpoints", "namespaces": {"names": [namespace]}}],
        "relabel_configs": [
            {
                "action": "keep",
                "source_labels": ["__meta_kubernetes_service_name", "__meta_kubernetes_endpoint_port_name"],
                "regex": f"{release_name}-statsd;{STATSD_PORT_NAME}",
            },
            {
                "action": "replace",
                "source_labels": ["__meta_kubernetes_namespace"],
                "target_label": "namespace",
            },
        ],
    }


# A receiver without configurations: Alertmanager drops what is routed to it.
MUTED_RECEIVER = "muted-while-asleep"


def alert_manager_definition(topic_arn: str, region: str, asleep: bool = False) -> str:
    """AMP's alert manager: every alert of the rules namespace to the SNS topic; to nobody while asleep."""
    return yaml.safe_dump(
        {
            "alertmanager_config": yaml.safe_dump(
                {
                    "route": {
                        "receiver": MUTED_RECEIVER if asleep else "sns",
                        "group_by": ["alertname"],
                        "repeat_interval": "4h",
                    },
                    "receivers": [
                        {"name": "sns", "sns_configs": [{"topic_arn": topic_arn, "sigv4": {"region": region}}]},
                        *([{"name": MUTED_RECEIVER}] if asleep else []),
                    ],
                },
                sort_keys=False,
            )
        },
        sort_keys=False,
    )


@dataclass(frozen=True)
class AmpMonitoringArgs(MonitoringArgs):
    prefix: str
    region: str
    cluster_name: pulumi.Input[str]
    cluster_arn: pulumi.Input[str]
    # What the kube-state-metrics add-on (a Deployment) waits for: a node to run on.
    addon_depends_on: Sequence[pulumi.Resource]
    subnet_ids: list[pulumi.Output[str]]
    cluster_security_group_id: pulumi.Input[str]
    database_identifier: pulumi.Input[str]
    database_instance_class: str
    database_storage_gb: int


class AmpMonitoring(pulumi.ComponentResource):
    workspace: aws.amp.Workspace
    scraper: aws.amp.Scraper
    kube_state_metrics: aws.eks.Addon | None
    topic: aws.sns.Topic | None
    alarms: dict[str, aws.cloudwatch.MetricAlarm]

    def __init__(self, name: str, args: AmpMonitoringArgs, opts: pulumi.ResourceOptions | None = None) -> None:
        super().__init__("airflow-platform:aws:Monitoring", name, None, opts)
        child = pulumi.ResourceOptions(parent=self)
        self.workspace = aws.amp.Workspace(
            f"{name}-workspace",
            alias=args.prefix,
            # The scraper tags its workspace with this; declared so no update removes it
            # (pulumi_aws amp.Scraper docs, "Ignoring changes to Prometheus Workspace destination").
            tags={"AMPAgentlessScraper": ""},
            opts=child,
        )
        # The cluster's authentication mode is API (components/aws/cluster.py), so AMP creates the
        # scraper's access entry and its read-only Kubernetes permissions itself (AMP user guide,
        # "Configure Amazon EKS for scraper access with access entries"): no RBAC of the stack's own.
        # Changing the source (cluster, subnets) replaces the scraper; the configuration updates in place.
        self.scraper = aws.amp.Scraper(
            f"{name}-scraper",
            alias=args.prefix,
            source=aws.amp.ScraperSourceArgs(
                eks=aws.amp.ScraperSourceEksArgs(
                    cluster_arn=args.cluster_arn,
                    subnet_ids=args.subnet_ids,
                    security_group_ids=[args.cluster_security_group_id],
                )
            ),
            destination=aws.amp.ScraperDestinationArgs(
                amp=aws.amp.ScraperDestinationAmpArgs(workspace_arn=self.workspace.arn)
            ),
            scrape_configuration=pulumi.Output.from_input(args.namespace).apply(
                lambda namespace: scrape_configuration(
                    namespace,
                    args.release_name,
                    scrape_interval(args.production),
                    kube_state_metrics=args.alerts.routed,
                )
            ),
            opts=child,
        )
        # Rules that tell nobody would only bill: without `alerts` a stack gets the metrics
        # (and the dashboard to import), and a production stack a preview warning.
        self.topic, self.alarms, self.kube_state_metrics = None, {}, None
        if args.alerts.routed:
            # The add-on's version is EKS's default for the cluster's Kubernetes version, as for
            # the other add-ons (components/aws/addons.py); its pod runs on the system nodes.
            self.kube_state_metrics = managed_addon(
                f"{name}-{KUBE_STATE_METRICS_ADDON}",
                cluster_name=args.cluster_name,
                addon_name=KUBE_STATE_METRICS_ADDON,
                parent=self,
                depends_on=args.addon_depends_on,
            )
            self.topic = self._alerting(name, args)
            self.alarms = self._database_alarms(name, args, self.topic)
        self.register_outputs({"workspace": self.workspace.prometheus_endpoint})

    def _alerting(self, name: str, args: AmpMonitoringArgs) -> aws.sns.Topic:
        """The rule groups, the alert manager and the SNS topic that reaches `alerts`."""
        child = pulumi.ResourceOptions(parent=self)

        topic = aws.sns.Topic(f"{name}-alerts", name=f"{args.prefix}-alerts", opts=child)
        # AMP's alert manager publishes as the aps service, for this workspace only
        # (AMP user guide, "Permission to publish to Amazon SNS").
        aws.sns.TopicPolicy(
            f"{name}-alerts-policy",
            arn=topic.arn,
            policy=pulumi.Output.all(topic.arn, self.workspace.arn).apply(
                lambda arns: json.dumps(
                    {
                        "Version": "2012-10-17",
                        "Statement": [
                            {
                                "Effect": "Allow",
                                "Principal": {"Service": "aps.amazonaws.com"},
                                "Action": ["sns:Publish", "sns:GetTopicAttributes"],
                                "Resource": arns[0],
                                "Condition": {"ArnEquals": {"aws:SourceArn": arns[1]}},
                            }
                        ],
                    }
                )
            ),
            opts=child,
        )
        # SNS mails a confirmation link to each address first; nothing arrives until it is clicked.
        for index, email in enumerate(args.alerts.emails):
            aws.sns.TopicSubscription(
                f"{name}-email-{index}", topic=topic.arn, protocol="email", endpoint=email, opts=child
            )
        if args.webhook is not None:
            aws.sns.TopicSubscription(
                f"{name}-webhook", topic=topic.arn, protocol="https", endpoint=args.webhook, opts=child
            )

        aws.amp.RuleGroupNamespace(
            f"{name}-rules", name=RULES_NAMESPACE, workspace_id=self.workspace.id, data=rule_groups_yaml(), opts=child
        )
        aws.amp.AlertManagerDefinition(
            f"{name}-alert-manager",
            workspace_id=self.workspace.id,
            definition=topic.arn.apply(lambda arn: alert_manager_definition(arn, args.region, args.asleep)),
            opts=child,
        )
        return topic

    def _database_alarms(
        self, name: str, args: AmpMonitoringArgs, topic: aws.sns.Topic
    ) -> dict[str, aws.cloudwatch.MetricAlarm]:
        free_bytes = int(args.database_storage_gb * 2**30 * (1 - database.STORAGE_FRACTION))
        limits = {database.STORAGE: ("FreeStorageSpace", "LessThanThreshold", free_bytes)}
        connections = rds_max_connections(args.database_instance_class)
        if connections is None:
            pulumi.log.warn(
                f"aws.database.instanceClass {args.database_instance_class}: its max_connections is not known "
                "to components/aws/monitoring.py, so no connection alarm is created",
                resource=self,
            )
        else:
            threshold = int(connections * database.CONNECTIONS_FRACTION)
            limits[database.CONNECTIONS] = ("DatabaseConnections", "GreaterThanThreshold", threshold)
        return {
            alert.name: aws.cloudwatch.MetricAlarm(
                f"{name}-{alert.name}",
                name=f"{args.prefix}-{alert.name}",
                alarm_description=f"{alert.summary} What to do: {alert.runbook}",
                namespace="AWS/RDS",
                metric_name=metric,
                dimensions={"DBInstanceIdentifier": args.database_identifier},
                statistic="Maximum" if metric == "DatabaseConnections" else "Minimum",
                period=60,
                evaluation_periods=5,
                comparison_operator=comparison,
                threshold=threshold,
                alarm_actions=[topic.arn],
                # A stopped database reports no metrics: no alarm while asleep.
                actions_enabled=not args.asleep,
                ok_actions=[topic.arn],
                opts=pulumi.ResourceOptions(parent=self),
            )
            for alert, (metric, comparison, threshold) in limits.items()
        }


def console_links(
    region: str, workspace_id: pulumi.Output[str], prometheus_endpoint: pulumi.Output[str], prefix: str
) -> dict[str, pulumi.Input[str]]:
    """Where a person sees the stack's metrics and alerts (the `monitoring` output)."""
    return {
        "prometheusWorkspace": workspace_id.apply(
            lambda workspace: (
                f"https://{region}.console.aws.amazon.com/prometheus/home?region={region}#/workspaces/workspace/{workspace}"
            )
        ),
        "alarms": f"https://{region}.console.aws.amazon.com/cloudwatch/home?region={region}#alarmsV2:?search={prefix}",
        "grafanaDashboard": "monitoring/dashboards/grafana.json",
        # Where `make status` reads the alert manager's active alerts (monitoring/status.py).
        "prometheusEndpoint": prometheus_endpoint,
    }
