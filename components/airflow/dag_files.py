"""Pack the repo's dags/ folder into ConfigMap data (`dags.source: configmap`)."""

from __future__ import annotations

from pathlib import Path

from components.validation import ConfigError, ConfigProblem

# The API server rejects objects over 1 MiB; leave room for metadata.
CONFIG_MAP_LIMIT_BYTES = 900 * 1024
IGNORE_FILE = ".airflowignore"
# A ConfigMap volume holds the files in a `..<timestamp>/` directory, a
# `..data` symlink to it and top-level symlinks into `..data`. Airflow walks
# the DAG folder following symlinks and stops with "Detected recursive loop"
# when `..data` and `..<timestamp>` resolve to the same directory, so both are
# ignored (glob syntax, Airflow 3's default; a trailing '/' = directories only).
CONFIG_MAP_IGNORE_RULE = "..*/"
_SKIPPED_PARTS = {"__pycache__", ".pytest_cache"}


def read_dag_files(folder: Path) -> dict[str, str]:
    """The DAG folder as ConfigMap content: relative POSIX path -> text.

    Every .py file, plus an `.airflowignore` that keeps the ConfigMap's own
    bookkeeping directories out of DAG discovery (appended to the repo's own).
    """
    files = {
        path.relative_to(folder).as_posix(): path.read_text(encoding="utf-8")
        for path in sorted(folder.rglob("*.py"))
        if path.is_file() and not _SKIPPED_PARTS.intersection(path.parts)
    }
    own_rules = (folder / IGNORE_FILE).read_text(encoding="utf-8") if (folder / IGNORE_FILE).is_file() else ""
    files[IGNORE_FILE] = f"{own_rules.rstrip()}\n{CONFIG_MAP_IGNORE_RULE}\n".lstrip("\n")

    size = sum(len(content.encode("utf-8")) for content in files.values())
    if size > CONFIG_MAP_LIMIT_BYTES:
        raise ConfigError(
            [
                ConfigProblem(
                    "airflow-platform:dags.source",
                    "configmap",
                    f"git when dags/ exceeds {CONFIG_MAP_LIMIT_BYTES} bytes (it holds {size}); "
                    "a ConfigMap is limited to 1 MiB",
                )
            ]
        )
    return files


def config_map_key(relative_path: str) -> str:
    """ConfigMap keys allow [-._a-zA-Z0-9] only: nested paths are flattened with '__'."""
    return relative_path.replace("/", "__")
