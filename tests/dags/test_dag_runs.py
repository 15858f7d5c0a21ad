"""Run the example DAGs end to end with dag.test() on sqlite.

Asserts what a user sees in the grid after a run: which tasks succeeded, which
were skipped, and the values passed between tasks.
"""

from __future__ import annotations

from contextlib import contextmanager
from datetime import UTC, datetime

import pytest

LOGICAL_DATE = datetime(2025, 3, 10, tzinfo=UTC)
# A run triggered from the UI or through the REST API without a logical date (Airflow 3 made it
# optional): it has no `ds`, only when it was asked to run.
RUN_AFTER = datetime(2025, 3, 12, 6, 30, tzinfo=UTC)

pytestmark = pytest.mark.usefixtures("airflow_db")


@contextmanager
def _no_retries(dag):
    """A failing task fails the run now instead of waiting out retry_delay."""
    saved = {task.task_id: task.retries for task in dag.tasks}
    for task in dag.tasks:
        task.retries = 0
    try:
        yield dag
    finally:
        for task in dag.tasks:
            task.retries = saved[task.task_id]


def run(dagbag, dag_id: str, **kwargs):
    with _no_retries(dagbag.dags[dag_id]) as dag:
        dag_run = dag.test(**{"logical_date": LOGICAL_DATE, **kwargs})
    states = {
        (ti.task_id if ti.map_index < 0 else f"{ti.task_id}[{ti.map_index}]"): str(ti.state)
        for ti in dag_run.get_task_instances()
    }
    return dag_run, states


def xcom(dag_run, task_id: str, key: str = "return_value", map_index: int = -1):
    from airflow.models.xcom import XComModel
    from airflow.utils.session import create_session

    with create_session() as session:
        row = session.scalars(
            XComModel.get_many(
                run_id=dag_run.run_id,
                dag_ids=dag_run.dag_id,
                task_ids=task_id,
                key=key,
                map_indexes=map_index,
            )
        ).first()
        assert row is not None, f"no XCom {key!r} from {task_id}"
        return XComModel.deserialize_value(row)


def test_tutorial_runs_every_task_and_renders_the_template(dagbag):
    dag_run, states = run(dagbag, "platform_tutorial")

    assert str(dag_run.state) == "success", states
    assert states == {t: "success" for t in ("print_date", "sleep", "templated", "done")}
    # The last line of the Jinja loop: ds + 7 days via macros.ds_add.
    assert xcom(dag_run, "templated") == "next_week=2025-03-17"


def test_xcom_values_flow_between_tasks(dagbag):
    dag_run, states = run(dagbag, "platform_xcom")

    assert str(dag_run.state) == "success", states
    assert set(states.values()) == {"success"}
    assert xcom(dag_run, "extract") == {"rows": 42, "source": "orders"}
    assert xcom(dag_run, "tag_batch", key="batch_id") == "batch-20250310"
    assert xcom(dag_run, "combine") == "batch-20250310:orders:42"
    assert xcom(dag_run, "report") == "rows=42 batch=batch-20250310 summary=batch-20250310:orders:42"


@pytest.mark.parametrize(
    ("conf", "taken", "skipped"),
    [
        (None, "incremental_load", "full_load"),
        ({"load_type": "full"}, "full_load", "incremental_load"),
    ],
)
def test_branching_skips_the_other_branch_and_still_joins(dagbag, conf, taken, skipped):
    dag_run, states = run(dagbag, "platform_branching", run_conf=conf)

    assert str(dag_run.state) == "success", states
    assert states == {
        "latest_only": "success",  # manual runs always pass the latest-only guard
        "choose_load": "success",
        taken: "success",
        skipped: "skipped",
        "join": "success",  # none_failed_min_one_success: not skipped with its branch
        "publish": "success",
    }


def test_mapped_task_group_runs_once_per_region(dagbag):
    dag_run, states = run(dagbag, "platform_taskflow_mapping")

    assert str(dag_run.state) == "success", states
    assert states == {
        "list_regions": "success",
        **{f"process_region.{t}[{i}]": "success" for t in ("extract", "transform") for i in range(3)},
        "summarize": "success",
    }
    assert xcom(dag_run, "process_region.transform", map_index=1) == {
        "region": "apac",
        "orders": 80,
        "orders_per_day": 2.67,
    }
    assert xcom(dag_run, "summarize") == {"regions": 3, "orders": 400}


@pytest.mark.parametrize(
    ("dag_id", "task_id", "key", "rendered"),
    [
        ("platform_tutorial", "templated", "return_value", "next_week=2025-03-19"),
        ("platform_xcom", "tag_batch", "batch_id", "batch-20250312"),
        ("platform_branching", "publish", "return_value", "published 2025-03-12"),
    ],
)
def test_a_run_without_a_logical_date_succeeds_and_uses_the_day_it_ran(dagbag, dag_id, task_id, key, rendered):
    dag_run, states = run(dagbag, dag_id, logical_date=None, run_after=RUN_AFTER)

    assert dag_run.logical_date is None
    assert str(dag_run.state) == "success", states
    assert xcom(dag_run, task_id, key=key) == rendered
