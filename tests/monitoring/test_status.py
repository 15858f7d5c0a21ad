"""`make status` and the end of `make up`, against fake `pulumi` and `kubectl` on PATH (no cluster here)."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from monitoring.status import Tools, alert_lines, status

ROOT = Path(__file__).resolve().parents[2]
NOW = "2026-12-06T12:00:00+00:00"
HEALTHY = {
    "metadatabase": {"status": "healthy"},
    "scheduler": {"status": "healthy", "latest_scheduler_heartbeat": NOW},
    "triggerer": {"status": "healthy", "latest_triggerer_heartbeat": NOW},
    "dag_processor": {"status": "healthy", "latest_dag_processor_heartbeat": NOW},
}
PODS = {
    "items": [
        {
            "metadata": {"name": "airflow-scheduler-0"},
            "status": {"phase": "Running", "containerStatuses": [{"ready": True, "state": {"running": {}}}]},
        },
        {"metadata": {"name": "tutorial-print-date-x1"}, "status": {"phase": "Pending", "reason": "Unschedulable"}},
        {
            "metadata": {"name": "airflow-triggerer-0"},
            "status": {
                "phase": "Running",
                "containerStatuses": [{"ready": False, "state": {"waiting": {"reason": "CrashLoopBackOff"}}}],
            },
        },
    ]
}
NODES = {
    "items": [{"metadata": {"name": "gke-workers-1"}, "status": {"conditions": [{"type": "Ready", "status": "True"}]}}]
}
RUNS = [{"dag_id": "tutorial", "run_id": "scheduled__2026-12-06", "state": "failed", "start_date": NOW}]
OUTPUTS = {
    "namespace": "airflow",
    "airflowUrl": "http://localhost:8080",
    "kubeconfig": "apiVersion: v1",
    "monitoring": {"alerts": "https://console.cloud.google.com/monitoring/alerting?project=acme", "project": "acme"},
}
# `gcloud monitoring alerts list --format=json`: Alert resources (Cloud Monitoring API v3, projects.alerts).
GCP_ALERTS = [
    {
        "name": "projects/acme/alerts/1",
        "state": "OPEN",
        "openTime": "2026-12-06T11:50:00Z",
        "policy": {"displayName": "AirflowSchedulerHeartbeatStopped (dev)"},
    },
    {"name": "projects/acme/alerts/2", "state": "OPEN", "policy": {"displayName": "AirflowDagImportErrors (prod)"}},
]
AWS_OUTPUTS = {
    "clusterName": "airflow-prod",
    "monitoring": {"prometheusEndpoint": "https://aps-workspaces.eu-west-1.amazonaws.com/workspaces/ws-123/"},
}
# `aws configure export-credentials --format process` and CloudWatch's describe-alarms.
AWS_CREDENTIALS = {"Version": 1, "AccessKeyId": "AKIAFAKE", "SecretAccessKey": "s3cr3t/KEY", "SessionToken": "T0KEN"}
ALARMS = {"MetricAlarms": [{"AlarmName": "airflow-prod-AirflowDatabaseStorageLow"}, {"AlarmName": "other-x"}]}
# AMP's GET .../alertmanager/api/v2/alerts (AMP user guide, ListAlertManagerAlerts): Alertmanager v2 alerts.
AMP_ALERTS = [
    {
        "labels": {"alertname": "AirflowApiServerUnavailable", "severity": "critical"},
        "annotations": {"summary": "No API server pod of airflow/airflow-api-server has been ready for 5 minutes."},
        "startsAt": "2026-12-06T11:40:00Z",
        "status": {"state": "active", "silencedBy": [], "inhibitedBy": []},
    },
    {
        "labels": {"alertname": "AirflowDagImportErrors", "severity": "warning"},
        "startsAt": "2026-12-06T10:00:00Z",
        "status": {"state": "suppressed", "silencedBy": ["s1"], "inhibitedBy": []},
    },
]

# One script stands in for each CLI: it answers from the JSON files next to it, or fails like the real one.
FAKE = """#!{python}
import json, os, sys
here = os.path.dirname(os.path.abspath(__file__))
tool, args = os.path.basename(sys.argv[0]), sys.argv[1:]
fail = os.path.join(here, tool + ".fail")
if os.path.exists(fail):
    sys.stderr.write(open(fail).read()); sys.exit(1)
def answer(name):
    sys.stdout.write(open(os.path.join(here, name)).read()); sys.exit(0)
if tool == "pulumi":
    if args[:2] == ["stack", "output"]: answer("outputs.json")
    sys.exit(0)  # whoami, login, stack select, up
if tool == "kubectl":
    kubeconfig = os.environ.get("KUBECONFIG")
    if kubeconfig:
        open(os.path.join(here, "kubeconfig.seen"), "w").write(open(kubeconfig).read())
    if "services" in args: print("airflow-api-server"); sys.exit(0)
    if "--raw" in args: answer("health.json")
    if "pods" in args: answer("pods.json")
    if "nodes" in args: answer("nodes.json")
    if "exec" in args: answer("runs.json")
    print("kind-kind"); sys.exit(0)
