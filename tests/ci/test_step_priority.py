"""`make test` gives the CPU to the step it waits for longest (scripts/test.sh, TEST_PRIORITY_STEP).

On 2 cores every step competes for the CPU, and the run lasts as long as its longest step;
the others run at `nice -n 10`, taking what it leaves while it waits on its own processes.
"""

from __future__ import annotations

import os
import re
from pathlib import Path

from tests.ci.test_make_test import ROOT, repository_copy, run

NICENESS_STEPS = """
fake-longest:
\t@echo "niceness $$(nice)"
fake-other:
\t@echo "niceness $$(nice)"
"""


def makefile_variable(name: str) -> str:
    match = re.search(rf"^{name} := (.*)$", (ROOT / "Makefile").read_text(), re.MULTILINE)
    assert match, f"the Makefile sets no {name}"
    return match.group(1)


def test_the_priority_step_is_one_make_test_runs() -> None:
    assert makefile_variable("TEST_PRIORITY_STEP") in makefile_variable("TEST_STEPS").split()


def test_the_priority_step_runs_at_normal_priority_and_the_others_niced(tmp_path: Path) -> None:
    copy = repository_copy(tmp_path)
    for venv in (".venv", ".venv-dags", ".venv-airflow-previous", ".venv-docs"):
        (copy / venv).symlink_to(ROOT / venv)
    with (copy / "Makefile").open("a") as makefile:
        makefile.write(NICENESS_STEPS)
    result = run(
        "make --no-print-directory test TEST_STEPS='fake-longest fake-other' TEST_PRIORITY_STEP=fake-longest", copy
    )
    assert result.returncode == 0, result.stdout + result.stderr
    lines = result.stdout.splitlines()
    niceness = {
        step: int(lines[lines.index(ended) - 1].split()[-1])
        for step in ("fake-longest", "fake-other")
        for ended in lines
        if ended.startswith(f"test: {step} passed")
    }
    ours = os.nice(0)
    assert niceness == {"fake-longest": ours, "fake-other": min(ours + 10, 19)}
