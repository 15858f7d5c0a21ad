"""The DAG tests must run on the Airflow version the stack deploys."""

from __future__ import annotations

import importlib.util
from pathlib import Path

import airflow

REPO_ROOT = Path(__file__).resolve().parents[2]


def _load(relative: str):
    """Import a components/ module by path: the Pulumi package is not installed here."""
    path = REPO_ROOT / relative
    spec = importlib.util.spec_from_file_location(path.stem, path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_installed_airflow_is_the_deployed_version():
    versions = _load("components/versions.py")
    assert airflow.__version__ == versions.AIRFLOW_VERSION, (
        f".venv-dags has apache-airflow {airflow.__version__} but the stack deploys "
        f"{versions.AIRFLOW_VERSION} (components/versions.py): update requirements-dags.txt "
        "and rerun scripts/test-dags.sh"
    )


def test_requirements_pin_the_deployed_version():
    versions = _load("components/versions.py")
    pins = {}
    for raw in (REPO_ROOT / "requirements-dags.txt").read_text().splitlines():
        requirement = raw.split("#", 1)[0].strip()
        if "==" in requirement:
            name, version = requirement.split("==", 1)
            pins[name.strip().lower()] = version.strip()
    assert pins.get("apache-airflow") == versions.AIRFLOW_VERSION
