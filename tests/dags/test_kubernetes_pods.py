"""Pod specs of the KubernetesPodOperator DAGs, rendered without a cluster."""

from __future__ import annotations

import json
import os
import subprocess
import time
from pathlib import Path

import pytest
from dag_integrity import DAGS_FOLDER, load_dag_folder, load_repo_module

PLATFORM_VARIABLES = load_repo_module("components/platform_variables.py")

# The worker pool's placement as a platform hands it over (the tests' own values).
WORKER_NODE_SELECTOR = {"airflow-platform/pool": "workers"}
WORKER_TOLERATION = {"key": "airflow-platform/pool", "operator": "Equal", "value": "workers", "effect": "NoSchedule"}

FAKE_KUBECONFIG = """
apiVersion: v1
kind: Config
clusters: [{name: none, cluster: {server: "https://127.0.0.1:1"}}]
users: [{name: none, user: {token: none}}]
contexts: [{name: none, context: {cluster: none, user: none}}]
current-context: none
"""


@pytest.fixture
def platform_env(monkeypatch, tmp_path):
    """The Variables as the stack sets them on every Airflow container."""
    values = {
        PLATFORM_VARIABLES.NAMESPACE: "team-airflow",
        PLATFORM_VARIABLES.SHARED_DATA_PVC: "team-shared-data",
        PLATFORM_VARIABLES.SHARED_DATA_MOUNT_PATH: str(tmp_path / "shared"),
        PLATFORM_VARIABLES.WORKER_NODE_SELECTOR: json.dumps(WORKER_NODE_SELECTOR),
        PLATFORM_VARIABLES.WORKER_TOLERATIONS: json.dumps([WORKER_TOLERATION]),
    }
    for key, value in values.items():
        monkeypatch.setenv(PLATFORM_VARIABLES.env_var_name(key), value)
    # build_pod_request_obj() asks the hook whether it runs in a cluster, which
    # loads a kubeconfig; give it one pointing nowhere (nothing is contacted).
    kubeconfig = tmp_path / "kubeconfig"
    kubeconfig.write_text(FAKE_KUBECONFIG)
    monkeypatch.setenv(
        "AIRFLOW_CONN_KUBERNETES_DEFAULT",
        json.dumps({"conn_type": "kubernetes", "extra": {"kube_config_path": str(kubeconfig)}}),
    )
    return values


def _parse(file_name: str, dag_id: str):
    """Parse one DAG file now, so it reads the Variables set by the test."""
    dagbag = load_dag_folder(DAGS_FOLDER)
    assert dagbag.import_errors == {}
    dag = dagbag.dags[dag_id]
    assert Path(dag.fileloc).name == file_name
    return dag


def _assert_on_the_worker_pool(pod):
    """Pods a task starts itself must follow it to the worker pool (not the system pool)."""
    assert pod.spec.node_selector == WORKER_NODE_SELECTOR
    assert [t.to_dict() for t in pod.spec.tolerations] == [{**WORKER_TOLERATION, "toleration_seconds": None}]


def _container(pod):
    (container,) = pod.spec.containers  # no xcom sidecar: do_xcom_push is off
    return container


def test_pod_spec_of_the_kubernetes_pod_example(platform_env):
    dag = _parse("kubernetes_pod.py", "platform_kubernetes_pod")
    pod = dag.get_task("write_to_shared_volume").build_pod_request_obj()
    container = _container(pod)
    mount_path = platform_env[PLATFORM_VARIABLES.SHARED_DATA_MOUNT_PATH]

    assert pod.metadata.namespace == "team-airflow"
    _assert_on_the_worker_pool(pod)
    assert container.image == "python:3.12.11-slim"
    assert ":" in container.image and not container.image.endswith(":latest")
    assert container.resources.requests == {"cpu": "100m", "memory": "64Mi"}
    assert container.resources.limits == {"cpu": "500m", "memory": "128Mi"}

    (env_from,) = container.env_from
    assert env_from.config_map_ref.name == "example-pod-env"
    assert env_from.config_map_ref.optional is True  # the pod starts without it
    assert {e.name: e.value for e in container.env}["SHARED_DATA"] == mount_path

    (volume,) = [v for v in pod.spec.volumes if v.persistent_volume_claim]
    assert volume.persistent_volume_claim.claim_name == "team-shared-data"
    (mount,) = [m for m in container.volume_mounts if m.name == volume.name]
    assert mount.mount_path == mount_path


def test_maintenance_pods_mount_the_shared_volume(platform_env):
    dag = _parse("maintenance_shared_data.py", "platform_shared_data_maintenance")
    for task_id in ("report_usage", "clean_scratch"):
        pod = dag.get_task(task_id).build_pod_request_obj()
        container = _container(pod)
        assert pod.metadata.namespace == "team-airflow"
        _assert_on_the_worker_pool(pod)
        assert container.image == "busybox:1.37.0"
        assert container.resources.limits == {"cpu": "250m", "memory": "64Mi"}
        (volume,) = pod.spec.volumes
        assert volume.persistent_volume_claim.claim_name == "team-shared-data"
        (mount,) = container.volume_mounts
        assert (mount.name, mount.mount_path) == (
            volume.name,
            platform_env[PLATFORM_VARIABLES.SHARED_DATA_MOUNT_PATH],
        )


def test_clean_scratch_deletes_only_old_files_under_scratch(platform_env):
    """Run the cleanup command, rendered as Airflow renders it, against a temp dir."""
    shared = Path(platform_env[PLATFORM_VARIABLES.SHARED_DATA_MOUNT_PATH])
    old, fresh = shared / "scratch" / "job1" / "old.csv", shared / "scratch" / "fresh.csv"
    old_result, old_empty_dir = shared / "results" / "old.csv", shared / "scratch" / "empty"
    for path in (old, fresh, old_result):
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text("x")
    old_empty_dir.mkdir()
    ten_days_ago = time.time() - 10 * 86400
    for path in (old, old_result, old_empty_dir):
        os.utime(path, (ten_days_ago, ten_days_ago))

    dag = _parse("maintenance_shared_data.py", "platform_shared_data_maintenance")
    task = dag.get_task("clean_scratch")
    assert task.cmds == ["sh", "-c"]
    (command,) = task.render_template(task.arguments, {"params": {"retention_days": 7}})
    result = subprocess.run(["sh", "-c", command], capture_output=True, text=True, check=True)

    assert not old.exists()
    assert not old_empty_dir.exists()
    assert fresh.exists()  # newer than retention_days
    assert old_result.exists()  # outside scratch/: never touched
    assert str(old) in result.stdout  # the task log lists what was deleted
