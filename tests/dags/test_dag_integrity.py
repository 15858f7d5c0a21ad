"""Every file in dags/ imports, and every DAG follows the platform's rules."""

from __future__ import annotations

import shutil
from pathlib import Path

from dag_integrity import DAGS_FOLDER, load_dag_folder, problems_in

EXPECTED_DAG_IDS = {
    "platform_tutorial",
    "platform_xcom",
    "platform_branching",
    "platform_taskflow_mapping",
    "platform_kubernetes_pod",
    "platform_shared_data_maintenance",
}


def test_dags_folder_has_no_import_errors(dagbag):
    for path, message in dagbag.import_errors.items():
        print(f"--- import error in {path} ---\n{message}")
    assert dagbag.import_errors == {}, f"DAG files that fail to import: {sorted(dagbag.import_errors)}"


def test_expected_dags_are_present(dagbag):
    missing = EXPECTED_DAG_IDS - set(dagbag.dags)
    assert not missing, f"DAGs missing from dags/: {sorted(missing)}"


def test_every_dag_follows_the_platform_rules(dagbag):
    problems = problems_in(dagbag)
    print("\n".join(problems))
    assert problems == [], "\n".join(problems)


def test_checker_names_the_broken_files(tmp_path: Path):
    """Dropping a broken file into dags/ makes the suite fail, naming the file."""
    folder = tmp_path / "dags"
    shutil.copytree(DAGS_FOLDER, folder, ignore=shutil.ignore_patterns("__pycache__"))
    assert problems_in(load_dag_folder(folder)) == []  # the copy itself is clean

    (folder / "broken_syntax.py").write_text(
        "from airflow.sdk import DAG\n\nwith DAG(dag_id='broken_syntax') as dag:\n    def oops(:\n        pass\n"
    )
    (folder / "cyclic_dag.py").write_text(
        "from airflow.sdk import DAG\n"
        "from airflow.providers.standard.operators.empty import EmptyOperator\n\n"
        "with DAG(dag_id='cyclic_dag', schedule=None, tags=['x'], doc_md='x', catchup=False,\n"
        "         default_args={'owner': 'someone', 'retries': 1}) as dag:\n"
        "    a = EmptyOperator(task_id='a')\n"
        "    b = EmptyOperator(task_id='b')\n"
        "    a >> b >> a\n"
    )
    (folder / "sloppy_dag.py").write_text(
        "from airflow.sdk import DAG\n"
        "from airflow.providers.standard.operators.empty import EmptyOperator\n\n"
        "with DAG(dag_id='sloppy_dag', schedule=None, catchup=True) as dag:\n"
        "    EmptyOperator(task_id='only')\n"
    )

    dagbag = load_dag_folder(folder)
    problems = problems_in(dagbag)
    print("\n".join(problems))

    assert set(dagbag.import_errors) == {"broken_syntax.py", "cyclic_dag.py"}
    assert "SyntaxError" in dagbag.import_errors["broken_syntax.py"]
    assert "cycle" in dagbag.import_errors["cyclic_dag.py"].lower()
    assert any(p.startswith("broken_syntax.py: import error") for p in problems)
    assert any(p.startswith("cyclic_dag.py: import error") for p in problems)
    sloppy = [p for p in problems if p.startswith("sloppy_dag.py")]
    assert any("no tags" in p for p in sloppy)
    assert any("catchup" in p for p in sloppy)
    assert any("owner 'airflow'" in p for p in sloppy)
    assert any("retries=0" in p for p in sloppy)
    # The good DAGs next to the broken files still load.
    assert set(dagbag.dags) >= EXPECTED_DAG_IDS
