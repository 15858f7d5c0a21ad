"""IAM building blocks shared by the AWS components (trust policies, managed policy ARNs)."""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass

import pulumi
import pulumi_aws as aws

# EKS Pod Identity: the agent on each node assumes the role for a pod's
# ServiceAccount and tags the session with its namespace/name (hence TagSession).
POD_IDENTITY_PRINCIPAL = "pods.eks.amazonaws.com"
POD_IDENTITY_ACTIONS = ("sts:AssumeRole", "sts:TagSession")


def trust_policy(service: str, actions: Sequence[str] = ("sts:AssumeRole",)) -> str:
    """A role trust policy for an AWS service principal (eks, ec2, pods.eks)."""
    return json.dumps(
        {
            "Version": "2012-10-17",
            "Statement": [{"Effect": "Allow", "Principal": {"Service": service}, "Action": list(actions)}],
        }
    )


def managed_policy_arn(partition: str, policy_name: str) -> str:
    return f"arn:{partition}:iam::aws:policy/{policy_name}"


@dataclass(frozen=True)
class ServiceRole:
    role: aws.iam.Role
    # Whatever uses the role waits for these: a node group created before its
    # policies are attached fails to join the cluster.
    attachments: tuple[aws.iam.RolePolicyAttachment, ...]


def service_role(
    resource_name: str,
    *,
    service: str,
    actions: Sequence[str] = ("sts:AssumeRole",),
    managed_policies: Sequence[str],
    partition: str,
    description: str,
    parent: pulumi.Resource,
) -> ServiceRole:
    """A role assumed by an AWS service, with AWS-managed policies attached one resource each.

    Attachments are separate resources (not `managed_policy_arns`, deprecated)
    so adding one never rewrites the role.
    """
    role = aws.iam.Role(
        resource_name,
        assume_role_policy=trust_policy(service, actions),
        description=description,
        opts=pulumi.ResourceOptions(parent=parent),
    )
    attachments = tuple(
        aws.iam.RolePolicyAttachment(
            # The resource name drops a path such as `service-role/`.
            f"{resource_name}-{policy_name.rsplit('/', 1)[-1]}",
            role=role.name,
            policy_arn=managed_policy_arn(partition, policy_name),
            opts=pulumi.ResourceOptions(parent=parent),
        )
        for policy_name in managed_policies
    )
    return ServiceRole(role=role, attachments=attachments)
