"""Each AWS component alone under mocks: what it registers and with which options."""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any
from urllib.parse import urlsplit

import pulumi
import pulumi_kubernetes as k8s
import pytest

from components.aws.addons import NetworkAddons, NetworkAddonsArgs, WorkloadAddons, WorkloadAddonsArgs
from components.aws.cluster import Cluster, ClusterArgs
from components.aws.database import MetadataDb, MetadataDbArgs
from components.aws.logs import LogStore, LogStoreArgs
from components.aws.network import Network, NetworkArgs
from components.aws.nodes import NodeGroups, NodeGroupsArgs
from components.aws.settings import ClusterAccess, DatabaseSettings, NodeGroupSettings
from components.aws.storage import SharedStorage, SharedStorageArgs
from components.platform import AIRFLOW_COMPONENTS, SHARED_DATA_CLAIM_NAME, service_account_names
from review.fakes.aws import CLUSTER_CA, CLUSTER_ENDPOINT
from review.runner import Registered, Run, run_program

ZONES = ("eu-west-1a", "eu-west-1b", "eu-west-1c")
SUBNETS = ["subnet-a", "subnet-b", "subnet-c"]
NODE_SG = "sg-0123nodes"


def run(build: Callable[[], Any]) -> Run:
    return run_program(build, config={})


def ids(values: list[str]) -> list[pulumi.Output[str]]:
    return [pulumi.Output.from_input(value) for value in values]


def depends_on(resource: Registered, other: Registered) -> bool:
    return other.urn in resource.dependencies


# --- network -----------------------------------------------------------------


def network(per_az: bool) -> Run:
    return run(
        lambda: Network(
            "net",
            NetworkArgs(
                cluster_name="airflow-platform-test",
                vpc_cidr="10.40.0.0/16",
                availability_zones=ZONES,
                public_subnet_cidrs=("10.40.224.0/22", "10.40.228.0/22", "10.40.232.0/22"),
                private_subnet_cidrs=("10.40.0.0/19", "10.40.32.0/19", "10.40.64.0/19"),
                nat_gateway_per_az=per_az,
                region="eu-west-1",
            ),
        )
    )


@pytest.mark.parametrize(("per_az", "expected"), [(True, 3), (False, 1)])
def test_nat_gateway_per_az_or_one(per_az: bool, expected: int) -> None:
    recorded = network(per_az)
    assert len(recorded.of_type("aws:ec2/natGateway:NatGateway")) == expected
    assert len(recorded.of_type("aws:ec2/eip:Eip")) == expected
    nat_ids = {f"{gateway.name}-id" for gateway in recorded.of_type("aws:ec2/natGateway:NatGateway")}
    private_tables = [t for t in recorded.of_type("aws:ec2/routeTable:RouteTable") if "private" in t.name]
    assert len(private_tables) == 3
    for table in private_tables:
        assert table.inputs["routes"][0]["natGatewayId"] in nat_ids, f"{table.name} has no NAT route"
    if per_az:
        for zone in ZONES:
            table = recorded.one("aws:ec2/routeTable:RouteTable", f"net-private-routes-{zone}")
            assert table.inputs["routes"][0]["natGatewayId"] == f"net-nat-{zone}-id", "cross-AZ NAT route"


def test_s3_is_reached_through_a_gateway_endpoint_on_every_private_route_table() -> None:
    """Task logs and ECR image layers (served from S3) skip the NAT gateway and its per-GB charge."""
    recorded = network(False)
    endpoint = recorded.one("aws:ec2/vpcEndpoint:VpcEndpoint", "net-s3").inputs
    assert (endpoint["serviceName"], endpoint["vpcEndpointType"]) == ("com.amazonaws.eu-west-1.s3", "Gateway")
    private_tables = {f"{t.name}-id" for t in recorded.of_type("aws:ec2/routeTable:RouteTable") if "private" in t.name}
    assert set(endpoint["routeTableIds"]) == private_tables and len(private_tables) == len(ZONES)


def test_subnets_carry_load_balancer_and_cluster_tags() -> None:
    recorded = network(True)
    subnets = recorded.of_type("aws:ec2/subnet:Subnet")
    assert len(subnets) == 6
    for subnet in subnets:
        tags = subnet.inputs["tags"]
        assert tags["kubernetes.io/cluster/airflow-platform-test"] == "shared", subnet.name
        role = "kubernetes.io/role/elb" if "public" in subnet.name else "kubernetes.io/role/internal-elb"
        assert tags[role] == "1", subnet.name
    associations = recorded.of_type("aws:ec2/routeTableAssociation:RouteTableAssociation")
    assert {a.inputs["subnetId"] for a in associations} == {f"{s.name}-id" for s in subnets}


