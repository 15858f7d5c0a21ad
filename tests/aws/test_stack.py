"""The prod shape (tests/stack_checks.py) and a dev-shaped AWS config through `__main__.py` under mocks."""

from __future__ import annotations

import dataclasses
import json
from pathlib import Path
from typing import Any

import pulumi
import pytest
import stack_checks as checks
import yaml

from components.airflow.pod_template import SHARED_DATA_VOLUME
from components.airflow.values import service_account_values
from components.aws.addons import NETWORK_ADDONS
from components.aws.https import SSL_CERT_ANNOTATION
from components.config import PROJECT
from components.platform import AIRFLOW_COMPONENTS
from review import diff, plan, replacements
from review.fakes.aws import ACCOUNT, DEPLOYER_ROLE, DEPLOYER_SESSION_ARN
from review.runner import FAKE_CALLS, RecordingMocks, Run, run_main

from .test_autoscaler import AUTOSCALER_RELEASE, DEV_CONFIG

WORLD = "0.0.0.0/0"
LB_TYPE = "service.beta.kubernetes.io/aws-load-balancer-type"
LOG_GROUP = "aws:cloudwatch/logGroup:LogGroup"
STATEFUL = (
    "aws:eks/cluster:Cluster",
    "aws:rds/instance:Instance",
    "aws:efs/fileSystem:FileSystem",
    "aws:s3/bucket:Bucket",
    "aws:kms/key:Key",
)


@pytest.fixture(scope="module")
def prod_run() -> Run:
    return checks.shape_run("prod")


@pytest.fixture(scope="module")
def dev_run() -> Run:
    return run_main(DEV_CONFIG, stack="aws-dev")


# `production: true` with only the keys it requires: the production defaults.
PRODUCTION_DEFAULTS: dict[str, Any] = {
    "cloud": "aws",
    "production": True,
    "aws": {"publicAccessCidrs": ["198.51.100.0/24"]},
    "loadBalancer": {"sourceRanges": ["198.51.100.0/24"]},
    "ui": {"domain": "airflow.acme.example"},
    "dags": {"source": "git", "repo": "git@github.com:acme/airflow-dags.git"},
}


def airflow_only(run: Run) -> Run:
    """The run without the Cluster Autoscaler's Helm release (checked in test_autoscaler.py):
    the shared checks in tests/stack_checks.py expect one Release, Airflow's."""
    resources = [resource for resource in run.resources if resource.name != AUTOSCALER_RELEASE]
    assert len(resources) == len(run.resources) - 1, "the AWS stack should install the Cluster Autoscaler"
    return dataclasses.replace(run, resources=resources)


def values(run: Run) -> dict[str, Any]:
    return checks.release_values(airflow_only(run))


@pytest.mark.parametrize("run_name", ["prod_run", "dev_run"])
def test_release_values_validate_against_the_chart_schema(run_name: str, request: pytest.FixtureRequest) -> None:
    checks.assert_release_values_match_chart_schema(airflow_only(request.getfixturevalue(run_name)))


def test_api_endpoint_is_private_or_allowlisted_never_world(prod_run: Run, dev_run: Run) -> None:
    for run in (prod_run, dev_run):
        vpc = run.one("aws:eks/cluster:Cluster").inputs["vpcConfig"]
        assert vpc["endpointPrivateAccess"] is True
        if vpc["endpointPublicAccess"]:
            assert vpc["publicAccessCidrs"], "public endpoint without an allowlist defaults to 0.0.0.0/0"
            assert WORLD not in vpc["publicAccessCidrs"]


@pytest.mark.parametrize(("run_name", "retention", "kept"), [("prod_run", 365, True), ("dev_run", 30, False)])
def test_control_plane_log_group_is_created_first_with_a_retention(
    run_name: str, retention: int, kept: bool, request: pytest.FixtureRequest
) -> None:
    """Issue 18 item 7: EKS would create `/aws/eks/<cluster>/cluster` itself, kept forever and
    outside the stack; the stack creates it first, and production keeps it on destroy."""
    run: Run = request.getfixturevalue(run_name)
    cluster = run.one("aws:eks/cluster:Cluster")
    group = run.one(LOG_GROUP)
    assert group.inputs["name"] == f"/aws/eks/{cluster.inputs['name']}/cluster"
    assert group.inputs["retentionInDays"] == retention
    assert group.inputs["skipDestroy"] is kept
    assert group.urn in cluster.dependencies, "the cluster must not start logging before the group exists"


