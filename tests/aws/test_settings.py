"""Pure tests of the `airflow-platform:aws` rules: no Pulumi, no mocks."""

from __future__ import annotations

from typing import Any

import pytest

from components.aws.settings import (
    CLUSTER_AUTOSCALER_IMAGE_TAGS,
    AwsSettings,
    iam_principal,
    is_arm_instance_type,
    partition_for,
)
from components.config import ConfigError, parse_stack_config

KEY = "airflow-platform:aws"
ALLOWLIST = ["198.51.100.0/24"]


def parse(aws: dict[str, Any], production: bool = False) -> AwsSettings:
    raw = {
        "cloud": "aws",
        "production": production,
        "loadBalancer": {"sourceRanges": ["203.0.113.0/24"]},
        # HTTPS rules are tested in tests/test_config.py; production needs a choice.
        "ui": {"domain": "airflow.acme.example"} if production else {},
        "dags": {"repo": "git@github.com:your-org/airflow-platform.git"},
        "aws": {"publicAccessCidrs": ALLOWLIST, **aws},
    }
    settings = parse_stack_config(raw, stack="test").aws
    assert settings is not None
    return settings


def problem_keys(aws: dict[str, Any], production: bool = False) -> dict[str, str]:
    """The keys the ConfigError names, each with its message line."""
    with pytest.raises(ConfigError) as caught:
        parse(aws, production)
    return {problem.key: str(problem) for problem in caught.value.problems}


def test_dev_shape_defaults() -> None:
    settings = parse({})
    assert settings.availability_zones == ("eu-west-1a", "eu-west-1b")
    assert not settings.nat_gateway_per_az
    assert settings.database.multi_az is False
    assert settings.database.backup_retention_days == 1
    assert settings.database.deletion_protection is False
    assert settings.database.instance_class == "db.t4g.micro"
    assert settings.worker_nodes.min_size == 0


def test_prod_shape_defaults() -> None:
    settings = parse({}, production=True)
    assert settings.availability_zones == ("eu-west-1a", "eu-west-1b", "eu-west-1c")
    # One NAT gateway (docs/costs.md, "NAT"): egress through it is the one thing an outage of its AZ stops.
    assert not settings.nat_gateway_per_az
    assert parse({"natGatewayPerAz": True}, production=True).nat_gateway_per_az
    assert settings.database.multi_az and settings.database.deletion_protection
    assert settings.database.backup_retention_days >= 7
    # Two system nodes: one per zone of the two the replicated Airflow pods spread over.
    assert settings.system_nodes.min_size == settings.system_nodes.desired_size == 2


def test_subnets_derived_from_vpc_are_disjoint_and_inside_it() -> None:
    settings = parse({"vpcCidr": "10.8.0.0/16"}, production=True)
    assert settings.private_subnet_cidrs == ("10.8.0.0/19", "10.8.32.0/19", "10.8.64.0/19")
    assert settings.public_subnet_cidrs == ("10.8.224.0/22", "10.8.228.0/22", "10.8.232.0/22")


def test_explicit_subnets_are_used() -> None:
    settings = parse(
        {
            "publicSubnetCidrs": ["10.40.250.0/24", "10.40.251.0/24"],
            "privateSubnetCidrs": ["10.40.0.0/18", "10.40.64.0/18"],
        }
    )
    assert settings.public_subnet_cidrs == ("10.40.250.0/24", "10.40.251.0/24")
    assert settings.private_subnet_cidrs == ("10.40.0.0/18", "10.40.64.0/18")


@pytest.mark.parametrize("region", ["eu-west", "EU-WEST-1", "euwest1", "eu-west-1a"])
def test_bad_region_format(region: str) -> None:
    keys = problem_keys({"region": region})
    assert f"{KEY}.region" in keys
    assert region in keys[f"{KEY}.region"]


def test_zone_outside_region() -> None:
    keys = problem_keys({"region": "eu-west-1", "availabilityZones": ["eu-west-1a", "us-east-1b"]})
    assert f"{KEY}.availabilityZones[1]" in keys
    assert "us-east-1b" in keys[f"{KEY}.availabilityZones[1]"]
    assert "eu-west-1" in keys[f"{KEY}.availabilityZones[1]"]


def test_fewer_zones_than_subnets() -> None:
    keys = problem_keys(
        {
            "availabilityZones": ["eu-west-1a", "eu-west-1b"],
            "privateSubnetCidrs": ["10.40.0.0/19", "10.40.32.0/19", "10.40.64.0/19"],
        }
    )
    assert f"{KEY}.availabilityZones" in keys
    assert "privateSubnetCidrs" in keys[f"{KEY}.availabilityZones"]


