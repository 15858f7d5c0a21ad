"""XCom: a return value, an explicit push/pull by key, a pull in a Bash template."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from airflow.providers.standard.operators.bash import BashOperator
from airflow.sdk import dag, get_current_context, task
from platform_settings import OWNER, run_date


@dag(
    dag_id="platform_xcom",
    description="Pass small values between tasks with XCom",
    doc_md="""
### XCom between tasks

* `extract` **returns** a dict: TaskFlow stores it as the task's
  `return_value` XCom and passes it to `combine` as an argument.
* `tag_batch` **pushes** an XCom under an explicit key (`batch_id`) with
  `ti.xcom_push`; `combine` **pulls** it by task id and key with
  `ti.xcom_pull`.
* `report` is a BashOperator whose command **pulls** both values in its Jinja
  template (`{{ ti.xcom_pull(...) }}`).

XComs live in the metadata database: keep them small (ids, counts, paths on
the shared volume), never data sets. Manual runs only (`schedule=None`).
""",
    schedule=None,
    start_date=datetime(2025, 1, 1, tzinfo=UTC),
    catchup=False,
    tags=["example", "xcom"],
    default_args={"owner": OWNER, "retries": 1, "retry_delay": timedelta(minutes=1)},
)
def platform_xcom():
    @task
    def extract() -> dict:
        return {"rows": 42, "source": "orders"}

    @task
    def tag_batch() -> None:
        context = get_current_context()
        context["ti"].xcom_push(key="batch_id", value=f"batch-{run_date(context):%Y%m%d}")

    @task
    def combine(extracted: dict) -> str:
        ti = get_current_context()["ti"]
        batch_id = ti.xcom_pull(task_ids="tag_batch", key="batch_id")
        return f"{batch_id}:{extracted['source']}:{extracted['rows']}"

    report = BashOperator(
        task_id="report",
        bash_command=(
            "echo \"rows={{ ti.xcom_pull(task_ids='extract')['rows'] }} "
            "batch={{ ti.xcom_pull(task_ids='tag_batch', key='batch_id') }} "
            "summary={{ ti.xcom_pull(task_ids='combine') }}\""
        ),
    )

    tagged = tag_batch()
    combined = combine(extract())
    tagged >> combined >> report


platform_xcom()