class LogGroupAlreadyThere(RecordingMocks):
    """`/aws/eks/<cluster>/cluster` exists, tagged with `tags` (the stack's own, or EKS's: none)."""

    def __init__(self, tags: dict[str, str]) -> None:
        self.tags = tags
        self.import_ids: dict[str, str] = {}

    def call(self, args: pulumi.runtime.MockCallArgs) -> tuple[dict[str, Any], list[tuple[str, str]] | None]:
        if args.token == "aws:cloudwatch/getLogGroups:getLogGroups":
            return {"logGroupNames": [args.args["logGroupNamePrefix"]], "arns": [], "id": "eu-west-1"}, []
        if args.token == "aws:cloudwatch/getLogGroup:getLogGroup":
            return {"name": args.args["name"], "id": args.args["name"], "tags": self.tags}, []
        return super().call(args)

    def new_resource(self, args: pulumi.runtime.MockResourceArgs) -> tuple[str, dict[str, Any]]:
        if args.typ == LOG_GROUP and args.resource_id:
            self.import_ids[args.name] = args.resource_id
        return super().new_resource(args)


def test_the_group_a_production_destroy_kept_is_adopted_again() -> None:
    mocks = LogGroupAlreadyThere({"project": "airflow-platform", "stack": "aws-adopt"})
    run = run_main(DEV_CONFIG, "aws-adopt", mocks=mocks)
    assert mocks.import_ids == {"aws-cluster-control-plane-logs": "/aws/eks/airflow-platform-aws-adopt/cluster"}
    assert not [warning for warning in run.warnings if "pulumi import" in warning]


def test_the_group_eks_made_is_not_imported_blindly_but_named_with_the_import_command() -> None:
    """An import would fail on the retention EKS left unset; `pulumi import` copies it instead."""
    mocks = LogGroupAlreadyThere({})
    run = run_main(DEV_CONFIG, "aws-adopt", mocks=mocks)
    assert mocks.import_ids == {}
    [warning] = [warning for warning in run.warnings if "pulumi import" in warning]
    assert (
        "pulumi import aws:cloudwatch/logGroup:LogGroup aws-cluster-control-plane-logs "
        "/aws/eks/airflow-platform-aws-adopt/cluster --parent cluster=<Cluster URN> --provider aws=<aws provider URN>"
    ) in warning


def test_secrets_encryption_and_control_plane_logs(prod_run: Run) -> None:
    cluster = prod_run.one("aws:eks/cluster:Cluster").inputs
    assert cluster["encryptionConfig"]["resources"] == ["secrets"]
    assert cluster["encryptionConfig"]["provider"]["keyArn"].startswith("arn:aws:kms:")
    assert set(cluster["enabledClusterLogTypes"]) >= {"api", "audit", "authenticator"}


@pytest.mark.parametrize("run_name", ["prod_run", "dev_run"])
def test_async_engine_reaches_rds_over_tls_with_asyncpg(run_name: str, request: pytest.FixtureRequest) -> None:
    run: Run = request.getfixturevalue(run_name)
    checks.assert_async_connection_suits_asyncpg(airflow_only(run))
    checks.assert_long_running_pods_carry_the_secrets_checksum(airflow_only(run))


def test_every_aws_resource_uses_the_regional_provider(prod_run: Run) -> None:
    provider = prod_run.one("pulumi:providers:aws")
    assert provider.inputs["region"] == "eu-west-1"
    for resource in prod_run.resources:
        if resource.type.startswith("aws:"):
            assert resource.provider.startswith(provider.urn), f"{resource.name} uses the default AWS provider"


