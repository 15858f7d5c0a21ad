"""Managed node groups: an on-demand `system` group and a Spot `workers` group for task pods."""

from __future__ import annotations

from dataclasses import dataclass

import pulumi
import pulumi_aws as aws

from components.aws.iam import service_role
from components.aws.settings import NodeGroupSettings
from components.platform import Placement

POOL_LABEL = "airflow-platform/pool"
SYSTEM_POOL = "system"
WORKER_POOL = "workers"
NODE_POLICIES = ("AmazonEKSWorkerNodePolicy", "AmazonEKS_CNI_Policy", "AmazonEC2ContainerRegistryReadOnly")
# The engine's property path (camelCase): a snake_case nested path would not be
# translated by the SDK and would silently ignore nothing.
IGNORE_DESIRED_SIZE = "scalingConfig.desiredSize"

# Task pods tolerate the workers' taint and select their label; nothing else
# does, so Spot interruptions only ever hit KubernetesExecutor task pods.
WORKER_PLACEMENT = Placement(
    node_selector={POOL_LABEL: WORKER_POOL},
    tolerations=({"key": POOL_LABEL, "operator": "Equal", "value": WORKER_POOL, "effect": "NoSchedule"},),
)


@dataclass(frozen=True)
class NodeGroupsArgs:
    cluster_name: pulumi.Input[str]
    kubernetes_version: str
    partition: str
    subnet_ids: list[pulumi.Output[str]]
    system: NodeGroupSettings
    workers: NodeGroupSettings
    # `sleep: true`: minSize 0, so the sleep schedule may set desiredSize 0 (components/aws/sleep.py).
    asleep: bool = False


class NodeGroups(pulumi.ComponentResource):
    system: aws.eks.NodeGroup
    workers: aws.eks.NodeGroup
    placement: Placement
    # The kubelet pulls images as this role (the pull-through cache grants it more).
    role: aws.iam.Role

    def __init__(self, name: str, args: NodeGroupsArgs, opts: pulumi.ResourceOptions | None = None) -> None:
        super().__init__("airflow-platform:aws:NodeGroups", name, None, opts)
        node_role = service_role(
            f"{name}-role",
            service="ec2.amazonaws.com",
            managed_policies=NODE_POLICIES,
            partition=args.partition,
            description="EKS managed nodes",
            parent=self,
        )

        def node_group(
            pool: str, settings: NodeGroupSettings, capacity_type: str, taints: list[aws.eks.NodeGroupTaintArgs]
        ) -> aws.eks.NodeGroup:
            return aws.eks.NodeGroup(
                f"{name}-{pool}",
                cluster_name=args.cluster_name,
                # No node_group_name: Pulumi autonames the group (`<resource
                # name>-<random>`; pulumi-aws provider/resources.go maps
                # nodeGroupName to tfbridge.AutoName) and picks a fresh name
                # when a replacement is needed; node_group_name_prefix is left
                # unset too (the schema marks it ConflictsWith the name).
                # instance_types, ami_type, capacity_type, subnet_ids and the
                # node role force replacement (ForceNew in the provider's
                # aws_eks_node_group schema); the new group is created before
                # the old one is deleted, so the pool never has zero nodes. A
                # fixed name cannot exist twice: the replacement would have to
                # delete the group first and take every pod on it down until
                # new nodes join. Nothing selects nodes by group name: the pool
                # label, the taint, the autoscaler's ASG tags (EKS tags every
                # managed group's ASG) and Pod Identity are all name-free.
                version=args.kubernetes_version,
                node_role_arn=node_role.role.arn,
                subnet_ids=args.subnet_ids,
                ami_type=settings.ami_type,
                capacity_type=capacity_type,
                instance_types=list(settings.instance_types),
                scaling_config=aws.eks.NodeGroupScalingConfigArgs(
                    min_size=0 if args.asleep else settings.min_size,
                    max_size=settings.max_size,
                    desired_size=settings.desired_size,
                ),
                update_config=aws.eks.NodeGroupUpdateConfigArgs(max_unavailable=1),
                labels={POOL_LABEL: pool},
                taints=taints,
                opts=pulumi.ResourceOptions(
                    parent=self,
                    depends_on=list(node_role.attachments),
                    # A cluster autoscaler owns the desired size once running;
                    # Pulumi setting it back on every `up` would fight it.
                    ignore_changes=[IGNORE_DESIRED_SIZE],
                ),
            )

        self.system = node_group(SYSTEM_POOL, args.system, "ON_DEMAND", [])
        self.workers = node_group(
            WORKER_POOL,
            args.workers,
            "SPOT",
            [aws.eks.NodeGroupTaintArgs(key=POOL_LABEL, value=WORKER_POOL, effect="NO_SCHEDULE")],
        )
        self.placement = WORKER_PLACEMENT
        self.role = node_role.role
        self.register_outputs({"system": self.system.node_group_name, "workers": self.workers.node_group_name})
