"""Where promtool is, or why the rule tests cannot run."""

from __future__ import annotations

import os
import shutil

import pytest

INSTALL = "apt-get install prometheus (Debian's package ships promtool); .ci/run installs it in CI"


def promtool() -> str:
    """promtool's path; a skip outside CI when it is missing, a failure inside (CI must prove the rules)."""
    found = shutil.which("promtool")
    if found:
        return found
    message = f"promtool not found on PATH: the alert rules are not tested ({INSTALL})"
    if os.environ.get("CI"):
        pytest.fail(message)
    pytest.skip(message)
