"""The alert rules are tested like code: promtool checks them and runs a firing and a quiet case for each."""

from __future__ import annotations

import subprocess
from functools import cache
from pathlib import Path
from typing import Any

import pytest
import yaml
from conftest import TESTED_ALERTS
from promtool import promtool

from monitoring.rules import RULES_DIR, alert_rules, metric_names, rule_files, scoped

TESTS_DIR = RULES_DIR / "tests"
ALERTS = [rule.name for rule in alert_rules()]

# What the chart 1.22.0 StatsD exporter serves (its mapping file, and Airflow's
# unmapped names with dots as underscores: ../shared/reference/airflow-chart.md)
# plus kube-state-metrics' Deployment gauge. A rule or a test on any other name
# would watch a series that never exists.
EXPORTER_METRICS = frozenset(
    {
        "airflow_scheduler_heartbeat",
        "airflow_dag_processor_heartbeat",
        "airflow_dag_processing_import_errors",
        "airflow_dag_processing_last_runtime",
        "airflow_dag_processing_last_run_seconds_ago",
        "airflow_dag_processing_total_parse_time",
        "airflow_dag_processing_processor_timeouts",
        "airflow_ti_failures",
        "airflow_ti_successes",
        "airflow_ti_queued",
        "airflow_ti_running",
        "airflow_ti_scheduled",
        "airflow_ti_deferred",
        "airflow_executor_open_slots",
        "airflow_executor_queued_tasks",
        "airflow_executor_running_tasks",
        "airflow_pool_open_slots",
        "airflow_pool_used_slots",
        "airflow_pool_starving_tasks",
        "airflow_dagrun_duration",
        "airflow_dagrun_failed",
        "airflow_dagrun_schedule_delay",
        "airflow_task_duration",
        "kube_deployment_status_replicas_available",
    }
)


def _test_files() -> list[Path]:
    return sorted(TESTS_DIR.glob("*.yaml"))


@cache
def _cases() -> dict[str, dict[str, int]]:
    """alert -> {"firing": n, "quiet": n}: the promtool cases that expect it to fire or to stay quiet."""
    cases: dict[str, dict[str, int]] = {}
    for path in _test_files():
        document: dict[str, Any] = yaml.safe_load(path.read_text())
        for test in document["tests"]:
            for check in test.get("alert_rule_test", []):
                kind = "firing" if check.get("exp_alerts") else "quiet"
                counts = cases.setdefault(check["alertname"], {"firing": 0, "quiet": 0})
                counts[kind] += 1
    return cases


@cache
def _promtool_test_run() -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [promtool(), "test", "rules", *[path.name for path in _test_files()]],
        cwd=TESTS_DIR,
        capture_output=True,
        text=True,
        timeout=120,
    )


def test_promtool_check_rules_passes() -> None:
    result = subprocess.run(
        [promtool(), "check", "rules", *map(str, rule_files())], capture_output=True, text=True, timeout=60
    )
    assert result.returncode == 0, result.stdout + result.stderr


def test_every_rule_file_has_a_test_file() -> None:
    tested = {
        (TESTS_DIR / name).resolve()
        for path in _test_files()
        for name in yaml.safe_load(path.read_text())["rule_files"]
    }
    assert {path.resolve() for path in rule_files()} <= tested


@pytest.mark.parametrize("alert", ALERTS)
def test_alert_fires_and_stays_quiet_under_promtool(alert: str) -> None:
    cases = _cases().get(alert, {"firing": 0, "quiet": 0})
    assert cases["firing"] and cases["quiet"], f"{alert}: promtool cases {cases}; write a firing and a quiet one"
    result = _promtool_test_run()
    assert result.returncode == 0, result.stdout + result.stderr
    TESTED_ALERTS.add(alert)


def test_promtool_cases_use_the_exporters_series_names() -> None:
    series = _promtool_series()
    assert series <= EXPORTER_METRICS, f"not served by the exporter: {sorted(series - EXPORTER_METRICS)}"


def _promtool_series() -> set[str]:
    return {
        item["series"].split("{", 1)[0]
        for path in _test_files()
        for test in yaml.safe_load(path.read_text())["tests"]
        for item in test.get("input_series", [])
    }


@pytest.mark.parametrize("rule", alert_rules(), ids=lambda rule: rule.name)
def test_every_series_a_rule_reads_is_fed_to_its_promtool_cases(rule: Any) -> None:
    # A case on another name than the rule reads would pass while the rule watches nothing.
    missing = metric_names(rule.expr) - _promtool_series()
    assert not missing, f"{rule.name} reads {sorted(missing)}, which no promtool case feeds"


@pytest.mark.parametrize("rule", alert_rules(), ids=lambda rule: rule.name)
def test_rules_read_only_the_exporters_metrics_and_say_what_to_do(rule: Any) -> None:
    assert metric_names(rule.expr) <= EXPORTER_METRICS, f"{rule.name} reads {sorted(metric_names(rule.expr))}"
    assert rule.summary and rule.runbook, f"{rule.name} needs a summary and a runbook annotation"
    assert rule.labels.get("severity") in ("critical", "warning"), rule.name


def test_scoping_adds_the_cluster_to_every_selector_and_keeps_existing_matchers() -> None:
    expr = 'sum(rate(airflow_ti_failures[5m])) / max(kube_deployment_status_replicas_available{deployment="x"})'
    assert scoped(expr, {"airflow_": {"cluster": "c1"}, "kube_": {"cluster": "c1"}}) == (
        'sum(rate(airflow_ti_failures{cluster="c1"}[5m])) / '
        'max(kube_deployment_status_replicas_available{cluster="c1",deployment="x"})'
    )