# --- cluster -----------------------------------------------------------------


def cluster(
    production: bool,
    public: bool = True,
    admin: str | None = None,
    read_only: tuple[str, ...] = (),
    deploy: tuple[str, ...] = (),
) -> Run:
    def build() -> None:
        component = Cluster(
            "cl",
            ClusterArgs(
                cluster_name="airflow-platform-test",
                region="eu-west-1",
                partition="aws",
                kubernetes_version="1.34",
                subnet_ids=ids(SUBNETS),
                endpoint_public_access=public,
                public_access_cidrs=("198.51.100.0/24",) if public else (),
                access=ClusterAccess(admin_role_arn=admin, deploy_role_arns=deploy, read_only_role_arns=read_only),
                production=production,
                control_plane_log_retention_days=30,
            ),
        )
        pulumi.export("kubeconfig", component.kubeconfig)
        pulumi.export("securityGroup", component.cluster_security_group_id)

    return run(build)


def test_cluster_is_encrypted_logged_and_allowlisted() -> None:
    recorded = cluster(production=True)
    eks = recorded.one("aws:eks/cluster:Cluster")
    key = recorded.one("aws:kms/key:Key")
    assert key.inputs["enableKeyRotation"] is True
    assert eks.inputs["encryptionConfig"] == {
        "resources": ["secrets"],
        "provider": {"keyArn": f"arn:aws:kms:eu-west-1:123456789012:key/{key.name}"},
    }
    vpc = eks.inputs["vpcConfig"]
    assert vpc["endpointPrivateAccess"] is True
    assert vpc["publicAccessCidrs"] == ["198.51.100.0/24"]
    assert vpc["subnetIds"] == SUBNETS
    assert eks.inputs["enabledClusterLogTypes"] == ["api", "audit", "authenticator"]
    assert eks.inputs["accessConfig"] == {
        "authenticationMode": "API",
        "bootstrapClusterCreatorAdminPermissions": True,
    }
    assert eks.inputs["version"] == "1.34"
    assert eks.protect and key.protect, "prod cluster and its key must be protected"
    assert recorded.exports["securityGroup"].value == "sg-0c1a55e7c1u57e400"


def test_cluster_role_may_use_its_key() -> None:
    recorded = cluster(production=False)
    policy = json.loads(recorded.one("aws:iam/rolePolicy:RolePolicy").inputs["policy"])
    key = recorded.one("aws:kms/key:Key")
    assert policy["Statement"][0]["Resource"].endswith(f"key/{key.name}")
    assert "kms:Decrypt" in policy["Statement"][0]["Action"]
    attachment = recorded.one("aws:iam/rolePolicyAttachment:RolePolicyAttachment")
    assert attachment.inputs["policyArn"] == "arn:aws:iam::aws:policy/AmazonEKSClusterPolicy"
    assert depends_on(recorded.one("aws:eks/cluster:Cluster"), attachment)


def test_dev_cluster_is_not_protected_and_private_endpoint_drops_allowlist() -> None:
    recorded = cluster(production=False, public=False)
    eks = recorded.one("aws:eks/cluster:Cluster")
    assert not eks.protect
    assert eks.inputs["vpcConfig"]["endpointPublicAccess"] is False
    assert "publicAccessCidrs" not in eks.inputs["vpcConfig"]
    assert eks.inputs["upgradePolicy"] == {"supportType": "STANDARD"}


ADMIN_ROLE = "arn:aws:iam::123456789012:role/platform-admins"


def test_admin_role_gets_cluster_scoped_admin_policy() -> None:
    arn = ADMIN_ROLE
    recorded = cluster(production=False, admin=arn)
    entry = recorded.one("aws:eks/accessEntry:AccessEntry")
    association = recorded.one("aws:eks/accessPolicyAssociation:AccessPolicyAssociation")
    assert entry.inputs["principalArn"] == arn == association.inputs["principalArn"]
    assert association.inputs["policyArn"] == "arn:aws:eks::aws:cluster-access-policy/AmazonEKSClusterAdminPolicy"
    assert association.inputs["accessScope"] == {"type": "cluster"}
    assert depends_on(association, entry)
    nobody = cluster(production=False, read_only=())
    assert not nobody.of_type("aws:eks/accessEntry:AccessEntry")
    assert not nobody.of_type("aws:eks/accessPolicyAssociation:AccessPolicyAssociation")


