"""What the runtime harness says when the machine lacks something: what to install or free."""

from __future__ import annotations

import socket
from pathlib import Path

import pytest
from runtime import harness
from runtime.harness import LOOPBACK, HarnessError, PostgresServer, chromium_page, temporary_directory


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


def test_missing_postgresql_binaries_say_which_package(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(harness, "POSTGRES_INSTALL_ROOT", Path("/nonexistent"))
    monkeypatch.setattr(harness.shutil, "which", lambda _name: None)
    with pytest.raises(HarnessError, match="apt-get install postgresql"):
        harness.postgres_bindir()


def test_missing_chromium_says_which_package(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(harness, "CHROMIUM", Path("/nonexistent/chromium"))
    with pytest.raises(HarnessError, match="apt-get install chromium"), chromium_page():
        pass
