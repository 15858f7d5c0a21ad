"""Test setup for the DAGs in dags/, on the Airflow version the stack deploys.

Runs in its own virtualenv (.venv-dags, see scripts/test-dags.sh), never in the
Pulumi one. Airflow reads its configuration when it is first imported, so the
environment is set here, at module top, before any test module imports it.
"""

from __future__ import annotations

import os
import shutil
import sys
import tempfile
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parent))
from dag_integrity import DAGS_FOLDER, load_dag_folder

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


def pytest_unconfigure(config):
    # The session's AIRFLOW_HOME (its sqlite database, logs) goes with the session.
    shutil.rmtree(_AIRFLOW_HOME, ignore_errors=True)


def pytest_configure(config):
    # Airflow 3.2.2 parses .airflowignore with a pathspec pattern class that
    # pathspec now deprecates; not ours to fix, and it drowns real warnings.
    config.addinivalue_line("filterwarnings", "ignore:GitWildMatchPattern:DeprecationWarning")


@pytest.fixture(scope="session")
def dagbag():
    """dags/ parsed once, the way the DAG processor parses it."""
    return load_dag_folder(DAGS_FOLDER)


@pytest.fixture(scope="session")
def airflow_db():
    """A fresh sqlite metadata database in the temporary AIRFLOW_HOME, for dag.test()."""
    from airflow.utils import db

    db.resetdb()
    with pytest.MonkeyPatch.context() as patch:
        _share_in_process_execution_api(patch)
        yield db


def _share_in_process_execution_api(patch: pytest.MonkeyPatch) -> None:
    """Speed only: one in-process Execution API for all of dag.test()'s tasks.

    In Airflow 3.2.2 dag.test() builds a new in-process Execution API (a FastAPI
    app whose versioned routes cadwyn generates) for every task it runs: ~1.5 s
    of CPU per task, most of this suite's time. The DAG processor keeps a single
    instance for its lifetime; sharing one here changes no task's behaviour. If
    a future Airflow drops the hook, the tests still run, only slower.
    """
    from airflow.sdk.execution_time import supervisor

    if not callable(getattr(supervisor, "in_process_api_server", None)):
        return
    from airflow.api_fastapi.execution_api.app import InProcessExecutionAPI

    shared = InProcessExecutionAPI()
    patch.setattr(supervisor, "in_process_api_server", lambda: shared)