PREVIEW_ROLE = "arn:aws:iam::123456789012:role/airflow-platform-ci-preview"
AUDIT_ROLE = "arn:aws:iam::210987654321:role/security/auditors"
ACCESS_ENTRY = "aws:eks/accessEntry:AccessEntry"
POLICY_ASSOCIATION = "aws:eks/accessPolicyAssociation:AccessPolicyAssociation"
# The AWS-managed access policies without a write verb (EKS user guide, "Review access policy permissions").
VIEW_ONLY_POLICIES = {
    "arn:aws:eks::aws:cluster-access-policy/AmazonEKSViewPolicy",
    "arn:aws:eks::aws:cluster-access-policy/AmazonEKSAdminViewPolicy",
}


def grants(recorded: Run, role_arn: str) -> tuple[list[Registered], list[Registered]]:
    """The access entries and policy associations of one principal."""
    return (
        [entry for entry in recorded.of_type(ACCESS_ENTRY) if entry.inputs["principalArn"] == role_arn],
        [link for link in recorded.of_type(POLICY_ASSOCIATION) if link.inputs["principalArn"] == role_arn],
    )


def test_read_only_roles_get_a_cluster_scoped_view_policy_each() -> None:
    recorded = cluster(production=False, read_only=(PREVIEW_ROLE, AUDIT_ROLE))
    for role_arn in (PREVIEW_ROLE, AUDIT_ROLE):
        (entry,), (association,) = grants(recorded, role_arn)
        assert entry.inputs["type"] == "STANDARD", entry.name
        assert association.inputs["policyArn"] == "arn:aws:eks::aws:cluster-access-policy/AmazonEKSAdminViewPolicy"
        assert association.inputs["accessScope"] == {"type": "cluster"}, association.name
        assert depends_on(association, entry), association.name
    assert {entry.name for entry in recorded.of_type(ACCESS_ENTRY)} == {
        "cl-read-only-123456789012-airflow-platform-ci-preview",
        "cl-read-only-210987654321-auditors",
    }


def test_read_only_roles_can_never_write() -> None:
    """Fails if the preview role's policy became an admin or edit one: whoever
    can push a pull request branch acts as that role."""
    recorded = cluster(production=False, admin=ADMIN_ROLE, read_only=(PREVIEW_ROLE,))
    _, associations = grants(recorded, PREVIEW_ROLE)
    assert associations
    for association in associations:
        assert association.inputs["policyArn"] in VIEW_ONLY_POLICIES, association.name


def test_admin_entry_keeps_its_names_beside_read_only_roles() -> None:
    """The admin entry and association existed before read-only roles: renaming them would replace live access."""
    recorded = cluster(production=False, admin=ADMIN_ROLE, read_only=(PREVIEW_ROLE,))
    (entry,), (association,) = grants(recorded, ADMIN_ROLE)
    assert entry.name == association.name == "cl-admin"
    assert len(recorded.of_type(ACCESS_ENTRY)) == len(recorded.of_type(POLICY_ASSOCIATION)) == 2


CI_DEPLOY_ROLE = "arn:aws:iam::123456789012:role/airflow-platform-ci-deploy"


def test_deploy_roles_are_cluster_admins_and_the_creator_gets_no_entry_of_its_own() -> None:
    """With admins declared, EKS's creator entry is off: whoever runs the first `pulumi up`
    (a person or CI) finds exactly the declared entries, one per principal."""
    recorded = cluster(production=False, admin=ADMIN_ROLE, deploy=(CI_DEPLOY_ROLE,), read_only=(PREVIEW_ROLE,))
    assert (
        recorded.one("aws:eks/cluster:Cluster").inputs["accessConfig"]["bootstrapClusterCreatorAdminPermissions"]
        is False
    )
    (entry,), (association,) = grants(recorded, CI_DEPLOY_ROLE)
    assert entry.name == association.name == "cl-deploy-123456789012-airflow-platform-ci-deploy"
    assert association.inputs["policyArn"] == "arn:aws:eks::aws:cluster-access-policy/AmazonEKSClusterAdminPolicy"
    assert association.inputs["accessScope"] == {"type": "cluster"}
    principals = [entry.inputs["principalArn"] for entry in recorded.of_type(ACCESS_ENTRY)]
    assert sorted(principals) == sorted({ADMIN_ROLE, CI_DEPLOY_ROLE, PREVIEW_ROLE}), "one entry per principal"


