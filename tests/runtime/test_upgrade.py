"""README "Upgrade the chart or Airflow", the step this release made: data written by the previously
pinned Airflow (3.2.2, .venv-airflow-previous) is read back by the new default after `airflow db migrate`."""

from __future__ import annotations

from runtime.stack_airflow import DAGS_VENV, PREVIOUS_VENV, StackAirflow, deployed

from components.versions import AIRFLOW_VERSION

UPGRADE_CONNECTION = "runtime_upgrade"
UPGRADE_PASSWORD = "written-by-the-previous-airflow"
UPGRADE_VARIABLE = "runtime_upgrade_variable"
UPGRADE_VARIABLE_VALUE = "still-readable-after-the-upgrade"


def test_data_of_the_previous_airflow_survives_the_upgrade(stacks: dict[str, StackAirflow]) -> None:
    with deployed(stacks["local"], venv=PREVIOUS_VENV, start=False) as running:
        airflow = running.airflow
        previous = airflow.airflow("version").strip().splitlines()[-1]
        assert previous != AIRFLOW_VERSION, f".venv-airflow-previous must hold an older Airflow, has {previous}"
        uri = f"postgres://reader:{UPGRADE_PASSWORD}@warehouse.internal:5432/sales"
        airflow.airflow("connections", "add", UPGRADE_CONNECTION, "--conn-uri", uri)
        airflow.airflow("variables", "set", UPGRADE_VARIABLE, UPGRADE_VARIABLE_VALUE)

        # The chart's migration Job of the new release, then its pods.
        airflow.use_venv(DAGS_VENV)
        assert airflow.airflow("version").strip().splitlines()[-1] == AIRFLOW_VERSION
        airflow.airflow("db", "migrate")
        assert UPGRADE_PASSWORD in airflow.airflow("connections", "get", UPGRADE_CONNECTION, "-o", "json")
        assert UPGRADE_VARIABLE_VALUE in airflow.airflow("variables", "get", UPGRADE_VARIABLE)
        # The admin user the previous release's create-user Job made still signs in.
        airflow.start("api-server")
        airflow.wait_until("the API server answers", lambda: airflow.health(), timeout=120)
        assert airflow.token(*running.admin).status == 201
