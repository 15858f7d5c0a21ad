"""Each policy: a recorded resource that complies, and the same resource changed so it violates."""

from __future__ import annotations

import dataclasses
import json
from collections.abc import Callable
from typing import Any

import pulumi_aws as aws
import pulumi_kubernetes as k8s
import pulumi_random as random
import pytest
from policy_support import DELETE, changed, eks, gke, gke_production, replaced, violations, without

from policy import policies as p
from policy.offline import catalogue
from review.runner import ROOT, Run, run_main, run_program, stack_file_config

S3_CONFIGURATION = (p.S3_PUBLIC_ACCESS_BLOCK, p.S3_OWNERSHIP, p.S3_ENCRYPTION, p.S3_POLICY)
# Stack policies report the resource a separate configuration resource belongs to.
OWNER = {**dict.fromkeys(S3_CONFIGURATION, p.S3_BUCKET), p.EFS_BACKUP_POLICY: p.EFS}

# (policy, shipped run, resource type, resource name or None, changes that break it, production)
CASES: list[tuple[str, Callable[[], Run], str, str | None, dict[str, Any], bool]] = [
    ("gke-private-nodes", gke, p.GKE_CLUSTER, None, {"privateClusterConfig.enablePrivateNodes": False}, False),
    (
        "gke-private-nodes",
        gke,
        p.GKE_NODE_POOL,
        "gcp-pools-workers",
        {"networkConfig.enablePrivateNodes": False},
        False,
    ),
    ("gke-workload-identity", gke, p.GKE_CLUSTER, None, {"workloadIdentityConfig": DELETE}, False),
    (
        "gke-workload-identity",
        gke,
        p.GKE_NODE_POOL,
        "gcp-pools-workers",
        {"nodeConfig.workloadMetadataConfig.mode": "GCE_METADATA"},
        False,
    ),
    (
        "gke-shielded-nodes",
        gke,
        p.GKE_NODE_POOL,
        "gcp-pools-system",
        {"nodeConfig.shieldedInstanceConfig.enableSecureBoot": DELETE},
        False,
    ),
    ("gke-shielded-nodes", gke, p.GKE_CLUSTER, None, {"enableShieldedNodes": False}, False),
    ("gke-release-channel", gke, p.GKE_CLUSTER, None, {"releaseChannel.channel": "UNSPECIFIED"}, False),
    ("gke-master-authorized-networks", gke, p.GKE_CLUSTER, None, {"masterAuthorizedNetworksConfig": DELETE}, False),
    (
        "gke-master-authorized-networks",
        gke,
        p.GKE_CLUSTER,
        None,
        {"masterAuthorizedNetworksConfig.cidrBlocks": [{"cidrBlock": "0.0.0.0/0", "displayName": "all"}]},
        False,
    ),
    (
        "gke-master-authorized-networks",
        gke,
        p.GKE_CLUSTER,
        None,
        {"controlPlaneEndpointsConfig.dnsEndpointConfig.enableK8sTokensViaDns": True},
        False,
    ),
    ("eks-private-endpoint", eks, p.EKS_CLUSTER, None, {"vpcConfig.endpointPrivateAccess": False}, False),
    ("eks-public-endpoint-cidrs", eks, p.EKS_CLUSTER, None, {"vpcConfig.publicAccessCidrs": ["0.0.0.0/0"]}, False),
    ("eks-public-endpoint-cidrs", eks, p.EKS_CLUSTER, None, {"vpcConfig.publicAccessCidrs": DELETE}, False),
    ("eks-secrets-encryption", eks, p.EKS_CLUSTER, None, {"encryptionConfig": DELETE}, False),
    ("eks-control-plane-logs", eks, p.EKS_CLUSTER, None, {"enabledClusterLogTypes": ["api"]}, False),
    ("database-no-public-ip", gke, p.CLOUD_SQL, None, {"settings.ipConfiguration.ipv4Enabled": DELETE}, False),
    ("database-no-public-ip", eks, p.RDS_INSTANCE, None, {"publiclyAccessible": True}, False),
    (
        "database-tls",
        gke,
        p.CLOUD_SQL,
        None,
        {"settings.ipConfiguration.sslMode": "ALLOW_UNENCRYPTED_AND_ENCRYPTED"},
        False,
    ),
    ("database-tls", eks, p.RDS_INSTANCE, None, {"engineVersion": "14"}, False),
    ("database-backups", gke, p.CLOUD_SQL, None, {"settings.backupConfiguration.enabled": False}, False),
    ("database-backups", eks, p.RDS_INSTANCE, None, {"backupRetentionPeriod": 0.0}, False),
    ("database-deletion-protection", eks, p.RDS_INSTANCE, None, {"deletionProtection": False}, True),
    ("database-high-availability", eks, p.RDS_INSTANCE, None, {"multiAz": False}, True),
    ("bucket-public-access-prevention", gke, p.GCS_BUCKET, None, {"publicAccessPrevention": "inherited"}, False),
    ("bucket-public-access-prevention", eks, p.S3_PUBLIC_ACCESS_BLOCK, None, {"blockPublicPolicy": False}, False),
    ("bucket-uniform-access", gke, p.GCS_BUCKET, None, {"uniformBucketLevelAccess": False}, False),
    ("bucket-uniform-access", eks, p.S3_OWNERSHIP, None, {"rule.objectOwnership": "ObjectWriter"}, False),
    ("bucket-encryption", eks, p.S3_ENCRYPTION, None, {"rules": []}, False),
    ("efs-encryption", eks, p.EFS, None, {"encrypted": False}, False),
    ("efs-backups", eks, p.EFS_BACKUP_POLICY, None, {"backupPolicy.status": "DISABLED"}, False),
    ("gke-logging", gke, p.GKE_CLUSTER, None, {"loggingService": "none"}, False),
    ("gke-secrets-encryption", gke_production, p.GKE_CLUSTER, None, {"databaseEncryption": DELETE}, True),
    ("cluster-deletion-protection", gke_production, p.GKE_CLUSTER, None, {"deletionProtection": False}, True),
    ("cluster-deletion-protection", eks, p.EKS_CLUSTER, None, {"deletionProtection": DELETE}, True),
    ("database-encryption", eks, p.RDS_INSTANCE, None, {"storageEncrypted": False}, False),
    ("database-logs", eks, p.RDS_INSTANCE, None, {"enabledCloudwatchLogsExports": []}, False),
    ("database-final-snapshot", eks, p.RDS_INSTANCE, None, {"skipFinalSnapshot": True}, True),
    ("bucket-no-force-destroy", eks, p.S3_BUCKET, None, {"forceDestroy": True}, True),
    ("bucket-no-force-destroy", gke_production, p.GCS_BUCKET, None, {"forceDestroy": True}, True),
    ("no-public-grants", gke, p.REGISTRY_IAM_MEMBER, None, {"member": "allUsers"}, False),
    ("no-public-grants", gke, p.GCS_BUCKET_IAM_MEMBER, None, {"member": "allAuthenticatedUsers"}, False),
    ("kms-key-rotation", eks, p.AWS_KMS_KEY, "aws-data-key", {"enableKeyRotation": False}, False),
    ("kms-key-rotation", gke_production, p.GCP_KMS_KEY, None, {"rotationPeriod": DELETE}, False),
    ("kms-key-rotation", gke_production, p.GCP_KMS_KEY, None, {"rotationPeriod": "31536000s"}, False),
    (
        "lb-source-ranges",
        eks,
        p.K8S_SERVICE,
        "aws-https-service",
        {"spec.loadBalancerSourceRanges": []},
        False,
    ),
    (
        # The production stack serves HTTPS: its load balancer is the platform's own Service.
        "lb-no-world-in-production",
        eks,
        p.K8S_SERVICE,
        "aws-https-service",
        {"spec.loadBalancerSourceRanges": ["10.0.0.0/8", "0.0.0.0/0"]},
        True,
    ),
]