def test_kubernetes_provider_waits_for_the_admins_access() -> None:
    """Without a creator entry the first Kubernetes call would race the admins' access entries."""
    recorded = cluster(production=False, admin=ADMIN_ROLE, deploy=(CI_DEPLOY_ROLE,))
    provider = recorded.one("pulumi:providers:kubernetes")
    for association in recorded.of_type(POLICY_ASSOCIATION):
        assert depends_on(provider, association), association.name


def test_without_declared_admins_the_creator_stays_admin() -> None:
    """No adminRoleArn nor deployRoleArns: EKS's creator entry is the only way in, as before."""
    recorded = cluster(production=False, read_only=(PREVIEW_ROLE,))
    assert (
        recorded.one("aws:eks/cluster:Cluster").inputs["accessConfig"]["bootstrapClusterCreatorAdminPermissions"]
        is True
    )


def test_creator_admin_flag_is_ignored_on_existing_clusters() -> None:
    """ForceNew in the provider: a change must never replace a live cluster (see tests/aws/test_stack.py)."""
    eks = cluster(production=True, deploy=(CI_DEPLOY_ROLE,)).one("aws:eks/cluster:Cluster")
    assert eks.ignore_changes == ("accessConfig.bootstrapClusterCreatorAdminPermissions",)


def test_kubeconfig_is_secret_and_uses_aws_eks_get_token() -> None:
    recorded = cluster(production=False)
    exported = recorded.exports["kubeconfig"]
    assert exported.secret
    kubeconfig = json.loads(exported.value)
    assert kubeconfig["clusters"][0]["cluster"] == {
        "server": CLUSTER_ENDPOINT,
        "certificate-authority-data": CLUSTER_CA,
    }
    exec_ = kubeconfig["users"][0]["user"]["exec"]
    assert exec_["apiVersion"] == "client.authentication.k8s.io/v1beta1"
    assert exec_["command"] == "aws"
    args = exec_["args"]
    assert args[:2] == ["eks", "get-token"]
    assert args[args.index("--cluster-name") + 1] == "airflow-platform-test"
    assert args[args.index("--region") + 1] == "eu-west-1"
    provider = recorded.one("pulumi:providers:kubernetes")
    assert json.loads(provider.inputs["kubeconfig"]) == kubeconfig


# --- node groups -------------------------------------------------------------


def node_groups() -> tuple[Run, NodeGroups]:
    created: dict[str, NodeGroups] = {}

    def build() -> None:
        created["groups"] = NodeGroups(
            "ng",
            NodeGroupsArgs(
                cluster_name="airflow-platform-test",
                kubernetes_version="1.34",
                partition="aws",
                subnet_ids=ids(SUBNETS),
                system=NodeGroupSettings(("m6i.large",), 3, 6, 3),
                workers=NodeGroupSettings(("m6i.xlarge", "m5.xlarge"), 0, 10, 1),
            ),
        )

    return run(build), created["groups"]


def test_worker_group_is_spot_scales_to_zero_and_is_tainted() -> None:
    recorded, groups = node_groups()
    workers = recorded.one("aws:eks/nodeGroup:NodeGroup", "ng-workers")
    assert workers.inputs["capacityType"] == "SPOT"
    assert workers.inputs["instanceTypes"] == ["m6i.xlarge", "m5.xlarge"]
    assert workers.inputs["scalingConfig"]["minSize"] == 0
    taint = workers.inputs["taints"][0]
    assert taint == {"key": "airflow-platform/pool", "value": "workers", "effect": "NO_SCHEDULE"}
    assert workers.inputs["labels"] == {"airflow-platform/pool": "workers"}
    # The placement handed to the chart matches the taint and label exactly.
    toleration = groups.placement.tolerations[0]
    assert (toleration["key"], toleration["value"], toleration["operator"]) == (taint["key"], taint["value"], "Equal")
    assert toleration["effect"] == "NoSchedule"
    assert dict(groups.placement.node_selector) == workers.inputs["labels"]


