"""Branching: a latest-only guard, @task.branch, and a join that survives a skip."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from airflow.providers.standard.operators.bash import BashOperator
from airflow.providers.standard.operators.empty import EmptyOperator
from airflow.providers.standard.operators.latest_only import LatestOnlyOperator
from airflow.sdk import DAG, Param, TriggerRule, task
from platform_settings import OWNER, RUN_DATE

with DAG(
    dag_id="platform_branching",
    description="Pick a full or an incremental load, then join",
    doc_md="""
### Branching

1. `latest_only` skips everything downstream unless this is the most recent
   scheduled run (manual runs always proceed), so a backlog of old runs does
   not reload data.
2. `choose_load` (`@task.branch`) returns the task id to follow: `full_load`
   when the run's `load_type` param is `full` (trigger with
   `{"load_type": "full"}`), else `incremental_load`. The other branch is
   **skipped**.
3. `join` uses `trigger_rule=none_failed_min_one_success`: it runs when one
   branch succeeded and the other was skipped. With the default `all_success`
   the skip would propagate and `publish` would never run.
""",
    schedule="@daily",
    start_date=datetime(2025, 1, 1, tzinfo=UTC),
    catchup=False,
    tags=["example", "branching"],
    params={"load_type": Param("incremental", type="string", enum=["incremental", "full"])},
    default_args={"owner": OWNER, "retries": 1, "retry_delay": timedelta(minutes=1)},
) as dag:
    latest_only = LatestOnlyOperator(task_id="latest_only")

    @task.branch
    def choose_load(params: dict | None = None) -> str:
        return "full_load" if params["load_type"] == "full" else "incremental_load"

    full_load = BashOperator(task_id="full_load", bash_command=f'echo "reloading everything for {RUN_DATE}"')
    incremental_load = BashOperator(task_id="incremental_load", bash_command=f'echo "loading changes of {RUN_DATE}"')
    join = EmptyOperator(task_id="join", trigger_rule=TriggerRule.NONE_FAILED_MIN_ONE_SUCCESS)
    publish = BashOperator(task_id="publish", bash_command=f'echo "published {RUN_DATE}"')

    latest_only >> choose_load() >> [full_load, incremental_load] >> join >> publish
