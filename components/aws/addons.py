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


@dataclass(frozen=True)
class CsiDriver:
    addon_name: str
    service_account: str
    policy: str


# The controllers' ServiceAccounts in kube-system, as the add-ons create them.
CSI_DRIVERS = (
    CsiDriver("aws-ebs-csi-driver", "ebs-csi-controller-sa", "service-role/AmazonEBSCSIDriverPolicy"),
    CsiDriver("aws-efs-csi-driver", "efs-csi-controller-sa", "service-role/AmazonEFSCSIDriverPolicy"),
)


def _addon(
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
            addon_name: _addon(
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
    """coredns and the EBS and EFS CSI drivers, each driver with its own role."""

    addons: list[aws.eks.Addon]
    coredns: aws.eks.Addon
    efs_csi_driver: aws.eks.Addon

    def __init__(self, name: str, args: WorkloadAddonsArgs, opts: pulumi.ResourceOptions | None = None) -> None:
        super().__init__("airflow-platform:aws:WorkloadAddons", name, None, opts)
        self.coredns = _addon(
            f"{name}-coredns",
            cluster_name=args.cluster_name,
            addon_name="coredns",
            parent=self,
            depends_on=args.depends_on,
        )
        self.addons = [self.coredns]
        for driver in CSI_DRIVERS:
            role = service_role(
                f"{name}-{driver.addon_name}-role",
                service=POD_IDENTITY_PRINCIPAL,
                actions=POD_IDENTITY_ACTIONS,
                managed_policies=[driver.policy],
                partition=args.partition,
                description=f"{driver.addon_name} controller (EKS Pod Identity)",
                parent=self,
            )
            # The add-on creates the Pod Identity association for its own
            # ServiceAccount (kube-system), so the role and the SA stay in step.
            addon = _addon(
                f"{name}-{driver.addon_name}",
                cluster_name=args.cluster_name,
                addon_name=driver.addon_name,
                parent=self,
                depends_on=[*args.depends_on, *role.attachments],
                pod_identity=[
                    aws.eks.AddonPodIdentityAssociationArgs(
                        role_arn=role.role.arn, service_account=driver.service_account
                    )
                ],
            )
            self.addons.append(addon)
            if driver.addon_name == "aws-efs-csi-driver":
                self.efs_csi_driver = addon
        self.register_outputs({"addons": [addon.addon_name for addon in self.addons]})
