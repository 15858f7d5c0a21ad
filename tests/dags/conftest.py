"""Test setup for the DAGs in dags/, on the Airflow version the stack deploys.

Runs in its own virtualenv (.venv-dags, see scripts/test-dags.sh), never in the
Pulumi one. Airflow reads its configuration when it is first imported, so the
environment is set here, at module top, before any test module imports it.
"""

from __future__ import annotations

import os
import sys
import tempfile
from pathlib import Path

import pytest

REPO_ROOT = Path(__file__).resolve().parents[2]
DAGS_FOLDER = REPO_ROOT / "dags"

_AIRFLOW_HOME = tempfile.mkdtemp(prefix="airflow-home-")
os.environ["AIRFLOW_HOME"] = _AIRFLOW_HOME
os.environ["AIRFLOW__CORE__LOAD_EXAMPLES"] = "False"
os.environ["AIRFLOW__CORE__UNIT_TEST_MODE"] = "True"
os.environ["AIRFLOW__CORE__DAGS_FOLDER"] = str(DAGS_FOLDER)
os.environ["AIRFLOW__DATABASE__SQL_ALCHEMY_CONN"] = f"sqlite:///{_AIRFLOW_HOME}/airflow.db"
# Platform Variables a developer's shell may carry would change what the DAGs
# parse to; tests that need them set them with monkeypatch.
for _name in [n for n in os.environ if n.startswith("AIRFLOW_VAR_PLATFORM_")]:
    del os.environ[_name]

# Importing DAG files must not leave __pycache__/ in dags/: the local stack
# packs that folder into a ConfigMap.
sys.dont_write_bytecode = True

# DAG files import dags/platform_settings.py as a top-level module, as they do
# on the cluster where Airflow puts the DAG bundle root on sys.path.
sys.path.insert(0, str(DAGS_FOLDER))
sys.path.insert(0, str(Path(__file__).resolve().parent))

from dag_integrity import load_dag_folder  # noqa: E402  (needs the env above)


@pytest.fixture(scope="session")
def dagbag():
    """dags/ parsed once, the way the DAG processor parses it."""
    return load_dag_folder(DAGS_FOLDER)


@pytest.fixture(scope="session")
def airflow_db():
    """A fresh sqlite metadata database in the temporary AIRFLOW_HOME."""
    from airflow.utils import db

    db.resetdb()
    return db
