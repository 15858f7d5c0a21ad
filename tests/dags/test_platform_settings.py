"""dags/platform_settings.py reads exactly the Variables the stack provides."""

from __future__ import annotations

import subprocess
import sys

import platform_settings
from dag_integrity import DAGS_FOLDER, load_repo_module

PLATFORM_VARIABLES = load_repo_module("components/platform_variables.py")


def test_variable_keys_match_the_stack():
    assert platform_settings.NAMESPACE_KEY == PLATFORM_VARIABLES.NAMESPACE
    assert platform_settings.SHARED_DATA_PVC_KEY == PLATFORM_VARIABLES.SHARED_DATA_PVC
    assert platform_settings.SHARED_DATA_MOUNT_PATH_KEY == PLATFORM_VARIABLES.SHARED_DATA_MOUNT_PATH
    assert platform_settings.WORKER_NODE_SELECTOR_KEY == PLATFORM_VARIABLES.WORKER_NODE_SELECTOR
    assert platform_settings.WORKER_TOLERATIONS_KEY == PLATFORM_VARIABLES.WORKER_TOLERATIONS


def test_default_mount_path_matches_the_stack():
    assert platform_settings.DEFAULT_SHARED_DATA_MOUNT_PATH == PLATFORM_VARIABLES.SHARED_DATA_MOUNT_PATH_VALUE


def test_defaults_apply_without_variables():
    # conftest removes any AIRFLOW_VAR_PLATFORM_* from the environment.
    assert platform_settings.namespace() == platform_settings.DEFAULT_NAMESPACE
    assert platform_settings.shared_data_pvc() == platform_settings.DEFAULT_SHARED_DATA_PVC
    assert platform_settings.shared_data_mount_path() == platform_settings.DEFAULT_SHARED_DATA_MOUNT_PATH
    assert platform_settings.worker_placement() == {"node_selector": {}, "tolerations": []}


def test_values_come_from_the_env_vars_the_stack_sets(monkeypatch):
    env = PLATFORM_VARIABLES.env_var_name
    monkeypatch.setenv(env(PLATFORM_VARIABLES.NAMESPACE), "data-team")
    monkeypatch.setenv(env(PLATFORM_VARIABLES.SHARED_DATA_PVC), "team-shared")
    monkeypatch.setenv(env(PLATFORM_VARIABLES.SHARED_DATA_MOUNT_PATH), "/mnt/team")

    assert platform_settings.namespace() == "data-team"
    volume, mount = platform_settings.shared_data_volume()
    assert volume.persistent_volume_claim.claim_name == "team-shared"
    assert (mount.name, mount.mount_path) == (volume.name, "/mnt/team")


def test_a_dag_that_starts_no_pod_never_imports_the_kubernetes_client():
    """Every task process parses its DAG file: the client's models (~0.6 CPU-s) are imported only by
    the functions that build pod specs (platform_settings KUBERNETES_IMPORT), in a fresh interpreter
    as a task's is (this session has imported them already)."""
    imported = subprocess.run(
        [sys.executable, "-c", "import sys, xcom, tutorial; print('kubernetes.client' in sys.modules)"],
        cwd=DAGS_FOLDER,
        capture_output=True,
        text=True,
        check=True,
    ).stdout.split()[-1]
    assert imported == "False", "importing a DAG without pods loaded the Kubernetes client"
