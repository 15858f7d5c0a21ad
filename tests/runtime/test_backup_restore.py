"""docs/operations/backup-restore.md, the parts that run here, on one dev-shape deployment and one DAG run.

Backup and restore: the metadata database dumped (`pg_dump`, the
stand-in for a point-in-time clone or snapshot), restored into a fresh database (`pg_restore`), and Airflow
pointed at it reading the DAG history and the encrypted connection and variable back - with the stack's
Fernet key, and not with another one.

The dump and the restore run as the stack's own database user with its generated password, over TLS, with
the exact commands the page shows (DUMP, RESTORE). Airflow reads the restored database in one process of
the pinned Airflow with the deployment's environment, only the database in its URLs changed: what every
component does once the stack points at the restored data.

Stopped and started (what `sleep: true` then `sleep: false` does to Cloud SQL - activation policy NEVER,
then ALWAYS - and to RDS - stop, then start): the throwaway PostgreSQL shuts down cleanly (every client's
connection closed, as the cloud's stop does) while the four components keep running, and starts again on
the same data directory. Afterwards the stack must be what it was: the API server healthy without a
restart, the components that exited restarted as Kubernetes restarts them, the DAG history and the
encrypted connection intact, and a new run scheduled and run to success.
"""

from __future__ import annotations

import datetime
import json
import os
import subprocess
import time
from collections.abc import Mapping
from pathlib import Path
from typing import Any
from urllib.parse import unquote, urlsplit, urlunsplit

import pytest
from cryptography.fernet import Fernet
from docs_pages import page
from runtime.harness import LOOPBACK, HarnessError, PostgresServer, temporary_directory
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
from runtime.stack_airflow import METADATA_URL_ENVS, RunningAirflow

from components.aws.database import DATABASE_NAME as RDS_DATABASE
from components.gcp.database import DATABASE_NAME as CLOUD_SQL_DATABASE

CONNECTION_ID = "runtime_backup"
PASSWORD = "s3cret-in-the-backup"
VARIABLE = "runtime_backup_variable"
VARIABLE_VALUE = "restored-with-the-same-key"
DUMP_FILE = "airflow.dump"
# The page's commands, word for word (libpq's PG* variables say which server, user and database).
DUMP = f"pg_dump --format=custom --file={DUMP_FILE}"
RESTORE = "pg_restore --no-owner --no-privileges --exit-on-error --dbname={database} " + DUMP_FILE
PAGE = "operations/backup-restore.md"
FERNET_ENV = "AIRFLOW__CORE__FERNET_KEY"
UNREADABLE = "InvalidToken"
# How long the database may stay down before each component that exits without it has (they find it
# gone within seconds; the bound is the scheduler's health threshold, scheduler_health_check_threshold).
DOWN_SECONDS = 30
# How long the API server may take to answer healthy again once the database is back.
RECOVERY_SECONDS = 90
# What exits when the database goes away (its connection refused, each process ends with exit 1) and
# needs the restart Kubernetes gives a container that exited; the API server is not among them.
EXIT_WITHOUT_DATABASE = ["dag-processor", "scheduler", "triggerer"]
SLEPT_CONNECTION = "runtime_stop_start"
SLEPT_PASSWORD = "s3cret-across-stop-and-start"
SLEPT_VARIABLE = "runtime_stop_start_variable"
SLEPT_VALUE = "kept-while-the-database-slept"

# Run by the pinned Airflow on the restored database: the connection's password and the variable as
# Airflow's own models decrypt them, once per Fernet key given, and the DAG runs it finds.
READ_BACK = f"""
import json, os, sys
from cryptography.fernet import InvalidToken
from sqlalchemy import select
from airflow.models import Connection, DagRun, Variable
from airflow.models.crypto import get_fernet
from airflow.utils.session import create_session

connection_id, variable_key, *keys = sys.argv[1:]
reads = []
with create_session() as session:
    connection = session.scalar(select(Connection).where(Connection.conn_id == connection_id))
    variable = session.scalar(select(Variable).where(Variable.key == variable_key))
    for key in keys:
        os.environ["{FERNET_ENV}"] = key
        get_fernet.cache_clear()
        try:
            password = connection.password
        except InvalidToken:
            password = "{UNREADABLE}"
        # Variable.val logs the InvalidToken and gives None.
        reads.append([password, variable.val or "{UNREADABLE}"])
    runs = session.execute(select(DagRun.dag_id, DagRun.run_id, DagRun.state)).all()
print(json.dumps({{"reads": reads, "runs": sorted([list(run) for run in runs])}}))
"""


