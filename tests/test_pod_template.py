"""The KubernetesExecutor's pod template the stack ships: only what a task needs, a valid Pod."""

from __future__ import annotations

from dataclasses import replace
from typing import Any

import kubernetes_validate
import pytest
import stack_checks as checks
from test_values import WORKER_TOLERATION, chart_inputs

from components import platform_variables
from components.airflow import pod_template
from components.airflow.secrets import GIT_KNOWN_HOSTS_FILE
from components.airflow.values import ChartInputs, DagConfigMap, build_values, task_pod_spec
from components.platform import RemoteLogging

SSH_REPO = {"source": "git", "repo": "git@github.com:acme/dags.git"}
HTTPS_REPO = {"source": "git", "repo": "https://github.com/acme/dags.git"}
SSH_BUNDLE = {"source": "bundle", "repo": "git@github.com:acme/dags.git"}
CONFIG_MAP = DagConfigMap(name="airflow-dags", items={"a.py": "a.py", "lib__util.py": "lib/util.py"})
SHAPES: dict[str, ChartInputs] = {
    "git over ssh, logs on a PVC": chart_inputs(SSH_REPO),
    "public https repo, remote logs": chart_inputs(
        HTTPS_REPO, remote_logging=RemoteLogging("s3://logs/airflow", "aws_default"), logs_claim_name=None
    ),
    "configmap": chart_inputs(dag_config_map=CONFIG_MAP),
    "git dag bundle over ssh": chart_inputs(SSH_BUNDLE),
}


def rendered(inputs: ChartInputs) -> dict[str, Any]:
    """The pod as the chart renders the `podTemplate` value (its helpers' output stood in)."""
    return checks.render_pod_template(build_values(inputs))


def volumes(pod: dict[str, Any]) -> dict[str, dict[str, Any]]:
    return {volume["name"]: volume for volume in pod["spec"]["volumes"]}


def mounts(pod: dict[str, Any]) -> dict[str, dict[str, Any]]:
    return {mount["name"]: mount for mount in checks.task_container(pod)["volumeMounts"]}


@pytest.mark.parametrize("shape", sorted(SHAPES))
def test_task_pods_get_plain_env_only(shape: str) -> None:
    """No database URL, Fernet key, API secret key or JWT secret: the chart's standard env is not in it."""
    pod = rendered(SHAPES[shape])
    env = checks.task_container(pod)["env"]
    assert all(set(variable) == {"name", "value"} for variable in env), "a task pod env var reads a Secret"
    names = {variable["name"] for variable in env}
    assert not names & set(pod_template.WITHHELD_FROM_TASKS)
    platform = {item["name"] for item in build_values(SHAPES[shape])["env"]}
    assert names == {"AIRFLOW__CORE__EXECUTOR"} | platform, "the DAGs' platform Variables reach the tasks"


@pytest.mark.parametrize("shape", sorted(SHAPES))
def test_the_template_is_a_valid_pod_whose_mounts_have_volumes(shape: str) -> None:
    pod = rendered(SHAPES[shape])
    kubernetes_validate.validate(pod, checks.KUBERNETES_SCHEMA_VERSION, strict=True)
    declared = set(volumes(pod))
    for container in pod["spec"]["containers"] + pod["spec"].get("initContainers", []):
        assert {mount["name"] for mount in container["volumeMounts"]} <= declared, container["name"]


def test_task_pods_land_on_the_worker_pool_non_root_with_resources() -> None:
    pod = rendered(chart_inputs())
    spec, container = pod["spec"], checks.task_container(pod)
    assert spec["nodeSelector"] == {"airflow-platform/pool": "workers"}
    assert spec["tolerations"] == [WORKER_TOLERATION]
    assert container["resources"] == {
        "requests": {"cpu": "250m", "memory": "512Mi"},
        "limits": {"cpu": "1", "memory": "2Gi"},
    }
    assert spec["securityContext"]["runAsNonRoot"] is True and spec["securityContext"]["runAsUser"] == 50000
    assert container["securityContext"]["allowPrivilegeEscalation"] is False
    assert spec["restartPolicy"] == "Never"
    assert pod["metadata"]["annotations"][pod_template.SAFE_TO_EVICT_ANNOTATION] == "false"


