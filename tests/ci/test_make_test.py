"""`make test` and the virtualenvs, run in a temporary copy of the repository: what a user and CI see.

- the policy pack's virtualenv is built by the very step the setup action runs, and imports the pack;
- a virtualenv whose Python is gone is rebuilt, saying so;
- the run talks while it works and ends with the totals over every suite, pytest's "no tests" included.
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import yaml

from tests.review.plan_repo import copy_project

ROOT = Path(__file__).resolve().parents[2]
SETUP_ACTION = ROOT / ".github" / "actions" / "setup" / "action.yml"


def repository_copy(target: Path) -> Path:
    copy_project(target)
    return target


def run(command: str, cwd: Path, **env: str) -> subprocess.CompletedProcess[str]:
    environment = {key: value for key, value in os.environ.items() if not key.startswith("PYTEST")}
    return subprocess.run(
        ["bash", "-c", command], cwd=cwd, env={**environment, **env}, capture_output=True, text=True, timeout=300
    )


def policy_venv_step() -> str:
    steps = yaml.safe_load(SETUP_ACTION.read_text())["runs"]["steps"]
    [step] = [step for step in steps if "policy/venv" in step.get("name", "")]
    names = [step.get("name", step.get("uses", "")) for step in steps]
    assert names.index(step["name"]) < names.index("Pulumi CLI"), "the pack's venv comes before any pulumi command"
    assert step["if"] == "inputs.cloud != ''", "every job with a cloud runs pulumi with the pack"
    return str(step["run"])


def test_the_setup_actions_policy_step_builds_a_venv_that_imports_the_pack(tmp_path: Path) -> None:
    copy = repository_copy(tmp_path)
    # The program's .venv only lends uv (a binary wheel); nothing of it reaches policy/venv.
    (copy / ".venv").symlink_to(ROOT / ".venv")
    result = run(policy_venv_step(), copy)
    assert result.returncode == 0, result.stdout + result.stderr
    python = copy / "policy" / "venv" / "bin" / "python"
    # What `pulumi preview --policy-pack policy` runs: policy/__main__.py's imports, from the repository root.
    imported = run(
        f"{python} -c 'import pulumi_policy, policy.acceptance, policy.policies; print(len(policy.policies.POLICIES))'",
        copy,
    )
    assert imported.returncode == 0, imported.stderr
    assert int(imported.stdout) > 10
    assert run(f"{python} -c 'import pytest'", copy).returncode != 0, "only the pack's own requirements"


def test_a_venv_whose_python_is_gone_is_rebuilt_saying_so(tmp_path: Path) -> None:
    copy = repository_copy(tmp_path)
    # A small .venv, so that the rebuild takes seconds: the copy's requirements are the test's own.
    (copy / "requirements-dev.txt").write_text("PyYAML==6.0.3\n")
    venv = copy / ".venv"
    (venv / "bin").mkdir(parents=True)
    (venv / "pyvenv.cfg").write_text(f"home = {tmp_path / 'gone'}\n")
    (venv / "bin" / "python").symlink_to(tmp_path / "gone" / "python3.11")
    result = run("scripts/venvs.sh main", copy, PYTHON=sys.executable)
    assert result.returncode == 0, result.stdout + result.stderr
    assert f"setup: .venv was made with a Python that is gone ({tmp_path / 'gone' / 'python3.11'}): rebuilding it" in (
        result.stderr
    )
    assert run(".venv/bin/python -c 'import yaml'", copy).returncode == 0


FAKE_STEPS = """
fake-passes:
\t@echo '=================== 3 passed, 1 skipped, 2 warnings in 0.10s ==================='
\t@echo 'skipped: 1 test(s): no chart here'
fake-fails:
\t@sleep 6
\t@echo '1 failed, 2 passed, 1 skipped in 0.20s'
\t@echo 'skipped: 1 test(s): no chart here'
\t@exit 1
fake-errs:
\t@echo '1 passed, 1 error in 0.30s (0:00:00)'
fake-empty:
\t@scripts/pytest.sh .venv empty-suite
"""


def test_make_test_talks_and_ends_with_the_totals_of_every_suite(tmp_path: Path) -> None:
    copy = repository_copy(tmp_path)
    # Every virtualenv `scripts/venvs.sh all` checks first, lent by the checkout: none is stale, so
    # none is built again in the copy (.venv-airflow-previous alone took 15 CPU-seconds to byte-compile).
    for venv in ROOT.glob(".venv*"):
        (copy / venv.name).symlink_to(venv)
    (copy / "empty-suite").mkdir()
    with (copy / "Makefile").open("a") as makefile:
        makefile.write(FAKE_STEPS)
    result = run(
        "make --no-print-directory test TEST_STEPS='fake-passes fake-fails fake-errs fake-empty'",
        copy,
        PROGRESS_SECONDS="1",
    )
    lines = result.stdout.splitlines()
    assert result.returncode != 0, "a failed step fails make test"
    assert "test: still running after" in result.stderr and "fake-fails" in result.stderr, "silent while it waits"
    assert "pytest: no tests collected from empty-suite: not a failure" in result.stdout
    assert "test: fake-empty passed" in result.stdout, "pytest's exit 5 (no tests) is not a failure"
    assert "test: FAILED: fake-fails (" in result.stdout
    # One line per skip reason, summed over the steps, then the totals last (errors count as failed).
    assert lines[-2:] == ["skipped: 2 test(s): no chart here", "6 passed, 2 failed, 2 skipped"]


def test_ci_run_ends_with_the_totals_and_fails_with_make_test(tmp_path: Path) -> None:
    copy = repository_copy(tmp_path)
    fake_make = tmp_path / "bin" / "make"
    fake_make.parent.mkdir()
    fake_make.write_text("#!/usr/bin/env bash\necho 'GNU Make 4.3'\necho '12 passed, 1 failed, 0 skipped'\nexit 2\n")
    fake_make.chmod(0o755)
    result = run(".ci/run", copy, PATH=f"{fake_make.parent}:{os.environ['PATH']}")
    assert result.returncode == 2
    assert result.stdout.splitlines()[-1] == "12 passed, 1 failed, 0 skipped"
