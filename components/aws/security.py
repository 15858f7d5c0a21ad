"""Security groups the AWS platform repeats: one TCP port, open to the EKS nodes only."""

from __future__ import annotations

import pulumi
import pulumi_aws as aws


def open_to_nodes(
    group_name: str,
    rule_name: str,
    *,
    description: str,
    rule_description: str,
    tag_name: str,
    vpc_id: pulumi.Input[str],
    port: int,
    node_security_group_id: pulumi.Input[str],
    opts: pulumi.ResourceOptions,
) -> aws.ec2.SecurityGroup:
    """A security group admitting `port` only from the cluster security group.

    EKS attaches that group to every managed node, so nothing outside the
    cluster (and no CIDR) reaches the database or the file system.
    """
    group = aws.ec2.SecurityGroup(
        group_name, description=description, vpc_id=vpc_id, tags={"Name": tag_name}, opts=opts
    )
    aws.vpc.SecurityGroupIngressRule(
        rule_name,
        security_group_id=group.id,
        description=rule_description,
        ip_protocol="tcp",
        from_port=port,
        to_port=port,
        referenced_security_group_id=node_security_group_id,
        opts=opts,
    )
    return group
