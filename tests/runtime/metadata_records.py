"""What a user keeps in the metadata database, written and read back through the running deployment:
a DAG run history and a connection and a variable stored Fernet-encrypted.

Shared by the backup/restore and the stop/start rehearsals (docs/operations/backup-restore.md).
"""

from __future__ import annotations

from cryptography.fernet import Fernet
from runtime.harness import PostgresServer
from runtime.stack_airflow import RunningAirflow

# A DAG of one cheap task (no pod, no shared volume): its runs are the history the rehearsals keep.
HISTORY_DAG = "platform_tutorial"
# The connection's non-secret fields, which the API returns as they were stored.
CONNECTION_HOST = "warehouse.internal"
CONNECTION_LOGIN = "reader"


def write_secrets(running: RunningAirflow, connection_id: str, password: str, variable: str, value: str) -> None:
    """A connection with a password and a variable, created through the REST API (stored encrypted)."""
    connection = {
        "connection_id": connection_id,
        "conn_type": "postgres",
        "host": CONNECTION_HOST,
        "login": CONNECTION_LOGIN,
        "password": password,
    }
    assert running.api("POST", "/api/v2/connections", connection).status == 201
    assert running.api("POST", "/api/v2/variables", {"key": variable, "value": value}).status == 201


def stored_tokens(postgres: PostgresServer, database: str, connection_id: str, variable: str) -> tuple[str, str]:
    """The connection's password and the variable's value as the database holds them (Fernet tokens)."""
    password = postgres.psql(
        f"SELECT password FROM connection WHERE conn_id = '{connection_id}' AND is_encrypted", database=database
    )
    value = postgres.psql(f"SELECT val FROM variable WHERE key = '{variable}' AND is_encrypted", database=database)
    assert password and value, f"{connection_id} and {variable} must be stored encrypted in {database}"
    return password, value


def decrypted(tokens: tuple[str, ...], key: str) -> tuple[str, ...]:
    return tuple(Fernet(key.encode()).decrypt(token.encode()).decode() for token in tokens)


def history(running: RunningAirflow) -> list[tuple[str, str, str]]:
    """Every DAG run the API lists: (dag_id, run_id, state)."""
    runs = running.api("GET", "/api/v2/dags/~/dagRuns?limit=100").body["dag_runs"]
    return sorted((run["dag_id"], run["dag_run_id"], run["state"]) for run in runs)


def served_secrets(running: RunningAirflow, connection_id: str, variable: str) -> tuple[str, str, str]:
    """What the API server serves: the connection's host and login (it decrypts the password to redact
    it, so a key that cannot decrypt is a 5xx here) and the variable's value, decrypted."""
    connection = running.api("GET", f"/api/v2/connections/{connection_id}")
    assert connection.status == 200, connection
    value = running.api("GET", f"/api/v2/variables/{variable}")
    assert value.status == 200, value
    return connection.body["host"], connection.body["login"], value.body["value"]