def test_fewer_subnets_than_zones() -> None:
    keys = problem_keys({"publicSubnetCidrs": ["10.40.250.0/24"]})
    assert f"{KEY}.publicSubnetCidrs" in keys


def test_single_zone_is_refused() -> None:
    assert f"{KEY}.availabilityZones" in problem_keys({"availabilityZones": ["eu-west-1a"]})


def test_overlapping_subnets() -> None:
    keys = problem_keys(
        {
            "publicSubnetCidrs": ["10.40.0.0/24", "10.40.251.0/24"],
            "privateSubnetCidrs": ["10.40.0.0/19", "10.40.32.0/19"],
        }
    )
    assert f"{KEY}.privateSubnetCidrs[0]" in keys
    assert "does not overlap" in keys[f"{KEY}.privateSubnetCidrs[0]"]


def test_subnet_outside_vpc() -> None:
    keys = problem_keys({"publicSubnetCidrs": ["10.40.250.0/24", "192.168.0.0/24"]})
    assert "inside vpcCidr" in keys[f"{KEY}.publicSubnetCidrs[1]"]


@pytest.mark.parametrize("vpc_cidr", ["10.40.0.0/24", "8.8.0.0/16", "10.40.0.1/16", "not-a-cidr"])
def test_bad_vpc_cidr(vpc_cidr: str) -> None:
    assert f"{KEY}.vpcCidr" in problem_keys({"vpcCidr": vpc_cidr})


def test_public_endpoint_open_to_the_world_in_prod() -> None:
    keys = problem_keys({"publicAccessCidrs": ["0.0.0.0/0"]}, production=True)
    assert "never 0.0.0.0/0" in keys[f"{KEY}.publicAccessCidrs"]


def test_public_endpoint_open_to_the_world_allowed_in_dev() -> None:
    assert parse({"publicAccessCidrs": ["0.0.0.0/0"]}).public_access_cidrs == ("0.0.0.0/0",)


def test_public_endpoint_needs_an_allowlist() -> None:
    with pytest.raises(ConfigError) as caught:
        parse_stack_config(
            {
                "cloud": "aws",
                "loadBalancer": {"sourceRanges": ["203.0.113.0/24"]},
                "dags": {"repo": "git@github.com:your-org/airflow-platform.git"},
                "aws": {},
            },
            stack="test",
        )
    assert f"{KEY}.publicAccessCidrs" in {problem.key for problem in caught.value.problems}


def test_private_endpoint_needs_no_allowlist_and_refuses_one() -> None:
    assert parse({"endpointPublicAccess": False, "publicAccessCidrs": []}).endpoint_public_access is False
    assert f"{KEY}.publicAccessCidrs" in problem_keys({"endpointPublicAccess": False})


@pytest.mark.parametrize("version", ["1.29", "1.3", "v1.31", "1.31.2", "2.0"])
def test_bad_kubernetes_version(version: str) -> None:
    assert f"{KEY}.kubernetesVersion" in problem_keys({"kubernetesVersion": version})


def test_admin_role_arn() -> None:
    arn = "arn:aws:iam::123456789012:role/platform-admins"
    assert parse({"adminRoleArn": arn}).access.admin_role_arn == arn
    assert f"{KEY}.adminRoleArn" in problem_keys({"adminRoleArn": "arn:aws:iam::123456789012:user/alice"})
    assert f"{KEY}.adminRoleArn" in problem_keys({"adminRoleArn": "arn:aws-cn:iam::123456789012:role/admin"})


PREVIEW_ROLE = "arn:aws:iam::123456789012:role/airflow-platform-ci-preview"


def test_read_only_role_arns() -> None:
    assert parse({}).access.read_only_role_arns == ()
    assert parse({"readOnlyRoleArns": [PREVIEW_ROLE]}).access.read_only_role_arns == (PREVIEW_ROLE,)


@pytest.mark.parametrize(
    "arn",
    [
        "arn:aws:iam::123456789012:user/alice",
        "arn:aws:iam::12345:role/preview",
        "arn:aws:sts::123456789012:assumed-role/preview/session",
        "arn:aws-cn:iam::123456789012:role/preview",  # not the partition of eu-west-1
    ],
)
def test_read_only_role_arn_must_be_a_role_of_the_partition(arn: str) -> None:
    keys = problem_keys({"readOnlyRoleArns": [PREVIEW_ROLE, arn]})
    assert f"{KEY}.readOnlyRoleArns[1]" in keys
    assert f"{KEY}.readOnlyRoleArns[0]" not in keys


