"""Settings every DAG on this platform shares (a helper module, not a DAG).

The stack sets three Airflow Variables on every Airflow container (scheduler,
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
* The defaults let the DAG folder import on a laptop (or in the DAG tests)
  with no Variables set; a cluster always has the env vars, so a default never
  silently wins there.

The DAG processor ignores this file (see ``.airflowignore``); DAG files import
it as ``platform_settings`` because Airflow puts the DAG bundle root (this
folder) on ``sys.path``.
"""

from __future__ import annotations

from airflow.sdk import Variable
from kubernetes.client import models as k8s

# Keys of the Airflow Variables the platform provides (== components/platform_variables.py).
NAMESPACE_KEY = "platform_namespace"
SHARED_DATA_PVC_KEY = "platform_shared_data_pvc"
SHARED_DATA_MOUNT_PATH_KEY = "platform_shared_data_path"

# Used only where the Variables are unset (a laptop, the DAG tests).
DEFAULT_NAMESPACE = "airflow"
DEFAULT_SHARED_DATA_PVC = "airflow-shared-data"
DEFAULT_SHARED_DATA_MOUNT_PATH = "/opt/airflow/shared"

# Who the example DAGs page; every DAG here sets a real owner.
OWNER = "data-platform"

SHARED_DATA_VOLUME_NAME = "shared-data"


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
    volume = k8s.V1Volume(
        name=SHARED_DATA_VOLUME_NAME,
        persistent_volume_claim=k8s.V1PersistentVolumeClaimVolumeSource(claim_name=shared_data_pvc()),
    )
    mount = k8s.V1VolumeMount(name=SHARED_DATA_VOLUME_NAME, mount_path=shared_data_mount_path())
    return volume, mount