@pytest.mark.parametrize(("run_name", "zones", "nats"), [("prod_run", 3, 1), ("dev_run", 2, 1)])
def test_shape_zones_and_nat_gateways(run_name: str, zones: int, nats: int, request: pytest.FixtureRequest) -> None:
    run: Run = request.getfixturevalue(run_name)
    private = [s for s in run.of_type("aws:ec2/subnet:Subnet") if "private" in s.name]
    assert len(private) == zones
    assert len(run.of_type("aws:ec2/natGateway:NatGateway")) == nats


@pytest.mark.parametrize("run_name", ["prod_run", "dev_run"])
def test_efs_mount_target_per_private_subnet(run_name: str, request: pytest.FixtureRequest) -> None:
    run: Run = request.getfixturevalue(run_name)
    private_ids = {f"{s.name}-id" for s in run.of_type("aws:ec2/subnet:Subnet") if "private" in s.name}
    targets = run.of_type("aws:efs/mountTarget:MountTarget")
    assert {t.inputs["subnetId"] for t in targets} == private_ids
    assert len(targets) == len(private_ids)


def test_nfs_and_postgres_only_from_the_cluster_security_group(prod_run: Run) -> None:
    cluster_sg = prod_run.one("aws:eks/cluster:Cluster").outputs["vpcConfig"]["clusterSecurityGroupId"]
    rules = prod_run.of_type("aws:vpc/securityGroupIngressRule:SecurityGroupIngressRule")
    ports = {int(rule.inputs["fromPort"]): rule.inputs for rule in rules}
    assert set(ports) == {2049, 5432}
    for port, rule in ports.items():
        assert rule["referencedSecurityGroupId"] == cluster_sg, f"port {port}"
        assert "cidrIpv4" not in rule, f"port {port} open to a CIDR"
    for group in prod_run.of_type("aws:ec2/securityGroup:SecurityGroup"):
        assert not group.inputs.get("ingress"), f"{group.name} has inline ingress"


def test_prod_database_is_private_multi_az_backed_up_and_kept(prod_run: Run) -> None:
    db = prod_run.one("aws:rds/instance:Instance").inputs
    assert db["publiclyAccessible"] is False
    assert db["storageEncrypted"] is True
    assert db["multiAz"] is True
    assert db["backupRetentionPeriod"] >= 7
    assert db["deletionProtection"] is True
    assert db["skipFinalSnapshot"] is False and db["finalSnapshotIdentifier"]


def test_dev_database_is_single_az(dev_run: Run) -> None:
    db = dev_run.one("aws:rds/instance:Instance").inputs
    assert db["multiAz"] is False and db["instanceClass"] == "db.t4g.micro"
    assert db["publiclyAccessible"] is False


def test_worker_pool_is_spot_from_zero_and_chart_tolerates_its_taint(prod_run: Run) -> None:
    workers = prod_run.one("aws:eks/nodeGroup:NodeGroup", "aws-nodes-workers")
    assert workers.inputs["capacityType"] == "SPOT"
    assert workers.inputs["scalingConfig"]["minSize"] == 0
    chart_workers = checks.task_pod(airflow_only(prod_run))["spec"]
    effects = {"NO_SCHEDULE": "NoSchedule", "NO_EXECUTE": "NoExecute", "PREFER_NO_SCHEDULE": "PreferNoSchedule"}
    for taint in workers.inputs["taints"]:
        assert any(
            toleration["key"] == taint["key"]
            and toleration["operator"] == "Equal"
            and toleration["value"] == taint["value"]
            and toleration["effect"] == effects[taint["effect"]]
            for toleration in chart_workers["tolerations"]
        ), f"task pods do not tolerate {taint}"
    for label, value in chart_workers["nodeSelector"].items():
        assert workers.inputs["labels"][label] == value, f"nodeSelector {label} matches no worker node"
    assert prod_run.one("aws:eks/nodeGroup:NodeGroup", "aws-nodes-system").inputs["capacityType"] == "ON_DEMAND"


