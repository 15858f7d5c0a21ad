"""The metadata URLs the stack writes, against the real drivers Airflow 3.2.2 uses.

asyncpg validates its keyword arguments when `connect()` is called, before any
network I/O, so calling it with the keywords SQLAlchemy derives from a URL
shows whether the async engine could ever connect.
"""

from __future__ import annotations

import asyncpg
import pytest
from airflow.settings import _get_async_conn_uri_from_sync
from dag_integrity import load_repo_module
from sqlalchemy.dialects.postgresql.asyncpg import PGDialect_asyncpg
from sqlalchemy.engine import make_url

DATABASE_URLS = load_repo_module("components/database_urls.py")
PASSWORD = "p@ss:w/rd?#%"


def asyncpg_keywords(url: str) -> dict[str, object]:
    """What SQLAlchemy's asyncpg dialect hands to asyncpg.connect() for this URL."""
    _, keywords = PGDialect_asyncpg().create_connect_args(make_url(url))
    return keywords


def connect_accepts(keywords: dict[str, object]) -> None:
    coroutine = asyncpg.connect(**keywords)  # raises TypeError on an unknown keyword
    coroutine.close()  # never awaited: no connection is attempted


@pytest.mark.parametrize("sslmode", ["require", "disable"])
def test_airflows_derived_async_url_breaks_asyncpg(sslmode: str) -> None:
    """Why the stack sets sql_alchemy_conn_async itself: the fallback keeps libpq's sslmode."""
    sync_url, _ = DATABASE_URLS.metadata_urls(
        user="airflow", password=PASSWORD, host="db.internal", port=5432, name="airflow", sslmode=sslmode
    )
    with pytest.raises(TypeError, match="sslmode"):
        connect_accepts(asyncpg_keywords(_get_async_conn_uri_from_sync(sync_uri=sync_url)))


@pytest.mark.parametrize("sslmode", ["require", "disable"])
def test_the_stacks_async_url_is_one_asyncpg_accepts(sslmode: str) -> None:
    _, async_url = DATABASE_URLS.metadata_urls(
        user="airflow", password=PASSWORD, host="db.internal", port=5432, name="airflow", sslmode=sslmode
    )
    keywords = asyncpg_keywords(async_url)
    assert keywords["ssl"] == sslmode
    assert keywords["password"] == PASSWORD, "the password survives URL encoding"
    assert (keywords["host"], keywords["port"], keywords["database"]) == ("db.internal", 5432, "airflow")
    connect_accepts(keywords)
