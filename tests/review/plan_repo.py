"""A throwaway git repository holding a copy of the project, for `plan` and `plan-diff` end to end.

Commits, oldest first (the stack files are the tests' own shapes, not the user's):
the project without the plan command (a BASE that
predates it), the project as it is, then the dev and prod stack files edited
(see `dev_change`, `prod_change`). Each plan costs a few seconds, so the repository and its plans
are made once per session (conftest.py).
"""

from __future__ import annotations

import shutil
import subprocess
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml
from stack_checks import STACK_SHAPES

from review.runner import PROJECT, ROOT

GIT = ("git", "-c", "user.name=plan-test", "-c", "user.email=plan-test@example.invalid", "-c", "commit.gpgsign=false")
DEV_FILE = "Pulumi.dev.yaml"
PROD_FILE = "Pulumi.prod.yaml"
PREDATES = "predates"  # tag: the commit without `python -m review`


@dataclass(frozen=True)
class Repo:
    path: Path

    def git(self, *args: str) -> str:
        result = subprocess.run([*GIT, *args], cwd=self.path, capture_output=True, text=True, check=True)
        return result.stdout

    def commit(self, message: str) -> None:
        self.git("add", "-A")
        self.git("commit", "-q", "-m", message)

    def write_known_stack_files(self) -> None:
        """Replace the copied `Pulumi.<stack>.yaml` files by the tests' own shapes (tests/stack_checks.py):
        the diffs asserted here must not depend on the region or sizes a user put in their stack files."""
        for stack, config in STACK_SHAPES.items():
            document = {"config": {f"{PROJECT}:{key}": value for key, value in config.items()}}
            (self.path / f"Pulumi.{stack}.yaml").write_text(yaml.safe_dump(document, sort_keys=False))

    def edit_stack(self, name: str, change: Callable[[dict[str, Any]], None]) -> None:
        path = self.path / name
        document = yaml.safe_load(path.read_text())
        change(document["config"])
        path.write_text(yaml.safe_dump(document, sort_keys=False))


def dev_change(config: dict[str, Any]) -> None:
    """A node pool size, a region (replaces Cloud SQL, among others), a chart value, a bigger database."""
    gcp = config["airflow-platform:gcp"]
    gcp["workerMaxNodes"] = 8
    gcp["databaseTier"] = "db-custom-2-7680"
    gcp["region"] = "europe-west4"
    gcp["zone"] = "europe-west4-b"
    config["airflow-platform:airflow"]["apiServerReplicas"] = 2


def prod_change(config: dict[str, Any]) -> None:
    """Another VPC range: a new VPC, and everything that cannot follow it into one."""
    config["airflow-platform:aws"]["vpcCidr"] = "10.41.0.0/16"


def copy_project(destination: Path) -> None:
    """The working tree's files as git sees them (tracked and new, not ignored), not the venvs."""
    listed = subprocess.run(
        ["git", "ls-files", "-z", "--cached", "--others", "--exclude-standard"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        check=True,
    ).stdout.split("\0")
    for name in filter(None, listed):
        source = ROOT / name
        if source.is_file() and not source.is_symlink():
            target = destination / name
            target.parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(source, target)
