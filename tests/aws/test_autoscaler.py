"""The Cluster Autoscaler: alone under mocks, then inside the prod stack and switched off."""

from __future__ import annotations

import json
from typing import Any

import pulumi
import pulumi_kubernetes as k8s
import pytest
import stack_checks as checks

from components.aws.autoscaler import (
    CHART_REPOSITORY,
    CHART_VERSION,
    DESCRIBE_ACTIONS,
    SCALING_ACTIONS,
    ClusterAutoscaler,
    ClusterAutoscalerArgs,
)
from components.aws.settings import CLUSTER_AUTOSCALER_IMAGE_TAGS
from review.runner import Registered, Run, run_main, run_program

# Resource names in a stack run (`aws` platform + `-autoscaler` + child suffix).
AUTOSCALER_RELEASE = "aws-autoscaler-chart"
AUTOSCALER_ROLE = "aws-autoscaler-role"
CLUSTER = "airflow-platform-test"
ASSOCIATION_TYPE = "aws:eks/podIdentityAssociation:PodIdentityAssociation"
TAINT_EFFECTS = {"NO_SCHEDULE": "NoSchedule", "NO_EXECUTE": "NoExecute", "PREFER_NO_SCHEDULE": "PreferNoSchedule"}

DEV_CONFIG: dict[str, Any] = {
    "cloud": "aws",
    "production": False,
    "aws": {"region": "us-east-1", "publicAccessCidrs": ["198.51.100.7/32"]},
    "loadBalancer": {"sourceRanges": ["198.51.100.7/32"]},
    "dags": {"source": "git", "repo": "git@github.com:your-org/airflow-platform.git"},
}


# --- the component alone -----------------------------------------------------


@pytest.fixture(scope="module")
def component_run() -> Run:
    def build() -> None:
        provider = k8s.Provider("k8s", kubeconfig="{}")
        nodes = pulumi.CustomResource("test:index:NodeGroup", "worker-nodes", {})
        agent = pulumi.CustomResource("test:index:Addon", "pod-identity-agent", {})
        ClusterAutoscaler(
            "ca",
            ClusterAutoscalerArgs(
                cluster_name=CLUSTER,
                region="eu-west-1",
                image_tag="v1.34.2",
                provider=provider,
                depends_on=[nodes, agent],
            ),
        )

    return run_program(build, config={})


def policy_statements(run: Run, name: str) -> list[dict[str, Any]]:
    return json.loads(run.one("aws:iam/rolePolicy:RolePolicy", name).inputs["policy"])["Statement"]


def test_release_is_the_pinned_chart_in_kube_system(component_run: Run) -> None:
    release = component_run.one(checks.RELEASE_TYPE, "ca-chart").inputs
    assert (release["chart"], release["version"]) == ("cluster-autoscaler", CHART_VERSION)
    assert (
        release["repositoryOpts"] == {"repo": "https://kubernetes.github.io/autoscaler"} == {"repo": CHART_REPOSITORY}
    )
    assert release["namespace"] == "kube-system"
    assert release["name"] == "cluster-autoscaler", "a fixed release name, no random suffix"
    values = release["values"]
    assert values["cloudProvider"] == "aws"
    assert values["awsRegion"] == "eu-west-1"
    assert values["autoDiscovery"] == {"clusterName": CLUSTER}
    assert values["image"] == {"tag": "v1.34.2"}
    assert values["rbac"]["serviceAccount"]["create"] is True
    assert values["extraArgs"]["scale-down-unneeded-time"] == "5m"


def test_pod_identity_binds_the_role_to_the_chart_service_account(component_run: Run) -> None:
    release = component_run.one(checks.RELEASE_TYPE, "ca-chart").inputs
    association = component_run.one(ASSOCIATION_TYPE, "ca-identity").inputs
    role = component_run.one("aws:iam/role:Role", "ca-role")
    assert association["namespace"] == release["namespace"] == "kube-system"
    assert association["serviceAccount"] == release["values"]["rbac"]["serviceAccount"]["name"]
    assert association["clusterName"] == CLUSTER
    assert association["roleArn"] == role.outputs["arn"]
    assert release["values"]["rbac"]["serviceAccount"].get("annotations") is None, "Pod Identity needs no annotation"
    trust = json.loads(role.inputs["assumeRolePolicy"])["Statement"][0]
    assert trust["Principal"] == {"Service": "pods.eks.amazonaws.com"}
    assert set(trust["Action"]) == {"sts:AssumeRole", "sts:TagSession"}


