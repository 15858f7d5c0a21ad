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

from monitoring.status import Tools, status

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
    "monitoring": {"alerts": "https://console.cloud.google.com/monitoring/alerting?project=acme"},
}

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
sys.exit(3)
"""


def fake_path(tmp_path: Path, health: dict[str, Any] = HEALTHY, outputs: dict[str, Any] = OUTPUTS) -> Path:
    for tool in ("pulumi", "kubectl"):
        script = tmp_path / tool
        script.write_text(FAKE.format(python=sys.executable))
        script.chmod(0o755)
    for name, data in {
        "health.json": health,
        "pods.json": PODS,
        "nodes.json": NODES,
        "runs.json": RUNS,
        "outputs.json": outputs,
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
    assert "Cloud Monitoring has no CLI for open incidents: https://console.cloud.google.com/" in text
    assert (tmp_path / "kubeconfig.seen").read_text() == OUTPUTS["kubeconfig"], "kubectl uses the stack's kubeconfig"


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
