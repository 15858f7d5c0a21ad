"""Airflow's SQLAlchemy pools per component, sized to what the metadata database allows.

Pure and import-free: the config checks, the chart values and the runtime suite
(tests/runtime, which measures the result against a real PostgreSQL) use it alike.

Each long-running Airflow process opens up to `sql_alchemy_pool_size` +
`sql_alchemy_max_overflow` connections per SQLAlchemy engine (Airflow's defaults
5 + 10; airflow/settings.py `prepare_engine_args`, and `_configure_async_session`
gives the async engine the same two settings). The API server has two engines
(sync and async), the scheduler, DAG processor and triggerer one each; Airflow 3
task pods open none (they use the API server's execution API).

Where Airflow's defaults could open more than the database allows, the caps go
where the load is: the API server serves every task's and every person's request
from its sync pool (it held up to 7 in the runtime suite's burst of eight DAG
runs), while the scheduler, DAG processor and triggerer each work in one loop and
never held more than one connection at once there. So they get 1 + 1 and the API
server the rest. A full API server pool used to stall the whole API server for 30 s;
components/airflow/api_server_fixes.py says why, and what the stack does about it.
"""

from __future__ import annotations

from dataclasses import dataclass

POOL_SIZE_ENV = "AIRFLOW__DATABASE__SQL_ALCHEMY_POOL_SIZE"
MAX_OVERFLOW_ENV = "AIRFLOW__DATABASE__SQL_ALCHEMY_MAX_OVERFLOW"


@dataclass(frozen=True)
class Pool:
    """One SQLAlchemy engine's pool: connections kept open, and opened beyond them when busy."""

    size: int
    overflow: int

    @property
    def most(self) -> int:
        return self.size + self.overflow

    def environment(self) -> dict[str, str]:
        return {POOL_SIZE_ENV: str(self.size), MAX_OVERFLOW_ENV: str(self.overflow)}


AIRFLOW_DEFAULT_POOL = Pool(5, 10)
# What a capped scheduler, DAG processor or triggerer gets: each works in one loop.
BACKGROUND_POOL = Pool(1, 1)
# The fewest connections an API server's engine is given before the stack refuses the shape.
MINIMUM_API_SERVER_CONNECTIONS = 4
# Left for what runs beside the components: the migration or create-user Job of an upgrade,
# the `airflow db clean` CronJob (one command each, a connection at a time).
JOB_CONNECTIONS = 2
# Chart values key -> SQLAlchemy engines per replica.
ENGINES = {"apiServer": 2, "scheduler": 1, "dagProcessor": 1, "triggerer": 1}


@dataclass(frozen=True)
class DatabasePools:
    """Each component's pool (chart values key -> Pool), and the most they may open together."""

    pools: dict[str, Pool]
    replicas: dict[str, int]

    @property
    def most(self) -> int:
        return sum(ENGINES[key] * self.replicas[key] * pool.most for key, pool in self.pools.items())


def component_replicas(scheduler_replicas: int, api_server_replicas: int) -> dict[str, int]:
    """Replicas per chart values key: the stack sets the scheduler's and API server's (the others run one)."""
    return {"apiServer": api_server_replicas, "scheduler": scheduler_replicas, "dagProcessor": 1, "triggerer": 1}


def database_pools(connections: int | None, replicas: dict[str, int]) -> DatabasePools | None:
    """The pools that fit `connections` (what the database lets Airflow open), or None: Airflow's
    defaults fit (or nothing is known of a limit). ValueError when not even the smallest do."""
    if connections is None:
        return None
    available = connections - JOB_CONNECTIONS
    engines = {key: ENGINES[key] * replicas[key] for key in ENGINES}
    if sum(engines.values()) * AIRFLOW_DEFAULT_POOL.most <= available:
        return None
    api_engines = engines["apiServer"]
    background_engines = sum(engines.values()) - api_engines
    api_most = min(AIRFLOW_DEFAULT_POOL.most, (available - background_engines * BACKGROUND_POOL.most) // api_engines)
    if api_most < MINIMUM_API_SERVER_CONNECTIONS:
        raise ValueError(
            f"{connections} connections cannot hold {replicas['apiServer']} API server(s) and "
            f"{replicas['scheduler']} scheduler(s): the API servers would get {api_most} per engine, "
            f"fewer than {MINIMUM_API_SERVER_CONNECTIONS}"
        )
    # What the API servers leave, shared by the others, up to Airflow's default.
    background_most = min(AIRFLOW_DEFAULT_POOL.most, (available - api_engines * api_most) // background_engines)
    background = _pool(max(BACKGROUND_POOL.most, background_most))
    return DatabasePools(pools=dict.fromkeys(ENGINES, background) | {"apiServer": _pool(api_most)}, replicas=replicas)


def _pool(most: int) -> Pool:
    """`most` connections: half kept open (at most Airflow's 5), the rest opened under load."""
    size = min(AIRFLOW_DEFAULT_POOL.size, most // 2)
    return Pool(size, most - size)
