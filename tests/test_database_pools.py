"""Each Airflow component's SQLAlchemy pool, sized to what the metadata database allows (database_pools.py)."""

from __future__ import annotations

import pytest
import stack_checks as checks

from components.config import ConfigError, parse_stack_config
from components.database_pools import (
    AIRFLOW_DEFAULT_POOL,
    BACKGROUND_POOL,
    ENGINES,
    JOB_CONNECTIONS,
    MINIMUM_API_SERVER_CONNECTIONS,
    DatabasePools,
    Pool,
    component_replicas,
    database_pools,
)

TIERS = {"db-f1-micro": 22, "db-g1-small": 47, "db-custom-1-3840": 97}


@pytest.mark.parametrize("connections", sorted(TIERS.values()))
@pytest.mark.parametrize(("schedulers", "api_servers"), [(1, 1), (2, 1), (1, 2), (2, 2), (3, 3)])
def test_whatever_fits_leaves_the_jobs_their_connections(connections: int, schedulers: int, api_servers: int) -> None:
    replicas = component_replicas(schedulers, api_servers)
    try:
        pools = database_pools(connections, replicas)
    except ValueError:
        # Refused only when the smallest pools - the API servers' minimum, the others' 1 + 1 - do not fit.
        smallest = DatabasePools(
            dict.fromkeys(ENGINES, BACKGROUND_POOL) | {"apiServer": Pool(0, MINIMUM_API_SERVER_CONNECTIONS)}, replicas
        )
        assert smallest.most > connections - JOB_CONNECTIONS
        return
    if pools is None:
        engines = sum(ENGINES[key] * replicas[key] for key in ENGINES)
        assert engines * AIRFLOW_DEFAULT_POOL.most <= connections - JOB_CONNECTIONS
        return
    assert pools.most <= connections - JOB_CONNECTIONS
    api_server = pools.pools["apiServer"]
    assert api_server.most >= MINIMUM_API_SERVER_CONNECTIONS
    assert all(pool.most <= api_server.most for pool in pools.pools.values()), "the API server gets the most"
    assert all(1 <= pool.size <= AIRFLOW_DEFAULT_POOL.size for pool in pools.pools.values()), "kept open: 1 to 5"


def test_db_f1_micro_gives_the_api_server_what_one_of_each_other_component_leaves() -> None:
    pools = database_pools(22, component_replicas(1, 1))
    assert pools is not None
    assert pools.pools == {
        "apiServer": Pool(3, 4),
        "scheduler": Pool(1, 1),
        "dagProcessor": Pool(1, 1),
        "triggerer": Pool(1, 1),
    }
    assert pools.most == 20


def test_a_database_with_room_keeps_airflow_s_defaults_and_an_unknown_limit_caps_nothing() -> None:
    assert database_pools(400, component_replicas(2, 2)) is None
    assert database_pools(None, component_replicas(3, 3)) is None


def test_production_s_tier_keeps_the_api_servers_at_airflow_s_default() -> None:
    pools = database_pools(97, component_replicas(2, 2))
    assert pools is not None and pools.pools["apiServer"] == AIRFLOW_DEFAULT_POOL
    assert pools.pools["scheduler"] == Pool(4, 4), "what the API servers leave is shared by the others"


def test_too_many_replicas_for_the_tier_are_refused() -> None:
    with pytest.raises(ValueError, match="2 API server"):
        database_pools(22, component_replicas(2, 2))


def gcp_config(tier: str, api_servers: int, schedulers: int) -> dict[str, object]:
    config = checks.stack_config("dev")
    config["gcp"] = {**config["gcp"], "databaseTier": tier}
    config["airflow"] = {**config.get("airflow", {}), "apiServerReplicas": api_servers, "schedulerReplicas": schedulers}
    return config


def problems(config: dict[str, object]) -> dict[str, str]:
    with pytest.raises(ConfigError) as error:
        parse_stack_config(config, "dev")
    return {problem.key: f"{problem.value}: {problem.allowed}" for problem in error.value.problems}


def test_a_stack_with_more_api_servers_than_its_tier_holds_names_the_key_and_the_most() -> None:
    found = problems(gcp_config("db-f1-micro", api_servers=3, schedulers=1))
    assert found == {
        "airflow-platform:airflow.apiServerReplicas": "3: at most 1 with 1 scheduler(s) on gcp.databaseTier "
        "db-f1-micro (22 connections for Airflow), or a larger tier"
    }


def test_a_stack_whose_schedulers_alone_outgrow_the_tier_names_the_schedulers() -> None:
    found = problems(gcp_config("db-f1-micro", api_servers=1, schedulers=6))
    assert list(found) == ["airflow-platform:airflow.schedulerReplicas"]
    assert found["airflow-platform:airflow.schedulerReplicas"] == (
        "6: at most 4 with 1 API server on gcp.databaseTier db-f1-micro (22 connections for Airflow), or a larger tier"
    )


def test_a_larger_tier_takes_the_same_replicas() -> None:
    assert (
        parse_stack_config(gcp_config("db-g1-small", api_servers=2, schedulers=2), "dev").airflow.api_server_replicas
        == 2
    )
