"""The Kubernetes Cluster Autoscaler: scales the managed node groups' ASGs, the Spot workers from zero and back.

KubernetesExecutor task pods tolerate the workers' taint and select their
label; when one is Pending for lack of room, the autoscaler raises the desired
capacity of the `workers` ASG, and removes a worker once it has run no task
pod for `scale-down-unneeded-time`. With the workers at zero nodes it learns
their labels, taint and instance type from `eks:DescribeNodegroup`, so no
`node-template` ASG tags are needed (managed node groups only).

Discovery: EKS tags every managed node group's ASG with
`k8s.io/cluster-autoscaler/enabled=true` and
`k8s.io/cluster-autoscaler/<cluster>=owned`, the chart's default
`autoDiscovery.tags`; both groups are therefore scaled, each within its own
minSize/maxSize. The system group keeps its minSize floor, and nodes running
non-DaemonSet kube-system pods (CoreDNS, the CSI controllers, this pod) are
never drained (`skip-nodes-with-system-pods` stays at its default, true).

Credentials come from EKS Pod Identity (needs the agent add-on): no
ServiceAccount annotation, the association is keyed by namespace and name.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass

import pulumi
import pulumi_aws as aws
import pulumi_kubernetes as k8s

from components.aws.iam import POD_IDENTITY_ACTIONS, POD_IDENTITY_PRINCIPAL, trust_policy
from components.aws.nodes import POOL_LABEL, SYSTEM_POOL

CHART = "cluster-autoscaler"
CHART_REPOSITORY = "https://kubernetes.github.io/autoscaler"
# The newest chart (kubernetes/autoscaler tag cluster-autoscaler-chart-9.59.0):
# its templates and RBAC follow the newest binaries (1.35, 1.36) and are a
# superset of what older ones use. Its default image tag (v1.35.0, withdrawn)
# is never used: chart_values always sets the tag of the cluster's minor
# (settings.CLUSTER_AUTOSCALER_IMAGE_TAGS).
CHART_VERSION = "9.59.0"
NAMESPACE = "kube-system"
RELEASE_NAME = "cluster-autoscaler"
SERVICE_ACCOUNT = "cluster-autoscaler"
RELEASE_TIMEOUT_SECONDS = 600

# Scale-down tuning. An idle Spot worker costs ~$0.07/h: remove it 5 minutes
# after its last task pod (default 10m) and do not hold scale-down for 10
# minutes after every scale-up (default) - a burst of tasks otherwise keeps all
# its nodes for 20 minutes. Running task pods are never evicted: KubernetesExecutor
# pods have no controller, and the autoscaler does not drain a node holding one.
SCALE_DOWN_UNNEEDED_TIME = "5m"
SCALE_DOWN_DELAY_AFTER_ADD = "5m"
# Which group to grow when several fit a pending pod. Today only one ever fits
# (task pods need the workers' toleration, nothing else has it); with more
# groups, least-waste picks the one left with the least idle CPU and memory
# instead of the default, random.
EXPANDER = "least-waste"

# Read-only calls for discovery and scale-from-zero templates, as the
# autoscaler's AWS cloud provider README lists them.
DESCRIBE_ACTIONS = (
    "autoscaling:DescribeAutoScalingGroups",
    "autoscaling:DescribeAutoScalingInstances",
    "autoscaling:DescribeLaunchConfigurations",
    "autoscaling:DescribeScalingActivities",
    "autoscaling:DescribeTags",
    "ec2:DescribeImages",
    "ec2:DescribeInstanceTypes",
    "ec2:DescribeLaunchTemplateVersions",
    "ec2:GetInstanceTypesFromInstanceRequirements",
    "eks:DescribeNodegroup",
)
# The only mutating calls, limited to the ASGs EKS tagged as this cluster's.
SCALING_ACTIONS = ("autoscaling:SetDesiredCapacity", "autoscaling:TerminateInstanceInAutoScalingGroup")


def owned_asg_tag(cluster_name: str) -> str:
    return f"k8s.io/cluster-autoscaler/{cluster_name}"


def autoscaler_policy(cluster_name: str) -> str:
    return json.dumps(
        {
            "Version": "2012-10-17",
            "Statement": [
                {"Sid": "Discover", "Effect": "Allow", "Action": list(DESCRIBE_ACTIONS), "Resource": "*"},
                {
                    "Sid": "ScaleOwnNodeGroups",
                    "Effect": "Allow",
                    "Action": list(SCALING_ACTIONS),
                    "Resource": "*",
                    "Condition": {"StringEquals": {f"aws:ResourceTag/{owned_asg_tag(cluster_name)}": "owned"}},
                },
            ],
        }
    )


def chart_values(cluster_name: str, region: str, image_tag: str) -> dict[str, object]:
    """Keys as the chart's README values table and values.yaml define them (all present
    unchanged across 9.x); an unknown key would be silently ignored, not rejected."""
    return {
        "cloudProvider": "aws",
        "awsRegion": region,
        "autoDiscovery": {"clusterName": cluster_name},
        "image": {"tag": image_tag},
        "rbac": {"create": True, "serviceAccount": {"create": True, "name": SERVICE_ACCOUNT}},
        "extraArgs": {
            "expander": EXPANDER,
            "scale-down-unneeded-time": SCALE_DOWN_UNNEEDED_TIME,
            "scale-down-delay-after-add": SCALE_DOWN_DELAY_AFTER_ADD,
        },
        # On-demand system nodes only: a Spot interruption must not take the
        # autoscaler down with the workers it is about to replace.
        "nodeSelector": {POOL_LABEL: SYSTEM_POOL},
        "tolerations": [],
        # The chart's commented example requests; memory grows with node count,
        # so a limit with headroom rather than equal to the request.
        "resources": {
            "requests": {"cpu": "100m", "memory": "300Mi"},
            "limits": {"memory": "600Mi"},
        },
    }


@dataclass(frozen=True)
class ClusterAutoscalerArgs:
    cluster_name: pulumi.Input[str]
    region: str
    # settings.CLUSTER_AUTOSCALER_IMAGE_TAGS[kubernetesVersion]
    image_tag: str
    provider: k8s.Provider
    # The node groups it scales and the Pod Identity agent that hands it credentials.
    depends_on: Sequence[pulumi.Resource]


class ClusterAutoscaler(pulumi.ComponentResource):
    role: aws.iam.Role
    association: aws.eks.PodIdentityAssociation
    release: k8s.helm.v3.Release

    def __init__(self, name: str, args: ClusterAutoscalerArgs, opts: pulumi.ResourceOptions | None = None) -> None:
        super().__init__("airflow-platform:aws:ClusterAutoscaler", name, None, opts)
        local = pulumi.ResourceOptions(parent=self)
        cluster_name = pulumi.Output.from_input(args.cluster_name)

        self.role = aws.iam.Role(
            f"{name}-role",
            assume_role_policy=trust_policy(POD_IDENTITY_PRINCIPAL, POD_IDENTITY_ACTIONS),
            description="Cluster Autoscaler: scale this cluster's node groups (EKS Pod Identity)",
            opts=local,
        )
        policy = aws.iam.RolePolicy(
            f"{name}-scaling",
            role=self.role.name,
            policy=cluster_name.apply(autoscaler_policy),
            opts=local,
        )
        self.association = aws.eks.PodIdentityAssociation(
            f"{name}-identity",
            cluster_name=args.cluster_name,
            namespace=NAMESPACE,
            service_account=SERVICE_ACCOUNT,
            role_arn=self.role.arn,
            opts=local,
        )
        self.release = k8s.helm.v3.Release(
            f"{name}-chart",
            k8s.helm.v3.ReleaseArgs(
                name=RELEASE_NAME,
                chart=CHART,
                version=CHART_VERSION,
                repository_opts=k8s.helm.v3.RepositoryOptsArgs(repo=CHART_REPOSITORY),
                namespace=NAMESPACE,
                values=cluster_name.apply(lambda cluster: chart_values(cluster, args.region, args.image_tag)),
                timeout=RELEASE_TIMEOUT_SECONDS,
                atomic=True,
                cleanup_on_fail=True,
                max_history=10,
            ),
            opts=pulumi.ResourceOptions(
                parent=self,
                provider=args.provider,
                # The first pod starts with its credentials and permissions in place.
                depends_on=[*args.depends_on, self.association, policy],
            ),
        )
        self.register_outputs({"release": self.release.status.name, "roleArn": self.role.arn})
