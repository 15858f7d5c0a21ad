"""The KubernetesExecutor's task pods: the stack's own pod template (the chart's `podTemplate` value).

Why not the chart's: its `files/pod-template-file.kubernetes-helm-yaml` gives
every task pod the chart's standard env (`_helpers.yaml`,
`standard_airflow_environment`): the metadata database URL
(`AIRFLOW__DATABASE__SQL_ALCHEMY_CONN`, `AIRFLOW_CONN_AIRFLOW_DB`), the Fernet
key, `[api] secret_key` and `[api_auth] jwt_secret`, plus every top-level
`secret` entry (our asyncpg URL). Its only switch, `enableBuiltInSecretEnvVars`,
is global: turning it off would take the database from the scheduler too.

What a task needs in Airflow 3.2 (task SDK 1.2, read from its source):
- `execute_workload` connects to `[core] execution_api_server_url` (airflow.cfg,
  mounted from the chart's config ConfigMap) with the JWT the scheduler put in
  the workload: no signing key, no database. The supervisor even blocks the
  ORM inside tasks (`supervisor.py`, "Database access is disabled from Dags").
- Connections, Variables and XComs come through the execution API, decrypted
  by the API server: no Fernet key. (The SDK's `get_fernet` serves only the
  deltalake/iceberg XCom serializers; a DAG returning those objects needs a
  key of its own, see docs/operations/upgrades.md.)
So the base container gets plain values only: the executor setting and the
platform's environment (components/airflow/values.py `environment`).

The parts that belong to the chart's internals stay the chart's: the git-sync
init container, the config and DAG mounts, the SSH key volume, the config
ConfigMap's name and the image are the chart's own helpers, called exactly as
its default pod template calls them (the value is rendered with `tpl`). The
pod is built as data with a marker where a helper goes, so tests validate the
rest with kubernetes-validate.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import pulumi
import yaml

from components import platform_variables

EXECUTOR = "KubernetesExecutor"
# The KubernetesExecutor fills in the command of the container named `base`
# (cncf.kubernetes pod_generator: `reconcile_pods` merges by this name).
TASK_CONTAINER = "base"
# Names the chart's helpers refer to: its git-sync container mounts `dags`
# and reads known_hosts from `config`; `airflow_config_mount` mounts `config`.
DAGS_VOLUME = "dags"
CONFIG_VOLUME = "config"
LOGS_VOLUME = "logs"
LOGS_MOUNT_PATH = "/opt/airflow/logs"
SHARED_DATA_VOLUME = "shared-data"
# The chart's pod template defaults (values.yaml `workers.terminationGracePeriodSeconds`,
# `workers.safeToEvict`): a scale-down waits for a running task instead of killing it.
TERMINATION_GRACE_PERIOD_SECONDS = 600
SAFE_TO_EVICT_ANNOTATION = "cluster-autoscaler.kubernetes.io/safe-to-evict"
# Env vars the chart's standard env (and our `secret` entry) would give every
# task pod, none of which a task reads (see above); the tests check that none
# reaches one.
WITHHELD_FROM_TASKS = (
    "AIRFLOW__DATABASE__SQL_ALCHEMY_CONN",
    "AIRFLOW__DATABASE__SQL_ALCHEMY_CONN_ASYNC",
    "AIRFLOW_CONN_AIRFLOW_DB",
    "AIRFLOW__CORE__FERNET_KEY",
    "AIRFLOW__API__SECRET_KEY",
    "AIRFLOW__API_AUTH__JWT_SECRET",
    "AIRFLOW__WEBSERVER__SECRET_KEY",
)


@dataclass(frozen=True)
class ChartHelper:
    """A named template of the pinned chart, called where `marker` stands in the pod data.

    A list helper renders YAML list items (`- name: ...`); a scalar one a value.
    """

    marker: str
    expression: str
    renders_list: bool


GIT_SYNC_INIT_CONTAINER = ChartHelper(
    "__chart_git_sync_init_container__",
    'include "git_sync_container" (dict "Values" .Values "is_init" "true" "Template" .Template)',
    renders_list=True,
)
CONFIG_MOUNT = ChartHelper("__chart_config_mount__", 'include "airflow_config_mount" .', renders_list=True)
GIT_DAGS_MOUNT = ChartHelper("__chart_dags_mount__", 'include "airflow_dags_mount" .', renders_list=True)
GIT_SSH_KEY_VOLUME = ChartHelper("__chart_git_ssh_key_volume__", 'include "git_sync_ssh_key_volume" .', True)
CONFIG_MAP_NAME = ChartHelper("__chart_config_map_name__", 'include "airflow_config" .', renders_list=False)
IMAGE = ChartHelper("__chart_pod_template_image__", 'template "pod_template_image" .', renders_list=False)
CHART_HELPERS = (GIT_SYNC_INIT_CONTAINER, CONFIG_MOUNT, GIT_DAGS_MOUNT, GIT_SSH_KEY_VOLUME, CONFIG_MAP_NAME, IMAGE)


@dataclass(frozen=True)
class TaskPodSpec:
    """What shapes a task pod; built by the values builder from the stack's settings."""

    release_name: str
    service_account: str
    # (name, value) pairs: plain values only, never a secretKeyRef.
    environment: Sequence[tuple[str, pulumi.Input[str]]]
    node_selector: Mapping[str, str]
    tolerations: Sequence[Mapping[str, str]]
    resources: Mapping[str, Mapping[str, str]]
    pod_security_context: Mapping[str, Any]
    container_security_context: Mapping[str, Any]
    shared_data_claim_name: pulumi.Input[str]
    # None: task logs go to object storage and the pod keeps them in an emptyDir until uploaded.
    logs_claim_name: pulumi.Input[str] | None
    git_sync: bool
    # git-sync over SSH: the deploy key Secret's volume (the chart's helper renders it).
    git_ssh_key: bool
    # `dags.source: configmap`: the DAG ConfigMap's volume and mount (values.py builds both).
    dag_volumes: Sequence[Mapping[str, Any]] = ()
    dag_volume_mounts: Sequence[Mapping[str, Any]] = ()