def test_log_roles_are_bound_to_the_service_accounts_the_chart_creates(prod_run: Run) -> None:
    chart = values(prod_run)
    namespace = airflow_only(prod_run).one(checks.RELEASE_TYPE).inputs["namespace"]
    bound = {
        (a.inputs["namespace"], a.inputs["serviceAccount"])
        for a in prod_run.of_type("aws:eks/podIdentityAssociation:PodIdentityAssociation")
    }
    expected = {(namespace, service_account_values(chart, c)["name"]) for c in AIRFLOW_COMPONENTS}
    autoscaler = prod_run.one(checks.RELEASE_TYPE, AUTOSCALER_RELEASE).inputs
    expected.add((autoscaler["namespace"], autoscaler["values"]["rbac"]["serviceAccount"]["name"]))
    assert bound == expected
    for component in AIRFLOW_COMPONENTS:
        account = service_account_values(chart, component)
        assert account["create"] is True
        assert account["annotations"] == {}, "Pod Identity needs no annotation"


def test_remote_logging_goes_to_the_bucket(prod_run: Run) -> None:
    bucket = prod_run.one("aws:s3/bucket:Bucket").outputs["bucket"]
    logging = values(prod_run)["config"]["logging"]
    assert logging["remote_logging"] == "True"
    assert logging["remote_base_log_folder"] == f"s3://{bucket}/logs"
    assert logging["remote_log_conn_id"] == "aws_default"
    assert values(prod_run)["logs"]["persistence"]["enabled"] is False
    assert prod_run.exports["logLocation"].value == f"s3://{bucket}/logs"
    env = {item["name"]: item["value"] for item in values(prod_run)["env"]}
    assert env["AWS_REGION"] == env["AWS_DEFAULT_REGION"] == "eu-west-1", "boto3 needs the bucket's region"


@pytest.mark.parametrize("type_token", STATEFUL)
def test_prod_stateful_resources_are_protected(prod_run: Run, type_token: str) -> None:
    resources = prod_run.of_type(type_token)
    assert resources, f"no {type_token}"
    for resource in resources:
        assert resource.protect, f"{resource.name} is not protected"
    assert prod_run.one("kubernetes:core/v1:PersistentVolumeClaim").protect


def test_dev_stateful_resources_are_not_protected(dev_run: Run) -> None:
    assert not any(r.protect for t in STATEFUL for r in dev_run.of_type(t))


# What the chart's pods need and nothing else (issue: deploy critical path): the
# Spot workers, EFS (mount targets, CSI driver, claim) are for task pods only.
RELEASE_NEEDS = {
    ("aws:eks/nodeGroup:NodeGroup", "aws-nodes-system"),
    *(("aws:eks/addon:Addon", f"aws-network-addons-{addon}") for addon in NETWORK_ADDONS),
    ("aws:eks/addon:Addon", "aws-addons-coredns"),
    ("aws:rds/instance:Instance", "aws-metadata-db-instance"),
    ("random:index/randomPassword:RandomPassword", "aws-metadata-db-password"),
    *(("aws:eks/podIdentityAssociation:PodIdentityAssociation", f"aws-logs-{c}") for c in AIRFLOW_COMPONENTS),
    ("aws:s3/bucket:Bucket", "aws-logs-bucket"),
    ("kubernetes:core/v1:Namespace", "aws-namespace"),
}


@pytest.mark.parametrize("run_name", ["prod_run", "dev_run"])
def test_release_waits_only_for_what_the_chart_needs(run_name: str, request: pytest.FixtureRequest) -> None:
    assert checks.platform_dependencies_of_release(airflow_only(request.getfixturevalue(run_name))) == RELEASE_NEEDS


def test_no_database_password_in_release_values(prod_run: Run) -> None:
    password = next(
        p.outputs["result"]
        for p in prod_run.of_type("random:index/randomPassword:RandomPassword")
        if p.name.startswith("aws-metadata-db")
    )
    assert password not in json.dumps(values(prod_run), default=str)
    checks.assert_no_generated_secret_in_values(airflow_only(prod_run))


def test_plain_http_load_balancer_is_an_allowlisted_nlb(dev_run: Run) -> None:
    service = values(dev_run)["apiServer"]["service"]
    assert service["type"] == "LoadBalancer"
    assert service["annotations"][LB_TYPE] == "nlb"
    assert service["loadBalancerSourceRanges"] == DEV_CONFIG["loadBalancer"]["sourceRanges"]
    assert WORLD not in service["loadBalancerSourceRanges"]


