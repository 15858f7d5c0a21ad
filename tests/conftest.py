"""Settings for the whole test session: both suites (infrastructure in .venv, DAGs in .venv-dags)."""

from __future__ import annotations

import gc

import pytest


@pytest.hookimpl(trylast=True)
def pytest_collection_finish(session: pytest.Session) -> None:
    """Fewer garbage-collector passes over objects that live as long as the session.

    Every mock run allocates tens of thousands of short-lived objects (asyncio
    tasks, Outputs, protobuf messages), so the collector's default thresholds
    (700 allocations) make it walk the session's whole heap - every imported
    provider class, every collected test - thousands of times: a quarter of the
    infrastructure suite's time. Freezing what exists after collection takes it
    out of those walks; a higher first threshold makes young collections rarer.
    Cycles are still collected; the infrastructure session peaks ~50 MB higher (375 MB).
    """
    gc.collect()
    gc.freeze()
    gc.set_threshold(100_000, 50, 100)


# The prefix of the lines saying which tests were skipped and why: `make test` (scripts/test.sh)
# repeats them next to its totals, where a reader of a long log looks.
SKIPPED_PREFIX = "skipped:"


def pytest_terminal_summary(terminalreporter: pytest.TerminalReporter) -> None:
    """One line per reason tests were skipped, with how many: a fork without the chart copy sees why."""
    reasons: dict[str, int] = {}
    for report in terminalreporter.stats.get("skipped", []):
        longrepr = report.longrepr
        reason = longrepr[2] if isinstance(longrepr, tuple) else str(longrepr)
        reason = reason.removeprefix("Skipped: ")
        reasons[reason] = reasons.get(reason, 0) + 1
    for reason, count in reasons.items():
        terminalreporter.write_line(f"{SKIPPED_PREFIX} {count} test(s): {reason}")
