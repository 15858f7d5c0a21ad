"""A task in its own container image, with the platform's shared data volume."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import platform_settings
from airflow.providers.cncf.kubernetes.operators.pod import KubernetesPodOperator
from airflow.sdk import DAG
from kubernetes.client import models as k8s

# Pinned image: a task pod never changes under you because a tag moved.
IMAGE = "python:3.12.11-slim"

# The ConfigMap whose keys become the container's environment variables.
# You create it (the platform does not), in the Airflow namespace, e.g.
#   kubectl -n <namespace> create configmap example-pod-env --from-literal=GREETING=hello
# It is marked optional: without it the pod still starts (GREETING unset).
ENV_CONFIG_MAP = "example-pod-env"

SCRIPT = """
import os, pathlib
out = pathlib.Path(os.environ["SHARED_DATA"]) / "examples" / "kubernetes_pod"
out.mkdir(parents=True, exist_ok=True)
target = out / (os.environ["RUN_DATE"] + ".txt")
target.write_text(os.environ.get("GREETING", "hello") + " from a KubernetesPodOperator pod\\n")
print("wrote", target)
"""

volume, volume_mount = platform_settings.shared_data_volume()
mount_path = platform_settings.shared_data_mount_path()

with DAG(
    dag_id="platform_kubernetes_pod",
    description="Run a task in its own image with the shared data volume mounted",
    doc_md=f"""
### KubernetesPodOperator

`write_to_shared_volume` runs in its own pod from the pinned image
`{IMAGE}`, not in the Airflow image, so it can have any dependencies.

* **Resources**: requests 100m CPU / 64Mi, limits 500m CPU / 128Mi.
* **Environment**: every key of the ConfigMap `{ENV_CONFIG_MAP}` (optional;
  create it yourself in the Airflow namespace:
  `kubectl -n <namespace> create configmap {ENV_CONFIG_MAP} --from-literal=GREETING=hello`).
  For credentials use a Secret the same way (`V1SecretEnvSource`) or
  `secrets=[Secret("env", None, "<secret-name>")]`.
* **Shared data**: the platform's ReadWriteMany PVC (Variable
  `platform_shared_data_pvc`) is mounted at the path in Variable
  `platform_shared_data_path`; the pod writes
  `examples/kubernetes_pod/<run date>.txt` there. Other pods mounting the same PVC
  see the file.
* **Namespace**: Variable `platform_namespace` (the Airflow namespace, where
  the worker's service account may create pods).
* **Placement**: the worker pool's node selector and tolerations (Variables
  `platform_worker_node_selector`, `platform_worker_tolerations`), like the
  task pods the executor starts: not the system pool next to the scheduler.

The pod is deleted when it finishes; its log is copied into the task log.
""",
    schedule=None,
    start_date=datetime(2025, 1, 1, tzinfo=UTC),
    catchup=False,
    tags=["example", "kubernetes"],
    default_args={"owner": platform_settings.OWNER, "retries": 1, "retry_delay": timedelta(minutes=2)},
) as dag:
    write_to_shared_volume = KubernetesPodOperator(
        task_id="write_to_shared_volume",
        name="platform-kpo-example",
        namespace=platform_settings.namespace(),
        image=IMAGE,
        cmds=["python", "-c"],
        arguments=[SCRIPT],
        env_vars={"SHARED_DATA": mount_path, "RUN_DATE": platform_settings.RUN_DATE},
        env_from=[
            k8s.V1EnvFromSource(config_map_ref=k8s.V1ConfigMapEnvSource(name=ENV_CONFIG_MAP, optional=True)),
        ],
        container_resources=k8s.V1ResourceRequirements(
            requests={"cpu": "100m", "memory": "64Mi"},
            limits={"cpu": "500m", "memory": "128Mi"},
        ),
        volumes=[volume],
        volume_mounts=[volume_mount],
        labels={"app.kubernetes.io/part-of": "airflow-platform"},
        get_logs=True,
        on_finish_action="delete_pod",
        startup_timeout_seconds=300,
        **platform_settings.worker_placement(),
    )