def test_read_only_roles_are_listed_once_and_not_the_admin() -> None:
    # A path does not make another role: EKS would refuse the second access entry.
    same_role_with_path = "arn:aws:iam::123456789012:role/ci/airflow-platform-ci-preview"
    keys = problem_keys({"readOnlyRoleArns": [PREVIEW_ROLE, same_role_with_path]})
    assert "each role once" in keys[f"{KEY}.readOnlyRoleArns[1]"]
    keys = problem_keys({"adminRoleArn": PREVIEW_ROLE, "readOnlyRoleArns": [PREVIEW_ROLE]})
    assert "aws.adminRoleArn" in keys[f"{KEY}.readOnlyRoleArns[0]"]
    assert f"{KEY}.readOnlyRoleArns" in problem_keys({"readOnlyRoleArns": PREVIEW_ROLE})


DEPLOY_ROLE = "arn:aws:iam::123456789012:role/airflow-platform-ci-deploy"


def test_deploy_role_arns() -> None:
    assert parse({}).access.deploy_role_arns == ()
    assert parse({"deployRoleArns": [DEPLOY_ROLE]}).access.deploy_role_arns == (DEPLOY_ROLE,)
    keys = problem_keys({"deployRoleArns": [DEPLOY_ROLE, "arn:aws:iam::123456789012:user/ci"]})
    assert "arn:aws:iam::123456789012:user/ci" in keys[f"{KEY}.deployRoleArns[1]"]
    assert "an IAM role ARN" in keys[f"{KEY}.deployRoleArns[1]"]
    assert f"{KEY}.deployRoleArns[0]" not in keys
    assert f"{KEY}.deployRoleArns" in problem_keys({"deployRoleArns": DEPLOY_ROLE})


def test_a_role_gets_one_access_entry_across_the_access_keys() -> None:
    """EKS refuses a second access entry for a principal: a role in two keys fails before anything is created."""
    keys = problem_keys({"adminRoleArn": DEPLOY_ROLE, "deployRoleArns": [DEPLOY_ROLE]})
    assert "aws.adminRoleArn grants it already" in keys[f"{KEY}.deployRoleArns[0]"]
    keys = problem_keys({"deployRoleArns": [DEPLOY_ROLE], "readOnlyRoleArns": [DEPLOY_ROLE]})
    assert "aws.deployRoleArns[0] grants it already" in keys[f"{KEY}.readOnlyRoleArns[0]"]
    keys = problem_keys({"deployRoleArns": [DEPLOY_ROLE, DEPLOY_ROLE]})
    assert "listed before" in keys[f"{KEY}.deployRoleArns[1]"]


def test_a_principal_is_its_account_kind_and_name_whatever_its_path() -> None:
    """The one parse the settings (duplicate roles) and the cluster (admin role = deployer) share."""
    sso = "arn:aws:iam::123456789012:role/aws-reserved/sso.amazonaws.com/eu-west-1/AWSReservedSSO_Admin_0a1b"
    assert iam_principal(sso) == ("123456789012", "role", "AWSReservedSSO_Admin_0a1b")
    assert iam_principal("arn:aws:iam::123456789012:role/AWSReservedSSO_Admin_0a1b") == iam_principal(sso)
    assert iam_principal("arn:aws:iam::123456789012:user/AWSReservedSSO_Admin_0a1b") != iam_principal(sso)


def test_node_group_sizes_and_types() -> None:
    keys = problem_keys({"workerNodes": {"minSize": 3, "desiredSize": 2, "maxSize": 5}})
    assert f"{KEY}.workerNodes.desiredSize" in keys
    assert f"{KEY}.systemNodes.minSize" in problem_keys({"systemNodes": {"minSize": 0}})
    assert f"{KEY}.workerNodes.instanceTypes[0]" in problem_keys({"workerNodes": {"instanceTypes": ["large"]}})
    assert f"{KEY}.workerNodes.instanceTypes" in problem_keys(
        {"workerNodes": {"instanceTypes": ["m7g.xlarge", "m6i.xlarge"]}}
    )
    assert f"{KEY}.workerNodes.unknown" in problem_keys({"workerNodes": {"unknown": 1}})


def test_architecture_picks_the_ami() -> None:
    assert (
        is_arm_instance_type("m7g.large") and is_arm_instance_type("c6gn.xlarge") and is_arm_instance_type("t4g.small")
    )
    assert not is_arm_instance_type("m6i.large") and not is_arm_instance_type("g5.xlarge")
    assert parse({"systemNodes": {"instanceTypes": ["m7g.large"]}}).system_nodes.ami_type == "AL2023_ARM_64_STANDARD"
    assert parse({}).system_nodes.ami_type == "AL2023_x86_64_STANDARD"


