"""The GKE control plane: VPC-native, private nodes, Workload Identity, Dataplane V2."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import pulumi
import pulumi_gcp as gcp

from components.gcp.kubeconfig import gke_kubeconfig
from components.gcp.monitoring import monitored_components
from components.gcp.network import PODS_RANGE, SERVICES_RANGE
from components.gcp.settings import GcpSettings

CLOUD_PLATFORM_SCOPE = "https://www.googleapis.com/auth/cloud-platform"
# Pods must use Workload Identity, never the node's own credentials.
GKE_METADATA = "GKE_METADATA"


@dataclass(frozen=True)
class GkeClusterArgs:
    settings: GcpSettings
    network: pulumi.Input[str]
    subnet: pulumi.Input[str]
    node_service_account: pulumi.Input[str]
    # None: Secrets in etcd use Google's default encryption only.
    secrets_key: pulumi.Input[str] | None
    filestore_csi: bool
    # GKE's Gateway controller and the Gateway API CRDs (the HTTPS entry point, components/gcp/https.py).
    gateway_api: bool
    protect: bool
    # The container API, the node identity's role bindings, the KMS grant.
    depends_on: Sequence[pulumi.Resource]
    # Alerts are routed somewhere: collect the Deployment metrics the API server alert reads.
    alerts_routed: bool = False


class GkeCluster(pulumi.ComponentResource):
    cluster: gcp.container.Cluster
    # The DNS-based control-plane endpoint, `gke-<id>.<location>.gke.goog`.
    dns_endpoint: pulumi.Output[str]
    kubeconfig: pulumi.Output[str]

    def __init__(self, name: str, args: GkeClusterArgs, opts: pulumi.ResourceOptions | None = None) -> None:
        super().__init__("airflow-platform:gcp:Cluster", name, None, opts)
        settings = args.settings
        self.cluster = gcp.container.Cluster(
            f"{name}-cluster",
            # A zone keeps the control plane within the GKE free tier; a
            # region replicates it (and its fee) across three zones.
            location=settings.location,
            network=args.network,
            subnetwork=args.subnet,
            networking_mode="VPC_NATIVE",
            ip_allocation_policy=gcp.container.ClusterIpAllocationPolicyArgs(
                cluster_secondary_range_name=PODS_RANGE, services_secondary_range_name=SERVICES_RANGE
            ),
            private_cluster_config=gcp.container.ClusterPrivateClusterConfigArgs(
                enable_private_nodes=True,
                # The endpoint stays reachable from outside the VPC (Pulumi
                # and kubectl run there) but only from the authorized networks.
                enable_private_endpoint=False,
                master_ipv4_cidr_block=settings.master_cidr,
            ),
            # Two ways to the API. The IP endpoint admits only the authorized
            # networks below (at most 50 CIDRs; GitHub-hosted runners egress
            # from thousands). The DNS-based endpoint admits any address but
            # only Google credentials whose principal holds
            # container.clusters.connect (roles/container.viewer and up), so CI
            # reaches it from anywhere by IAM; the stack's kubeconfig uses it.
            # Kubernetes-issued tokens and client certificates stay refused on
            # it. An in-place update of an existing cluster: terraform-provider-google
            # google/services/container/resource_container_cluster.go has no
            # ForceNew on control_plane_endpoints_config and sends it as
            # DesiredControlPlaneEndpointsConfig in UpdateCluster.
            control_plane_endpoints_config=gcp.container.ClusterControlPlaneEndpointsConfigArgs(
                dns_endpoint_config=gcp.container.ClusterControlPlaneEndpointsConfigDnsEndpointConfigArgs(
                    allow_external_traffic=True,
                    enable_k8s_tokens_via_dns=False,
                    enable_k8s_certs_via_dns=False,
                )
            ),
            master_authorized_networks_config=gcp.container.ClusterMasterAuthorizedNetworksConfigArgs(
                cidr_blocks=[
                    gcp.container.ClusterMasterAuthorizedNetworksConfigCidrBlockArgs(
                        cidr_block=network.cidr, display_name=network.name
                    )
                    for network in settings.master_authorized_networks
                ],
            ),
            workload_identity_config=gcp.container.ClusterWorkloadIdentityConfigArgs(
                workload_pool=settings.workload_pool
            ),
            release_channel=gcp.container.ClusterReleaseChannelArgs(channel=settings.release_channel),
            # Dataplane V2 (eBPF) enforces NetworkPolicy without the Calico add-on.
            datapath_provider="ADVANCED_DATAPATH",
            enable_legacy_abac=False,
            master_auth=gcp.container.ClusterMasterAuthArgs(
                client_certificate_config=gcp.container.ClusterMasterAuthClientCertificateConfigArgs(
                    issue_client_certificate=False
                )
            ),
            enable_shielded_nodes=True,
            # Managed Service for Prometheus collects the Airflow metrics (a
            # PodMonitoring, components/gcp/monitoring.py); an in-place update
            # (the GKE API's ClusterUpdate.desiredMonitoringConfig), never a new cluster.
            monitoring_config=gcp.container.ClusterMonitoringConfigArgs(
                enable_components=monitored_components(args.alerts_routed),
                managed_prometheus=gcp.container.ClusterMonitoringConfigManagedPrometheusArgs(enabled=True),
            ),
            # Switching the channel updates the cluster in place (the provider
            # sends desiredGatewayApiConfig in UpdateCluster; not among the
            # fields that force a new cluster, shared/reference/clouds.md).
            gateway_api_config=gcp.container.ClusterGatewayApiConfigArgs(channel="CHANNEL_STANDARD")
            if args.gateway_api
            else None,
            addons_config=gcp.container.ClusterAddonsConfigArgs(
                gcp_filestore_csi_driver_config=gcp.container.ClusterAddonsConfigGcpFilestoreCsiDriverConfigArgs(
                    enabled=args.filestore_csi
                ),
            ),
            database_encryption=gcp.container.ClusterDatabaseEncryptionArgs(
                state="ENCRYPTED", key_name=args.secrets_key
            )
            if args.secrets_key is not None
            else None,
            # GKE cannot create a cluster without a node pool; the default one
            # is deleted right away in favour of the separately managed pools
            # (changing a pool then never touches the cluster). Even that
            # short-lived pool runs as the least-privilege node account.
            remove_default_node_pool=True,
            initial_node_count=1,
            node_config=gcp.container.ClusterNodeConfigArgs(
                service_account=args.node_service_account,
                oauth_scopes=[CLOUD_PLATFORM_SCOPE],
                workload_metadata_config=gcp.container.ClusterNodeConfigWorkloadMetadataConfigArgs(mode=GKE_METADATA),
                shielded_instance_config=gcp.container.ClusterNodeConfigShieldedInstanceConfigArgs(
                    enable_secure_boot=True, enable_integrity_monitoring=True
                ),
            ),
            deletion_protection=settings.deletion_protection,
            opts=pulumi.ResourceOptions(
                parent=self,
                protect=args.protect,
                depends_on=list(args.depends_on),
                # node_config only describes the default pool, deleted right
                # after creation; a change to it would replace the cluster.
                ignore_changes=["nodeConfig"],
            ),
        )
        self.dns_endpoint: pulumi.Output[str] = self.cluster.control_plane_endpoints_config.apply(
            lambda endpoints: (endpoints.dns_endpoint_config.endpoint or "") if endpoints.dns_endpoint_config else ""
        )
        self.kubeconfig = pulumi.Output.secret(
            pulumi.Output.all(self.cluster.name, self.dns_endpoint).apply(lambda parts: gke_kubeconfig(*parts))
        )
        self.register_outputs({"name": self.cluster.name, "dnsEndpoint": self.dns_endpoint})
