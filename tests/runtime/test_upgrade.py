"""README "Upgrade the chart or Airflow", the step this release made: data written by the previously
pinned Airflow (3.2.2, .venv-airflow-previous) is read back by the new default after `airflow db migrate`.

The local deployment is that upgrade (conftest `upgraded_local`): its database is what the
previous Airflow's `db migrate`, create-user Job and CLI left (stack_airflow.seed_previous_airflow,
kept between runs with the cluster), and its own Jobs - `airflow db migrate`, create-user - are
the new release's, before its components start.
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from runtime.stack_airflow import (
    DAGS_VENV,
    PREVIOUS_VENV,
    UPGRADE_CONNECTION,
    UPGRADE_VARIABLE,
    UPGRADE_VARIABLE_VALUE,
    RunningAirflow,
    alembic_revision,
)

from components.versions import AIRFLOW_VERSION


def site_packages(venv: Path) -> Path:
    [path] = venv.glob("lib/python3*/site-packages")
    return path


def installed_airflow(venv: Path) -> str:
    """The apache-airflow version installed in `venv` (from its dist-info: no import, no process)."""
    [dist_info] = site_packages(venv).glob("apache_airflow-*.dist-info")
    return dist_info.name.removeprefix("apache_airflow-").removesuffix(".dist-info")


def head_revision(venv: Path) -> str:
    """The newest metadata migration `venv`'s Airflow ships (migrations/versions/NNNN_*.py)."""
    newest = max((site_packages(venv) / "airflow" / "migrations" / "versions").glob("[0-9][0-9][0-9][0-9]_*.py"))
    match = re.search(r'^revision = "(\w+)"', newest.read_text(), re.MULTILINE)
    assert match, f"no revision in {newest}"
    return match.group(1)


@pytest.mark.parametrize("running", ["local"], indirect=True)
def test_data_of_the_previous_airflow_survives_the_upgrade(running: RunningAirflow) -> None:
    previous = installed_airflow(PREVIOUS_VENV)
    assert previous != AIRFLOW_VERSION, f".venv-airflow-previous must hold an older Airflow, has {previous}"
    assert installed_airflow(DAGS_VENV) == AIRFLOW_VERSION
    assert running.revision_before_migrate == head_revision(PREVIOUS_VENV), (
        f"the local database must come from Airflow {previous}'s migrations"
    )
    assert alembic_revision(running.postgres, running.database) == head_revision(DAGS_VENV)
    # The admin the previous release's create-user Job made still signs in, and reads what it stored.
    assert running.airflow.token(*running.admin).status == 201
    variable = running.api("GET", f"/api/v2/variables/{UPGRADE_VARIABLE}")
    assert variable.body["value"] == UPGRADE_VARIABLE_VALUE, variable
    connection = running.api("GET", f"/api/v2/connections/{UPGRADE_CONNECTION}")
    assert (connection.body["host"], connection.body["login"]) == ("warehouse.internal", "reader"), connection
