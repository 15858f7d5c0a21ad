"""The shared data volume task pods mount: Filestore (RWX) on the stack's VPC, or a persistent disk (RWO).

Why Filestore Basic HDD on GKE: it is the cheapest ReadWriteMany volume GKE
manages that behaves like a local POSIX file system (NFSv3, locking). With
the Filestore CSI driver on GKE 1.33+ a Basic HDD instance starts at 100 GiB
(~$20/month at list price, billed on capacity) instead of the 1 TiB
(~$200/month) of a Basic HDD instance made outside GKE; every other tier
(zonal, regional, enterprise, Basic SSD) starts at 1 TiB or more. Cloud
Storage FUSE is cheaper still but is not a POSIX file system (no locking,
no atomic rename), which tasks sharing files rely on. Sources:
https://cloud.google.com/filestore/docs/csi-driver (requirements: "Basic HDD
with GKE version 1.33 or later, 100 GiB to 63.9 TiB") and
https://cloud.google.com/filestore/docs/service-tiers ("Basic HDD (on GKE)").
Every release channel serves 1.33+ by now, and GKE auto-upgrades the control
plane, so the 100 GiB minimum holds for any cluster this stack creates.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import pulumi
import pulumi_gcp as gcp
import pulumi_kubernetes as k8s

from components import kube
from components.airflow.values import AIRFLOW_GID, AIRFLOW_UID
from components.validation import GIB, Problems, parse_quantity

# `standard-rwo` is always installed on GKE: pd-balanced, WaitForFirstConsumer.
PD_CLASS = "standard-rwo"
# The project's own Filestore class. GKE's built-in `standard-rwx` passes no
# `network`, and the driver then creates the instance on the VPC named
# `default` - not this stack's, so nodes could never mount it.
FILESTORE_CLASS = "airflow-shared-rwx"
FILESTORE_PROVISIONER = "filestore.csi.storage.gke.io"
# The driver's name for Basic HDD (https://github.com/kubernetes-sigs/gcp-filestore-csi-driver
# README: tier "standard" / "basic_hdd").
FILESTORE_TIER = "standard"
FILESTORE_MIN_GIB = 100
FILESTORE_MAX_TIB = 63.9
# NFSv3 is bidirectional: for file locking the Filestore instance calls back
# into its clients (portmapper, statd, nlockmgr). A custom VPC denies all
# ingress by default, so the nodes must admit the instance on these ports
# (https://cloud.google.com/filestore/docs/configuring-firewall).
NFS_PORTS = ["111", "2046", "2049", "2050", "4045"]


def check_shared_volume_size(problems: Problems, key: str, shared_storage: str, size: str) -> None:
    """Filestore rejects a claim outside its tier's capacity range; say so before anything is created."""
    size_bytes = parse_quantity(size)
    if shared_storage != "filestore" or size_bytes is None:
        return  # not a quantity at all: the config's own check (check_quantity) reports that
    if not FILESTORE_MIN_GIB <= size_bytes / GIB <= FILESTORE_MAX_TIB * 1024:
        problems.add(
            key,
            size,
            f"{FILESTORE_MIN_GIB}Gi to {FILESTORE_MAX_TIB}Ti with gcp.sharedStorage: filestore (the Filestore "
            "Basic HDD range on GKE, billed on the full size; it can grow later but never shrink)",
        )


@dataclass(frozen=True)
class FilestoreClassArgs:
    project: str
    # The stack's VPC: its name (for the driver) and id (for the firewall rule).
    network_name: pulumi.Input[str]
    network_id: pulumi.Input[str]
    # The private services access range and its CIDR: Filestore takes its
    # address from the range Cloud SQL already peers through.
    private_services_range: pulumi.Input[str]
    private_services_cidr: str
    # The GKE nodes' service account: the firewall rule admits NFS to them only.
    node_service_account: pulumi.Input[str]
    provider: k8s.Provider
    # Keep the Filestore instance when its claim is deleted (production).
    retain: bool
    # The file API and the private services connection the driver provisions through.
    depends_on: Sequence[pulumi.Resource]