def test_system_group_is_on_demand_untainted() -> None:
    recorded, _ = node_groups()
    system = recorded.one("aws:eks/nodeGroup:NodeGroup", "ng-system")
    assert system.inputs["capacityType"] == "ON_DEMAND"
    assert not system.inputs.get("taints")
    assert system.inputs["amiType"] == "AL2023_x86_64_STANDARD"
    assert system.inputs["scalingConfig"] == {"minSize": 3.0, "maxSize": 6.0, "desiredSize": 3.0}


def test_desired_size_is_left_to_the_autoscaler_and_role_attached_first() -> None:
    recorded, _ = node_groups()
    attachments = recorded.of_type("aws:iam/rolePolicyAttachment:RolePolicyAttachment")
    assert {a.inputs["policyArn"].rsplit("/", 1)[-1] for a in attachments} == {
        "AmazonEKSWorkerNodePolicy",
        "AmazonEKS_CNI_Policy",
        "AmazonEC2ContainerRegistryReadOnly",
    }
    for group in recorded.of_type("aws:eks/nodeGroup:NodeGroup"):
        assert group.ignore_changes == ("scalingConfig.desiredSize",), group.name
        assert all(depends_on(group, attachment) for attachment in attachments), group.name


# --- add-ons -----------------------------------------------------------------


def addons() -> Run:
    def build() -> None:
        network_addons = NetworkAddons("net-addons", NetworkAddonsArgs(cluster_name="airflow-platform-test"))
        system = pulumi.CustomResource("test:index:NodeGroup", "system-nodes", {})
        WorkloadAddons(
            "addons",
            WorkloadAddonsArgs(
                cluster_name="airflow-platform-test", partition="aws", depends_on=[system, *network_addons.addons]
            ),
        )

    return run(build)


def test_every_addon_is_installed() -> None:
    names = {addon.inputs["addonName"] for addon in addons().of_type("aws:eks/addon:Addon")}
    assert names == {
        "vpc-cni",
        "kube-proxy",
        "eks-pod-identity-agent",
        "coredns",
        "aws-efs-csi-driver",
    }


def test_deployment_addons_wait_for_nodes_and_the_identity_agent() -> None:
    recorded = addons()
    system = recorded.named("system-nodes")
    agent = recorded.one("aws:eks/addon:Addon", "net-addons-eks-pod-identity-agent")
    for name in ("coredns", "aws-efs-csi-driver"):
        addon = recorded.one("aws:eks/addon:Addon", f"addons-{name}")
        assert depends_on(addon, system), f"{name} does not wait for the system nodes"
        assert depends_on(addon, agent), f"{name} does not wait for the Pod Identity agent"


def test_efs_csi_driver_gets_its_role_through_pod_identity() -> None:
    addon_name, service_account, policy = (
        "aws-efs-csi-driver",
        "efs-csi-controller-sa",
        "service-role/AmazonEFSCSIDriverPolicy",
    )
    recorded = addons()
    addon = recorded.one("aws:eks/addon:Addon", f"addons-{addon_name}")
    role = recorded.one("aws:iam/role:Role", f"addons-{addon_name}-role")
    association = addon.inputs["podIdentityAssociations"][0]
    assert association == {"serviceAccount": service_account, "roleArn": role.outputs["arn"]}
    trust = json.loads(role.inputs["assumeRolePolicy"])["Statement"][0]
    assert trust["Principal"] == {"Service": "pods.eks.amazonaws.com"}
    assert set(trust["Action"]) == {"sts:AssumeRole", "sts:TagSession"}
    attachment = recorded.one(
        "aws:iam/rolePolicyAttachment:RolePolicyAttachment", f"addons-{addon_name}-role-{policy.split('/')[-1]}"
    )
    assert attachment.inputs["policyArn"] == f"arn:aws:iam::aws:policy/{policy}"


# --- shared storage (EFS) ----------------------------------------------------


def storage(production: bool) -> Run:
    def build() -> None:
        provider = k8s.Provider("k8s", kubeconfig="{}")
        driver = pulumi.CustomResource("test:index:Addon", "efs-driver", {})
        SharedStorage(
            "shared",
            SharedStorageArgs(
                cluster_name="airflow-platform-test",
                vpc_id="vpc-1",
                private_subnet_ids=ids(SUBNETS),
                node_security_group_id=NODE_SG,
                kms_key_arn="arn:aws:kms:eu-west-1:123456789012:key/data",
                namespace="airflow",
                size="100Gi",
                provider=provider,
                csi_driver=[driver],
                production=production,
            ),
        )

    return run(build)


