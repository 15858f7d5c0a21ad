"""Outputs a real AWS provider would return, for every attribute the AWS platform reads.

Without them the mocks echo inputs only, and reads such as the cluster's
endpoint or a role's ARN resolve to None: kubeconfig, IAM policies and the
connection URL would be built from nothing and their tests pass vacuously.
"""

from __future__ import annotations

from typing import Any

from review.runner import FAKE_OUTPUTS, fake_bytes, register_fake_call, register_fake_outputs

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
    """An assumed-role session's role (`assumed-role/<role>/<session>` -> `role/<role>`), users as they are."""
    arn = args["arn"]
    _, _, _, _, account, resource = arn.split(":", 5)
    issuer = arn
    if arn == DEPLOYER_SESSION_ARN:
        issuer = DEPLOYER_ROLE_ARN
    elif resource.startswith("assumed-role/"):
        issuer = f"arn:aws:iam::{account}:role/{resource.split('/')[1]}"
    return {"arn": arn, "issuerArn": issuer, "issuerName": issuer.rsplit("/", 1)[-1], "id": arn}


@register_fake_outputs("aws:acm/certificate:Certificate")
def _certificate(name: str, inputs: dict[str, Any]) -> dict[str, Any]:
    token = fake_bytes(name, 16).hex()
    return {
        "arn": f"arn:aws:acm:eu-west-1:{ACCOUNT}:certificate/{token[:8]}-{token[8:12]}-{token[12:16]}-{token[16:20]}",
        "status": "PENDING_VALIDATION",
        # ACM's DNS validation record for the name: a CNAME under the domain.
        "domainValidationOptions": [
            {
                "domainName": inputs["domainName"],
                "resourceRecordName": f"_{token[:32]}.{inputs['domainName']}.",
                "resourceRecordType": "CNAME",
                "resourceRecordValue": f"_{token[:32]}.validations.aws.",
            }
        ],
    }


@register_fake_outputs("aws:route53/record:Record")
def _record(name: str, inputs: dict[str, Any]) -> dict[str, Any]:
    return {"fqdn": str(inputs["name"]).rstrip(".")}


# Route 53's canonical hosted zone of Network Load Balancers in eu-west-1 (ELB endpoints table).
NLB_HOSTED_ZONE = "Z2IFOLAFXWLO4F"


@register_fake_call("aws:lb/getHostedZoneId:getHostedZoneId")
def _lb_hosted_zone(args: dict[str, Any]) -> dict[str, Any]:
    return {"id": NLB_HOSTED_ZONE, "loadBalancerType": args.get("loadBalancerType")}


_PLAIN_SERVICE = FAKE_OUTPUTS["kubernetes:core/v1:Service"]
LB_TYPE_ANNOTATION = "service.beta.kubernetes.io/aws-load-balancer-type"


@register_fake_outputs("kubernetes:core/v1:Service")
def _service(name: str, inputs: dict[str, Any]) -> dict[str, Any]:
    """The in-tree controller gives an NLB a DNS name, never an IP."""
    annotations = (inputs.get("metadata") or {}).get("annotations") or {}
    if LB_TYPE_ANNOTATION not in annotations:
        return _PLAIN_SERVICE(name, inputs)
    suffix = fake_bytes(name, 8).hex()
    return {"status": {"loadBalancer": {"ingress": [{"hostname": f"k8s-{suffix}.elb.eu-west-1.amazonaws.com"}]}}}


@register_fake_outputs("aws:secretsmanager/secret:Secret")
def _secret(name: str, inputs: dict[str, Any]) -> dict[str, Any]:
    # Secrets Manager appends a dash and six random characters to the name.
    return {"arn": f"arn:aws:secretsmanager:eu-west-1:{ACCOUNT}:secret:{inputs['name']}-{fake_bytes(name, 3).hex()}"}


@register_fake_call("aws:cloudwatch/getLogGroups:getLogGroups")
def _log_groups(args: dict[str, Any]) -> dict[str, Any]:
    """A new account: no log group yet (EKS has not created the cluster's)."""
    return {"logGroupNames": [], "arns": [], "id": "eu-west-1"}


@register_fake_call("aws:cloudwatch/getLogGroup:getLogGroup")
def _log_group(args: dict[str, Any]) -> dict[str, Any]:
    return {"name": args["name"], "id": args["name"], "retentionInDays": 0, "tags": {}}


@register_fake_outputs("aws:amp/workspace:Workspace")
def _prometheus_workspace(name: str, inputs: dict[str, Any]) -> dict[str, Any]:
    workspace = f"ws-{fake_bytes(name, 8).hex()}"
    return {
        "arn": f"arn:aws:aps:eu-west-1:{ACCOUNT}:workspace/{workspace}",
        "prometheusEndpoint": f"https://aps-workspaces.eu-west-1.amazonaws.com/workspaces/{workspace}/",
    }


@register_fake_outputs("aws:sns/topic:Topic")
def _topic(name: str, inputs: dict[str, Any]) -> dict[str, Any]:
    return {"arn": f"arn:aws:sns:eu-west-1:{ACCOUNT}:{inputs['name']}"}
