"""The count of alerts `promtool test rules` proved, in the summary of the test session."""

from __future__ import annotations

import pytest

# Filled by test_rules.py: alert names whose firing and quiet cases passed under promtool.
TESTED_ALERTS: set[str] = set()


def pytest_terminal_summary(terminalreporter: pytest.TerminalReporter) -> None:
    if TESTED_ALERTS:
        terminalreporter.write_line(
            f"promtool: {len(TESTED_ALERTS)} alerts tested, each with a firing and a quiet case"
        )
