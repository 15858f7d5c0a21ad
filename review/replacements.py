"""Which input changes make the provider replace a resource, for the types this project creates.

`pulumi preview` learns this from the provider at diff time; an offline plan
cannot ask the provider, so the replacement-forcing input paths are kept here,
each rule with where it was read. The pinned Python SDKs (pulumi_gcp 10.2,
pulumi_aws 7.51, pulumi_kubernetes 4.34) carry no ForceNew flag and no
provider schema, so the sources are the upstream providers the Pulumi
packages bridge:
- GCP: hashicorp/terraform-provider-google, `ForceNew: true` in the resource's
  schema (the Cloud SQL entry was read in
  google/services/sql/resource_sql_database_instance.go), documented on the
  registry page as "Changing this forces a new resource to be created";
- AWS: hashicorp/terraform-provider-aws, same convention;
- Kubernetes: pulumi-kubernetes provider/pkg/provider/diff.go
  (`forceNewProperties`: `.metadata.name` and `.metadata.namespace` for every
  kind, plus a per-kind list).
Paths are Pulumi's camelCase input paths as the mock runner records them;
list indexes are ignored (`nodeConfig.taints[0].key` matches `nodeConfig.taints`).
Some replacements depend on the direction of a change (Cloud SQL `settings.diskSize`
shrinking, a subnet's range shrinking): they are not listed, because the plan
compares values, not intent; `pulumi preview` remains the authority.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from policy.policies import STATEFUL_TYPES

TF_GOOGLE = "https://registry.terraform.io/providers/hashicorp/google/latest/docs/resources/"
TF_AWS = "https://registry.terraform.io/providers/hashicorp/aws/latest/docs/resources/"
K8S_DIFF = "https://github.com/pulumi/pulumi-kubernetes/blob/master/provider/pkg/provider/diff.go"
HELM_RELEASE = "https://github.com/pulumi/pulumi-kubernetes/blob/master/provider/pkg/provider/helm_release.go"
K8S_PROVIDER = "https://github.com/pulumi/pulumi-kubernetes/blob/master/provider/pkg/provider/provider.go"
EKS_NETWORK = "https://docs.aws.amazon.com/eks/latest/userguide/network-reqs.html"
RDS_VPC = "https://docs.aws.amazon.com/AmazonRDS/latest/UserGuide/USER_VPC.VPC2VPC.html"

# Every Kubernetes object is replaced when its name or namespace changes (diff.go).
K8S_IDENTITY = ("metadata.name", "metadata.namespace")

SQL_DATABASE = "gcp:sql/database:Database"
KMS_KEY_RING = "gcp:kms/keyRing:KeyRing"
K8S_NAMESPACE = "kubernetes:core/v1:Namespace"

# Replacing or deleting one loses data or everything inside it: the types the
# policy makes production protect (policy/policies.py: a database, a bucket, a
# file system, a key that encrypts data, a cluster with its volumes, a claim),
# and three it does not, whose replacement still loses what they hold.
STATEFUL = frozenset(
    {
        *STATEFUL_TYPES,
        # A new name is a new, empty database for Airflow (the old one is abandoned, not dropped).
        SQL_DATABASE,
        # Its crypto key goes with it (`keyRing` forces a new key): the Secrets it encrypted become unreadable.
        KMS_KEY_RING,
        # Deleting it deletes everything in it, the data claims among them.
        K8S_NAMESPACE,
    }
)


@dataclass(frozen=True)
class Rule:
    paths: tuple[str, ...]
    source: str


def _k8s(*paths: str) -> Rule:
    return Rule(K8S_IDENTITY + paths, K8S_DIFF)


RULES: dict[str, Rule] = {
    # --- GCP ---
    "gcp:container/cluster:Cluster": Rule(
        (
            "name",
            "location",
            "project",
            "network",
            "subnetwork",
            "initialNodeCount",
            "ipAllocationPolicy",
            "privateClusterConfig.masterIpv4CidrBlock",
        ),
        TF_GOOGLE + "container_cluster",
    ),
    "gcp:container/nodePool:NodePool": Rule(
        (
            "name",
            "namePrefix",
            "cluster",
            "location",
            "project",
            "initialNodeCount",
            "maxPodsPerNode",
            "networkConfig",
            "nodeConfig.spot",
            "nodeConfig.preemptible",
            "nodeConfig.serviceAccount",
            "nodeConfig.oauthScopes",
            "nodeConfig.metadata",
            "nodeConfig.shieldedInstanceConfig",
            "nodeConfig.bootDiskKmsKey",
            "nodeConfig.localSsdCount",
            "nodeConfig.guestAccelerators",
        ),
        TF_GOOGLE + "container_node_pool",
    ),
    "gcp:sql/databaseInstance:DatabaseInstance": Rule(
        ("name", "region", "project", "encryptionKeyName", "settings.diskType", "settings.collation"),
        TF_GOOGLE + "sql_database_instance",
    ),
    SQL_DATABASE: Rule(("name", "instance", "project"), TF_GOOGLE + "sql_database"),
    "gcp:sql/user:User": Rule(("name", "instance", "host", "project"), TF_GOOGLE + "sql_user"),
    "gcp:storage/bucket:Bucket": Rule(("name", "location", "project"), TF_GOOGLE + "storage_bucket"),
    KMS_KEY_RING: Rule(("name", "location", "project"), TF_GOOGLE + "kms_key_ring"),
    "gcp:kms/cryptoKey:CryptoKey": Rule(
        ("name", "keyRing", "purpose", "importOnly", "skipInitialVersionCreation", "versionTemplate.protectionLevel"),
        TF_GOOGLE + "kms_crypto_key",
    ),
    "gcp:compute/network:Network": Rule(("name", "project", "autoCreateSubnetworks"), TF_GOOGLE + "compute_network"),
    "gcp:compute/subnetwork:Subnetwork": Rule(
        ("name", "network", "region", "project"), TF_GOOGLE + "compute_subnetwork"
    ),
    "gcp:compute/address:Address": Rule(
        ("name", "address", "addressType", "region", "network", "subnetwork", "purpose", "project"),
        TF_GOOGLE + "compute_address",
    ),
    "gcp:compute/globalAddress:GlobalAddress": Rule(
        ("name", "address", "addressType", "prefixLength", "network", "purpose", "project"),
        TF_GOOGLE + "compute_global_address",
    ),
    "gcp:serviceaccount/account:Account": Rule(("accountId", "project"), TF_GOOGLE + "google_service_account"),
    # --- AWS ---
    "aws:eks/cluster:Cluster": Rule(
        (
            "name",
            "roleArn",
            "kubernetesNetworkConfig",
            "bootstrapSelfManagedAddons",
            "accessConfig.bootstrapClusterCreatorAdminPermissions",
            "outpostConfig",
        ),
        TF_AWS + "eks_cluster",
    ),
    "aws:eks/nodeGroup:NodeGroup": Rule(
        (
            "clusterName",
            "nodeGroupName",
            "nodeGroupNamePrefix",
            "nodeRoleArn",
            "subnetIds",
            "amiType",
            "capacityType",
            "instanceTypes",
            "diskSize",
            "remoteAccess",
        ),
        TF_AWS + "eks_node_group",
    ),
    "aws:rds/instance:Instance": Rule(
        (
            "identifier",
            "identifierPrefix",
            "engine",
            "availabilityZone",
            "dbName",
            "username",
            "kmsKeyId",
            "storageEncrypted",
            "characterSetName",
            "ncharCharacterSetName",
            "timezone",
            "snapshotIdentifier",
            "restoreToPointInTime",
            "s3Import",
        ),
        TF_AWS + "db_instance",
    ),
    "aws:rds/subnetGroup:SubnetGroup": Rule(("name", "namePrefix"), TF_AWS + "db_subnet_group"),
    "aws:efs/fileSystem:FileSystem": Rule(
        ("creationToken", "encrypted", "kmsKeyId", "performanceMode", "availabilityZoneName"),
        TF_AWS + "efs_file_system",
    ),
    "aws:s3/bucket:Bucket": Rule(("bucket", "bucketPrefix", "objectLockEnabled"), TF_AWS + "s3_bucket"),
    "aws:kms/key:Key": Rule(
        ("customerMasterKeySpec", "keyUsage", "multiRegion", "customKeyStoreId", "xksKeyId"),
        TF_AWS + "kms_key",
    ),
    "aws:ec2/vpc:Vpc": Rule(("cidrBlock",), TF_AWS + "vpc"),
    "aws:ec2/subnet:Subnet": Rule(("vpcId", "cidrBlock", "availabilityZone", "availabilityZoneId"), TF_AWS + "subnet"),
    # What lives in a VPC or a subnet: the knock-on replacements of a new network (review/diff.py).
    "aws:ec2/securityGroup:SecurityGroup": Rule(
        ("name", "namePrefix", "vpcId", "description"), TF_AWS + "security_group"
    ),
    "aws:vpc/securityGroupIngressRule:SecurityGroupIngressRule": Rule(
        ("securityGroupId",), TF_AWS + "vpc_security_group_ingress_rule"
    ),
    "aws:ec2/routeTable:RouteTable": Rule(("vpcId",), TF_AWS + "route_table"),
    "aws:ec2/routeTableAssociation:RouteTableAssociation": Rule(
        ("subnetId", "gatewayId"), TF_AWS + "route_table_association"
    ),
    "aws:ec2/natGateway:NatGateway": Rule(
        ("allocationId", "subnetId", "connectivityType", "privateIp"), TF_AWS + "nat_gateway"
    ),
    "aws:efs/mountTarget:MountTarget": Rule(("fileSystemId", "subnetId", "ipAddress"), TF_AWS + "efs_mount_target"),
    "aws:eks/addon:Addon": Rule(("clusterName", "addonName"), TF_AWS + "eks_addon"),
    "aws:eks/podIdentityAssociation:PodIdentityAssociation": Rule(
        ("clusterName", "namespace", "serviceAccount"), TF_AWS + "eks_pod_identity_association"
    ),
    # --- Kubernetes (pulumi-kubernetes diff.go) ---
    K8S_NAMESPACE: _k8s(),
    "kubernetes:core/v1:PersistentVolumeClaim": _k8s("spec"),
    "kubernetes:storage.k8s.io/v1:StorageClass": _k8s("parameters", "provisioner"),
    "kubernetes:core/v1:Secret": _k8s("type", "stringData", "data"),
    "kubernetes:core/v1:ConfigMap": _k8s("data", "binaryData"),
    "kubernetes:core/v1:Service": _k8s("spec.clusterIP"),
    # Helm cannot rename a release or move it to another namespace: the
    # provider uninstalls and installs it again.
    "kubernetes:helm.sh/v3:Release": Rule(("name", "namespace"), HELM_RELEASE),
}


@dataclass(frozen=True)
class Bound:
    """Inputs the provider updates in place, but the cloud refuses to point at another network."""

    inputs: tuple[str, ...]
    why: str
    source: str


# When what these inputs take their value from is replaced by one in a new VPC
# (an `aws.vpcCidr` change replaces the VPC, its subnets and security groups),
# the provider plans an in-place update that the cloud then refuses: the
# resource cannot follow, and only its replacement gets the change through.
NETWORK_BOUND: dict[str, Bound] = {
    # terraform-provider-aws #34209 made vpc_config.subnet_ids updatable (no ForceNew);
    # EKS accepts new subnets only in the cluster's original VPC and AZs.
    "aws:eks/cluster:Cluster": Bound(
        ("vpcConfig",), "EKS takes new subnets only from the VPC the cluster was created in", EKS_NETWORK
    ),
    "aws:rds/subnetGroup:SubnetGroup": Bound(
        ("subnetIds",), "RDS keeps a DB subnet group's subnets in one VPC", RDS_VPC
    ),
    "aws:rds/instance:Instance": Bound(
        ("dbSubnetGroupName", "vpcSecurityGroupIds"),
        "RDS moves an instance to another VPC only single-AZ, by hand, through a new subnet group",
        RDS_VPC,
    ),
}

# A Kubernetes provider whose kubeconfig points at another cluster replaces every
# object it manages (pulumi-kubernetes provider.go, DiffConfig: a changed active cluster).
PROVIDER_RULES: dict[str, Rule] = {"pulumi:providers:kubernetes": Rule(("kubeconfig",), K8S_PROVIDER)}

_INDEX = re.compile(r"\[\d+\]")


def _normalise(path: str) -> str:
    return _INDEX.sub("", path)


def _covers(rule_path: str, changed: str) -> bool:
    """A change at or under the rule's path, or a whole parent object added or removed."""
    return changed == rule_path or changed.startswith(rule_path + ".") or rule_path.startswith(changed + ".")


def forcing_paths(type_token: str, changed_paths: list[str]) -> list[str]:
    """The changed input paths that make the provider replace a resource of this type."""
    rule = RULES.get(type_token)
    if rule is None:
        return []
    return [path for path in changed_paths if any(_covers(rule_path, _normalise(path)) for rule_path in rule.paths)]


def knock_on(type_token: str, input_key: str) -> tuple[str, str] | None:
    """(why, source) when replacing what `input_key` takes its value from replaces this resource too.

    The engine makes a replaced resource's outputs unknown; an unknown value in a
    replacement-forcing input makes the provider plan a replacement (a Terraform
    ForceNew input, a Kubernetes object's name); a network-bound input cannot follow.
    """
    rule = RULES.get(type_token) or PROVIDER_RULES.get(type_token)
    if rule and any(_covers(path, input_key) for path in rule.paths):
        return "forces a replacement", rule.source
    bound = NETWORK_BOUND.get(type_token)
    if bound and input_key in bound.inputs:
        return bound.why, bound.source
    return None


def is_stateful(type_token: str) -> bool:
    return type_token in STATEFUL


def source(type_token: str) -> str:
    rule = RULES.get(type_token)
    return rule.source if rule else ""
