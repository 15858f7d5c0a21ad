"""Airflow Variables the platform provides to every DAG.

The chart values set each as an `AIRFLOW_VAR_<KEY>` environment variable on
all Airflow containers (scheduler, API server, task pods), so DAGs read them
with `Variable.get(key)` without a metadata-database round trip. DAGs cannot
import this module (only `dags/` is shipped to the cluster), so the DAG tests
import it to check the DAGs read exactly these keys.

The worker placement Variables hold JSON (`Variable.get(key,
deserialize_json=True)`): pods a task starts itself (KubernetesPodOperator)
are not built from the chart's pod template, so they only land on the worker
pool, next to the task that starts them, if they carry its node selector and
tolerations too.
"""

NAMESPACE = "platform_namespace"
SHARED_DATA_PVC = "platform_shared_data_pvc"
SHARED_DATA_MOUNT_PATH = "platform_shared_data_path"
# A JSON object of node labels and a JSON list of Kubernetes tolerations.
WORKER_NODE_SELECTOR = "platform_worker_node_selector"
WORKER_TOLERATIONS = "platform_worker_tolerations"

# Where the shared RWX data volume is mounted in task pods.
SHARED_DATA_MOUNT_PATH_VALUE = "/opt/airflow/shared"


def env_var_name(key: str) -> str:
    """The environment variable Airflow reads the Variable `key` from."""
    return f"AIRFLOW_VAR_{key.upper()}"