def test_efs_is_encrypted_backed_up_and_mounted_in_every_private_subnet() -> None:
    recorded = storage(production=True)
    file_system = recorded.one("aws:efs/fileSystem:FileSystem")
    assert file_system.inputs["encrypted"] is True
    assert file_system.inputs["kmsKeyId"] == "arn:aws:kms:eu-west-1:123456789012:key/data"
    assert file_system.protect
    backup = recorded.one("aws:efs/backupPolicy:BackupPolicy")
    assert backup.inputs == {"fileSystemId": "shared-efs-id", "backupPolicy": {"status": "ENABLED"}}
    targets = recorded.of_type("aws:efs/mountTarget:MountTarget")
    assert sorted(t.inputs["subnetId"] for t in targets) == SUBNETS
    assert {t.inputs["fileSystemId"] for t in targets} == {"shared-efs-id"}


def test_nfs_only_from_the_cluster_security_group() -> None:
    recorded = storage(production=False)
    rule = recorded.one("aws:vpc/securityGroupIngressRule:SecurityGroupIngressRule")
    assert rule.inputs["referencedSecurityGroupId"] == NODE_SG
    assert (rule.inputs["fromPort"], rule.inputs["toPort"], rule.inputs["ipProtocol"]) == (2049, 2049, "tcp")
    assert "cidrIpv4" not in rule.inputs
    group = recorded.one("aws:ec2/securityGroup:SecurityGroup")
    assert rule.inputs["securityGroupId"] == f"{group.name}-id"
    assert not group.inputs.get("ingress"), "inline ingress rules would bypass the one above"
    for target in recorded.of_type("aws:efs/mountTarget:MountTarget"):
        assert target.inputs["securityGroups"] == [f"{group.name}-id"]


def test_storage_class_and_rwx_claim() -> None:
    recorded = storage(production=True)
    storage_class = recorded.one("kubernetes:storage.k8s.io/v1:StorageClass")
    assert storage_class.inputs["provisioner"] == "efs.csi.aws.com"
    assert storage_class.inputs["parameters"] == {
        "provisioningMode": "efs-ap",
        "fileSystemId": "shared-efs-id",
        "directoryPerms": "770",
        "uid": "50000",
        "gid": "0",
        "basePath": "/airflow-platform",
        "ensureUniqueDirectory": "true",
    }
    assert storage_class.inputs["reclaimPolicy"] == "Retain"
    for target in recorded.of_type("aws:efs/mountTarget:MountTarget"):
        assert depends_on(storage_class, target), "the StorageClass must wait for the mount targets"
    assert depends_on(storage_class, recorded.named("efs-driver"))
    claim = recorded.one("kubernetes:core/v1:PersistentVolumeClaim")
    assert claim.inputs["metadata"]["name"] == SHARED_DATA_CLAIM_NAME
    assert claim.inputs["spec"]["accessModes"] == ["ReadWriteMany"]
    assert claim.inputs["spec"]["storageClassName"] == "efs-airflow"
    assert claim.protect
    assert "pulumi:providers:kubernetes" in claim.provider and "pulumi:providers:kubernetes" in storage_class.provider


def test_shared_data_size_can_grow() -> None:
    """airflow.sharedDataSize changes the claim's request; the API server rejects
    that for a class without allowVolumeExpansion."""
    recorded = storage(production=True)
    assert recorded.one("kubernetes:storage.k8s.io/v1:StorageClass").inputs["allowVolumeExpansion"] is True
    assert recorded.one("kubernetes:core/v1:PersistentVolumeClaim").inputs["spec"]["resources"] == {
        "requests": {"storage": "100Gi"}
    }


# --- metadata database (RDS) -------------------------------------------------