def test_only_describe_calls_are_unconditioned(component_run: Run) -> None:
    statements = policy_statements(component_run, "ca-scaling")
    assert all(statement["Effect"] == "Allow" for statement in statements)
    unconditioned = {action for s in statements if "Condition" not in s for action in s["Action"]}
    assert unconditioned == set(DESCRIBE_ACTIONS)
    assert all(action.split(":")[1].startswith(("Describe", "Get")) for action in unconditioned), unconditioned
    assert {"eks:DescribeNodegroup", "ec2:DescribeInstanceTypes"} <= unconditioned, "scale from zero needs them"


def test_scaling_calls_are_limited_to_this_clusters_node_groups(component_run: Run) -> None:
    conditioned = [s for s in policy_statements(component_run, "ca-scaling") if "Condition" in s]
    assert len(conditioned) == 1
    assert (
        set(conditioned[0]["Action"])
        == set(SCALING_ACTIONS)
        == {
            "autoscaling:SetDesiredCapacity",
            "autoscaling:TerminateInstanceInAutoScalingGroup",
        }
    )
    # EKS tags each managed node group's ASG k8s.io/cluster-autoscaler/<cluster>=owned.
    assert conditioned[0]["Condition"] == {
        "StringEquals": {f"aws:ResourceTag/k8s.io/cluster-autoscaler/{CLUSTER}": "owned"}
    }


def test_release_uses_the_given_provider_and_waits_for_credentials_and_nodes(component_run: Run) -> None:
    release = component_run.one(checks.RELEASE_TYPE, "ca-chart")
    assert release.provider.startswith(component_run.one("pulumi:providers:kubernetes").urn)
    waited = [
        component_run.named("worker-nodes"),
        component_run.named("pod-identity-agent"),
        component_run.one(ASSOCIATION_TYPE, "ca-identity"),
        component_run.one("aws:iam/rolePolicy:RolePolicy", "ca-scaling"),
    ]
    for resource in waited:
        assert resource.urn in release.dependencies, f"the autoscaler release does not wait for {resource.name}"


# --- inside the stack --------------------------------------------------------


@pytest.fixture(scope="module")
def prod_run() -> Run:
    return checks.shape_run("prod")


def autoscaler_release(run: Run) -> Registered:
    return run.one(checks.RELEASE_TYPE, AUTOSCALER_RELEASE)


def test_prod_stack_installs_it_for_its_cluster_region_and_kubernetes_minor(prod_run: Run) -> None:
    config = checks.stack_config("prod")["aws"]
    values = autoscaler_release(prod_run).inputs["values"]
    assert values["autoDiscovery"]["clusterName"] == prod_run.one("aws:eks/cluster:Cluster").inputs["name"]
    assert values["awsRegion"] == prod_run.one("pulumi:providers:aws").inputs["region"] == config["region"]
    minor = config["kubernetesVersion"]
    assert values["image"]["tag"] == CLUSTER_AUTOSCALER_IMAGE_TAGS[minor]
    assert values["image"]["tag"].startswith(f"v{minor}."), "autoscaler minor != Kubernetes minor"
    policy = json.loads(prod_run.one("aws:iam/rolePolicy:RolePolicy", "aws-autoscaler-scaling").inputs["policy"])
    conditions = [s["Condition"]["StringEquals"] for s in policy["Statement"] if "Condition" in s]
    assert conditions == [{"aws:ResourceTag/k8s.io/cluster-autoscaler/airflow-platform-prod": "owned"}]