def client_environment(metadata_url: str, postgres: PostgresServer) -> dict[str, str]:
    """libpq's variables for the stack's user and database (from its generated URL) on the test server."""
    url = urlsplit(metadata_url)
    return {
        **os.environ,
        "PGHOST": LOOPBACK,
        "PGPORT": str(postgres.port),
        "PGUSER": unquote(url.username or ""),
        "PGPASSWORD": unquote(url.password or ""),
        "PGDATABASE": url.path.lstrip("/"),
        "PGSSLMODE": "require",
    }


def client(command: str, postgres: PostgresServer, environment: Mapping[str, str], cwd: Path) -> None:
    program, *args = command.split()
    result = subprocess.run(
        [str(postgres.bindir / program), *args],
        env=environment,
        cwd=cwd,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    if result.returncode != 0:
        raise HarnessError(f"`{command}` exited {result.returncode}: {result.stderr.strip()}")


def with_database(url: str, database: str) -> str:
    """`url` naming another database on the same server (user, password and TLS options kept)."""
    return urlunsplit(urlsplit(url)._replace(path=f"/{database}"))


def rows_per_table(postgres: PostgresServer, database: str) -> dict[str, int]:
    tables = postgres.psql("SELECT tablename FROM pg_tables WHERE schemaname = 'public'", database=database)
    counts = " UNION ALL ".join(f"SELECT '{table}', count(*) FROM public.\"{table}\"" for table in tables.split())
    return {
        table: int(count) for table, count in (line.split("|") for line in postgres.psql(counts, database).split("\n"))
    }


def rows_in_dump(dump: Path, postgres: PostgresServer) -> dict[str, int]:
    """Each table's rows as the archive holds them (its COPY blocks, read back by pg_restore)."""
    script = subprocess.run(
        [str(postgres.bindir / "pg_restore"), "--data-only", "--file=-", str(dump)],
        capture_output=True,
        text=True,
        timeout=120,
        check=True,
    ).stdout
    counts: dict[str, int] = {}
    table = None
    for line in script.splitlines():
        if line.startswith("COPY public."):
            table = line.split()[1].removeprefix("public.").strip('"')
            counts[table] = 0
        elif line == "\\.":
            table = None
        elif table is not None:
            counts[table] += 1
    return counts


@pytest.fixture
def history_run(running: RunningAirflow) -> str:
    """A successful run of HISTORY_DAG: one an earlier test left on this deployment, else a new one."""
    running.wait_for_dag(HISTORY_DAG)
    runs = running.api("GET", f"/api/v2/dags/{HISTORY_DAG}/dagRuns?state=success&limit=1").body["dag_runs"]
    if runs:
        return str(runs[0]["dag_run_id"])
    run_id = running.trigger(HISTORY_DAG)
    assert running.wait_for_run(HISTORY_DAG, run_id) == "success"
    return run_id


@pytest.mark.parametrize("running", ["dev"], indirect=True)
def test_a_dump_restored_into_a_fresh_database_reads_back_with_the_same_fernet_key(
    running: RunningAirflow, history_run: str
) -> None:
    run_id = history_run
    write_secrets(running, CONNECTION_ID, PASSWORD, VARIABLE, VARIABLE_VALUE)
    runs = history(running)
    assert (HISTORY_DAG, run_id, "success") in runs
    postgres, key = running.postgres, running.stack.fernet_key_output
    with temporary_directory("runtime-backup-") as scratch:
        workdir = Path(scratch)
        source = client_environment(running.stack.metadata_url, postgres)
        client(DUMP, postgres, source, workdir)

        # The fresh database, owned by the stack's user, as the stack's database is on Cloud SQL / RDS.
        restored = f"{running.database}_restored"
        postgres.create_database(restored, source["PGUSER"])
        target = {**source, "PGDATABASE": restored}
        client(RESTORE.format(database=restored), postgres, target, workdir)

        dumped = rows_in_dump(workdir / DUMP_FILE, postgres)
    assert dumped["dag_run"] and dumped["connection"] and dumped["variable"], dumped
    assert rows_per_table(postgres, restored) == dumped, "the restored database must hold every row of the dump"
    assert stored_tokens(postgres, restored, CONNECTION_ID, VARIABLE) == stored_tokens(
        postgres, running.database, CONNECTION_ID, VARIABLE
    ), "the restore keeps the encrypted values as they were stored"

    environment = {
        name: with_database(running.airflow.environment[name], restored)
        for name in METADATA_URL_ENVS
        if name in running.airflow.environment
    }
    other_key = Fernet.generate_key().decode()
    output = running.airflow.run(
        "python", "-c", READ_BACK, CONNECTION_ID, VARIABLE, key, other_key, extra_env=environment, log_name="read-back"
    )
    read_back = json.loads(output.strip().splitlines()[-1])
    assert read_back["reads"][0] == [PASSWORD, VARIABLE_VALUE], (
        "Airflow reads the restored secrets with the stack's key"
    )
    assert read_back["reads"][1] == [UNREADABLE, UNREADABLE], (
        "with another Fernet key the restored secrets are unreadable"
    )
    restored_runs = [tuple(run) for run in read_back["runs"]]
    assert set(runs) <= set(restored_runs), "every run the API listed before the dump is in the restored database"
    assert decrypted(stored_tokens(postgres, restored, CONNECTION_ID, VARIABLE), key) == (PASSWORD, VARIABLE_VALUE)


@pytest.mark.parametrize("running", ["dev"], indirect=True)
def test_a_database_stopped_and_started_again_keeps_history_and_secrets(
    running: RunningAirflow, history_run: str
) -> None:
    airflow = running.airflow
    write_secrets(running, SLEPT_CONNECTION, SLEPT_PASSWORD, SLEPT_VARIABLE, SLEPT_VALUE)
    runs_before = history(running)
    assert (HISTORY_DAG, history_run, "success") in runs_before
    tokens_before = stored_tokens(running.postgres, running.database, SLEPT_CONNECTION, SLEPT_VARIABLE)
    running.token()  # signed in before the stop: a sign-in is not what this test measures

    running.postgres.stop_cleanly()
    try:
        deadline = time.monotonic() + DOWN_SECONDS
        while (exited := components_exited(running)) != EXIT_WITHOUT_DATABASE and time.monotonic() < deadline:
            time.sleep(1)
    finally:
        running.postgres.start_existing()
    started = datetime.datetime.now(datetime.UTC)
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
    # Heartbeats from before the stop still count as healthy for a while: wait for new ones.
    airflow.wait_until(
        "every component healthy with a heartbeat after the start",
        lambda: heartbeats_since(airflow.health(), started),
        RECOVERY_SECONDS,
    )
    print(f"\n[runtime] stop/start: {exited} exited; all healthy {time.monotonic() - woke:.0f} s after the start")

    assert history(running) == runs_before
    assert stored_tokens(running.postgres, running.database, SLEPT_CONNECTION, SLEPT_VARIABLE) == tokens_before
    assert decrypted(tokens_before, running.stack.fernet_key_output) == (SLEPT_PASSWORD, SLEPT_VALUE)
    assert served_secrets(running, SLEPT_CONNECTION, SLEPT_VARIABLE) == (CONNECTION_HOST, CONNECTION_LOGIN, SLEPT_VALUE)
    second_run = running.trigger(HISTORY_DAG)
    assert running.wait_for_run(HISTORY_DAG, second_run) == "success"


def heartbeats_since(health: dict[str, Any], started: datetime.datetime) -> bool:
    """Every component healthy, and each one with a heartbeat (`latest_*_heartbeat`) after `started`."""
    parts = [part for part in health.values() if isinstance(part, dict)]
    beats = [
        datetime.datetime.fromisoformat(value)
        for part in parts
        for name, value in part.items()
        if name.endswith("_heartbeat") and value
    ]
    healthy = bool(parts) and all(part.get("status") == "healthy" for part in parts)
    return healthy and len(beats) == len(parts) - 1 and all(beat > started for beat in beats)


def components_exited(running: RunningAirflow) -> list[str]:
    return sorted(name for name, process in running.airflow.processes.items() if process.poll() is not None)


def test_the_page_shows_the_rehearsed_commands() -> None:
    assert CLOUD_SQL_DATABASE == RDS_DATABASE, "the page restores into one database name on both clouds"
    shown = page(PAGE)
    assert DUMP in shown
    assert RESTORE.format(database=CLOUD_SQL_DATABASE) in shown