def test_prod_shape_serves_the_ui_over_https(prod_run: Run) -> None:
    """The production stack names a domain: its chart Service stays internal."""
    assert values(prod_run)["apiServer"]["service"] == {"type": "ClusterIP"}
    assert prod_run.exports["airflowUrl"].value.startswith("https://")
    assert len(prod_run.of_type("aws:acm/certificate:Certificate")) == 1


def load_balancer_annotations(run: Run) -> dict[str, dict[str, str]]:
    """Every LoadBalancer Service of the stack, the chart's (in the release values) and the platform's."""
    found = {
        resource.name: resource.inputs["metadata"]["annotations"]
        for resource in run.of_type("kubernetes:core/v1:Service")
        if not resource.read and resource.inputs["spec"]["type"] == "LoadBalancer"
    }
    chart_service = values(run)["apiServer"]["service"]
    if chart_service["type"] == "LoadBalancer":
        found["chart apiServer.service"] = chart_service["annotations"]
    return found


@pytest.mark.parametrize("scheme", ["internet-facing", "internal"])
@pytest.mark.parametrize("ui", [{}, {"domain": "airflow.acme.example"}], ids=["plain-http", "https"])
def test_every_load_balancer_names_its_scheme_and_target_type(scheme: str, ui: dict[str, str]) -> None:
    """The AWS Load Balancer Controller, once installed, takes every new Service and defaults
    to an internal NLB: each one spells out the scheme the stack chose (issue 18, item 6)."""
    config = {**DEV_CONFIG, "aws": {**DEV_CONFIG["aws"], "loadBalancerScheme": scheme}, "ui": ui}
    services = load_balancer_annotations(run_main(config, f"aws-{scheme}"))
    assert len(services) == 1, services
    for name, service_annotations in services.items():
        assert service_annotations[LB_TYPE] == "nlb", name
        assert service_annotations["service.beta.kubernetes.io/aws-load-balancer-scheme"] == scheme, name
        assert service_annotations["service.beta.kubernetes.io/aws-load-balancer-nlb-target-type"] == "instance", name
        # The in-tree controller that builds the NLB today reads only this one.
        internal = service_annotations.get("service.beta.kubernetes.io/aws-load-balancer-internal")
        assert internal == ("true" if scheme == "internal" else None), name


def test_outputs_and_shared_invariants(prod_run: Run) -> None:
    checks.assert_secret_outputs_are_secret(prod_run, ("kubeconfig", "adminPassword", "fernetKey"))
    assert json.loads(prod_run.exports["kubeconfig"].value)["users"][0]["user"]["exec"]["command"] == "aws"
    assert prod_run.exports["clusterName"].value == "airflow-platform-prod"
    airflow = airflow_only(prod_run)
    checks.assert_secrets_referenced_by_name_exist(airflow)
    checks.assert_fernet_key_is_valid_and_stored(airflow)
    checks.assert_explicit_kubernetes_provider(airflow)
    assert checks.assert_manifests_validate(prod_run) >= 3
    assert values(prod_run)["scheduler"]["replicas"] == 2
    volumes = {volume["name"]: volume for volume in checks.task_pod(airflow)["spec"]["volumes"]}
    assert volumes[SHARED_DATA_VOLUME]["persistentVolumeClaim"]["claimName"] == "airflow-shared-data"


def test_no_ebs_csi_driver_because_nothing_claims_ebs(prod_run: Run, dev_run: Run) -> None:
    """The EBS CSI add-on and its IAM role cost a controller, a DaemonSet and EC2
    volume rights; every claim the stack makes (and the chart's persistence) is elsewhere."""
    for run in (prod_run, dev_run):
        assert "aws-ebs-csi-driver" not in {addon.inputs["addonName"] for addon in run.of_type("aws:eks/addon:Addon")}
        policies = {a.inputs["policyArn"] for a in run.of_type("aws:iam/rolePolicyAttachment:RolePolicyAttachment")}
        assert not any("EBSCSIDriver" in policy for policy in policies)
        efs_classes = {c.inputs["metadata"]["name"] for c in run.of_type("kubernetes:storage.k8s.io/v1:StorageClass")}
        for claim in run.of_type("kubernetes:core/v1:PersistentVolumeClaim"):
            assert claim.inputs["spec"]["storageClassName"] in efs_classes, f"{claim.name} needs another driver"
        chart = values(run)
        assert not chart["triggerer"]["persistence"]["enabled"]
        assert not chart["logs"]["persistence"]["enabled"]


