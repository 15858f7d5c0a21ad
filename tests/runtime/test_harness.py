"""What the runtime harness says when the machine lacks something: what to install or free."""

from __future__ import annotations

import contextlib
import os
import socket
import subprocess
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from runtime import harness
from runtime.harness import LOOPBACK, Chromium, HarnessError, PostgresServer, cached_postgres, temporary_directory
from runtime.stack_airflow import Deployments

from review.runner import ROOT


def test_a_taken_port_is_named_with_what_to_do() -> None:
    with socket.socket() as squatter, temporary_directory("runtime-test-") as scratch:
        squatter.bind((LOOPBACK, 0))
        squatter.listen()
        port = squatter.getsockname()[1]
        with pytest.raises(HarnessError, match=rf"port {port} on {LOOPBACK} is taken.*stop what listens there"):
            PostgresServer(Path(scratch), port=port).start()


def test_a_postgresql_that_does_not_start_shows_its_log() -> None:
    with temporary_directory("runtime-test-") as scratch:
        server = PostgresServer(Path(scratch), extra_settings={"max_connections": "-1"})
        with pytest.raises(HarnessError, match=r"(?s)PostgreSQL did not start.*max_connections"), server:
            pass
        assert not (server.data / "postmaster.pid").exists(), "nothing may keep running"


def test_a_cached_cluster_is_seeded_once_then_copied(tmp_path: Path) -> None:
    seeded = []

    def seed(server: PostgresServer) -> None:
        seeded.append(server.port)
        server.psql("CREATE DATABASE seeded")

    cache = tmp_path / "clusters" / "cluster-key"
    for _ in range(2):
        with temporary_directory("runtime-test-") as scratch, cached_postgres(Path(scratch), cache, seed) as server:
            assert "seeded" in server.psql("SELECT datname FROM pg_database").splitlines()
    assert len(seeded) == 1, "the second cluster must be a copy of the first one's seeded data"


def test_missing_postgresql_binaries_say_which_package(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(harness, "POSTGRES_INSTALL_ROOT", Path("/nonexistent"))
    monkeypatch.setattr(harness.shutil, "which", lambda _name: None)
    with pytest.raises(HarnessError, match="apt-get install postgresql"):
        harness.postgres_bindir()


def test_missing_chromium_says_which_package(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(harness, "CHROMIUM", Path("/nonexistent/chromium"))
    with pytest.raises(HarnessError, match="apt-get install chromium"), Chromium():
        pass


def run_runtime_packages(tmp_path: Path, **environment: str) -> tuple[int, str]:
    """scripts/runtime-packages.sh with apt-get (and sudo) replaced by stubs that log their arguments."""
    calls = tmp_path / "calls"
    for tool in ("apt-get", "sudo"):
        stub = tmp_path / tool
        stub.write_text(f'#!/bin/sh\necho "{tool} $*" >> {calls}\n[ "{tool}" = sudo ] && exec "$@"\nexit 0\n')
        stub.chmod(0o755)
    result = subprocess.run(
        [str(ROOT / "scripts" / "runtime-packages.sh")],
        env={**os.environ, "PATH": f"{tmp_path}:{os.environ['PATH']}", **environment},
        capture_output=True,
        text=True,
        check=False,
    )
    return result.returncode, calls.read_text() if calls.exists() else ""


def test_runtime_packages_installs_only_what_is_missing(tmp_path: Path) -> None:
    status, calls = run_runtime_packages(tmp_path, RUNTIME_CHROMIUM="/nonexistent/chromium")
    assert status == 0
    installs = [line for line in calls.splitlines() if line.startswith("apt-get") and " install " in line]
    assert len(installs) == 1 and " chromium" in installs[0].split("--no-install-recommends")[1], calls


def test_a_deployment_that_did_not_start_is_named_to_every_test_after_the_first() -> None:
    """The first test using it gets the failure itself (the component's log); the next ones are
    told it did not start, not that it was already stopped, and no second start is tried."""
    starts = []

    def failing_start() -> contextlib.AbstractContextManager[Any]:
        starts.append(1)
        raise HarnessError("airflow api-server exited 1; its log: ...")

    deployments = Deployments({"dev": failing_start})
    with pytest.raises(HarnessError, match="api-server exited 1"):
        deployments["dev"]
    with pytest.raises(HarnessError, match=r"the dev deployment did not start: airflow api-server exited 1"):
        deployments["dev"]
    assert len(starts) == 1


def test_a_deployment_started_ahead_is_waited_for_and_its_failure_reaches_its_first_test() -> None:
    """`start_ahead` starts in a thread; the first test using the shape waits for it, then gets the
    deployment - or, when it did not start, the failure itself, and the tests after are told so."""
    started = threading.Event()
    release = threading.Event()
    stopped = []

    @contextlib.contextmanager
    def slow_start() -> Iterator[str]:
        started.set()
        assert release.wait(10), "the start was not released"
        try:
            yield "dev deployment"
        finally:
            stopped.append("dev")

    def failing_start() -> contextlib.AbstractContextManager[Any]:
        raise HarnessError("airflow scheduler exited 1; its log: ...")

    deployments = Deployments({"dev": slow_start, "local": failing_start})
    deployments.start_ahead("dev")
    deployments.start_ahead("local")
    assert started.wait(10), "start_ahead did not start the deployment"
    threading.Timer(0.2, release.set).start()
    assert deployments["dev"] == "dev deployment", "the first test waits for the start"
    with pytest.raises(HarnessError, match="scheduler exited 1"):
        deployments["local"]
    with pytest.raises(HarnessError, match=r"the local deployment did not start: airflow scheduler exited 1"):
        deployments["local"]
    deployments.close()
    assert stopped == ["dev"]
