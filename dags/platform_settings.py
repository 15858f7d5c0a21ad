"""Settings every DAG on this platform shares (a helper module, not a DAG).

The stack sets five Airflow Variables on every Airflow container (scheduler,
DAG processor, API server, KubernetesExecutor task pods) as environment
variables ``AIRFLOW_VAR_<KEY>``. Their keys are written here once; DAG code
cannot import the stack's ``components`` package (only ``dags/`` reaches the
cluster), so ``tests/dags/test_platform_settings.py`` checks these keys equal
``components/platform_variables.py``.

Why read them at parse time with ``Variable.get(key, default=...)``:

* ``Variable.get`` asks the environment-variables secrets backend first, so on
  the cluster the value comes from ``AIRFLOW_VAR_<KEY>`` without a round trip
  to the API server or the metadata database, on every parse.
* The mount path has to be a plain string when the DAG is parsed:
  ``KubernetesPodOperator`` renders Jinja in a volume's claim name but not in a
  ``V1VolumeMount.mount_path``, so a ``{{ var.value... }}`` template cannot
  carry it. Reading all three the same way keeps the pod spec consistent, and
  the rendered spec visible in the UI matches what runs.
* The worker placement (node selector and tolerations of the task node pool)
  is JSON. Task pods get it from the chart's pod template, but a pod a task
  starts itself (``KubernetesPodOperator``) does not: without it, it lands on
  the system pool next to the scheduler, and on clouds where the shared data
  disk is ReadWriteOnce it cannot mount it from another node.
* The defaults let the DAG folder import on a laptop (or in the DAG tests)
  with no Variables set; a cluster always has the env vars, so a default never
  silently wins there.

The DAG processor ignores this file (see ``.airflowignore``); DAG files import
it as ``platform_settings`` because Airflow puts the DAG bundle root (this
folder) on ``sys.path``.
"""

from __future__ import annotations

from datetime import datetime
from typing import TYPE_CHECKING, Any

from airflow.sdk import Context, Variable

if TYPE_CHECKING:
    from kubernetes.client import models as k8s

# Keys of the Airflow Variables the platform provides (== components/platform_variables.py).
NAMESPACE_KEY = "platform_namespace"
SHARED_DATA_PVC_KEY = "platform_shared_data_pvc"
SHARED_DATA_MOUNT_PATH_KEY = "platform_shared_data_path"
WORKER_NODE_SELECTOR_KEY = "platform_worker_node_selector"
WORKER_TOLERATIONS_KEY = "platform_worker_tolerations"

# Used only where the Variables are unset (a laptop, the DAG tests).
DEFAULT_NAMESPACE = "airflow"
DEFAULT_SHARED_DATA_PVC = "airflow-shared-data"
DEFAULT_SHARED_DATA_MOUNT_PATH = "/opt/airflow/shared"

# Who the example DAGs page; every DAG here sets a real owner.
OWNER = "data-platform"

SHARED_DATA_VOLUME_NAME = "shared-data"

# KUBERNETES_IMPORT: every DAG file imports this module, and so does every task process while it
# parses its DAG file; the Kubernetes client's models cost ~0.6 CPU-seconds to import, a third of
# a task's start. Only the functions that build pod specs import them, so a DAG with no pod pays
# nothing (tests/dags/test_platform_settings.py).

# The run's date (YYYY-MM-DD) in a Jinja template, however the run was triggered. `{{ ds }}`
# exists only when the run has a logical date: Airflow 3 made it optional, and a run triggered
# from the UI or through the REST API (`POST /api/v2/dags/{dag_id}/dagRuns` without
# `logical_date`) has none, so a template naming `ds` fails to render. Every run has `run_after`
# (when it was asked to run); a scheduled run keeps its logical date, as `ds` did.
RUN_DATE = "{{ (dag_run.logical_date or dag_run.run_after) | ds }}"


def run_date(context: Context) -> datetime:
    """RUN_DATE for Python tasks: the run's logical date, or when it was asked to run if it has none."""
    dag_run = context["dag_run"]
    return dag_run.logical_date or dag_run.run_after


def namespace() -> str:
    """The namespace Airflow runs in; task pods are started there."""
    return Variable.get(NAMESPACE_KEY, default=DEFAULT_NAMESPACE)


def shared_data_pvc() -> str:
    """Name of the platform's ReadWriteMany PVC for data shared between tasks."""
    return Variable.get(SHARED_DATA_PVC_KEY, default=DEFAULT_SHARED_DATA_PVC)


def shared_data_mount_path() -> str:
    """Where task pods mount the shared data volume."""
    return Variable.get(SHARED_DATA_MOUNT_PATH_KEY, default=DEFAULT_SHARED_DATA_MOUNT_PATH)


def shared_data_volume() -> tuple[k8s.V1Volume, k8s.V1VolumeMount]:
    """The shared data PVC as a pod volume and the matching container mount."""
    from kubernetes.client import models as k8s  # see KUBERNETES_IMPORT

    volume = k8s.V1Volume(
        name=SHARED_DATA_VOLUME_NAME,
        persistent_volume_claim=k8s.V1PersistentVolumeClaimVolumeSource(claim_name=shared_data_pvc()),
    )
    mount = k8s.V1VolumeMount(name=SHARED_DATA_VOLUME_NAME, mount_path=shared_data_mount_path())
    return volume, mount


def worker_placement() -> dict[str, Any]:
    """``node_selector`` and ``tolerations`` for a ``KubernetesPodOperator``: the worker pool's.

    Unset (a laptop, the DAG tests) it places nothing: any node will do.
    """
    from kubernetes.client import models as k8s  # see KUBERNETES_IMPORT

    node_selector = Variable.get(WORKER_NODE_SELECTOR_KEY, default={}, deserialize_json=True)
    tolerations = Variable.get(WORKER_TOLERATIONS_KEY, default=[], deserialize_json=True)
    return {
        "node_selector": dict(node_selector),
        # The stack writes Kubernetes' own field names (key, operator, value, effect).
        "tolerations": [k8s.V1Toleration(**toleration) for toleration in tolerations],
    }