def tolerates(toleration: dict[str, str], taint: dict[str, str]) -> bool:
    """Kubernetes' matching rule, with the node group API's effect names."""
    if toleration.get("effect") not in (None, "", TAINT_EFFECTS[taint["effect"]]):
        return False
    if toleration.get("operator") == "Exists":
        return toleration.get("key") in (None, "", taint["key"])
    return toleration.get("key") == taint["key"] and toleration.get("value") == taint["value"]


def test_it_runs_on_the_on_demand_system_group_never_on_spot_workers(prod_run: Run) -> None:
    values = autoscaler_release(prod_run).inputs["values"]
    system = prod_run.one("aws:eks/nodeGroup:NodeGroup", "aws-nodes-system").inputs
    workers = prod_run.one("aws:eks/nodeGroup:NodeGroup", "aws-nodes-workers").inputs
    assert system["capacityType"] == "ON_DEMAND" and workers["capacityType"] == "SPOT"
    selector = values["nodeSelector"]
    assert selector and all(system["labels"].get(label) == value for label, value in selector.items())
    assert any(workers["labels"].get(label) != value for label, value in selector.items()), "selects spot workers"
    assert not system.get("taints"), "the system group would need a toleration"
    assert values["tolerations"] == []
    for taint in workers["taints"]:
        assert not any(tolerates(t, taint) for t in values["tolerations"]), f"it tolerates the workers' {taint}"


def test_release_waits_for_node_groups_and_pod_identity_agent(prod_run: Run) -> None:
    release = autoscaler_release(prod_run)
    waited = [
        *prod_run.of_type("aws:eks/nodeGroup:NodeGroup"),
        prod_run.one("aws:eks/addon:Addon", "aws-network-addons-eks-pod-identity-agent"),
        prod_run.one(ASSOCIATION_TYPE, "aws-autoscaler-identity"),
    ]
    for resource in waited:
        assert resource.urn in release.dependencies, f"the autoscaler release does not wait for {resource.name}"
    assert "pulumi:providers:kubernetes" in release.provider, "the autoscaler release uses the ambient kube context"


def test_node_groups_are_autonamed_and_nothing_refers_to_their_names(prod_run: Run) -> None:
    """A fixed name blocks the create-before-delete replacement that instance type,
    AMI type, capacity type or subnet changes force; the autoscaler, Pod Identity
    and task placement must keep working whatever name a group gets."""
    groups = prod_run.of_type("aws:eks/nodeGroup:NodeGroup")
    assert len(groups) == 2
    for group in groups:
        assert "nodeGroupName" not in group.inputs, f"{group.name} has a fixed name"
        assert "nodeGroupNamePrefix" not in group.inputs, f"{group.name}: a prefix conflicts with autonaming"
    names = [group.outputs["nodeGroupName"] for group in groups]
    assert all(names)
    for resource in prod_run.resources:
        if resource.type != "aws:eks/nodeGroup:NodeGroup":
            text = json.dumps(resource.inputs)
            assert not any(name in text for name in names), f"{resource.name} refers to a node group by name"
    values = autoscaler_release(prod_run).inputs["values"]
    assert values["autoDiscovery"] == {"clusterName": prod_run.one("aws:eks/cluster:Cluster").inputs["name"]}


def test_airflow_does_not_wait_for_it(prod_run: Run) -> None:
    airflow = prod_run.one(checks.RELEASE_TYPE, "airflow-chart")
    assert autoscaler_release(prod_run).urn not in airflow.dependencies


def test_switched_off_creates_nothing() -> None:
    run = run_main({**DEV_CONFIG, "aws": {**DEV_CONFIG["aws"], "clusterAutoscaler": False}}, "aws-no-ca")
    assert [r.name for r in run.of_type(checks.RELEASE_TYPE)] == ["airflow-chart"]
    assert not [r for r in run.resources if "autoscaler" in r.name], (
        "autoscaler resources with clusterAutoscaler: false"
    )
    assert all(a.inputs["namespace"] != "kube-system" for a in run.of_type(ASSOCIATION_TYPE))
    # The node groups themselves are unchanged: the workers just stay at desiredSize.
    assert run.one("aws:eks/nodeGroup:NodeGroup", "aws-nodes-workers").inputs["scalingConfig"]["minSize"] == 0
