"""Fixtures of the runtime suite: the stacks' generated configuration, and Airflow running it.

Runs in the Pulumi virtualenv (.venv: the mock runner records what the stack generates);
Airflow itself runs as processes of .venv-dags (`make test-runtime`).
"""

from __future__ import annotations

import contextlib
import itertools
import shutil
import signal
import subprocess
from collections.abc import Iterator
from pathlib import Path
from types import FrameType

import pytest
from runtime.harness import Chromium, PostgresServer, temporary_directory
from runtime.stack_airflow import (
    MIGRATED_TEMPLATE,
    DagRepository,
    Deployments,
    RunningAirflow,
    StackAirflow,
    deployed,
    migrate_template,
    seed_previous_airflow,
    seeded_postgres,
)
from stack_checks import STACK_SHAPES

from review.runner import ROOT, run_main

BRANCH = "main"


# The shapes run for real: `local`, and GKE dev (the small Cloud SQL tier's pool caps).
RUNTIME_SHAPES = ("local", "dev")
SIGN_IN_TESTS = "test_auth_signin.py"
# The local deployment runs no burst (stack_airflow.EXECUTOR_PARALLELISM): the example DAGs' runs
# at once have at most three tasks ready together; each idle worker is ~40 MB.
LOCAL_EXECUTOR = {"core": {"parallelism": "4"}}
FERNET_ROTATION_TEST = "test_stored_secrets_survive_the_readme_fernet_rotation"
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
    """The session's throwaway PostgreSQL (TLS, loopback), holding the migrated template
    (`migrated_template`) that the dev deployment and any other copy; kept between runs
    (stack_airflow.seeded_postgres), so a warm run does not migrate it again."""
    with seeded_postgres("session", migrate_template) as server:
        yield server


@pytest.fixture(scope="session")
def migrated_template(postgres: PostgresServer) -> str:
    return MIGRATED_TEMPLATE


@contextlib.contextmanager
def upgraded_local(stack: StackAirflow) -> Iterator[RunningAirflow]:
    """The local shape on its own cluster, whose database the previous Airflow migrated and wrote to
    (seed_previous_airflow); the deployment's `airflow db migrate` is the README's upgrade step."""
    with (
        seeded_postgres("local-upgrade", seed_previous_airflow(stack), stack) as server,
        deployed(stack, postgres=server, new_database=False, extra_config=LOCAL_EXECUTOR) as airflow,
    ):
        yield airflow


DEPLOYMENTS = pytest.StashKey[Deployments]()
# The last test using each shape, and the last test of each shape that needs Chromium or the
# sign-in API servers, after which the next shape starts (pytest_collection_modifyitems).
LAST_TEST_OF_SHAPE = pytest.StashKey[dict[str, str]]()
START_NEXT_AFTER = pytest.StashKey[dict[str, str]]()


@pytest.fixture(scope="session")
def deployments(
    request: pytest.FixtureRequest,
    stacks: dict[str, StackAirflow],
    dag_repository: DagRepository,
    postgres: PostgresServer,
    migrated_template: str,
) -> Iterator[Deployments]:
    """Both shapes' Airflow, each started on first use: `dev` from the migrated template, `local`
    upgraded from the previous Airflow's data."""
    running = Deployments(
        {
            "dev": lambda: deployed(
                stacks["dev"], git_repository=dag_repository.url, postgres=postgres, template=migrated_template
            ),
            "local": lambda: upgraded_local(stacks["local"]),
        }
    )
    request.config.stash[DEPLOYMENTS] = running
    try:
        yield running
    finally:
        running.close()


@pytest.fixture(params=RUNTIME_SHAPES)
def running(request: pytest.FixtureRequest, deployments: Deployments) -> RunningAirflow:
    """One shape's Airflow, migrated, with its admin user, all four components healthy, its API
    server on the stack's own settings (a sign-in test may have run it with others)."""
    deployment = deployments[request.param]
    deployment.restore_api_server()
    return deployment


def shape_of(item: pytest.Item) -> str | None:
    """The deployment a test uses: its `running` parameter, or the module's (the sign-in tests: local)."""
    callspec = getattr(item, "callspec", None)
    if callspec is not None and "running" in callspec.params:
        return str(callspec.params["running"])
    return "local" if item.path.name == SIGN_IN_TESTS else None


def holds_memory(item: pytest.Item) -> bool:
    """A test beside which the next deployment cannot start: Chromium (~0.5 GB) or the sign-in
    module's own API servers (~0.25 GB each) run in it."""
    return item.path.name == SIGN_IN_TESTS or "chromium" in getattr(item, "fixturenames", ())


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    """Shape by shape (local, then dev: each deployment stopped after its last test). Within a shape,
    first the tests that hold memory (Chromium, the sign-in API servers), after which the next shape
    starts beside the others; last, the Fernet rotation, which leaves the database under a key the
    deployment's processes do not hold."""
    order = (None, *RUNTIME_SHAPES)
    items.sort(
        key=lambda item: (
            order.index(shape_of(item)),
            not holds_memory(item),
            item.name.startswith(FERNET_ROTATION_TEST),
        )
    )
    shapes = [shape for shape in RUNTIME_SHAPES if any(shape_of(item) == shape for item in items)]
    config.stash[LAST_TEST_OF_SHAPE] = {shape: item.nodeid for item in items if (shape := shape_of(item))}
    config.stash[START_NEXT_AFTER] = {
        next_shape: item.nodeid
        for shape, next_shape in itertools.pairwise(shapes)
        for item in items
        if shape_of(item) == shape and holds_memory(item)
    }


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_teardown(item: pytest.Item, nextitem: pytest.Item | None) -> Iterator[None]:
    """After a shape's last test, stop its deployment; after its last test that holds memory (whose
    module fixtures - Chromium, API servers - stopped with its teardown), start the next shape's."""
    yield
    running = item.config.stash.get(DEPLOYMENTS, None)
    if running is None:
        return
    shape = shape_of(item)
    if shape is not None and item.config.stash[LAST_TEST_OF_SHAPE].get(shape) == item.nodeid:
        # Not in the background: the next shape's burst would start beside its stopping processes.
        running.release(shape)
    for next_shape, nodeid in item.config.stash[START_NEXT_AFTER].items():
        if nodeid == item.nodeid:
            running.start_ahead(next_shape)


@pytest.fixture(scope="module")
def chromium() -> Iterator[Chromium]:
    """Headless Chromium, started once for a module's UI tests (both modules run in the local phase:
    it does not hold its ~0.4 GB through the dev deployment's burst)."""
    with Chromium() as browser:
        yield browser


@pytest.fixture(scope="session")
def artefacts() -> Path:
    ARTEFACTS.mkdir(exist_ok=True)
    return ARTEFACTS
