"""Checks every DAG file in a folder must pass; used by test_dag_integrity.py.

Kept apart from the tests so it can be pointed at any folder: the tests run it
on dags/ and on a broken copy to prove a bad file is reported by name.
"""

from __future__ import annotations

import importlib.util
from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parents[2]
DAGS_FOLDER = REPO_ROOT / "dags"
DEFAULT_OWNER = "airflow"


def load_repo_module(relative: str):
    """Import a file of the repo by path (components/ is not installed in .venv-dags)."""
    path = REPO_ROOT / relative
    spec = importlib.util.spec_from_file_location(f"_repo_{path.stem}", path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def load_dag_folder(folder: Path):
    """Parse every DAG file under `folder` like the DAG processor does.

    The folder is the bundle root: it goes on sys.path (so DAGs can import
    helper modules next to them) and `import_errors` is keyed by the file's
    path relative to it.
    """
    # Imported here, not at module top: conftest configures Airflow first.
    # Airflow 3.3's BundleDagBag has no `include_examples` (examples follow
    # `[core] load_examples`, which conftest turns off).
    from airflow.dag_processing.dagbag import BundleDagBag

    folder = Path(folder).resolve()
    return BundleDagBag(dag_folder=folder, bundle_path=folder, safe_mode=True)


def problems_in(dagbag) -> list[str]:
    """Everything wrong with the parsed folder, one line per problem, file first."""
    problems = [
        f"{path}: import error: {_last_line(message)}" for path, message in sorted(dagbag.import_errors.items())
    ]
    for dag_id, dag in sorted(dagbag.dags.items()):
        where = f"{_relative(dag.fileloc, dagbag)} (dag {dag_id})"
        try:
            dag.check_cycle()
        except Exception as exc:  # the DagBag already refuses cyclic DAGs; belt and braces
            problems.append(f"{where}: cycle: {exc}")
        if not dag.tags:
            problems.append(f"{where}: no tags")
        if dag.catchup:
            problems.append(f"{where}: catchup must be False")
        if not dag.doc_md:
            problems.append(f"{where}: no doc_md")
        for task in dag.tasks:
            if not task.owner or task.owner == DEFAULT_OWNER:
                problems.append(f"{where}: task {task.task_id} has owner {task.owner!r}, set a real owner")
            if (task.retries or 0) < 1:
                problems.append(f"{where}: task {task.task_id} has retries={task.retries}, need >= 1")
    return problems


def _last_line(message: str) -> str:
    lines = [line for line in str(message).strip().splitlines() if line.strip()]
    return lines[-1].strip() if lines else str(message)


def _relative(fileloc: str, dagbag) -> str:
    try:
        return str(Path(fileloc).relative_to(Path(dagbag.bundle_path)))
    except (TypeError, ValueError):
        return str(fileloc)
