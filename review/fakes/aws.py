"""Outputs a real AWS provider would return, for every attribute the AWS platform reads.

Without them the mocks echo inputs only, and reads such as the cluster's
endpoint or a role's ARN resolve to None: kubeconfig, IAM policies and the
connection URL would be built from nothing and their tests pass vacuously.
"""

from __future__ import annotations

from typing import Any

from review.runner import fake_bytes, register_fake_call, register_fake_outputs

ACCOUNT = "123456789012"
CLUSTER_SECURITY_GROUP = "sg-0c1a55e7c1u57e400"
CLUSTER_ENDPOINT = "https://0123456789ABCDEF.gr7.eu-west-1.eks.amazonaws.com"
# The identity running `pulumi up` in every mock run: an SSO session, whose role
# lives under the aws-reserved path.
DEPLOYER_ROLE = "AWSReservedSSO_AdministratorAccess_0123456789abcdef"
DEPLOYER_ROLE_ARN = f"arn:aws:iam::{ACCOUNT}:role/aws-reserved/sso.amazonaws.com/eu-west-1/{DEPLOYER_ROLE}"
DEPLOYER_SESSION_ARN = f"arn:aws:sts::{ACCOUNT}:assumed-role/{DEPLOYER_ROLE}/jane@example.com"
CLUSTER_CA = "LS0tLS1CRUdJTiBDRVJUSUZJQ0FURS0tLS0tCmZha2UKLS0tLS1FTkQgQ0VSVElGSUNBVEUtLS0tLQo="


@register_fake_outputs("aws:eks/cluster:Cluster")
def _cluster(name: str, inputs: dict[str, Any]) -> dict[str, Any]:
    return {
        "arn": f"arn:aws:eks:eu-west-1:{ACCOUNT}:cluster/{inputs['name']}",
        "endpoint": CLUSTER_ENDPOINT,
        "certificateAuthority": {"data": CLUSTER_CA},
        "vpcConfig": {**inputs["vpcConfig"], "clusterSecurityGroupId": CLUSTER_SECURITY_GROUP},
    }


@register_fake_outputs("aws:iam/role:Role")
def _role(name: str, inputs: dict[str, Any]) -> dict[str, Any]:
    return {"name": f"{name}-1a2b3c", "arn": f"arn:aws:iam::{ACCOUNT}:role/{name}-1a2b3c"}


@register_fake_outputs("aws:kms/key:Key")
def _kms_key(name: str, inputs: dict[str, Any]) -> dict[str, Any]:
    return {"arn": f"arn:aws:kms:eu-west-1:{ACCOUNT}:key/{name}", "keyId": name}


@register_fake_outputs("aws:s3/bucket:Bucket")
def _bucket(name: str, inputs: dict[str, Any]) -> dict[str, Any]:
    bucket = f"{name}-7f3e2d1"
    return {"bucket": bucket, "arn": f"arn:aws:s3:::{bucket}"}


@register_fake_outputs("aws:rds/instance:Instance")
def _rds(name: str, inputs: dict[str, Any]) -> dict[str, Any]:
    address = f"{inputs['identifier']}.c0ffee.eu-west-1.rds.amazonaws.com"
    return {"address": address, "endpoint": f"{address}:5432", "arn": f"arn:aws:rds:eu-west-1:{ACCOUNT}:db:{name}"}


@register_fake_outputs("aws:rds/subnetGroup:SubnetGroup")
def _subnet_group(name: str, inputs: dict[str, Any]) -> dict[str, Any]:
    return {"name": f"{name}-0a1b2c"}


@register_fake_outputs("aws:efs/fileSystem:FileSystem")
def _file_system(name: str, inputs: dict[str, Any]) -> dict[str, Any]:
    return {"arn": f"arn:aws:elasticfilesystem:eu-west-1:{ACCOUNT}:file-system/fs-{name}"}


@register_fake_outputs("aws:eks/nodeGroup:NodeGroup")
def _node_group(name: str, inputs: dict[str, Any]) -> dict[str, Any]:
    # pulumi-aws autonames nodeGroupName (`<resource name>-<7 hex>`) when unset.
    return {"nodeGroupName": inputs.get("nodeGroupName") or f"{name}-{fake_bytes(name, 4).hex()[:7]}"}


@register_fake_call("aws:index/getCallerIdentity:getCallerIdentity")
def _caller_identity(args: dict[str, Any]) -> dict[str, Any]:
    return {"accountId": ACCOUNT, "arn": DEPLOYER_SESSION_ARN, "userId": "AROAEXAMPLE:jane@example.com", "id": ACCOUNT}


@register_fake_call("aws:iam/getSessionContext:getSessionContext")
def _session_context(args: dict[str, Any]) -> dict[str, Any]:
    arn = args["arn"]
    issuer = DEPLOYER_ROLE_ARN if arn == DEPLOYER_SESSION_ARN else arn
    return {"arn": arn, "issuerArn": issuer, "issuerName": issuer.rsplit("/", 1)[-1], "id": arn}
