"""The DAG tests must run on the Airflow version the stack deploys."""

from __future__ import annotations

import airflow
from dag_integrity import REPO_ROOT, load_repo_module


def test_installed_airflow_is_the_deployed_version():
    versions = load_repo_module("components/versions.py")
    assert airflow.__version__ == versions.AIRFLOW_VERSION, (
        f".venv-dags has apache-airflow {airflow.__version__} but the stack deploys "
        f"{versions.AIRFLOW_VERSION} (components/versions.py): update requirements-dags.txt "
        "and rerun scripts/test-dags.sh"
    )


def test_requirements_pin_the_deployed_version():
    versions = load_repo_module("components/versions.py")
    pins = {}
    for raw in (REPO_ROOT / "requirements-dags.txt").read_text().splitlines():
        requirement = raw.split("#", 1)[0].strip()
        if "==" in requirement:
            name, version = requirement.split("==", 1)
            pins[name.strip().lower()] = version.strip()
    assert pins.get("apache-airflow") == versions.AIRFLOW_VERSION
