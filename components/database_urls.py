"""SQLAlchemy URLs of the metadata database, sync (psycopg2) and async (asyncpg).

Pure and import-free, so the DAG tests (their own venv, with Airflow and
asyncpg but no Pulumi) check these exact strings against the real drivers.

Airflow 3.2.2 derives its async URL from the sync one when
`[database] sql_alchemy_conn_async` is unset
(`airflow.settings._get_async_conn_uri_from_sync`): it swaps the driver and
keeps the query, so libpq's `?sslmode=require` reaches `asyncpg.connect()`,
which has no such argument (TypeError) and every async-session code path
fails. SQLAlchemy's asyncpg dialect passes the URL query through as
connect() keywords; asyncpg names the same modes (disable, require, ...) `ssl`.
"""

from __future__ import annotations

from urllib.parse import quote


def metadata_urls(*, user: str, password: str, host: str, port: int, name: str, sslmode: str) -> tuple[str, str]:
    """(sync URL for `sql_alchemy_conn`, async URL for `sql_alchemy_conn_async`); every part URL-encoded."""
    credentials = f"{quote(user, safe='')}:{quote(password, safe='')}"
    location = f"{host}:{port}/{quote(name, safe='')}"
    return (
        f"postgresql://{credentials}@{location}?sslmode={sslmode}",
        f"postgresql+asyncpg://{credentials}@{location}?ssl={sslmode}",
    )
