"""Tutorial pipeline: Bash tasks, a Jinja-templated command, fan-out/fan-in."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from airflow.providers.standard.operators.bash import BashOperator
from airflow.providers.standard.operators.empty import EmptyOperator
from airflow.sdk import DAG
from platform_settings import OWNER

# Rendered per run: `run_date` is the run's date (YYYY-MM-DD; its logical date, or when it was
# triggered if it has none - `ds` alone fails on such runs, see platform_settings.RUN_DATE) and
# `macros.ds_add` shifts it by whole days. The last line echoed becomes the
# task's XCom (BashOperator pushes the last line of stdout).
TEMPLATED_COMMAND = """
{% set run_date = (dag_run.logical_date or dag_run.run_after) | ds %}
{% for offset in range(3) %}
echo "run {{ run_date }} + {{ offset }} day(s) = {{ macros.ds_add(run_date, offset) }}"
{% endfor %}
echo "next_week={{ macros.ds_add(run_date, 7) }}"
"""

with DAG(
    dag_id="platform_tutorial",
    description="Bash tasks with a templated command, fanning out and back in",
    doc_md="""
### Tutorial pipeline

The classic Airflow tutorial on this platform:

* `print_date` runs first;
* `sleep` and `templated` run in parallel (fan-out); `templated` renders a Jinja
  loop over the run's date with `macros.ds_add` (look at the
  *Rendered Template* tab of the task instance);
* `done` waits for both (fan-in).

Every task retries once after 1 minute. Runs daily; `catchup=False` so turning
it on does not backfill missed days.
""",
    schedule="@daily",
    start_date=datetime(2025, 1, 1, tzinfo=UTC),
    catchup=False,
    tags=["example", "tutorial"],
    default_args={"owner": OWNER, "retries": 1, "retry_delay": timedelta(minutes=1)},
) as dag:
    print_date = BashOperator(task_id="print_date", bash_command="date")
    sleep = BashOperator(task_id="sleep", bash_command="sleep 1", retries=2)
    templated = BashOperator(task_id="templated", bash_command=TEMPLATED_COMMAND)
    done = EmptyOperator(task_id="done")

    print_date >> [sleep, templated] >> done
