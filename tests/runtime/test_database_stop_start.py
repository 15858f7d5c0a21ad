"""A metadata database stopped and started again under running Airflow (what `sleep: true` then `sleep: false`
does to Cloud SQL - activation policy NEVER, then ALWAYS - and to RDS - stop, then start).

The throwaway PostgreSQL shuts down cleanly (every client's connection closed, as the cloud's stop does)
while the dev shape's four components keep running, stays down past their heartbeats, and starts again
on the same data directory. Afterwards the stack must be what it was: the API server healthy again
without being restarted, the DAG history and the encrypted connection intact, and a new run scheduled
and run to success.
"""

from __future__ import annotations

import time

import pytest
from runtime.metadata_records import (
    CONNECTION_HOST,
    CONNECTION_LOGIN,
    HISTORY_DAG,
    decrypted,
    history,
    served_secrets,
    stored_tokens,
    write_secrets,
)
from runtime.stack_airflow import RunningAirflow

# Longer than the components' heartbeats and health thresholds (scheduler_health_check_threshold is 30 s),
# so each of them has found the database gone before it comes back.
DOWN_SECONDS = 35
# How long the API server may take to answer healthy again once the database is back.
RECOVERY_SECONDS = 90
# What exits when the database goes away (its connection refused, each process ends with exit 1) and
# needs the restart Kubernetes gives a container that exited; the API server is not among them.
EXIT_WITHOUT_DATABASE = ["dag-processor", "scheduler", "triggerer"]
CONNECTION_ID = "runtime_stop_start"
PASSWORD = "s3cret-across-stop-and-start"
VARIABLE = "runtime_stop_start_variable"
VARIABLE_VALUE = "kept-while-the-database-slept"


@pytest.mark.parametrize("running", ["dev"], indirect=True)
def test_a_database_stopped_and_started_again_keeps_history_and_secrets(running: RunningAirflow) -> None:
    airflow = running.airflow
    first_run = running.trigger(HISTORY_DAG)
    assert running.wait_for_run(HISTORY_DAG, first_run) == "success"
    write_secrets(running, CONNECTION_ID, PASSWORD, VARIABLE, VARIABLE_VALUE)
    runs_before = history(running)
    tokens_before = stored_tokens(running.postgres, running.database, CONNECTION_ID, VARIABLE)
    running.token()  # signed in before the stop: a sign-in is not what this test measures

    running.postgres.shut_down()
    try:
        time.sleep(DOWN_SECONDS)
        exited = sorted(name for name, process in airflow.processes.items() if process.poll() is not None)
    finally:
        running.postgres.start_again()
    assert exited == EXIT_WITHOUT_DATABASE, (
        f"without a database {exited} exited; docs/operations/backup-restore.md says {EXIT_WITHOUT_DATABASE} do"
    )
    # The API server stays up and serves again as it is: its pool pings each connection before use
    # ([database] sql_alchemy_pool_pre_ping, on by default) and replaces the ones the stop closed.
    woke = time.monotonic()
    health = airflow.health()
    assert health.get("metadatabase", {}).get("status") == "healthy", f"first answer after the start: {health}"
    # The components that exited start again as Kubernetes restarts a container that exited.
    for component in exited:
        airflow.processes.pop(component)
        airflow.start(component)
    airflow.wait_healthy(timeout=RECOVERY_SECONDS)
    print(f"\n[runtime] stop/start: {exited} exited; all healthy {time.monotonic() - woke:.0f} s after the start")

    assert history(running) == runs_before
    assert stored_tokens(running.postgres, running.database, CONNECTION_ID, VARIABLE) == tokens_before
    assert decrypted(tokens_before, running.stack.fernet_key_output) == (PASSWORD, VARIABLE_VALUE)
    assert served_secrets(running, CONNECTION_ID, VARIABLE) == (CONNECTION_HOST, CONNECTION_LOGIN, VARIABLE_VALUE)
    second_run = running.trigger(HISTORY_DAG)
    assert running.wait_for_run(HISTORY_DAG, second_run) == "success"
