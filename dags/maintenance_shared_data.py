"""Maintenance: report shared data volume usage and expire old scratch files."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import platform_settings
from airflow.providers.cncf.kubernetes.operators.pod import KubernetesPodOperator
from airflow.sdk import DAG, Param
from kubernetes.client import models as k8s

IMAGE = "busybox:1.37.0"
# Only this sub-directory of the shared volume is ever cleaned: tasks put
# intermediate files there; everything else on the volume is left alone.
SCRATCH_DIR = "scratch"

mount_path = platform_settings.shared_data_mount_path()
volume, volume_mount = platform_settings.shared_data_volume()

REPORT_COMMAND = f"""
set -eu
df -h "{mount_path}"
echo "--- largest top-level entries ---"
du -sk "{mount_path}"/* 2>/dev/null | sort -rn | head -20 || true
"""

# `-mtime +N` matches files last modified more than N days ago.
# Rendered per run: `params.retention_days` is a DAG param (trigger with
# {"retention_days": 30} to keep more).
CLEAN_COMMAND = f"""
set -eu
scratch="{mount_path}/{SCRATCH_DIR}"
if [ ! -d "$scratch" ]; then echo "no $scratch: nothing to clean"; exit 0; fi
echo "deleting files under $scratch unchanged for more than {{{{ params.retention_days }}}} days"
find "$scratch" -type f -mtime +{{{{ params.retention_days }}}} -print -delete
find "$scratch" -mindepth 1 -type d -empty -mtime +{{{{ params.retention_days }}}} -print -delete
"""

SMALL = k8s.V1ResourceRequirements(
    requests={"cpu": "50m", "memory": "32Mi"},
    limits={"cpu": "250m", "memory": "64Mi"},
)

with DAG(
    dag_id="platform_shared_data_maintenance",
    description="Report shared data volume usage; delete old files under scratch/",
    doc_md=f"""
### Shared data volume maintenance

The platform gives every task pod one ReadWriteMany volume for data shared
between tasks (Variable `platform_shared_data_pvc`, mounted at Variable
`platform_shared_data_path`). Nothing expires on it by itself, and a full
volume fails every task that writes to it. Weekly:

1. `report_usage` prints `df -h` and the largest top-level entries
   (KiB) into the task log: check it before the volume fills.
2. `clean_scratch` deletes files under `<mount>/{SCRATCH_DIR}/` that were not
   modified for more than `retention_days` (param, default 7) days, then
   empty sub-directories as old. Nothing outside `{SCRATCH_DIR}/` is touched:
   put intermediate files there, keep results elsewhere.

Both run in `{IMAGE}` pods with the volume mounted, on the worker pool
(Variables `platform_worker_node_selector`, `platform_worker_tolerations`). (Old DAG runs, task
instances and XComs in the metadata database are purged by the chart's
`databaseCleanup` CronJob that the stack configures, so no DAG does that.)
""",
    schedule="@weekly",
    start_date=datetime(2025, 1, 1, tzinfo=UTC),
    catchup=False,
    max_active_runs=1,
    tags=["maintenance", "platform"],
    params={"retention_days": Param(7, type="integer", minimum=1)},
    default_args={"owner": platform_settings.OWNER, "retries": 2, "retry_delay": timedelta(minutes=5)},
) as dag:
    common = dict(
        namespace=platform_settings.namespace(),
        image=IMAGE,
        cmds=["sh", "-c"],
        container_resources=SMALL,
        volumes=[volume],
        volume_mounts=[volume_mount],
        labels={"app.kubernetes.io/part-of": "airflow-platform"},
        get_logs=True,
        on_finish_action="delete_pod",
        **platform_settings.worker_placement(),
    )
    report_usage = KubernetesPodOperator(
        task_id="report_usage", name="shared-data-usage", arguments=[REPORT_COMMAND], **common
    )
    clean_scratch = KubernetesPodOperator(
        task_id="clean_scratch", name="shared-data-clean", arguments=[CLEAN_COMMAND], **common
    )

    report_usage >> clean_scratch
