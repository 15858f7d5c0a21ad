"""Packing dags/ into a ConfigMap (`dags.source: configmap`)."""

from __future__ import annotations

from pathlib import Path

import pytest

from components.airflow.dag_files import (
    CONFIG_MAP_IGNORE_RULE,
    CONFIG_MAP_LIMIT_BYTES,
    config_map_key,
    read_dag_files,
)
from components.config import ConfigError
from components.stack import DAGS_FOLDER


def test_packs_python_files_with_nested_paths_and_skips_caches(tmp_path: Path) -> None:
    (tmp_path / "lib").mkdir()
    (tmp_path / "__pycache__").mkdir()
    (tmp_path / "etl.py").write_text("from airflow.sdk import dag\n")
    (tmp_path / "lib" / "helpers.py").write_text("X = 1\n")
    (tmp_path / "__pycache__" / "etl.cpython-311.pyc").write_bytes(b"\0")
    (tmp_path / "notes.txt").write_text("not shipped")
    files = read_dag_files(tmp_path)
    assert set(files) == {"etl.py", "lib/helpers.py", ".airflowignore"}
    assert config_map_key("lib/helpers.py") == "lib__helpers.py"


def test_ignore_rule_is_appended_to_the_repos_own(tmp_path: Path) -> None:
    (tmp_path / ".airflowignore").write_text("scratch/\n")
    assert read_dag_files(tmp_path)[".airflowignore"].splitlines() == ["scratch/", CONFIG_MAP_IGNORE_RULE]


def test_a_dag_folder_too_large_for_a_config_map_is_refused(tmp_path: Path) -> None:
    (tmp_path / "big.py").write_text("#" * (CONFIG_MAP_LIMIT_BYTES + 1))
    with pytest.raises(ConfigError, match=r"dags\.source"):
        read_dag_files(tmp_path)


def test_the_repos_dags_folder_fits() -> None:
    files = read_dag_files(DAGS_FOLDER)
    assert len([path for path in files if path.endswith(".py")]) >= 6
