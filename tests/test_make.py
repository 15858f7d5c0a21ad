"""The README's commands: `make up` must fail fast, naming what is missing."""

from __future__ import annotations

import os
import shutil
import subprocess
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
# Tools the Makefile and scripts/pulumi.sh use; pulumi is deliberately absent.
TOOLS = ("bash", "make", "sed", "head", "dirname", "python3", "env", "grep", "awk")


@pytest.fixture
def path_without_pulumi(tmp_path: Path) -> str:
    for tool in TOOLS:
        found = shutil.which(tool)
        assert found, f"{tool} is needed to run this test"
        (tmp_path / tool).symlink_to(found)
    return str(tmp_path)


def make(target: str, path: str, **env: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        ["make", "--no-print-directory", target, *[f"{k}={v}" for k, v in env.items()]],
        cwd=ROOT,
        env={"PATH": path, "HOME": os.environ.get("HOME", "/tmp")},
        capture_output=True,
        text=True,
        timeout=60,
    )


@pytest.mark.parametrize("stack", ["local", "dev", "prod"])
def test_make_up_without_the_pulumi_cli_fails_naming_it(path_without_pulumi: str, stack: str) -> None:
    result = make("up", path_without_pulumi, STACK=stack)
    assert result.returncode != 0
    assert "missing: Pulumi CLI (pulumi)" in result.stderr
    assert "install it" in result.stderr


def test_make_up_names_the_missing_cluster_tooling(path_without_pulumi: str) -> None:
    result = make("up", path_without_pulumi, STACK="local")
    assert "missing: kubectl" in result.stderr


def test_make_up_refuses_an_unknown_stack(path_without_pulumi: str) -> None:
    result = make("up", path_without_pulumi, STACK="staging")
    assert result.returncode != 0
    assert "no Pulumi.staging.yaml" in result.stderr
