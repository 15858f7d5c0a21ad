"""EKS managed add-ons, and the IAM roles the CSI drivers get through EKS Pod Identity.

Versions are left to EKS: an add-on created without `addon_version` gets the
default version for the cluster's Kubernetes version, which AWS has tested
together, and Pulumi records it without a diff afterwards. Pinning would mean
tracking a version matrix per Kubernetes minor in config; after a cluster
upgrade, `aws eks describe-addon-versions` shows what to move to (set it
here then). Conflicts on create are overwritten because EKS bootstraps
self-managed vpc-cni, kube-proxy and coredns which the managed add-ons adopt;
on update, configuration changes made in the cluster are preserved.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import pulumi
import pulumi_aws as aws

from components.aws.iam import POD_IDENTITY_ACTIONS, POD_IDENTITY_PRINCIPAL, service_role

# Add-ons that are DaemonSets: they turn ACTIVE without nodes and nodes should
# join with them in place (terraform-aws-eks calls these `before_compute`).
POD_IDENTITY_AGENT = "eks-pod-identity-agent"
NETWORK_ADDONS = ("vpc-cni", "kube-proxy", POD_IDENTITY_AGENT)


# The only CSI driver: EFS backs the shared-data claim. No EBS CSI driver:
# nothing here claims an EBS volume (logs go to S3, the database is RDS, the
# chart's triggerer/logs persistence is off) and an unused driver is a
# controller Deployment, a node DaemonSet and an IAM role with EC2 volume
# rights for nothing. Add `aws-ebs-csi-driver` the same way if pods need EBS.
EFS_CSI_DRIVER = "aws-efs-csi-driver"
# The controller's ServiceAccount in kube-system, as the add-on creates it.
EFS_CSI_SERVICE_ACCOUNT = "efs-csi-controller-sa"
EFS_CSI_POLICY = "service-role/AmazonEFSCSIDriverPolicy"


def managed_addon(
    resource_name: str,
    *,
    cluster_name: pulumi.Input[str],
    addon_name: str,
    parent: pulumi.Resource,
    depends_on: Sequence[pulumi.Resource] = (),
    pod_identity: Sequence[aws.eks.AddonPodIdentityAssociationArgs] = (),
) -> aws.eks.Addon:
    return aws.eks.Addon(
        resource_name,
        cluster_name=cluster_name,
        addon_name=addon_name,
        resolve_conflicts_on_create="OVERWRITE",
        resolve_conflicts_on_update="PRESERVE",
        pod_identity_associations=list(pod_identity) or None,
        opts=pulumi.ResourceOptions(parent=parent, depends_on=list(depends_on)),
    )


@dataclass(frozen=True)
class NetworkAddonsArgs:
    cluster_name: pulumi.Input[str]


class NetworkAddons(pulumi.ComponentResource):
    """vpc-cni, kube-proxy and the Pod Identity agent, created before any node."""

    addons: list[aws.eks.Addon]
    # What every Pod Identity user waits for.
    pod_identity_agent: aws.eks.Addon

    def __init__(self, name: str, args: NetworkAddonsArgs, opts: pulumi.ResourceOptions | None = None) -> None:
        super().__init__("airflow-platform:aws:NetworkAddons", name, None, opts)
        by_name = {
            addon_name: managed_addon(
                f"{name}-{addon_name}", cluster_name=args.cluster_name, addon_name=addon_name, parent=self
            )
            for addon_name in NETWORK_ADDONS
        }
        self.addons = list(by_name.values())
        self.pod_identity_agent = by_name[POD_IDENTITY_AGENT]
        self.register_outputs({"addons": [addon.addon_name for addon in self.addons]})


@dataclass(frozen=True)
class WorkloadAddonsArgs:
    cluster_name: pulumi.Input[str]
    partition: str
    # Deployments (coredns, CSI controllers) need a node to turn ACTIVE, and the
    # CSI controllers need the Pod Identity agent for their credentials.
    depends_on: Sequence[pulumi.Resource]


class WorkloadAddons(pulumi.ComponentResource):
    """coredns and the EFS CSI driver with its own role."""

    addons: list[aws.eks.Addon]
    coredns: aws.eks.Addon
    efs_csi_driver: aws.eks.Addon

    def __init__(self, name: str, args: WorkloadAddonsArgs, opts: pulumi.ResourceOptions | None = None) -> None:
        super().__init__("airflow-platform:aws:WorkloadAddons", name, None, opts)
        self.coredns = managed_addon(
            f"{name}-coredns",
            cluster_name=args.cluster_name,
            addon_name="coredns",
            parent=self,
            depends_on=args.depends_on,
        )
        role = service_role(
            f"{name}-{EFS_CSI_DRIVER}-role",
            service=POD_IDENTITY_PRINCIPAL,
            actions=POD_IDENTITY_ACTIONS,
            managed_policies=[EFS_CSI_POLICY],
            partition=args.partition,
            description=f"{EFS_CSI_DRIVER} controller (EKS Pod Identity)",
            parent=self,
        )
        # The add-on creates the Pod Identity association for its own
        # ServiceAccount (kube-system), so the role and the SA stay in step.
        self.efs_csi_driver = managed_addon(
            f"{name}-{EFS_CSI_DRIVER}",
            cluster_name=args.cluster_name,
            addon_name=EFS_CSI_DRIVER,
            parent=self,
            depends_on=[*args.depends_on, *role.attachments],
            pod_identity=[
                aws.eks.AddonPodIdentityAssociationArgs(role_arn=role.role.arn, service_account=EFS_CSI_SERVICE_ACCOUNT)
            ],
        )
        self.addons = [self.coredns, self.efs_csi_driver]
        self.register_outputs({"addons": [addon.addon_name for addon in self.addons]})
