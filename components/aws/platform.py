"""The AWS platform: EKS in a 2-3 AZ VPC, RDS PostgreSQL, EFS shared data, S3 task logs.

Composes the per-concern components in dependency order and returns the
`PlatformOutputs` contract. Every AWS resource goes through one explicit
provider for the configured region, so an ambient `aws:region` or
AWS_REGION never decides where a stack lands.
"""

from __future__ import annotations

from datetime import UTC, datetime

import pulumi
import pulumi_aws as aws

from components import kube
from components.aws.addons import NetworkAddons, NetworkAddonsArgs, WorkloadAddons, WorkloadAddonsArgs
from components.aws.autoscaler import ClusterAutoscaler, ClusterAutoscalerArgs
from components.aws.cluster import Cluster, ClusterArgs, caller_access_warning, deploying_principal_arn
from components.aws.control_plane_logs import STACK_TAG
from components.aws.database import MetadataDb, MetadataDbArgs
from components.aws.https import HttpsEntry, HttpsEntryArgs
from components.aws.logs import LogStore, LogStoreArgs
from components.aws.monitoring import AmpMonitoring, AmpMonitoringArgs, console_links
from components.aws.network import Network, NetworkArgs
from components.aws.nodes import SYSTEM_POOL, WORKER_POOL, NodeGroups, NodeGroupsArgs
from components.aws.registry import DockerHubCache, DockerHubCacheArgs
from components.aws.settings import AwsSettings
from components.aws.sleep import Sleep, SleepArgs, SleepNodeGroup
from components.aws.storage import SharedStorage, SharedStorageArgs
from components.config import (
    PROJECT,
    LoadBalancerSettings,
    StackConfig,
    load_alerts_webhook,
    load_docker_hub_token,
)
from components.kubernetes_support import standard_support_warning
from components.names import stack_scoped_name
from components.platform import LoadBalancer, PlatformOutputs, service_account_names

# The in-tree service controller (EKS's cloud-controller-manager) builds an
# NLB from this annotation with no extra controller to install. The AWS Load
# Balancer Controller's `external` type would need its own IAM role and Helm
# release for no gain here: one TCP listener, source ranges enforced by the
# node security group rules the controller writes from loadBalancerSourceRanges.
LB_TYPE_ANNOTATION = "service.beta.kubernetes.io/aws-load-balancer-type"
# What the in-tree controller reads to build an internal NLB (it ignores the scheme annotation).
LB_INTERNAL_ANNOTATION = "service.beta.kubernetes.io/aws-load-balancer-internal"
# Set on every LoadBalancer Service for the day someone installs the AWS Load
# Balancer Controller (>= 2.5): its webhook sets spec.loadBalancerClass on every
# Service created from then on (a replaced one included), and the controller
# then defaults to an *internal* NLB ("Secure by default" since v2.2) with
# `instance` targets ("Annotations": aws-load-balancer-scheme default
# `internal`, nlb-target-type default `instance` with a LoadBalancerClass;
# kubernetes-sigs.github.io/aws-load-balancer-controller, guide/service/nlb and
# guide/service/annotations). Spelling both out keeps the UI where it was:
# the scheme loadBalancerScheme chose, instance targets behind the node
# security group that holds loadBalancerSourceRanges. The in-tree controller
# ignores both, so a live Service's NLB is left as it is.
LB_SCHEME_ANNOTATION = "service.beta.kubernetes.io/aws-load-balancer-scheme"
LB_TARGET_TYPE_ANNOTATION = "service.beta.kubernetes.io/aws-load-balancer-nlb-target-type"
LB_TARGET_TYPE = "instance"
# Well within RDS's 63-character identifier and EKS's 100-character cluster name.
RESOURCE_PREFIX_LENGTH = 50
ANONYMOUS_PULL_WARNING = (
    "aws.dockerHubUsername and dockerHubToken are not set: the nodes pull the Airflow image anonymously "
    "from Docker Hub, which limits anonymous pulls per source IP (the NAT gateways), so new nodes can stall "
    "task starts on 'toomanyrequests'. Set both to pull through the stack's ECR pull-through cache (README, "
    "'Cost and speed')."
)