class FilestoreClass(pulumi.ComponentResource):
    """A StorageClass that provisions Basic HDD Filestore on the stack's VPC, and the firewall rule NFS needs."""

    storage_class: k8s.storage.v1.StorageClass
    firewall: gcp.compute.Firewall

    def __init__(self, name: str, args: FilestoreClassArgs, opts: pulumi.ResourceOptions | None = None) -> None:
        super().__init__("airflow-platform:gcp:FilestoreClass", name, None, opts)
        self.firewall = gcp.compute.Firewall(
            f"{name}-nfs",
            network=args.network_id,
            direction="INGRESS",
            source_ranges=[args.private_services_cidr],
            target_service_accounts=[args.node_service_account],
            allows=[gcp.compute.FirewallAllowArgs(protocol=protocol, ports=NFS_PORTS) for protocol in ("tcp", "udp")],
            opts=pulumi.ResourceOptions(parent=self),
        )
        # Parameters: https://github.com/kubernetes-sigs/gcp-filestore-csi-driver (README, "tier", "network",
        # "connect-mode", "reserved-ip-range"). PRIVATE_SERVICE_ACCESS puts the instance behind the
        # servicenetworking peering Cloud SQL already uses, with an address from the stack's own
        # reserved range - no second peering, no address picked outside the stack's plan, and a known
        # source range for the firewall rule. In this mode the driver wants the network's full name.
        network = pulumi.Output.format("projects/{0}/global/networks/{1}", args.project, args.network_name)
        self.storage_class = k8s.storage.v1.StorageClass(
            f"{name}-class",
            metadata=k8s.meta.v1.ObjectMetaArgs(name=FILESTORE_CLASS, labels=kube.MANAGED_BY),
            provisioner=FILESTORE_PROVISIONER,
            parameters={
                "tier": FILESTORE_TIER,
                "network": network,
                "connect-mode": "PRIVATE_SERVICE_ACCESS",
                "reserved-ip-range": args.private_services_range,
            },
            # The instance is created in the zone of the first pod that mounts it.
            volume_binding_mode="WaitForFirstConsumer",
            # `airflow.sharedDataSize` can grow in place (Basic HDD never shrinks).
            allow_volume_expansion=True,
            reclaim_policy="Retain" if args.retain else "Delete",
            # StorageClass parameters are immutable and the name is fixed (the
            # claim refers to it): the Kubernetes provider deletes a named
            # object before recreating it (pulumi-kubernetes Diff,
            # deleteBeforeReplace). Existing volumes are unaffected.
            opts=kube.child_options(self, args.provider, depends_on=[*args.depends_on, self.firewall]),
        )
        self.register_outputs({"storageClass": self.storage_class.metadata.name})


# Where the ownership Job mounts the share; any path works, the Job only sees its root.
_SHARE_ROOT = "/share"


def shared_volume_owner(
    resource_name: str,
    *,
    claim_name: pulumi.Input[str],
    namespace: pulumi.Input[str],
    image: pulumi.Input[str],
    provider: k8s.Provider,
    parent: pulumi.Resource,
) -> k8s.batch.v1.Job:
    """Give the Filestore share's root to Airflow's uid, once, so task pods can write to it.

    A new Filestore share's root directory is root:root 0755, and kubelet does
    not apply `fsGroup` to NFS volumes (only to volumes it can chown itself), so
    the task pods (uid 50000, gid 0, non-root) could read but never write.
    This Job runs once as root with the Airflow image the nodes already pull and
    sets the root to 50000:0 with mode 2775 (setgid: new files stay in group 0).
    Its spec only changes with the image, and rerunning it is harmless.
    """
    return k8s.batch.v1.Job(
        resource_name,
        metadata=k8s.meta.v1.ObjectMetaArgs(
            name="airflow-shared-data-owner", namespace=namespace, labels=kube.MANAGED_BY
        ),
        spec=k8s.batch.v1.JobSpecArgs(
            backoff_limit=4,
            template=k8s.core.v1.PodTemplateSpecArgs(
                metadata=k8s.meta.v1.ObjectMetaArgs(labels=kube.MANAGED_BY),
                spec=k8s.core.v1.PodSpecArgs(
                    restart_policy="OnFailure",
                    containers=[
                        k8s.core.v1.ContainerArgs(
                            name="chown",
                            image=image,
                            command=[
                                "sh",
                                "-c",
                                f"chown {AIRFLOW_UID}:{AIRFLOW_GID} {_SHARE_ROOT} && chmod 2775 {_SHARE_ROOT}",
                            ],
                            security_context=k8s.core.v1.SecurityContextArgs(
                                run_as_user=0, run_as_non_root=False, allow_privilege_escalation=False
                            ),
                            volume_mounts=[k8s.core.v1.VolumeMountArgs(name="share", mount_path=_SHARE_ROOT)],
                        )
                    ],
                    volumes=[
                        k8s.core.v1.VolumeArgs(
                            name="share",
                            persistent_volume_claim=k8s.core.v1.PersistentVolumeClaimVolumeSourceArgs(
                                claim_name=claim_name
                            ),
                        )
                    ],
                ),
            ),
        ),
        # The claim binds when this pod is scheduled (WaitForFirstConsumer), so
        # the Job's wait includes creating the Filestore instance (minutes).
        opts=kube.child_options(parent, provider, custom_timeouts=pulumi.CustomTimeouts(create="30m")),
    )
