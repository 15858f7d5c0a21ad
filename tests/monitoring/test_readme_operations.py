"""The README's Operations section: every alert has its runbook line, and its commands match the code."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from test_status import AWS_OUTPUTS, fake_path, run_status

from components.config import parse_stack_config
from components.gcp.monitoring import STATSD_SCRAPE_PORT
from monitoring.database import DATABASE_ALERTS
from monitoring.rules import alert_rules
from monitoring.status import AMP_ALERTS_PATH, GCP_OPEN_ALERTS, Tools, alert_lines

README = (Path(__file__).resolve().parents[2] / "README.md").read_text()
OPERATIONS = README.split("\n## Operations\n", 1)[1].split("\n## ", 1)[0]
ALERTS = [rule.name for rule in alert_rules()] + [alert.name for alert in DATABASE_ALERTS]


@pytest.mark.parametrize("alert", ALERTS)
def test_every_alert_has_a_runbook_line(alert: str) -> None:
    rows = [line for line in OPERATIONS.splitlines() if line.startswith(f"| `{alert}`")]
    assert len(rows) == 1, f"README 'Operations' needs one row for {alert}: what it means and what to do"
    assert len(rows[0].split(" | ")) == 3


def test_the_port_forward_reaches_the_charts_exporter() -> None:
    assert "kubectl -n airflow port-forward svc/airflow-statsd 9102:9102 &" in OPERATIONS
    assert f"port `{STATSD_SCRAPE_PORT}` 9102" in OPERATIONS


def test_the_documented_config_commands_set_keys_the_stack_accepts() -> None:
    assert "pulumi config set --path 'alerts.email[0]' oncall@example.com" in README
    assert "pulumi config set --secret --path alerts.webhook https://..." in README
    base = {
        "cloud": "gcp",
        "gcp": {"project": "acme-airflow-test", "masterAuthorizedNetworks": [{"cidr": "198.51.100.0/24", "name": "v"}]},
        "loadBalancer": {"sourceRanges": ["198.51.100.0/24"]},
        "dags": {"source": "git", "repo": "git@github.com:acme/dags.git"},
    }
    alerts = {"email": ["oncall@example.com"], "webhook": "https://hooks.example.com/T0KEN"}
    assert parse_stack_config({**base, "alerts": alerts}, "t").alerts.routed


def test_the_status_sample_is_what_make_status_prints(tmp_path: Path) -> None:
    sample = re.search(r"```\n(stack dev .*?)```", OPERATIONS, re.S)
    assert sample, "the README shows a `make status` sample"
    _, printed = run_status(fake_path(tmp_path))
    for line in sample.group(1).splitlines():
        if line.endswith(":") or line.startswith(("health", "  tutorial", "  gke-workers", "    open:")):
            assert line in printed, f"README shows {line!r}; make status prints:\n{printed}"


def test_the_eks_alerts_sample_is_what_make_status_prints(tmp_path: Path) -> None:
    sample = re.search(r"```\n(active alerts:\n  CloudWatch.*?)```", OPERATIONS, re.S)
    assert sample, "the README shows the EKS active alerts"
    printed = alert_lines(Tools({"PATH": str(fake_path(tmp_path))}), "aws", "prod", AWS_OUTPUTS)
    assert sample.group(1).splitlines()[1:] == printed


def test_the_permissions_the_status_asks_for_are_documented() -> None:
    source = (Path(__file__).resolve().parents[2] / "monitoring" / "status.py").read_text()
    for permission in ("aps:ListAlertManagerAlerts", "monitoring.alerts.list"):
        assert permission in source and f"`{permission}`" in OPERATIONS, permission
    assert " ".join(GCP_OPEN_ALERTS[:3]) in OPERATIONS and AMP_ALERTS_PATH in OPERATIONS