def resource_prefix(stack: str) -> str:
    """`airflow-platform-<stack>`, usable as an EKS cluster name and an RDS identifier."""
    return stack_scoped_name(PROJECT, stack, RESOURCE_PREFIX_LENGTH)


def load_balancer(settings: AwsSettings, load_balancer_settings: LoadBalancerSettings) -> LoadBalancer:
    annotations = {
        LB_TYPE_ANNOTATION: "nlb",
        LB_SCHEME_ANNOTATION: settings.load_balancer_scheme,
        LB_TARGET_TYPE_ANNOTATION: LB_TARGET_TYPE,
    }
    if settings.load_balancer_scheme == "internal":
        annotations[LB_INTERNAL_ANNOTATION] = "true"
    return LoadBalancer(source_ranges=load_balancer_settings.source_ranges, annotations=annotations)


class AwsPlatform(pulumi.ComponentResource):
    outputs: PlatformOutputs

    def __init__(self, name: str, config: StackConfig, opts: pulumi.ResourceOptions | None = None) -> None:
        super().__init__("airflow-platform:aws:Platform", name, None, opts)
        assert config.aws is not None, "AwsPlatform needs the aws section (cloud: aws)"
        settings = config.aws
        # Validated with aws.dockerHubUsername in parse_stack_config: both set, or neither.
        docker_hub_token = load_docker_hub_token()
        production = config.production
        prefix = resource_prefix(config.stack)
        # A warning, not an error: the table is dated data that goes stale, and
        # a stale table must not block a deploy (a fix in an incident) over cost.
        # `pulumi preview` shows it on every run until the version moves on.
        support_warning = standard_support_warning("aws", settings.kubernetes_version, datetime.now(UTC).date())
        if support_warning is not None:
            pulumi.log.warn(f"aws.kubernetesVersion: {support_warning}", resource=self)

        aws_provider = aws.Provider(
            f"{name}-provider",
            region=settings.region,
            default_tags=aws.ProviderDefaultTagsArgs(tags={"project": PROJECT, STACK_TAG: config.stack}),
            opts=pulumi.ResourceOptions(parent=self),
        )
        children = pulumi.ResourceOptions(parent=self, providers={"aws": aws_provider})

        network = Network(
            f"{name}-network",
            NetworkArgs(
                cluster_name=prefix,
                vpc_cidr=settings.vpc_cidr,
                availability_zones=settings.availability_zones,
                public_subnet_cidrs=settings.public_subnet_cidrs,
                private_subnet_cidrs=settings.private_subnet_cidrs,
                nat_gateway_per_az=settings.nat_gateway_per_az,
                region=settings.region,
            ),
            opts=children,
        )
        private_subnet_ids = [subnet.id for subnet in network.private_subnets]

        # Encrypts the data at rest that users care about (EFS, RDS); the
        # cluster's Secrets have their own key.
        data_key = aws.kms.Key(
            f"{name}-data-key",
            description=f"{prefix}: EFS shared data and RDS metadata database",
            enable_key_rotation=True,
            deletion_window_in_days=30 if production else 7,
            opts=pulumi.ResourceOptions(parent=self, provider=aws_provider, protect=production),
        )

        # Shown by `pulumi preview` too, before a cluster nobody can reach is created.
        access_warning = caller_access_warning(settings.access, deploying_principal_arn(aws_provider))
        if access_warning is not None:
            pulumi.log.warn(f"aws: {access_warning}", resource=self)
        cluster = Cluster(
            f"{name}-cluster",
            ClusterArgs(
                cluster_name=prefix,
                region=settings.region,
                partition=settings.partition,
                kubernetes_version=settings.kubernetes_version,
                subnet_ids=private_subnet_ids,
                endpoint_public_access=settings.endpoint_public_access,
                public_access_cidrs=settings.public_access_cidrs,
                access=settings.access,
                production=production,
                control_plane_log_retention_days=settings.control_plane_log_retention_days,
            ),
            opts=children,
        )
        network_addons = NetworkAddons(
            f"{name}-network-addons", NetworkAddonsArgs(cluster_name=cluster.cluster.name), opts=children
        )
        node_groups = NodeGroups(
            f"{name}-nodes",
            NodeGroupsArgs(
                cluster_name=cluster.cluster.name,
                kubernetes_version=settings.kubernetes_version,
                partition=settings.partition,
                subnet_ids=private_subnet_ids,
                system=settings.system_nodes,
                workers=settings.worker_nodes,
                asleep=config.sleep,
            ),
            opts=pulumi.ResourceOptions(parent=self, providers={"aws": aws_provider}, depends_on=network_addons.addons),
        )
        docker_hub = None
        if settings.docker_hub_username is not None and docker_hub_token is not None:
            docker_hub = DockerHubCache(
                f"{name}-docker-hub",
                DockerHubCacheArgs(
                    region=settings.region,
                    partition=settings.partition,
                    stack=config.stack,
                    username=settings.docker_hub_username,
                    token=docker_hub_token,
                    node_role_name=node_groups.role.name,
                ),
                opts=children,
            )
        else:
            pulumi.log.warn(ANONYMOUS_PULL_WARNING, resource=self)
        workload_addons = WorkloadAddons(
            f"{name}-addons",
            WorkloadAddonsArgs(
                cluster_name=cluster.cluster.name,
                partition=settings.partition,
                depends_on=[node_groups.system, *network_addons.addons],
            ),
            opts=children,
        )

        provider = cluster.provider
        # Not in the contract's `dependencies`: Airflow installs and runs without
        # it (the workers start at desiredSize), and a failed autoscaler release
        # must not hold back an Airflow upgrade.
        if settings.cluster_autoscaler:
            ClusterAutoscaler(
                f"{name}-autoscaler",
                ClusterAutoscalerArgs(
                    cluster_name=cluster.cluster.name,
                    region=settings.region,
                    image_tag=settings.cluster_autoscaler_image_tag,
                    provider=provider,
                    depends_on=[
                        node_groups.system,
                        node_groups.workers,
                        network_addons.pod_identity_agent,
                        # Its AWS endpoints resolve through cluster DNS.
                        workload_addons.coredns,
                    ],
                ),
                opts=children,
            )
        namespace = kube.namespace(f"{name}-namespace", config.airflow.namespace, provider, self)
        SharedStorage(
            f"{name}-shared-data",
            SharedStorageArgs(
                cluster_name=prefix,
                vpc_id=network.vpc.id,
                private_subnet_ids=private_subnet_ids,
                node_security_group_id=cluster.cluster_security_group_id,
                kms_key_arn=data_key.arn,
                namespace=namespace.metadata.name,
                size=config.airflow.shared_data_size,
                provider=provider,
                csi_driver=[workload_addons.efs_csi_driver],
                production=production,
            ),
            opts=children,
        )
        metadata_db = MetadataDb(
            f"{name}-metadata-db",
            MetadataDbArgs(
                identifier=prefix,
                vpc_id=network.vpc.id,
                private_subnet_ids=private_subnet_ids,
                client_security_group_id=cluster.cluster_security_group_id,
                kms_key_arn=data_key.arn,
                settings=settings.database,
                production=production,
            ),
            opts=children,
        )
        if not production:
            # Registered awake too (schedules disabled, database `available`): waking is an update.
            Sleep(
                f"{name}-sleep",
                SleepArgs(
                    asleep=config.sleep,
                    partition=settings.partition,
                    cluster_name=cluster.cluster.name,
                    node_groups={
                        SYSTEM_POOL: SleepNodeGroup(
                            node_groups.system.node_group_name,
                            node_groups.system.arn,
                            settings.system_nodes.max_size,
                        ),
                        WORKER_POOL: SleepNodeGroup(
                            node_groups.workers.node_group_name,
                            node_groups.workers.arn,
                            settings.worker_nodes.max_size,
                        ),
                    },
                    database_identifier=metadata_db.instance.identifier,
                    database_arn=metadata_db.instance.arn,
                ),
                opts=children,
            )
        log_store = LogStore(
            f"{name}-logs",
            LogStoreArgs(
                cluster_name=cluster.cluster.name,
                namespace=namespace.metadata.name,
                service_accounts=service_account_names(config.airflow.release_name),
                retention_days=settings.log_retention_days,
                production=production,
            ),
            opts=children,
        )

        monitoring = AmpMonitoring(
            f"{name}-monitoring",
            AmpMonitoringArgs(
                prefix=prefix,
                region=settings.region,
                cluster_name=cluster.cluster.name,
                cluster_arn=cluster.cluster.arn,
                addon_depends_on=[node_groups.system, *network_addons.addons],
                subnet_ids=private_subnet_ids,
                cluster_security_group_id=cluster.cluster_security_group_id,
                namespace=namespace.metadata.name,
                release_name=config.airflow.release_name,
                database_identifier=metadata_db.instance.identifier,
                database_instance_class=settings.database.instance_class,
                database_storage_gb=settings.database.allocated_storage_gb,
                production=production,
                alerts=config.alerts,
                asleep=config.sleep,
                webhook=load_alerts_webhook(),
            ),
            opts=children,
        )

        # With ui.domain the platform serves HTTPS itself and the chart's
        # Service stays ClusterIP; without, the chart's Service is the NLB.
        ui_load_balancer = load_balancer(settings, config.load_balancer)
        https = None
        if config.ui.domain is not None:
            https = HttpsEntry(
                f"{name}-https",
                HttpsEntryArgs(
                    domain=config.ui.domain,
                    dns_zone=config.ui.dns_zone,
                    namespace=namespace.metadata.name,
                    release_name=config.airflow.release_name,
                    load_balancer=ui_load_balancer,
                    provider=provider,
                ),
                opts=children,
            )

        self.outputs = PlatformOutputs(
            provider=provider,
            namespace=namespace.metadata.name,
            database=metadata_db.database,
            remote_logging=log_store.remote_logging,
            logs_claim_name=None,
            # EKS Pod Identity binds by namespace + ServiceAccount name: no annotations.
            service_account_annotations={},
            load_balancer=ui_load_balancer if https is None else None,
            public_url=config.ui.public_url,
            manual_dns_records=https.manual_dns_records if https is not None else (),
            worker_placement=node_groups.placement,
            # Pod networking, Pod Identity and DNS (the database's host name)
            # for the chart's pods; the Spot workers, EFS and its CSI driver
            # are for task pods only.
            dependencies=[
                node_groups.system,
                *network_addons.addons,
                workload_addons.coredns,
                metadata_db.instance,
                *log_store.associations.values(),
                # The chart's pods pull the Airflow image through the rule at once.
                *([docker_hub.rule, docker_hub.template, docker_hub.node_import] if docker_hub is not None else []),
            ],
            cluster_name=cluster.cluster.name,
            kubeconfig=cluster.kubeconfig,
            # Pod Identity hands out credentials but no region; boto3 needs
            # one for the S3 log handler's regional endpoint.
            environment={"AWS_REGION": settings.region, "AWS_DEFAULT_REGION": settings.region},
            docker_hub_mirror=docker_hub.mirror if docker_hub is not None else None,
            monitoring=console_links(
                settings.region, monitoring.workspace.id, monitoring.workspace.prometheus_endpoint, prefix
            ),
            # The system group spans every AZ's private subnet (at least two).
            zoned_nodes=True,
        )
        self.register_outputs(
            {
                "clusterName": cluster.cluster.name,
                "namespace": namespace.metadata.name,
                "logBucket": log_store.bucket.bucket,
            }
        )
