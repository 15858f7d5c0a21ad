"""Shared RWX storage for task pods: encrypted EFS, mount targets, StorageClass and the data PVC."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import pulumi
import pulumi_aws as aws
import pulumi_kubernetes as k8s

from components import kube
from components.airflow.values import AIRFLOW_GID, AIRFLOW_UID
from components.aws.security import open_to_nodes
from components.platform import SHARED_DATA_CLAIM_NAME

NFS_PORT = 2049
EFS_PROVISIONER = "efs.csi.aws.com"
# Owner (uid 50000, the Airflow image's user) and group (gid 0, the group the
# image keeps its files writable for) get full access, others none. Every
# access through the access point is performed as 50000:0 (EFS enforces the
# POSIX user), so a KubernetesPodOperator image running as root or another uid
# still reads and writes as the owner - without world-writable directories.
DIRECTORY_PERMS = "770"
BASE_PATH = "/airflow-platform"


@dataclass(frozen=True)
class SharedStorageArgs:
    cluster_name: str
    vpc_id: pulumi.Input[str]
    private_subnet_ids: list[pulumi.Output[str]]
    # The EKS cluster security group: attached to every managed node.
    node_security_group_id: pulumi.Input[str]
    kms_key_arn: pulumi.Input[str]
    namespace: pulumi.Input[str]
    size: str
    provider: k8s.Provider
    # The EFS CSI driver must run before the PVC can be provisioned.
    csi_driver: Sequence[pulumi.Resource]
    production: bool


class SharedStorage(pulumi.ComponentResource):
    file_system: aws.efs.FileSystem
    mount_targets: list[aws.efs.MountTarget]
    storage_class: k8s.storage.v1.StorageClass
    claim: k8s.core.v1.PersistentVolumeClaim

    def __init__(self, name: str, args: SharedStorageArgs, opts: pulumi.ResourceOptions | None = None) -> None:
        super().__init__("airflow-platform:aws:SharedStorage", name, None, opts)
        local = pulumi.ResourceOptions(parent=self)

        # Encryption at rest can only be chosen at creation (CKV_AWS_42):
        # turning it on later replaces the file system and loses its data.
        self.file_system = aws.efs.FileSystem(
            f"{name}-efs",
            encrypted=True,
            kms_key_id=args.kms_key_arn,
            performance_mode="generalPurpose",
            # Pay per use; no provisioned throughput to size or forget.
            throughput_mode="elastic",
            # Files untouched for 30 days move to Infrequent Access (~1/12 the price),
            # and back on first access.
            lifecycle_policies=[
                aws.efs.FileSystemLifecyclePolicyArgs(transition_to_ia="AFTER_30_DAYS"),
                aws.efs.FileSystemLifecyclePolicyArgs(transition_to_primary_storage_class="AFTER_1_ACCESS"),
            ],
            tags={"Name": f"{args.cluster_name}-shared-data"},
            opts=pulumi.ResourceOptions(parent=self, protect=args.production),
        )
        # Daily AWS Backup of the file system (CKV2_AWS_18).
        aws.efs.BackupPolicy(
            f"{name}-backup",
            file_system_id=self.file_system.id,
            backup_policy=aws.efs.BackupPolicyBackupPolicyArgs(status="ENABLED"),
            opts=local,
        )

        security_group = open_to_nodes(
            f"{name}-nfs",
            f"{name}-nfs-from-nodes",
            description=f"NFS to the shared-data EFS from the {args.cluster_name} nodes only",
            rule_description="NFS from EKS nodes (cluster security group)",
            tag_name=f"{args.cluster_name}-efs",
            vpc_id=args.vpc_id,
            port=NFS_PORT,
            node_security_group_id=args.node_security_group_id,
            opts=local,
        )
        # One mount target per private subnet: every AZ's nodes mount locally.
        self.mount_targets = [
            aws.efs.MountTarget(
                f"{name}-mount-{index}",
                file_system_id=self.file_system.id,
                subnet_id=subnet_id,
                security_groups=[security_group.id],
                opts=local,
            )
            for index, subnet_id in enumerate(args.private_subnet_ids)
        ]

        self.storage_class = k8s.storage.v1.StorageClass(
            f"{name}-storage-class",
            metadata=k8s.meta.v1.ObjectMetaArgs(name="efs-airflow", labels=kube.MANAGED_BY),
            provisioner=EFS_PROVISIONER,
            parameters={
                # One EFS access point per volume, rooted under BASE_PATH.
                "provisioningMode": "efs-ap",
                "fileSystemId": self.file_system.id,
                "directoryPerms": DIRECTORY_PERMS,
                "uid": str(AIRFLOW_UID),
                "gid": str(AIRFLOW_GID),
                "basePath": BASE_PATH,
                "ensureUniqueDirectory": "true",
            },
            # Prod keeps the access point (and its directory) if the PVC is deleted.
            reclaim_policy="Retain" if args.production else "Delete",
            volume_binding_mode="Immediate",
            # The API server refuses any change to a claim's size unless its
            # class allows expansion, so a changed airflow.sharedDataSize would
            # fail `pulumi up`. EFS is elastic and the EFS CSI driver has no
            # resizer: the new request is accepted and simply recorded (the
            # claim keeps reporting its original capacity), nothing is resized.
            # The field is mutable: existing classes are patched in place.
            allow_volume_expansion=True,
            mount_options=["tls"],
            opts=kube.child_options(self, args.provider, depends_on=[*self.mount_targets, *args.csi_driver]),
        )
        self.claim = kube.volume_claim(
            f"{name}-{SHARED_DATA_CLAIM_NAME}",
            name=SHARED_DATA_CLAIM_NAME,
            namespace=args.namespace,
            # EFS is elastic; the request is required by Kubernetes but not enforced.
            size=args.size,
            access_mode="ReadWriteMany",
            storage_class=self.storage_class.metadata.name,
            provider=args.provider,
            parent=self,
            protect=args.production,
        )
        self.register_outputs({"fileSystemId": self.file_system.id, "claimName": self.claim.metadata.name})