@pytest.mark.parametrize(
    ("database", "key"),
    [
        ({"instanceClass": "t4g.micro"}, "instanceClass"),
        ({"engineVersion": "12"}, "engineVersion"),
        ({"engineVersion": "17.6.1"}, "engineVersion"),
        ({"allocatedStorageGb": 10}, "allocatedStorageGb"),
        ({"backupRetentionDays": 0}, "backupRetentionDays"),
        ({"multiAz": "yes"}, "multiAz"),
    ],
)
def test_bad_database_values(database: dict[str, Any], key: str) -> None:
    assert f"{KEY}.database.{key}" in problem_keys({"database": database})


def test_prod_database_keeps_its_safety_net() -> None:
    assert f"{KEY}.database.backupRetentionDays" in problem_keys({"database": {"backupRetentionDays": 3}}, True)
    assert f"{KEY}.database.deletionProtection" in problem_keys({"database": {"deletionProtection": False}}, True)


def test_engine_version_decides_minor_upgrades() -> None:
    assert parse({"database": {"engineVersion": "17"}}).database.auto_minor_version_upgrade
    assert not parse({"database": {"engineVersion": "17.6"}}).database.auto_minor_version_upgrade


def test_load_balancer_scheme_and_retention() -> None:
    assert parse({"loadBalancerScheme": "internal"}).load_balancer_scheme == "internal"
    assert f"{KEY}.loadBalancerScheme" in problem_keys({"loadBalancerScheme": "private"})
    assert f"{KEY}.logRetentionDays" in problem_keys({"logRetentionDays": 0})


def test_control_plane_log_retention_defaults_and_allowed_values() -> None:
    assert parse({}).control_plane_log_retention_days == 30
    assert parse({}, production=True).control_plane_log_retention_days == 365
    assert parse({"controlPlaneLogRetentionDays": 731}).control_plane_log_retention_days == 731
    key = f"{KEY}.controlPlaneLogRetentionDays"
    # 0 is CloudWatch's "never expire", what the stack had before; 45 is not a CloudWatch period.
    for bad in (0, 45, "90", True):
        message = problem_keys({"controlPlaneLogRetentionDays": bad})[key]
        assert repr(bad) in message or str(bad) in message, message
    assert "3653" in problem_keys({"controlPlaneLogRetentionDays": 45})[key]


def test_unknown_key_is_refused() -> None:
    assert f"{KEY}.regoin" in problem_keys({"regoin": "eu-west-1"})


def test_partition() -> None:
    assert partition_for("eu-west-1") == "aws"
    assert partition_for("us-gov-west-1") == "aws-us-gov"
    assert partition_for("cn-north-1") == "aws-cn"


def test_cluster_autoscaler_is_on_by_default_and_can_be_switched_off() -> None:
    assert parse({}).cluster_autoscaler is True
    assert parse({}, production=True).cluster_autoscaler is True
    assert parse({"clusterAutoscaler": False}).cluster_autoscaler is False
    assert f"{KEY}.clusterAutoscaler" in problem_keys({"clusterAutoscaler": "yes"})


@pytest.mark.parametrize("minor", sorted(CLUSTER_AUTOSCALER_IMAGE_TAGS))
def test_autoscaler_image_minor_matches_the_kubernetes_minor(minor: str) -> None:
    settings = parse({"kubernetesVersion": minor})
    assert settings.cluster_autoscaler_image_tag.startswith(f"v{minor}.")


def test_default_kubernetes_version_has_an_autoscaler() -> None:
    assert parse({}).kubernetes_version in CLUSTER_AUTOSCALER_IMAGE_TAGS


def test_unpinned_kubernetes_minor_needs_the_autoscaler_off() -> None:
    keys = problem_keys({"kubernetesVersion": "1.37"})
    assert set(keys) == {f"{KEY}.clusterAutoscaler"}, "names the autoscaler key, once"
    assert "kubernetesVersion 1.37" in keys[f"{KEY}.clusterAutoscaler"]
    assert parse({"kubernetesVersion": "1.37", "clusterAutoscaler": False}).kubernetes_version == "1.37"


def test_invalid_kubernetes_version_is_reported_once() -> None:
    assert set(problem_keys({"kubernetesVersion": "1.29"})) == {f"{KEY}.kubernetesVersion"}