def task_pod(spec: TaskPodSpec) -> dict[str, Any]:
    """The task pod as data, with a ChartHelper marker where the chart's helper goes."""
    logs_volume: dict[str, Any] = (
        {"name": LOGS_VOLUME, "persistentVolumeClaim": {"claimName": spec.logs_claim_name}}
        if spec.logs_claim_name is not None
        else {"name": LOGS_VOLUME, "emptyDir": {}}
    )
    volumes: list[Any] = [logs_volume, {"name": CONFIG_VOLUME, "configMap": {"name": CONFIG_MAP_NAME.marker}}]
    mounts: list[Any] = [{"name": LOGS_VOLUME, "mountPath": LOGS_MOUNT_PATH}, CONFIG_MOUNT.marker]
    if spec.git_sync:
        volumes.append({"name": DAGS_VOLUME, "emptyDir": {}})
        mounts.append(GIT_DAGS_MOUNT.marker)
    if spec.git_ssh_key:
        volumes.append(GIT_SSH_KEY_VOLUME.marker)
    volumes += [dict(volume) for volume in spec.dag_volumes]
    mounts += [dict(mount) for mount in spec.dag_volume_mounts]
    volumes.append(
        {
            "name": SHARED_DATA_VOLUME,
            "persistentVolumeClaim": {"claimName": spec.shared_data_claim_name},
        }
    )
    mounts.append({"name": SHARED_DATA_VOLUME, "mountPath": platform_variables.SHARED_DATA_MOUNT_PATH_VALUE})

    pod_spec: dict[str, Any] = {}
    if spec.git_sync:
        # With KubernetesExecutor and no DAG persistence, each task pod clones the DAGs first.
        pod_spec["initContainers"] = [GIT_SYNC_INIT_CONTAINER.marker]
    pod_spec |= {
        "containers": [
            {
                "name": TASK_CONTAINER,
                "image": IMAGE.marker,
                "imagePullPolicy": "IfNotPresent",
                "env": [
                    {"name": "AIRFLOW__CORE__EXECUTOR", "value": EXECUTOR},
                    *({"name": name, "value": value} for name, value in spec.environment),
                ],
                "resources": {kind: dict(amounts) for kind, amounts in spec.resources.items()},
                "securityContext": dict(spec.container_security_context),
                "volumeMounts": mounts,
            }
        ],
        "restartPolicy": "Never",
        "terminationGracePeriodSeconds": TERMINATION_GRACE_PERIOD_SECONDS,
        "securityContext": dict(spec.pod_security_context),
        "nodeSelector": dict(spec.node_selector),
        "tolerations": [dict(toleration) for toleration in spec.tolerations],
        # The account RBAC binds (components/airflow/rbac.py): KubernetesPodOperator runs as it.
        "serviceAccountName": spec.service_account,
        "volumes": volumes,
    }
    return {
        "apiVersion": "v1",
        "kind": "Pod",
        "metadata": {
            # Replaced by the executor; the chart's template uses the same placeholder.
            "name": "placeholder-name",
            "labels": {"tier": "airflow", "component": "worker", "release": spec.release_name},
            "annotations": {SAFE_TO_EVICT_ANNOTATION: "false"},
        },
        "spec": pod_spec,
    }