def test_task_pods_mount_the_shared_data_volume() -> None:
    pod = rendered(chart_inputs(shared_data_claim_name="team-data"))
    assert volumes(pod)[pod_template.SHARED_DATA_VOLUME]["persistentVolumeClaim"] == {"claimName": "team-data"}
    assert mounts(pod)[pod_template.SHARED_DATA_VOLUME]["mountPath"] == platform_variables.SHARED_DATA_MOUNT_PATH_VALUE


def test_task_pods_run_as_the_kubernetes_worker_account() -> None:
    pod = rendered(chart_inputs())
    assert pod["spec"]["serviceAccountName"] == "airflow-worker-kubernetes"


def test_logs_go_to_the_logs_pvc_or_stay_in_the_pod_until_uploaded() -> None:
    on_pvc = volumes(rendered(chart_inputs(logs_claim_name="team-logs")))[pod_template.LOGS_VOLUME]
    assert on_pvc["persistentVolumeClaim"] == {"claimName": "team-logs"}
    remote = volumes(rendered(SHAPES["public https repo, remote logs"]))[pod_template.LOGS_VOLUME]
    assert remote["emptyDir"] == {}


def test_git_sync_and_config_come_from_the_charts_own_helpers() -> None:
    template = build_values(chart_inputs(SSH_REPO))["podTemplate"]
    for helper in (pod_template.GIT_SYNC_INIT_CONTAINER, pod_template.GIT_DAGS_MOUNT, pod_template.GIT_SSH_KEY_VOLUME):
        assert helper.expression in template, helper.marker
    assert '{{ include "airflow_config" . }}' in template
    pod = rendered(chart_inputs(SSH_REPO))
    assert [container["name"] for container in pod["spec"]["initContainers"]] == ["git-sync-init"]


def test_a_public_repo_needs_no_key_volume() -> None:
    template = build_values(chart_inputs(HTTPS_REPO))["podTemplate"]
    assert pod_template.GIT_SYNC_INIT_CONTAINER.expression in template
    assert pod_template.GIT_SSH_KEY_VOLUME.expression not in template


def test_configmap_dags_are_mounted_without_git_sync() -> None:
    pod = rendered(chart_inputs(dag_config_map=CONFIG_MAP))
    assert "initContainers" not in pod["spec"]
    assert volumes(pod)["dags-configmap"]["configMap"]["name"] == "airflow-dags"
    assert mounts(pod)["dags-configmap"]["readOnly"] is True


def test_values_brace_pairs_would_be_run_by_tpl_so_they_fail() -> None:
    spec = replace(task_pod_spec(chart_inputs()), node_selector={"pool": "{{ .Values.secret }}"})
    with pytest.raises(ValueError, match="template braces"):
        pod_template.render(pod_template.task_pod(spec))


def test_workers_kubernetes_keeps_only_the_service_account() -> None:
    """The chart reads the rest of `workers.kubernetes` into its own template only, which `podTemplate` replaces."""
    assert set(build_values(chart_inputs())["workers"]["kubernetes"]) == {"serviceAccount"}


def test_a_bundle_task_pod_checks_its_commit_out_with_the_pinned_host_keys() -> None:
    """With `dags.source: bundle` each task clones the commit its DAG was parsed from: no git-sync init
    container, but the connection's known_hosts file must be there (the connection itself, deploy key
    inside, reaches the task through the execution API, never through the pod's env)."""
    inputs = chart_inputs(SSH_BUNDLE)
    pod = rendered(inputs)
    assert "initContainers" not in pod["spec"]
    [known_hosts] = [
        v for v in volumes(pod).values() if v.get("secret", {}).get("secretName") == inputs.secrets.git_ssh_key
    ]
    assert mounts(pod)[known_hosts["name"]]["mountPath"] == GIT_KNOWN_HOSTS_FILE.rsplit("/", 1)[0]
