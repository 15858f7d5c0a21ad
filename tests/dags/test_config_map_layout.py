"""The DAG ConfigMap as the kubelet mounts it, walked by Airflow's own DAG discovery.

A ConfigMap volume holds its files in `..<timestamp>/`, a `..data` symlink to
that directory and top-level symlinks into `..data`. Airflow follows symlinks
while walking the DAG folder and stops with "Detected recursive loop" when two
directories resolve to the same place. The stack's ConfigMap carries an
`.airflowignore` rule against that; these tests build the real layout from
what the stack ships and run Airflow 3.2.2's discovery over it.
"""

from __future__ import annotations

import os
from pathlib import Path

import pytest
from dag_integrity import DAGS_FOLDER

from components.airflow.dag_files import IGNORE_FILE, read_dag_files


def mount_like_kubelet(files: dict[str, str], mount: Path) -> Path:
    """Lay `files` (relative path -> text) out the way a ConfigMap volume is."""
    payload = mount / "..2026_11_21_10_00_00.000000001"
    for relative, text in files.items():
        target = payload / relative
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_text(text)
    (mount / "..data").symlink_to(payload.name)
    for top_level in {relative.split("/", 1)[0] for relative in files}:
        (mount / top_level).symlink_to(f"..data/{top_level}")
    return mount


def discovered(mount: Path) -> list[str]:
    from airflow.utils.file import find_dag_file_paths

    return [os.path.relpath(path, mount) for path in find_dag_file_paths(str(mount), safe_mode=True)]


def test_the_mount_yields_exactly_the_dag_files_of_the_repo_folder(tmp_path: Path) -> None:
    expected = sorted(discovered(DAGS_FOLDER))
    assert expected, "no DAG file in dags/: the comparison below would be vacuous"
    found = discovered(mount_like_kubelet(read_dag_files(DAGS_FOLDER), tmp_path))
    assert sorted(found) == expected, "DAG files missing, duplicated or found inside ..data"


def test_without_the_ignore_rule_airflow_stops_on_the_mount(tmp_path: Path) -> None:
    """Why the rule exists: the same layout without it breaks DAG discovery."""
    files = {path: text for path, text in read_dag_files(DAGS_FOLDER).items() if path != IGNORE_FILE}
    with pytest.raises(RuntimeError, match="recursive loop"):
        discovered(mount_like_kubelet(files, tmp_path))