def render(pod: Mapping[str, Any]) -> str:
    """The `podTemplate` value: the pod as YAML, each marker replaced by its chart helper call.

    A list helper's marker is a list item of its own (`<indent>- marker`); it
    becomes `<indent>{{- helper | nindent <indent> }}`, the form the chart's
    default template uses, so the helper's items land at the same indent.
    """
    lines = []
    for line in yaml.safe_dump(dict(pod), sort_keys=False, default_flow_style=False, width=1_000_000).splitlines():
        lines.append(_call_helper(line))
    text = "\n".join(lines) + "\n"
    leftover = [helper.marker for helper in CHART_HELPERS if helper.marker in text]
    if leftover:
        raise ValueError(f"pod template markers left unrendered: {leftover}")
    return text


def _call_helper(line: str) -> str:
    for helper in CHART_HELPERS:
        if helper.marker not in line:
            continue
        if helper.renders_list:
            indent = line[: len(line) - len(line.lstrip())]
            if line.strip() != f"- {helper.marker}":
                raise ValueError(f"list helper {helper.marker} must be a list item of its own: {line!r}")
            return f"{indent}{{{{- {helper.expression} | nindent {len(indent)} }}}}"
        return line.replace(helper.marker, f"{{{{ {helper.expression} }}}}")
    if "{{" in line or "}}" in line:
        # The chart renders the value with `tpl`: a brace pair in data would be run as a template.
        raise ValueError(f"pod template data must not contain template braces: {line!r}")
    return line


def pod_template(spec: TaskPodSpec) -> pulumi.Input[str]:
    """`render(task_pod(spec))`, once the Inputs in it (namespace, claim names) are known."""
    return with_inputs_resolved(task_pod(spec), render)


def with_inputs_resolved(value: Any, function: Callable[[Any], str]) -> pulumi.Input[str]:
    """`function(value)` now when `value` holds no Output (pure tests see a plain string), else once resolved."""
    if not _holds_output(value):
        return function(value)
    return pulumi.Output.from_input(value).apply(function)


def _holds_output(value: Any) -> bool:
    if isinstance(value, pulumi.Output):
        return True
    if isinstance(value, Mapping):
        return any(_holds_output(item) for item in value.values())
    if isinstance(value, (list, tuple)):
        return any(_holds_output(item) for item in value)
    return False
