"""README "Upgrade the chart or Airflow", the step this release made: data written by the previously
pinned Airflow (3.2.2, .venv-airflow-previous) is read back by the new default after `airflow db migrate`."""

from __future__ import annotations

from pathlib import Path

from runtime.harness import PostgresServer
from runtime.stack_airflow import DAGS_VENV, PREVIOUS_VENV, StackAirflow, deployed

from components.versions import AIRFLOW_VERSION

UPGRADE_CONNECTION = "runtime_upgrade"
UPGRADE_PASSWORD = "written-by-the-previous-airflow"
UPGRADE_VARIABLE = "runtime_upgrade_variable"
UPGRADE_VARIABLE_VALUE = "still-readable-after-the-upgrade"


def installed_airflow(venv: Path) -> str:
    """The apache-airflow version installed in `venv` (from its dist-info: no import, no process)."""
    [dist_info] = venv.glob("lib/python3*/site-packages/apache_airflow-*.dist-info")
    return dist_info.name.removeprefix("apache_airflow-").removesuffix(".dist-info")


def test_data_of_the_previous_airflow_survives_the_upgrade(
    stacks: dict[str, StackAirflow], postgres: PostgresServer
) -> None:
    with deployed(stacks["local"], venv=PREVIOUS_VENV, postgres=postgres, start=False) as running:
        airflow = running.airflow
        previous = installed_airflow(PREVIOUS_VENV)
        assert previous != AIRFLOW_VERSION, f".venv-airflow-previous must hold an older Airflow, has {previous}"
        assert installed_airflow(DAGS_VENV) == AIRFLOW_VERSION
        uri = f"postgres://reader:{UPGRADE_PASSWORD}@warehouse.internal:5432/sales"
        airflow.airflow("connections", "add", UPGRADE_CONNECTION, "--conn-uri", uri)
        airflow.airflow("variables", "set", UPGRADE_VARIABLE, UPGRADE_VARIABLE_VALUE)

        # The chart's migration Job of the new release, then its API server.
        airflow.use_venv(DAGS_VENV)
        airflow.airflow("db", "migrate")
        airflow.start("api-server")
        airflow.wait_until("the API server answers", lambda: airflow.health(), timeout=180)
        # The admin the previous release's create-user Job made still signs in, and reads what it stored.
        assert airflow.token(*running.admin).status == 201
        variable = running.api("GET", f"/api/v2/variables/{UPGRADE_VARIABLE}")
        assert variable.body["value"] == UPGRADE_VARIABLE_VALUE, variable
        connection = running.api("GET", f"/api/v2/connections/{UPGRADE_CONNECTION}")
        assert (connection.body["host"], connection.body["login"]) == ("warehouse.internal", "reader"), connection
