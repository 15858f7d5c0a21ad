"""Fixtures of the runtime suite: the stacks' generated configuration, and Airflow running it.

Runs in the Pulumi virtualenv (.venv: the mock runner records what the stack generates);
Airflow itself runs as processes of .venv-dags (`make test-runtime`).
"""

from __future__ import annotations

import shutil
import signal
import subprocess
from collections.abc import Iterator
from pathlib import Path
from types import FrameType

import pytest
from runtime.harness import PostgresServer, temporary_directory
from runtime.stack_airflow import DagRepository, RunningAirflow, StackAirflow, deployed, migrate_template
from stack_checks import STACK_SHAPES

from review.runner import ROOT, run_main

BRANCH = "main"


# The shapes run for real: `local`, and GKE dev (the small Cloud SQL tier's pool caps).
RUNTIME_SHAPES = ("local", "dev")
# Where tests keep what a person would want to look at after a run (screenshots).
ARTEFACTS = ROOT / ".test-artefacts"


# git-sync is a sidecar this machine cannot run: the dev shape takes its DAGs from the same
# repository through the GitDagBundle (`dags.source: bundle`), served from a local repository.
RUNTIME_CONFIG = {
    "local": STACK_SHAPES["local"],
    "dev": {**STACK_SHAPES["dev"], "dags": {**STACK_SHAPES["dev"]["dags"], "source": "bundle", "branch": BRANCH}},
}


def git(*args: str, cwd: Path) -> str:
    return subprocess.run(["git", *args], cwd=cwd, check=True, capture_output=True, text=True).stdout.strip()


def _interrupt(signum: int, frame: FrameType | None) -> None:
    raise KeyboardInterrupt(f"signal {signum}")


def pytest_configure(config: pytest.Config) -> None:
    """A terminated run (CI cancel, `timeout`) unwinds like Ctrl-C: the fixtures stop PostgreSQL and
    every Airflow process group and remove their directories instead of leaving them running."""
    signal.signal(signal.SIGTERM, _interrupt)


@pytest.fixture(scope="session")
def dag_repository() -> Iterator[DagRepository]:
    """A git repository holding this repo's dags/ on BRANCH, standing in for the git host."""
    with temporary_directory("runtime-dag-repo-") as scratch:
        repository = Path(scratch)
        shutil.copytree(ROOT / "dags", repository / "dags", ignore=shutil.ignore_patterns("__pycache__"))
        git("init", "--quiet", f"--initial-branch={BRANCH}", cwd=repository)
        git("add", "dags", cwd=repository)
        identity = ("-c", "user.name=runtime tests", "-c", "user.email=runtime@example.invalid")
        git(*identity, "commit", "--quiet", "-m", "DAGs", cwd=repository)
        yield DagRepository(url=repository.as_uri(), commit=git("rev-parse", "HEAD", cwd=repository))


@pytest.fixture(scope="session")
def stacks() -> dict[str, StackAirflow]:
    """Each shape's Secrets and chart values, as the stack program generates them (mock runner)."""
    return {shape: StackAirflow.from_run(shape, run_main(RUNTIME_CONFIG[shape], shape)) for shape in RUNTIME_SHAPES}


@pytest.fixture(scope="session")
def postgres() -> Iterator[PostgresServer]:
    """One throwaway PostgreSQL (TLS, loopback) for the session; each deployment gets its own database."""
    with temporary_directory("runtime-postgres-") as scratch, PostgresServer(Path(scratch)) as server:
        yield server


@pytest.fixture(scope="session")
def migrated_template(postgres: PostgresServer) -> str:
    return migrate_template(postgres)


@pytest.fixture(scope="module", params=RUNTIME_SHAPES)
def running(
    request: pytest.FixtureRequest,
    stacks: dict[str, StackAirflow],
    dag_repository: DagRepository,
    postgres: PostgresServer,
    migrated_template: str,
) -> Iterator[RunningAirflow]:
    """One shape's Airflow, migrated, with its admin user, all four components healthy."""
    stack = stacks[request.param]
    with deployed(stack, git_repository=dag_repository.url, postgres=postgres, template=migrated_template) as airflow:
        yield airflow


@pytest.fixture(scope="session")
def artefacts() -> Path:
    ARTEFACTS.mkdir(exist_ok=True)
    return ARTEFACTS
