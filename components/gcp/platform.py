"""The GKE platform: everything Airflow needs on Google Cloud, as one PlatformOutputs."""

from __future__ import annotations

import pulumi
import pulumi_gcp as gcp
import pulumi_kubernetes as k8s

from components import kube
from components.config import PROJECT, StackConfig, load_alerts_webhook
from components.gcp.cluster import GkeCluster, GkeClusterArgs
from components.gcp.database import CloudSql, CloudSqlArgs
from components.gcp.https import GFE_PROXY_RANGES, HttpsEntry, HttpsEntryArgs
from components.gcp.identity import NodeIdentity, NodeIdentityArgs
from components.gcp.kms import SecretsKey, SecretsKeyArgs
from components.gcp.logs import LogStore, LogStoreArgs
from components.gcp.monitoring import GkeMonitoring, GkeMonitoringArgs, console_links
from components.gcp.network import Network, NetworkArgs
from components.gcp.node_pools import WORKER_DISK_SIZE_GB, NodePools, NodePoolsArgs, PoolSpec
from components.gcp.registry import DockerHubCache, DockerHubCacheArgs
from components.gcp.services import ProjectServices, ProjectServicesArgs
from components.gcp.settings import GcpSettings
from components.gcp.storage import (
    PD_CLASS,
    FilestoreClass,
    FilestoreClassArgs,
    check_shared_volume_size,
    shared_volume_owner,
)
from components.platform import SHARED_DATA_CLAIM_NAME, LoadBalancer, PlatformOutputs, docker_hub_image
from components.validation import Problems

# Added to every labelled GCP resource (cost reports, audits).
DEFAULT_LABELS = {"app": "airflow-platform", "managed-by": "pulumi"}