def with_admin_role(arn: str) -> dict[str, Any]:
    return {**DEV_CONFIG, "aws": {**DEV_CONFIG["aws"], "adminRoleArn": arn}}


# The same stack file whoever runs `pulumi up`: the person's SSO role as admin, CI's deploy role.
PERSON_ROLE_ARN = f"arn:aws:iam::{ACCOUNT}:role/{DEPLOYER_ROLE}"
CI_DEPLOY_ROLE_ARN = f"arn:aws:iam::{ACCOUNT}:role/airflow-platform-ci-deploy"
CI_DEPLOY_SESSION = f"arn:aws:sts::{ACCOUNT}:assumed-role/airflow-platform-ci-deploy/GitHubActions"
CI_STACK_FILE = {
    **DEV_CONFIG,
    "aws": {**DEV_CONFIG["aws"], "adminRoleArn": PERSON_ROLE_ARN, "deployRoleArns": [CI_DEPLOY_ROLE_ARN]},
}
CALLER_IDENTITY = "aws:index/getCallerIdentity:getCallerIdentity"


def run_as(session_arn: str, config: dict[str, Any], monkeypatch: pytest.MonkeyPatch) -> Run:
    """The program as `session_arn` runs it (a person's SSO session, CI's OIDC session)."""
    monkeypatch.setitem(
        FAKE_CALLS, CALLER_IDENTITY, lambda args: {"accountId": ACCOUNT, "arn": session_arn, "id": ACCOUNT}
    )
    return run_main(config, stack="aws-access")


def declared(run: Run) -> list[tuple[str, str, Any]]:
    return sorted((r.type, r.name, json.dumps(r.inputs, sort_keys=True)) for r in run.resources)


def test_who_runs_pulumi_changes_nothing_that_is_declared(monkeypatch: pytest.MonkeyPatch) -> None:
    """A person ran the first `up` and CI the next ones, or the other way round: one
    stack file, the same resources, no creator entry of EKS's own, one entry per admin."""
    by_person = run_as(DEPLOYER_SESSION_ARN, CI_STACK_FILE, monkeypatch)
    by_ci = run_as(CI_DEPLOY_SESSION, CI_STACK_FILE, monkeypatch)
    assert declared(by_person) == declared(by_ci)
    for run in (by_person, by_ci):
        access = run.one("aws:eks/cluster:Cluster").inputs["accessConfig"]
        assert access["bootstrapClusterCreatorAdminPermissions"] is False
        entries = [entry.inputs["principalArn"] for entry in run.of_type("aws:eks/accessEntry:AccessEntry")]
        assert sorted(entries) == sorted([PERSON_ROLE_ARN, CI_DEPLOY_ROLE_ARN]), "exactly one entry per admin"
        assert not [warning for warning in run.warnings if "access entry" in warning]


def test_a_caller_without_an_entry_is_warned_not_refused(monkeypatch: pytest.MonkeyPatch) -> None:
    """Someone else's session: the preview says the cluster will refuse it, and nothing else changes."""
    stranger = f"arn:aws:sts::{ACCOUNT}:assumed-role/somebody-else/jane"
    run = run_as(stranger, CI_STACK_FILE, monkeypatch)
    [warning] = [warning for warning in run.warnings if "access entry" in warning]
    assert f"arn:aws:iam::{ACCOUNT}:role/somebody-else" in warning
    assert "aws.adminRoleArn" in warning
    assert declared(run) == declared(run_as(CI_DEPLOY_SESSION, CI_STACK_FILE, monkeypatch))


def plan_of(config: dict[str, Any], root: Path) -> dict[str, Any]:
    stack_file = {"config": {f"{PROJECT}:{key}": value for key, value in config.items()}}
    (root / "Pulumi.aws-access.yaml").write_text(yaml.safe_dump(stack_file))
    return plan.build_plan("aws-access", root)


