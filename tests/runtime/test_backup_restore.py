"""docs/operations/backup-restore.md, the part that runs here: the metadata database dumped (`pg_dump`, the
stand-in for a point-in-time clone or snapshot), restored into a fresh database (`pg_restore`), and Airflow
pointed at it reading the DAG history and the encrypted connection and variable back - with the stack's
Fernet key, and not with another one.

The dump and the restore run as the stack's own database user with its generated password, over TLS, with
the exact commands the page shows (DUMP, RESTORE). Airflow reads the restored database in one process of
the pinned Airflow with the deployment's environment, only the database in its URLs changed: what every
component does once the stack points at the restored data.
"""

from __future__ import annotations

import json
import os
import subprocess
from collections.abc import Mapping
from pathlib import Path
from urllib.parse import unquote, urlsplit, urlunsplit

import pytest
from cryptography.fernet import Fernet
from runtime.harness import LOOPBACK, HarnessError, PostgresServer, temporary_directory
from runtime.metadata_records import HISTORY_DAG, decrypted, history, stored_tokens, write_secrets
from runtime.stack_airflow import METADATA_URL_ENVS, RunningAirflow

from components.aws.database import DATABASE_NAME as RDS_DATABASE
from components.gcp.database import DATABASE_NAME as CLOUD_SQL_DATABASE
from review.runner import ROOT

CONNECTION_ID = "runtime_backup"
PASSWORD = "s3cret-in-the-backup"
VARIABLE = "runtime_backup_variable"
VARIABLE_VALUE = "restored-with-the-same-key"
DUMP_FILE = "airflow.dump"
# The page's commands, word for word (libpq's PG* variables say which server, user and database).
DUMP = f"pg_dump --format=custom --file={DUMP_FILE}"
RESTORE = "pg_restore --no-owner --no-privileges --exit-on-error --dbname={database} " + DUMP_FILE
PAGE = ROOT / "docs" / "operations" / "backup-restore.md"
FERNET_ENV = "AIRFLOW__CORE__FERNET_KEY"
UNREADABLE = "InvalidToken"

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


@pytest.mark.parametrize("running", ["dev"], indirect=True)
def test_a_dump_restored_into_a_fresh_database_reads_back_with_the_same_fernet_key(running: RunningAirflow) -> None:
    run_id = running.trigger(HISTORY_DAG)
    assert running.wait_for_run(HISTORY_DAG, run_id) == "success"
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


def test_the_page_shows_the_rehearsed_commands() -> None:
    assert CLOUD_SQL_DATABASE == RDS_DATABASE, "the page restores into one database name on both clouds"
    page = PAGE.read_text()
    assert DUMP in page
    assert RESTORE.format(database=CLOUD_SQL_DATABASE) in page