def database(production: bool, engine_version: str = "17") -> Run:
    def build() -> None:
        component = MetadataDb(
            "db",
            MetadataDbArgs(
                identifier="airflow-platform-test",
                vpc_id="vpc-1",
                private_subnet_ids=ids(SUBNETS),
                client_security_group_id=NODE_SG,
                kms_key_arn="arn:aws:kms:eu-west-1:123456789012:key/data",
                settings=DatabaseSettings(
                    instance_class="db.t4g.large" if production else "db.t4g.micro",
                    engine_version=engine_version,
                    allocated_storage_gb=50,
                    multi_az=production,
                    backup_retention_days=7 if production else 1,
                    deletion_protection=production,
                ),
                production=production,
            ),
        )
        pulumi.export("url", component.database.connection_url())

    return run(build)


def test_prod_database_is_private_encrypted_multi_az_and_kept() -> None:
    recorded = database(production=True)
    instance = recorded.one("aws:rds/instance:Instance")
    inputs = instance.inputs
    assert inputs["publiclyAccessible"] is False
    assert inputs["storageEncrypted"] is True
    assert inputs["kmsKeyId"] == "arn:aws:kms:eu-west-1:123456789012:key/data"
    assert inputs["multiAz"] is True
    assert inputs["backupRetentionPeriod"] >= 7
    assert inputs["deletionProtection"] is True
    assert inputs["skipFinalSnapshot"] is False
    assert inputs["finalSnapshotIdentifier"] == "airflow-platform-test-final"
    assert inputs["engine"] == "postgres" and inputs["engineVersion"] == "17"
    assert inputs["autoMinorVersionUpgrade"] is True
    assert inputs["performanceInsightsEnabled"] is True
    assert instance.protect
    subnet_group = recorded.one("aws:rds/subnetGroup:SubnetGroup")
    assert subnet_group.inputs["subnetIds"] == SUBNETS
    assert inputs["dbSubnetGroupName"] == subnet_group.outputs["name"]


# aws_db_instance arguments marked ForceNew in the provider's schema
# (terraform-provider-aws internal/service/rds/instance.go), camelCased.
RDS_REPLACING_INPUTS = (
    "identifier",
    "identifierPrefix",
    "engine",
    "kmsKeyId",
    "storageEncrypted",
    "dbName",
    "username",
    "availabilityZone",
    "characterSetName",
    "ncharCharacterSetName",
    "timezone",
    "snapshotIdentifier",
    "restoreToPointInTime",
    "customIamInstanceProfile",
)


def test_major_version_upgrade_is_allowed_in_place_and_minors_stay_automatic() -> None:
    """17 -> 18 in aws.database.engineVersion: RDS refuses it without
    allowMajorVersionUpgrade, and nothing that would replace the instance changes."""
    before = database(production=True, engine_version="17").one("aws:rds/instance:Instance").inputs
    after = database(production=True, engine_version="18").one("aws:rds/instance:Instance").inputs
    assert after["engineVersion"] == "18"
    for inputs in (before, after):
        assert inputs["allowMajorVersionUpgrade"] is True
        assert inputs["autoMinorVersionUpgrade"] is True
        assert inputs["applyImmediately"] is False, "the upgrade waits for the maintenance window"
    changed = {key for key in RDS_REPLACING_INPUTS if before.get(key) != after.get(key)}
    assert not changed, f"a version change would replace the metadata database through {changed}"
    exact = database(production=True, engine_version="18.1").one("aws:rds/instance:Instance").inputs
    assert exact["autoMinorVersionUpgrade"] is False, "an exact version stays exactly that"


def test_dev_database_is_cheap_and_disposable() -> None:
    inputs = database(production=False).one("aws:rds/instance:Instance").inputs
    assert inputs["multiAz"] is False
    assert inputs["backupRetentionPeriod"] == 1
    assert inputs["skipFinalSnapshot"] is True
    assert inputs["performanceInsightsEnabled"] is False


def test_postgres_only_from_the_cluster_security_group() -> None:
    recorded = database(production=True)
    rule = recorded.one("aws:vpc/securityGroupIngressRule:SecurityGroupIngressRule")
    assert rule.inputs["referencedSecurityGroupId"] == NODE_SG
    assert (rule.inputs["fromPort"], rule.inputs["toPort"]) == (5432, 5432)
    group = recorded.one("aws:ec2/securityGroup:SecurityGroup")
    assert recorded.one("aws:rds/instance:Instance").inputs["vpcSecurityGroupIds"] == [f"{group.name}-id"]


