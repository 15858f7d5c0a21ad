"""The Prometheus alert rules in monitoring/rules/*.yaml, read once for every cloud.

The rule files are the one place an alert is defined: GKE turns each rule
into a Cloud Monitoring PromQL alert policy (components/gcp/monitoring.py),
EKS uploads the files unchanged as an AMP rule groups namespace
(components/aws/monitoring.py), and `promtool test rules` runs their tests
(tests/monitoring/test_rules.py).
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

RULES_DIR = Path(__file__).resolve().parent / "rules"
# Metric families by name prefix: the chart's StatsD exporter, kube-state-metrics, and Cloud SQL's
# own metrics as Cloud Monitoring's PromQL names them (`cloudsql.googleapis.com/database/...`).
AIRFLOW_PREFIX = "airflow_"
KUBE_STATE_PREFIX = "kube_"
CLOUD_SQL_PREFIX = "cloudsql_googleapis_com:"
_PREFIXES = (AIRFLOW_PREFIX, KUBE_STATE_PREFIX, CLOUD_SQL_PREFIX)
# A name, then its optional {matchers}; names of functions, labels and keywords are left alone.
_SELECTOR = re.compile(r"(?<![\w:.\"])(?P<name>[A-Za-z_][A-Za-z0-9_:]*)(?:\{(?P<matchers>[^}]*)\})?")


def scrape_interval(production: bool) -> str:
    """How often the managed collector scrapes the StatsD exporter (both clouds bill per sample).

    A production stack each minute; another every two minutes, which halves the
    samples bill and keeps a dev stack within its budget (README, "Cost and
    speed"). The rules' shortest window (rate over 5m) still sees two samples.
    """
    return "60s" if production else "120s"


@dataclass(frozen=True)
class AlertRule:
    group: str
    name: str
    expr: str
    # Prometheus duration ("15m"); "0s" when the rule has no `for`.
    duration: str
    labels: Mapping[str, str]
    summary: str
    runbook: str


def rule_files() -> list[Path]:
    return sorted(RULES_DIR.glob("*.yaml"))


def load_file(path: Path) -> dict[str, Any]:
    document = yaml.safe_load(path.read_text())
    if not isinstance(document, dict) or not isinstance(document.get("groups"), list):
        raise ValueError(f"{path}: a Prometheus rule file has a top-level `groups` list")
    return document


def alert_rules() -> list[AlertRule]:
    """Every alerting rule of every rule file, in file order."""
    rules = []
    for path in rule_files():
        for group in load_file(path)["groups"]:
            for rule in group["rules"]:
                if "alert" not in rule:
                    continue
                annotations = rule.get("annotations") or {}
                rules.append(
                    AlertRule(
                        group=group["name"],
                        name=rule["alert"],
                        expr=" ".join(str(rule["expr"]).split()),
                        duration=str(rule.get("for", "0s")),
                        labels=dict(rule.get("labels") or {}),
                        summary=str(annotations.get("summary", "")),
                        runbook=" ".join(str(annotations.get("runbook", "")).split()),
                    )
                )
    return rules


def rule_groups_yaml() -> str:
    """All rule files as one Prometheus rule document (what AMP's rule groups namespace holds)."""
    groups = [group for path in rule_files() for group in load_file(path)["groups"]]
    return yaml.safe_dump({"groups": groups}, sort_keys=False, width=1000)


def scoped(expr: str, scopes: Mapping[str, Mapping[str, str]]) -> str:
    """`expr` with matchers added to every selector of a metric family (prefix -> matchers).

    Cloud Monitoring evaluates PromQL over the whole project: two stacks in one
    project must not alert on each other's series (GMP labels every series
    with the `cluster` it was scraped in; Cloud SQL's carry `database_id`).
    """

    def narrow(match: re.Match[str]) -> str:
        name, existing = match.group("name"), (match.group("matchers") or "").strip()
        matchers = next((scopes[prefix] for prefix in scopes if name.startswith(prefix)), None)
        if matchers is None:
            return match.group(0)
        added = ",".join(f'{key}="{value}"' for key, value in matchers.items())
        return f"{name}{{{added}{',' + existing if existing else ''}}}"

    return _SELECTOR.sub(narrow, expr)


def metric_names(expr: str) -> set[str]:
    """The metric names (of the families above) an expression reads."""
    return {name for match in _SELECTOR.finditer(expr) if (name := match.group("name")).startswith(_PREFIXES)}


def kube_state_series() -> list[str]:
    """The kube-state-metrics series the rules read: what a cluster without managed ones must scrape."""
    return sorted(
        {name for rule in alert_rules() for name in metric_names(rule.expr) if name.startswith(KUBE_STATE_PREFIX)}
    )