def test_adding_the_deploy_role_to_a_stack_of_today_replaces_no_cluster(tmp_path: Path) -> None:
    """Today's clusters were created with the creator entry on (ForceNew); adding
    aws.deployRoleArns turns it off for new clusters only: the review's diff of
    the cluster, as Pulumi computes it with the resource's ignoreChanges, is an update at most."""
    today = plan_of(DEV_CONFIG, tmp_path)
    head = plan_of(CI_STACK_FILE, tmp_path)
    [before] = [r for r in today["resources"] if r["type"] == "aws:eks/cluster:Cluster"]
    [after] = [r for r in head["resources"] if r["type"] == "aws:eks/cluster:Cluster"]
    assert before["inputs"]["accessConfig"]["bootstrapClusterCreatorAdminPermissions"] is True
    assert after["inputs"]["accessConfig"]["bootstrapClusterCreatorAdminPermissions"] is False
    replaced = [c for c in diff.diff_plans(today, head, ref="today")["changed"] if c["action"] == "replace"]
    assert not replaced, [(c["name"], c["forcing"]) for c in replaced]
    # Without the guard the change would replace the cluster: the provider marks it ForceNew.
    assert replacements.forcing_paths(after["type"], ["accessConfig.bootstrapClusterCreatorAdminPermissions"])


def test_read_only_roles_get_view_access_beside_the_admin_role() -> None:
    """The stack file's `aws.readOnlyRoleArns` (CI's preview role) reaches the cluster as view-only access entries."""
    admin = "arn:aws:iam::123456789012:role/platform-admins"
    preview = "arn:aws:iam::123456789012:role/airflow-platform-ci-preview"
    config = with_admin_role(admin)
    run = run_main({**config, "aws": {**config["aws"], "readOnlyRoleArns": [preview]}}, stack="aws-read-only")
    entries = {entry.inputs["principalArn"] for entry in run.of_type("aws:eks/accessEntry:AccessEntry")}
    assert entries == {admin, preview}
    policies = {
        link.inputs["principalArn"]: link.inputs["policyArn"].rsplit("/", 1)[-1]
        for link in run.of_type("aws:eks/accessPolicyAssociation:AccessPolicyAssociation")
    }
    assert policies == {admin: "AmazonEKSClusterAdminPolicy", preview: "AmazonEKSAdminViewPolicy"}


@pytest.mark.parametrize("shape", ["defaults", "stack file"])
def test_production_keeps_every_ha_invariant(shape: str, prod_run: Run) -> None:
    """Issue 23's cheaper production shape keeps what production means: schedulers and API servers
    spread over two zones with PDBs, system nodes in at least two AZs, a Multi-AZ database with
    point-in-time recovery, private nodes, HTTPS, task nodes from zero."""
    run = run_main(PRODUCTION_DEFAULTS, stack="prod") if shape == "defaults" else prod_run
    checks.assert_replicated_and_spread_over_zones(values(run))
    system = run.one("aws:eks/nodeGroup:NodeGroup", "aws-nodes-system").inputs
    assert system["scalingConfig"]["minSize"] >= 2, "one system node is one zone"
    private = {f"{s.name}-id": s.inputs for s in run.of_type("aws:ec2/subnet:Subnet") if "private" in s.name}
    assert set(system["subnetIds"]) == set(private), "system nodes outside the private subnets"
    assert len({subnet["availabilityZone"] for subnet in private.values()}) >= 2
    assert not any(subnet.get("mapPublicIpOnLaunch") for subnet in private.values()), "nodes with public IPs"
    db = run.one("aws:rds/instance:Instance").inputs
    # RDS restores to any second of the retention window when automated backups are on.
    assert db["multiAz"] is True and db["backupRetentionPeriod"] >= 7
    workers = run.one("aws:eks/nodeGroup:NodeGroup", "aws-nodes-workers").inputs
    assert workers["scalingConfig"]["minSize"] == 0
    assert run.exports["airflowUrl"].value.startswith("https://")
    [ui] = [r.inputs for r in run.of_type("kubernetes:core/v1:Service") if not r.read]
    assert ui["metadata"]["annotations"].get(SSL_CERT_ANNOTATION), "the UI's load balancer has no TLS listener"