def test_connection_url_is_secret_with_generated_password_and_tls() -> None:
    recorded = database(production=True)
    url = recorded.exports["url"]
    assert url.secret
    parts = urlsplit(url.value)
    password = recorded.one("random:index/randomPassword:RandomPassword")
    assert password.inputs["special"] is False
    assert parts.password == password.outputs["result"]
    assert parts.hostname == "airflow-platform-test.c0ffee.eu-west-1.rds.amazonaws.com"
    assert (parts.port, parts.path, parts.query) == (5432, "/airflow", "sslmode=require")
    assert recorded.one("aws:rds/instance:Instance").inputs["password"] == password.outputs["result"]


# --- task logs (S3) ----------------------------------------------------------


def log_store(production: bool) -> Run:
    def build() -> None:
        store = LogStore(
            "logs",
            LogStoreArgs(
                cluster_name="airflow-platform-test",
                namespace="airflow",
                service_accounts=service_account_names("airflow"),
                retention_days=30,
                production=production,
            ),
        )
        pulumi.export("folder", store.remote_logging.base_log_folder)

    return run(build)


def test_log_bucket_is_private_encrypted_and_expires_logs() -> None:
    recorded = log_store(production=True)
    bucket = recorded.one("aws:s3/bucket:Bucket")
    assert bucket.protect and bucket.inputs["forceDestroy"] is False
    block = recorded.one("aws:s3/bucketPublicAccessBlock:BucketPublicAccessBlock").inputs
    for flag in ("blockPublicAcls", "blockPublicPolicy", "ignorePublicAcls", "restrictPublicBuckets"):
        assert block[flag] is True, flag
    encryption = recorded.one("aws:s3/bucketServerSideEncryptionConfiguration:BucketServerSideEncryptionConfiguration")
    assert encryption.inputs["rules"][0]["applyServerSideEncryptionByDefault"]["sseAlgorithm"] == "AES256"
    rule = recorded.one("aws:s3/bucketLifecycleConfiguration:BucketLifecycleConfiguration").inputs["rules"][0]
    assert rule["status"] == "Enabled" and rule["expiration"]["days"] == 30
    assert rule["filter"]["prefix"] == "logs/"
    ownership = recorded.one("aws:s3/bucketOwnershipControls:BucketOwnershipControls")
    assert ownership.inputs["rule"] == {"objectOwnership": "BucketOwnerEnforced"}
    assert recorded.exports["folder"].value == f"s3://{bucket.outputs['bucket']}/logs"


def test_each_component_has_a_bucket_scoped_role_bound_to_its_service_account() -> None:
    recorded = log_store(production=False)
    bucket_arn = recorded.one("aws:s3/bucket:Bucket").outputs["arn"]
    names = service_account_names("airflow")
    associations = recorded.of_type("aws:eks/podIdentityAssociation:PodIdentityAssociation")
    assert len(associations) == len(AIRFLOW_COMPONENTS)
    for component in AIRFLOW_COMPONENTS:
        role = recorded.one("aws:iam/role:Role", f"logs-{component}")
        trust = json.loads(role.inputs["assumeRolePolicy"])["Statement"][0]
        assert trust["Principal"] == {"Service": "pods.eks.amazonaws.com"}
        policy = json.loads(recorded.one("aws:iam/rolePolicy:RolePolicy", f"logs-{component}-logs").inputs["policy"])
        resources = {resource for statement in policy["Statement"] for resource in [statement["Resource"]]}
        assert resources == {bucket_arn, f"{bucket_arn}/*"}, f"{component}: policy not limited to the bucket"
        actions = {action for statement in policy["Statement"] for action in statement["Action"]}
        assert actions == {"s3:ListBucket", "s3:GetObject", "s3:PutObject", "s3:DeleteObject"}
        association = recorded.one("aws:eks/podIdentityAssociation:PodIdentityAssociation", f"logs-{component}")
        assert association.inputs["namespace"] == "airflow"
        assert association.inputs["serviceAccount"] == names[component]
        assert association.inputs["roleArn"] == role.outputs["arn"]


def test_bucket_refuses_plain_http() -> None:
    recorded = log_store(production=False)
    policy = json.loads(recorded.one("aws:s3/bucketPolicy:BucketPolicy").inputs["policy"])
    statement = policy["Statement"][0]
    assert statement["Effect"] == "Deny"
    assert statement["Condition"] == {"Bool": {"aws:SecureTransport": "false"}}
    assert not recorded.one("aws:s3/bucket:Bucket").protect