class GcpPlatform(pulumi.ComponentResource):
    """VPC + NAT, private GKE with system and spot worker pools, Cloud SQL on a
    private IP, a GCS log bucket reached through Workload Identity, a shared
    data volume, a static UI address and the Kubernetes provider for it all.

    Takes the whole StackConfig (as `components.stack` passes it): it needs
    the gcp section and the Airflow namespace, release name and volume size.
    """

    outputs: PlatformOutputs

    def __init__(self, name: str, config: StackConfig, opts: pulumi.ResourceOptions | None = None) -> None:
        super().__init__("airflow-platform:gcp:Platform", name, None, opts)
        if config.gcp is None:
            raise ValueError("GcpPlatform needs a stack with cloud: gcp")
        settings: GcpSettings = config.gcp
        airflow = config.airflow
        production = config.production
        # Cross-section rule, checked before the first resource exists.
        problems = Problems()
        check_shared_volume_size(
            problems, f"{PROJECT}:airflow.sharedDataSize", settings.shared_storage, airflow.shared_data_size
        )
        problems.raise_if_any()

        # Explicit project and region: nothing falls back to whatever
        # `gcloud config` happens to point at on the deploying machine.
        provider = gcp.Provider(
            f"{name}-gcp",
            project=settings.project,
            region=settings.region,
            default_labels=DEFAULT_LABELS,
            opts=pulumi.ResourceOptions(parent=self),
        )

        def child(**extra: object) -> pulumi.ResourceOptions:
            return pulumi.ResourceOptions(parent=self, providers=[provider], **extra)  # type: ignore[arg-type]

        apis = ProjectServices(
            f"{name}-apis",
            ProjectServicesArgs(
                project=settings.project,
                filestore=settings.shared_storage == "filestore",
                kms=settings.kms_encryption,
            ),
            opts=child(),
        ).services
        node_identity = NodeIdentity(
            f"{name}-node-identity",
            NodeIdentityArgs(
                project=settings.project, stack=config.stack, apis=[apis["iam"], apis["cloudresourcemanager"]]
            ),
            opts=child(),
        )
        network = Network(
            f"{name}-network",
            NetworkArgs(
                settings=settings,
                apis=[apis["compute"], apis["servicenetworking"]],
                ui_address=config.ui.domain is None,
            ),
            opts=child(),
        )

        secrets_key = None
        cluster_depends: list[pulumi.Resource] = [apis["container"], *node_identity.role_bindings]
        if settings.kms_encryption:
            secrets_key = SecretsKey(
                f"{name}-secrets-key",
                SecretsKeyArgs(
                    project=settings.project,
                    region=settings.region,
                    production=production,
                    apis=[apis["cloudkms"], apis["container"], apis["cloudresourcemanager"]],
                    provider=provider,
                ),
                opts=child(),
            )
            cluster_depends.append(secrets_key.gke_access)

        cluster = GkeCluster(
            f"{name}-gke",
            GkeClusterArgs(
                settings=settings,
                network=network.network.id,
                subnet=network.subnet.id,
                node_service_account=node_identity.account.email,
                secrets_key=secrets_key.crypto_key.id if secrets_key is not None else None,
                filestore_csi=settings.shared_storage == "filestore",
                gateway_api=config.ui.domain is not None,
                alerts_routed=config.alerts.routed,
                protect=production,
                depends_on=cluster_depends,
            ),
            opts=child(),
        )
        node_pools = NodePools(
            f"{name}-pools",
            NodePoolsArgs(
                cluster=cluster.cluster.id,
                location=cluster.cluster.location,
                service_account=node_identity.account.email,
                system=PoolSpec(
                    machine_type=settings.system_machine_type,
                    min_nodes=settings.system_min_nodes,
                    max_nodes=settings.system_max_nodes,
                    spot=settings.system_spot,
                    disk_size_gb=settings.system_disk_size_gb,
                ),
                workers=PoolSpec(
                    machine_type=settings.worker_machine_type,
                    min_nodes=settings.worker_min_nodes,
                    max_nodes=settings.worker_max_nodes,
                    spot=settings.worker_spot,
                    disk_size_gb=WORKER_DISK_SIZE_GB,
                ),
                depends_on=node_identity.role_bindings,
                asleep=config.sleep,
            ),
            opts=child(),
        )
        metadata_db = CloudSql(
            f"{name}-metadata-db",
            CloudSqlArgs(
                settings=settings,
                network=network.network.id,
                private_services_range=network.private_services_range.name,
                protect=production,
                depends_on=[apis["sqladmin"], network.private_services],
                asleep=config.sleep,
            ),
            opts=child(),
        )

        docker_hub = DockerHubCache(
            f"{name}-docker-hub",
            DockerHubCacheArgs(
                project=settings.project,
                region=settings.region,
                stack=config.stack,
                node_service_account=node_identity.account.email,
                apis=[apis["artifactregistry"]],
            ),
            opts=child(),
        )

        k8s_provider = k8s.Provider(
            f"{name}-k8s", kubeconfig=cluster.kubeconfig, opts=pulumi.ResourceOptions(parent=self)
        )
        namespace = kube.namespace(f"{name}-namespace", airflow.namespace, k8s_provider, self)
        logs = LogStore(
            f"{name}-logs",
            LogStoreArgs(
                settings=settings,
                stack=config.stack,
                namespace=airflow.namespace,
                release_name=airflow.release_name,
                protect=production,
                apis=[apis["storage"], apis["iam"]],
                cluster=cluster.cluster,
            ),
            opts=child(),
        )
        # Filestore: any number of task pods on any node (ReadWriteMany). A
        # persistent disk only where the worker pool has one node (settings).
        storage_class: pulumi.Input[str] = PD_CLASS
        access_mode = "ReadWriteOnce"
        if settings.shared_storage == "filestore":
            storage_class = FilestoreClass(
                f"{name}-filestore",
                FilestoreClassArgs(
                    project=settings.project,
                    network_name=network.network.name,
                    network_id=network.network.id,
                    private_services_range=network.private_services_range.name,
                    private_services_cidr=settings.private_services_cidr,
                    node_service_account=node_identity.account.email,
                    provider=k8s_provider,
                    retain=production,
                    depends_on=[apis["file"], network.private_services],
                ),
                opts=child(),
            ).storage_class.metadata.name
            access_mode = "ReadWriteMany"
        shared_data = kube.volume_claim(
            f"{name}-{SHARED_DATA_CLAIM_NAME}",
            name=SHARED_DATA_CLAIM_NAME,
            namespace=namespace.metadata.name,
            size=airflow.shared_data_size,
            access_mode=access_mode,
            storage_class=storage_class,
            provider=k8s_provider,
            parent=self,
            protect=production,
        )
        if settings.shared_storage == "filestore":
            shared_volume_owner(
                f"{name}-shared-data-owner",
                claim_name=shared_data.metadata.name,
                namespace=namespace.metadata.name,
                image=pulumi.Output.concat(
                    docker_hub_image(airflow.image_repository, docker_hub.mirror), ":", airflow.airflow_version
                ),
                provider=k8s_provider,
                parent=self,
            )

        # With ui.domain the Gateway serves HTTPS and the chart's Service stays
        # ClusterIP; without, the chart's Service is an L4 LoadBalancer on the
        # reserved regional address.
        https = None
        ui_load_balancer = None
        if config.ui.domain is not None:
            https = HttpsEntry(
                f"{name}-https",
                HttpsEntryArgs(
                    domain=config.ui.domain,
                    dns_zone=config.ui.dns_zone,
                    namespace=namespace.metadata.name,
                    release_name=airflow.release_name,
                    source_ranges=config.load_balancer.source_ranges,
                    provider=k8s_provider,
                    apis=[apis["compute"]],
                ),
                opts=child(),
            )
        elif network.ui_address is not None:
            ui_load_balancer = LoadBalancer(
                source_ranges=config.load_balancer.source_ranges, static_ip=network.ui_address.address
            )

        monitoring = GkeMonitoring(
            f"{name}-monitoring",
            GkeMonitoringArgs(
                project=settings.project,
                stack=config.stack,
                cluster_name=cluster.cluster.name,
                namespace=namespace.metadata.name,
                release_name=airflow.release_name,
                database_id=pulumi.Output.concat(settings.project, ":", metadata_db.instance.name),
                database_tier=settings.database_tier,
                production=production,
                alerts=config.alerts,
                asleep=config.sleep,
                webhook=load_alerts_webhook(),
                provider=k8s_provider,
                depends_on=[cluster.cluster, apis["monitoring"]],
            ),
            opts=child(),
        )

        self.outputs = PlatformOutputs(
            provider=k8s_provider,
            namespace=namespace.metadata.name,
            database=metadata_db.database,
            remote_logging=logs.remote_logging,
            logs_claim_name=None,
            service_account_annotations=logs.service_account_annotations,
            load_balancer=ui_load_balancer,
            public_url=config.ui.public_url,
            manual_dns_records=https.manual_dns_records if https is not None else (),
            # The API server trusts X-Forwarded-* from the Gateway's proxies and address only.
            trusted_proxies=(*GFE_PROXY_RANGES, https.address.address) if https is not None else (),
            worker_placement=node_pools.placement,
            # The release must not start before there are nodes to run it, a
            # database and user to migrate, and identities to write logs with;
            # the worker pool and the Filestore share are for task pods only.
            dependencies=[
                node_pools.system,
                # The nodes pull the Airflow image from the cache as soon as the chart's pods exist.
                docker_hub.reader,
                metadata_db.database_resource,
                metadata_db.user,
                logs.bucket_access,
                *logs.workload_identity.values(),
            ],
            cluster_name=cluster.cluster.name,
            kubeconfig=cluster.kubeconfig,
            database_connections=settings.database_connections,
            docker_hub_mirror=docker_hub.mirror,
            monitoring=console_links(settings.project, monitoring.dashboard.id),
            # A regional cluster's pools span the region's zones; a zonal one has one.
            zoned_nodes=settings.location_type == "regional",
        )
        self.register_outputs(
            {
                "clusterName": cluster.cluster.name,
                "logBucket": logs.bucket.name,
                "databaseConnectionName": metadata_db.instance.connection_name,
            }
        )
