"""KubernetesPodOperator from task pods: the stack's own Role and RoleBinding, under mocks."""

from __future__ import annotations

import pytest
import stack_checks as checks

from components.airflow.rbac import TASK_POD_LAUNCHER_RULES
from review.runner import Run, run_main

ROLE = "kubernetes:rbac.authorization.k8s.io/v1:Role"
BINDING = "kubernetes:rbac.authorization.k8s.io/v1:RoleBinding"


@pytest.fixture(scope="module", params=["local", "dev", "prod"])
def run(request: pytest.FixtureRequest) -> Run:
    return run_main(checks.stack_config(request.param), stack=f"{request.param}-rbac")


def test_the_account_the_pod_template_names_may_run_pods(run: Run) -> None:
    checks.assert_task_pods_may_launch_pods(run)


def test_one_role_bound_to_the_task_pods_account_only(run: Run) -> None:
    [role], [binding] = run.of_type(ROLE), run.of_type(BINDING)
    assert binding.inputs["roleRef"] == {
        "apiGroup": "rbac.authorization.k8s.io",
        "kind": "Role",
        "name": role.inputs["metadata"]["name"],
    }
    [subject] = binding.inputs["subjects"]
    assert subject["name"] == checks.task_pod(run)["spec"]["serviceAccountName"] == "airflow-worker-kubernetes"
    assert (
        role.inputs["metadata"]["namespace"] == subject["namespace"] == checks.airflow_release(run).inputs["namespace"]
    )


def test_the_role_holds_what_the_operator_calls_and_nothing_cluster_wide(run: Run) -> None:
    role = run.one(ROLE)
    granted = {(rule["resources"][0], tuple(rule["verbs"])) for rule in role.inputs["rules"]}
    assert granted == {(resource, verbs) for resource, verbs in TASK_POD_LAUNCHER_RULES}
    assert all(rule["apiGroups"] == [""] for rule in role.inputs["rules"]), "core API only"
    assert not run.of_type("kubernetes:rbac.authorization.k8s.io/v1:ClusterRoleBinding")
    assert "secrets" not in {resource for resource, _ in granted}