@pytest.mark.parametrize(
    ("policy", "stack", "type_token", "name", "changes", "production"),
    CASES,
    ids=[f"{case[0]}:{case[2].split(':')[-1]}:{','.join(case[4])}" for case in CASES],
)
def test_policy_flags_the_changed_resource_and_passes_the_shipped_one(
    policy: str,
    stack: Callable[[], Run],
    type_token: str,
    name: str | None,
    changes: dict[str, Any],
    production: bool,
) -> None:
    run = stack()
    original = run.one(type_token, name)
    assert violations(run, policy, production=production) == []

    found = violations(replaced(run, changed(original, changes)), policy, production=production)

    assert found, f"{policy} missed {changes} on {original.urn}"
    # Stack policies on S3 and EFS report the bucket or file system, not its separate configuration resource.
    flagged = run.one(OWNER[type_token]).urn if type_token in OWNER else original.urn
    assert {violation.urn for violation in found} == {flagged}
    assert all(violation.message.rstrip(".") for violation in found)


@pytest.mark.parametrize(
    ("policy", "missing"),
    [
        ("bucket-public-access-prevention", p.S3_PUBLIC_ACCESS_BLOCK),
        ("bucket-uniform-access", p.S3_OWNERSHIP),
        ("bucket-encryption", p.S3_ENCRYPTION),
        ("bucket-tls-only", p.S3_POLICY),
    ],
)
def test_s3_bucket_without_its_configuration_resource_violates(policy: str, missing: str) -> None:
    run = eks()
    found = violations(without(run, missing), policy)
    assert [violation.urn for violation in found] == [run.one(p.S3_BUCKET).urn]


def test_tls_only_needs_a_deny_on_insecure_transport() -> None:
    run = eks()
    bucket_policy = run.one(p.S3_POLICY)
    document = json.loads(bucket_policy.inputs["policy"])
    document["Statement"][0]["Condition"]["Bool"]["aws:SecureTransport"] = "true"

    found = violations(replaced(run, changed(bucket_policy, {"policy": json.dumps(document)})), "bucket-tls-only")

    assert [violation.urn for violation in found] == [run.one(p.S3_BUCKET).urn]


