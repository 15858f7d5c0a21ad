"""TaskFlow, a task group, and dynamic task mapping over a list."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from airflow.sdk import dag, task, task_group
from platform_settings import OWNER

# Made-up order counts so the example runs anywhere; a real DAG would read
# them from a source system or from files on the shared data volume.
ORDERS_PER_REGION = {"emea": 120, "amer": 200, "apac": 80}


@dag(
    dag_id="platform_taskflow_mapping",
    description="Fan a task group out over a list decided at run time",
    doc_md="""
### TaskFlow + task group + dynamic task mapping

* `list_regions` returns the list to work on. Its length is only known when
  it runs, so the number of parallel tasks is decided at run time.
* `process_region` is a **task group** (`extract` then `transform`) mapped
  with `.expand(region=...)`: Airflow creates one copy of the group per
  region (map index 0, 1, 2...). With KubernetesExecutor each mapped task
  instance is its own pod.
* `summarize` receives the list of all `transform` results (fan-in).

Cap the fan-out with `max_active_tis_per_dag` on a task or `max_active_tasks`
on the DAG when a list can be long.
""",
    schedule=None,
    start_date=datetime(2025, 1, 1, tzinfo=UTC),
    catchup=False,
    tags=["example", "taskflow", "mapping"],
    default_args={"owner": OWNER, "retries": 1, "retry_delay": timedelta(minutes=1)},
)
def platform_taskflow_mapping():
    @task
    def list_regions() -> list[str]:
        return sorted(ORDERS_PER_REGION)

    @task
    def extract(region: str) -> dict:
        return {"region": region, "orders": ORDERS_PER_REGION[region]}

    @task
    def transform(record: dict) -> dict:
        return {**record, "orders_per_day": round(record["orders"] / 30, 2)}

    @task_group
    def process_region(region: str):
        return transform(extract(region))

    @task
    def summarize(records: list[dict]) -> dict:
        records = list(records)
        return {"regions": len(records), "orders": sum(r["orders"] for r in records)}

    summarize(process_region.expand(region=list_regions()))


platform_taskflow_mapping()