if tool == "gcloud":
    open(os.path.join(here, "gcloud.args"), "w").write(json.dumps(args))
    if args[:3] == ["monitoring", "alerts", "list"]: answer("gcp_alerts.json")
if tool == "aws":
    if args[:2] == ["configure", "export-credentials"]: answer("aws_credentials.json")
    if args[:2] == ["cloudwatch", "describe-alarms"]: answer("alarms.json")
if tool == "curl":
    open(os.path.join(here, "curl.args"), "w").write(json.dumps(args))
    open(os.path.join(here, "curl.stdin"), "w").write(sys.stdin.read())
    code = open(os.path.join(here, "amp.code")).read() if os.path.exists(os.path.join(here, "amp.code")) else "200"
    sys.stdout.write(open(os.path.join(here, "amp_alerts.json")).read() + "\\n" + code); sys.exit(0)
sys.exit(3)
"""


def fake_path(tmp_path: Path, health: dict[str, Any] = HEALTHY, outputs: dict[str, Any] = OUTPUTS) -> Path:
    for tool in ("pulumi", "kubectl", "gcloud", "aws", "curl"):
        script = tmp_path / tool
        script.write_text(FAKE.format(python=sys.executable))
        script.chmod(0o755)
    for name, data in {
        "health.json": health,
        "pods.json": PODS,
        "nodes.json": NODES,
        "runs.json": RUNS,
        "outputs.json": outputs,
        "gcp_alerts.json": GCP_ALERTS,
        "aws_credentials.json": AWS_CREDENTIALS,
        "alarms.json": ALARMS,
        "amp_alerts.json": AMP_ALERTS,
    }.items():
        (tmp_path / name).write_text(json.dumps(data))
    return tmp_path


def run_status(path: Path, stack: str = "dev", wait: int = 0) -> tuple[int, str]:
    lines: list[str] = []
    code = status(stack, Tools({"PATH": str(path)}), wait=wait, health_only=False, out=lines.append)
    return code, "\n".join(lines)


def test_a_healthy_stack_shows_each_components_heartbeat_and_what_is_not_running(tmp_path: Path) -> None:
    code, text = run_status(fake_path(tmp_path))
    assert code == 0
    assert "health (api/v2/monitor/health): healthy" in text
    assert "scheduler: healthy, last heartbeat" in text and "dag_processor: healthy, last heartbeat" in text
    assert "tutorial-print-date-x1: Pending (Unschedulable)" in text
    assert "airflow-triggerer-0: Running (CrashLoopBackOff)" in text
    assert "airflow-scheduler-0" not in text, "a running, ready pod is not listed"
    assert "gke-workers-1: Ready" in text
    assert "tutorial scheduled__2026-12-06: failed" in text
    assert (
        "active alerts:\n  Cloud Monitoring:\n    open: AirflowSchedulerHeartbeatStopped since 2026-12-06T11:50:00Z"
        in text
    )
    assert "AirflowDagImportErrors" not in text, "another stack's open alert in the same project is not listed"
    gcloud = json.loads((tmp_path / "gcloud.args").read_text())
    assert gcloud[:3] == ["monitoring", "alerts", "list"] and {"--project=acme", "--filter=state=OPEN"} <= set(gcloud)
    assert (tmp_path / "kubeconfig.seen").read_text() == OUTPUTS["kubeconfig"], "kubectl uses the stack's kubeconfig"


def test_eks_lists_the_alert_managers_active_alerts_and_the_alarms_in_alarm(tmp_path: Path) -> None:
    lines = alert_lines(Tools({"PATH": str(fake_path(tmp_path))}), "aws", "prod", AWS_OUTPUTS)
    assert lines == [
        "  CloudWatch alarms (database):",
        "    in ALARM: airflow-prod-AirflowDatabaseStorageLow",
        "  AMP alert manager (Prometheus rules):",
        "    firing: AirflowApiServerUnavailable (critical) since 2026-12-06T11:40:00Z: No API server pod of "
        "airflow/airflow-api-server has been ready for 5 minutes.",
    ], "a silenced alert is not firing; another stack's alarm is not listed"
    curl = json.loads((tmp_path / "curl.args").read_text())
    assert curl[curl.index("--aws-sigv4") + 1] == "aws:amz:eu-west-1:aps", "SigV4 for AMP in the workspace's region"
    assert curl[-1] == "https://aps-workspaces.eu-west-1.amazonaws.com/workspaces/ws-123/alertmanager/api/v2/alerts"
    stdin = (tmp_path / "curl.stdin").read_text()
    assert 'user = "AKIAFAKE:s3cr3t/KEY"' in stdin and "x-amz-security-token: T0KEN" in stdin
    assert not any("s3cr3t" in arg or "T0KEN" in arg for arg in curl), "credentials never in argv (ps shows it)"


@pytest.mark.parametrize(
    ("cloud", "broken", "expected"),
    [
        ("aws", {"amp.code": "403"}, "AMP alert manager (Prometheus rules): unavailable - your AWS identity may not "
         "read it (IAM action aps:ListAlertManagerAlerts)"),
        ("aws", {"amp.code": "404"}, "the workspace has no alert manager: alerts.email / alerts.webhook are unset"),
        ("aws", {"curl": None}, "AMP alert manager (Prometheus rules): unavailable - curl not found on PATH (no CLI)"),
        ("aws", {"aws.fail": "Unable to locate credentials"}, "unavailable - your AWS credentials: aws failed: "
         "Unable to locate credentials"),
        ("aws", {"amp_alerts.json": "<html>Bad gateway</html>", "amp.code": "502"}, "AMP answered HTTP 502"),
        ("aws", {"amp_alerts.json": "<html>"}, "(Prometheus rules): unavailable - AMP's answer is not JSON"),
        ("gcp", {"gcloud": None}, "Cloud Monitoring: unavailable - gcloud not found on PATH (no CLI)"),
        ("gcp", {"gcloud.fail": "ERROR: (gcloud.monitoring.alerts.list) PERMISSION_DENIED"},
         "Cloud Monitoring: unavailable - Cloud Monitoring's open alerts: gcloud failed: ERROR: "
         "(gcloud.monitoring.alerts.list) PERMISSION_DENIED"),
    ],
)  # fmt: skip
def test_an_alert_source_that_cannot_be_read_is_one_line_saying_why(
    tmp_path: Path, cloud: str, broken: dict[str, str | None], expected: str
) -> None:
    path = fake_path(tmp_path)
    for name, content in broken.items():
        if content is None:
            (path / name).unlink()
        else:
            (path / name).write_text(content)
    outputs = AWS_OUTPUTS if cloud == "aws" else OUTPUTS
    lines = alert_lines(Tools({"PATH": str(path)}), cloud, "prod" if cloud == "aws" else "dev", outputs)
    assert any(expected in line for line in lines), lines
    assert all(line.startswith("  ") for line in lines)


def test_an_unhealthy_component_fails_the_status(tmp_path: Path) -> None:
    sick = {**HEALTHY, "scheduler": {"status": "unhealthy", "latest_scheduler_heartbeat": "2026-12-06T11:00:00+00:00"}}
    code, text = run_status(fake_path(tmp_path, health=sick))
    assert code == 1
    assert "not healthy: scheduler" in text


def test_no_pulumi_cli_is_one_clear_line(tmp_path: Path) -> None:
    fake_path(tmp_path)
    (tmp_path / "pulumi").unlink()
    code, text = run_status(tmp_path)
    assert code == 1
    assert "outputs: unavailable - pulumi not found on PATH (no CLI)" in text


@pytest.mark.parametrize(
    ("stderr", "reason"),
    [
        ("Unable to connect to the server: dial tcp 34.1.2.3:443: i/o timeout", "cluster unreachable from here"),
        ("getting credentials: exec: executable gke-gcloud-auth-plugin not found", "no credentials"),
        ("error: You must be logged in to the server (Unauthorized)", "no credentials for the cluster"),
    ],
)
def test_an_unreachable_cluster_says_why_on_each_line(tmp_path: Path, stderr: str, reason: str) -> None:
    (fake_path(tmp_path) / "kubectl.fail").write_text(stderr)
    code, text = run_status(tmp_path)
    assert code == 1
    assert f"health (api/v2/monitor/health): unavailable - the API server Service: {reason}" in text
    assert f"pods not running in airflow: unavailable - the pods: {reason}" in text


def _script_env(path: Path) -> dict[str, str]:
    tools = [
        shutil.which(tool) for tool in ("bash", "make", "dirname", "mktemp", "rm", "grep", "awk", "sed", "head", "env")
    ]
    for tool in tools:
        assert tool, "bash, make and coreutils are needed to run this test"
        link = path / Path(tool).name
        if not link.exists():
            link.symlink_to(tool)
    (path / "python3").symlink_to(os.path.realpath(sys.executable))
    return {"PATH": str(path), "HOME": str(path), "PULUMI_CONFIG_PASSPHRASE": "test"}


def test_make_status_runs_the_status_of_the_stack(tmp_path: Path) -> None:
    env = _script_env(fake_path(tmp_path))
    result = subprocess.run(
        ["make", "--no-print-directory", "status", "STACK=dev"],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    assert "stack dev (gcp), namespace airflow" in result.stdout


@pytest.mark.parametrize(
    ("healthy", "expected"), [(True, "Airflow is healthy."), (False, "Airflow is NOT healthy within 1s")]
)
def test_make_up_ends_with_the_health_check(tmp_path: Path, healthy: bool, expected: str) -> None:
    health = HEALTHY if healthy else {**HEALTHY, "metadatabase": {"status": "unhealthy"}}
    env = _script_env(fake_path(tmp_path, health=health, outputs={"namespace": "airflow"}))
    result = subprocess.run(
        ["bash", "scripts/pulumi.sh", "up", "local"],
        cwd=ROOT,
        env={**env, "HEALTH_WAIT": "1"},
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert expected in result.stdout, result.stdout + result.stderr
    assert (result.returncode == 0) == healthy