@pytest.mark.parametrize(("force_ssl", "flagged"), [("0", True), ("1", False)])
def test_rds_parameter_group_decides_tls(force_ssl: str, flagged: bool) -> None:
    def program() -> None:
        group = aws.rds.ParameterGroup(
            "params",
            name="airflow-pg17",
            family="postgres17",
            parameters=[{"name": "rds.force_ssl", "value": force_ssl}],
        )
        aws.rds.Instance(
            "db",
            identifier="db",
            engine="postgres",
            engine_version="17",
            instance_class="db.t4g.micro",
            parameter_group_name=group.name,
        )

    run = run_program(program, config={})
    found = violations(run, "database-tls")
    assert [violation.urn for violation in found] == ([run.one(p.RDS_INSTANCE).urn] if flagged else [])


@pytest.mark.parametrize("policy", ["database-deletion-protection", "database-high-availability"])
def test_gke_stack_database_is_fine_for_dev_and_flagged_as_production(policy: str) -> None:
    # The shipped GKE stack is a dev stack: no deletion protection, one zone.
    assert violations(gke(), policy, production=False) == []
    assert [v.urn for v in violations(gke(), policy, production=True)] == [gke().one(p.CLOUD_SQL).urn]


@pytest.mark.parametrize(("retention", "flagged"), [(None, True), (0, True), (90, False)])
def test_a_log_group_without_retention_is_flagged(retention: int | None, flagged: bool) -> None:
    # No shipped shape registers a log group yet; the EKS control-plane log group is being added.
    run = run_program(
        lambda: aws.cloudwatch.LogGroup("logs", name="/aws/eks/c/cluster", retention_in_days=retention), config={}
    )
    found = violations(run, "log-group-retention")
    assert [violation.urn for violation in found] == ([run.one(p.LOG_GROUP).urn] if flagged else [])


def test_an_efs_file_system_without_a_backup_policy_is_flagged() -> None:
    run = eks()
    assert [violation.urn for violation in violations(without(run, p.EFS_BACKUP_POLICY), "efs-backups")] == [
        run.one(p.EFS).urn
    ]


def test_local_load_balancer_without_ranges_is_advisory() -> None:
    config = stack_file_config(ROOT / "Pulumi.local.yaml")
    config["local"] = {**(config.get("local") or {}), "uiServiceType": "LoadBalancer"}
    run = run_main(config, stack="local")

    found = violations(run, "lb-source-ranges")

    assert [(v.enforcement, v.urn) for v in found] == [("advisory", run.one(p.HELM_RELEASE).urn)]


def _load_balancer_service(ranges: list[str]) -> Callable[[], None]:
    def program() -> None:
        k8s.core.v1.Service(
            "ui",
            spec={"type": "LoadBalancer", "ports": [{"port": 80}], "load_balancer_source_ranges": ranges},
        )

    return program


@pytest.mark.parametrize(
    ("ranges", "policy", "production", "flagged"),
    [
        ([], "lb-source-ranges", False, True),
        (["203.0.113.0/24"], "lb-source-ranges", False, False),
        (["0.0.0.0/0"], "lb-no-world-in-production", True, True),
        (["::/0"], "lb-no-world-in-production", True, True),
        (["0.0.0.0/0"], "lb-no-world-in-production", False, False),
        (["203.0.113.0/24"], "lb-no-world-in-production", True, False),
    ],
)
def test_load_balancer_service_source_ranges(ranges: list[str], policy: str, production: bool, flagged: bool) -> None:
    run = run_program(_load_balancer_service(ranges), config={})
    assert bool(violations(run, policy, production=production)) is flagged


def _chart_with_values(values: Callable[[random.RandomPassword], dict[str, Any]]) -> Run:
    def program() -> None:
        password = random.RandomPassword("admin", length=24, special=False)
        k8s.helm.v3.Release("chart", name="airflow", chart="airflow", namespace="airflow", values=values(password))

    return run_program(program, config={})


def test_generated_password_in_helm_values_violates() -> None:
    run = _chart_with_values(lambda password: {"webserver": {"defaultUser": {"password": password.result}}})
    found = violations(run, "helm-values-no-generated-credentials")
    assert [v.urn for v in found] == [run.one(p.HELM_RELEASE).urn]
    assert "values.webserver.defaultUser.password" in found[0].message


def test_helm_values_naming_the_secret_comply() -> None:
    run = _chart_with_values(lambda password: {"webserver": {"defaultUser": {"existingSecret": "admin-user"}}})
    assert violations(run, "helm-values-no-generated-credentials") == []


def test_unprotected_stateful_resource_violates_only_in_production() -> None:
    run = eks()
    database = run.one(p.RDS_INSTANCE)
    unprotected = replaced(run, dataclasses.replace(database, protect=False))

    assert violations(run, "stateful-resources-protected", production=True) == []
    assert [v.urn for v in violations(unprotected, "stateful-resources-protected", production=True)] == [database.urn]
    assert violations(unprotected, "stateful-resources-protected", production=False) == []


def test_every_policy_has_a_case() -> None:
    covered = {case[0] for case in CASES} | {"bucket-tls-only", "helm-values-no-generated-credentials"}
    covered |= {"stateful-resources-protected", "log-group-retention"}
    assert covered == {info.name for info in catalogue()}
