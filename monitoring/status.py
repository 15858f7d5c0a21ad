"""`make status STACK=<stack>`: is Airflow healthy, without opening the UI.

Reads the stack's outputs (`pulumi stack output`) and talks to the cluster
with its kubeconfig (`kubectl`): Airflow's health endpoint through the
Kubernetes API's service proxy (no port-forward, no UI allowlist), the
component heartbeats it reports, pods not running, the worker pool's nodes,
the last DAG runs (read in the scheduler pod), and the active alerts: on GKE
Cloud Monitoring's open alerts (`gcloud monitoring alerts list`), on EKS the
CloudWatch alarms in ALARM and the AMP alert manager's active alerts (its
Prometheus-compatible API, SigV4-signed by curl with the AWS CLI's
credentials). Every piece that cannot be read is one line
saying why. `--wait SECONDS` polls the health endpoint until every
component is healthy (`make up` ends with it) and fails plainly if not.
"""

from __future__ import annotations

import argparse
import datetime
import json
import os
import re
import shutil
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

from components.aws.nodes import POOL_LABEL, WORKER_POOL

ROOT = Path(__file__).resolve().parent.parent
HEALTH_PATH = "api/v2/monitor/health"
# The chart's API server Service (port 8080) and scheduler Deployment, found by their labels.
API_SERVER_SELECTOR = "tier=airflow,component=api-server"
API_SERVER_PORT = 8080
HEALTH_COMPONENTS = {
    "metadatabase": None,
    "scheduler": "latest_scheduler_heartbeat",
    "triggerer": "latest_triggerer_heartbeat",
    "dag_processor": "latest_dag_processor_heartbeat",
}
LAST_RUNS = 10
# Run in the scheduler container, which holds the metadata database connection.
LAST_RUNS_SCRIPT = f"""
import json
from sqlalchemy import select
from airflow.models.dagrun import DagRun
from airflow.utils.session import create_session
with create_session() as session:
    runs = session.scalars(select(DagRun).order_by(DagRun.start_date.desc().nullslast()).limit({LAST_RUNS})).all()
    print(json.dumps([{{"dag_id": r.dag_id, "run_id": r.run_id, "state": str(r.state),
                        "start_date": r.start_date.isoformat() if r.start_date else None}} for r in runs]))
"""
# kubectl's stderr, mapped to what the person should know.
_KUBECTL_REASONS = (
    (
        ("executable gke-gcloud-auth-plugin not found", "executable aws not found"),
        "no credentials: the cloud CLI that issues cluster tokens is missing (gke-gcloud-auth-plugin / aws)",
    ),
    (
        ("getting credentials", "Unauthorized", "You must be logged in", "credentials"),
        "no credentials for the cluster (gcloud auth application-default login / aws sso login)",
    ),
    (
        ("Unable to connect to the server", "i/o timeout", "connection refused", "no such host"),
        "cluster unreachable from here (is this address in gcp.masterAuthorizedNetworks / aws.publicAccessCidrs?)",
    ),
    (("Forbidden", "forbidden"), "your identity may not read this (its Kubernetes role)"),
)


class UnavailableError(Exception):
    """A piece of the status that cannot be read, with the reason a person can act on."""


@dataclass
class Tools:
    """How the status reads the world: the commands it runs (replaced by fakes on PATH in tests)."""

    env: Mapping[str, str]

    def run(self, command: Sequence[str], what: str, timeout: int = 60, stdin: str | None = None) -> str:
        """The command's output; `stdin` is how a credential reaches it (never its arguments, which `ps` shows)."""
        if shutil.which(command[0], path=self.env.get("PATH")) is None:
            raise UnavailableError(f"{command[0]} not found on PATH (no CLI): install it to read {what}")
        try:
            result = subprocess.run(
                list(command),
                input=stdin,
                capture_output=True,
                text=True,
                timeout=timeout,
                env=dict(self.env),
                check=False,
            )
        except subprocess.TimeoutExpired:
            raise UnavailableError(f"{command[0]} did not answer within {timeout}s reading {what}") from None
        if result.returncode != 0:
            raise UnavailableError(f"{what}: {_reason(command[0], result.stderr)}")
        return result.stdout


def _reason(tool: str, stderr: str) -> str:
    if tool == "kubectl":
        for needles, reason in _KUBECTL_REASONS:
            if any(needle in stderr for needle in needles):
                return reason
    first = next((line.strip() for line in stderr.splitlines() if line.strip()), "no message")
    return f"{tool} failed: {first}"


def stack_cloud(stack: str) -> str | None:
    path = ROOT / f"Pulumi.{stack}.yaml"
    if not path.exists():
        return None
    config = (yaml.safe_load(path.read_text()) or {}).get("config") or {}
    return config.get("airflow-platform:cloud")


@dataclass
class Cluster:
    tools: Tools
    namespace: str

    def kubectl(self, *args: str, what: str) -> str:
        return self.tools.run(["kubectl", *args], what)

    def api_server_service(self) -> str:
        names = self.kubectl(
            "-n", self.namespace, "get", "services", "-l", API_SERVER_SELECTOR,
            "-o", "jsonpath={.items[*].metadata.name}", what="the API server Service",
        ).split()  # fmt: skip
        if not names:
            raise UnavailableError(
                f"no Airflow API server Service in namespace {self.namespace} (is Airflow installed?)"
            )
        return names[0]

    def health(self, service: str) -> dict[str, Any]:
        path = f"/api/v1/namespaces/{self.namespace}/services/{service}:{API_SERVER_PORT}/proxy/{HEALTH_PATH}"
        text = self.kubectl("get", "--raw", path, what="Airflow's health endpoint")
        try:
            return dict(json.loads(text))
        except (json.JSONDecodeError, TypeError, ValueError):
            raise UnavailableError(
                f"Airflow's health endpoint answered something else than JSON: {text[:80]!r}"
            ) from None


def health_lines(health: Mapping[str, Any], now: datetime.datetime) -> tuple[list[str], list[str]]:
    """One line per component, and the components that are not healthy."""
    lines, unhealthy = [], []
    for component, heartbeat_key in HEALTH_COMPONENTS.items():
        state = health.get(component) or {}
        status = str(state.get("status") or "unknown")
        line = f"  {component}: {status}"
        heartbeat = state.get(heartbeat_key) if heartbeat_key else None
        if heartbeat:
            beat = datetime.datetime.fromisoformat(str(heartbeat).replace("Z", "+00:00"))
            line += f", last heartbeat {int((now - beat).total_seconds())}s ago"
        elif heartbeat_key:
            line += ", no heartbeat yet"
        lines.append(line)
        if status != "healthy":
            unhealthy.append(component)
    return lines, unhealthy


def pod_lines(pods: Mapping[str, Any]) -> list[str]:
    """Pods that are neither running with every container ready nor completed."""
    lines = []
    for pod in pods.get("items", []):
        phase = pod.get("status", {}).get("phase", "Unknown")
        statuses = pod.get("status", {}).get("containerStatuses") or []
        waiting = [s["state"]["waiting"].get("reason", "Waiting") for s in statuses if "waiting" in s.get("state", {})]
        ready = all(s.get("ready") for s in statuses)
        if phase == "Succeeded" or (phase == "Running" and ready):
            continue
        reason = (
            ", ".join(waiting) or pod.get("status", {}).get("reason") or ("not ready" if phase == "Running" else "")
        )
        lines.append(f"  {pod['metadata']['name']}: {phase}" + (f" ({reason})" if reason else ""))
    return lines


def node_lines(nodes: Mapping[str, Any]) -> list[str]:
    items = nodes.get("items", [])
    if not items:
        return ["  none (the pool scales to zero when no task runs; a queued task starts one in a few minutes)"]
    lines = []
    for node in items:
        conditions = {c["type"]: c["status"] for c in node.get("status", {}).get("conditions", [])}
        lines.append(f"  {node['metadata']['name']}: {'Ready' if conditions.get('Ready') == 'True' else 'NotReady'}")
    return lines


def run_lines(runs: Sequence[Mapping[str, Any]]) -> list[str]:
    if not runs:
        return ["  no DAG run yet"]
    return [f"  {run['dag_id']} {run['run_id']}: {run['state']}" for run in runs]


# Cloud Monitoring's open alerts; the stack's policies are named "<alert> (<stack>)" (components/gcp/monitoring.py).
# Permission monitoring.alerts.list (roles/monitoring.viewer).
GCP_OPEN_ALERTS = ("monitoring", "alerts", "list", "--filter=state=OPEN", "--format=json")
# AMP's alert manager API (AMP user guide, "ListAlertManagerAlerts"): IAM action aps:ListAlertManagerAlerts,
# which ReadOnlyAccess grants through aps:List*.
AMP_ALERTS_PATH = "alertmanager/api/v2/alerts"
_AMP_ENDPOINT = re.compile(r"^https://aps-workspaces\.(?P<region>[a-z0-9-]+)\.amazonaws\.com/workspaces/[^/]+/?$")


def alert_lines(tools: Tools, cloud: str | None, stack: str, outputs: Mapping[str, Any]) -> list[str]:
    """The alerts firing now, one line each; a source that cannot be read is one line saying why."""
    monitoring = outputs.get("monitoring") or {}
    if cloud == "aws":
        prefix = str(outputs.get("clusterName", ""))
        return [
            *_source("CloudWatch alarms (database)", lambda: cloudwatch_alarm_lines(tools, prefix)),
            *_source("AMP alert manager (Prometheus rules)", lambda: amp_alert_lines(tools, monitoring)),
        ]
    if cloud == "gcp":
        return _source("Cloud Monitoring", lambda: cloud_monitoring_alert_lines(tools, stack, monitoring))
    return ["  none evaluated on a local cluster (no managed Prometheus; README, 'Operations')"]


def _source(name: str, read: Callable[[], list[str]]) -> list[str]:
    try:
        lines = read()
    except UnavailableError as reason:
        return [f"  {name}: unavailable - {reason}"]
    return [f"  {name}:", *lines] if lines else [f"  {name}: no alert firing"]


def _json(text: str, what: str) -> Any:
    try:
        return json.loads(text)
    except json.JSONDecodeError:
        raise UnavailableError(f"{what} is not JSON: {text.strip()[:80]!r}") from None


def cloudwatch_alarm_lines(tools: Tools, prefix: str) -> list[str]:
    text = tools.run(
        ["aws", "cloudwatch", "describe-alarms", "--state-value", "ALARM", "--output", "json"], "CloudWatch alarms"
    )
    alarms = _json(text, "CloudWatch's answer").get("MetricAlarms", [])
    return [f"    in ALARM: {a['AlarmName']}" for a in alarms if a["AlarmName"].startswith(prefix)]


def amp_alert_lines(tools: Tools, monitoring: Mapping[str, Any]) -> list[str]:
    endpoint = str(monitoring.get("prometheusEndpoint", ""))
    match = _AMP_ENDPOINT.match(endpoint)
    if match is None:
        raise UnavailableError(
            "the stack's outputs name no AMP workspace endpoint (monitoring.prometheusEndpoint; `make up` adds it)"
        )
    # The AWS CLI resolves the person's credentials (profile, SSO, environment) as for any `aws`
    # command; curl signs the request with them (--aws-sigv4, curl 7.75+) and reads them from stdin.
    credentials = _json(
        tools.run(["aws", "configure", "export-credentials", "--format", "process"], "your AWS credentials"),
        "`aws configure export-credentials`",
    )
    if not credentials.get("AccessKeyId") or not credentials.get("SecretAccessKey"):
        raise UnavailableError("`aws configure export-credentials` printed no access key (AWS CLI v2 needed)")
    config = f'user = "{credentials["AccessKeyId"]}:{credentials["SecretAccessKey"]}"\n'
    if credentials.get("SessionToken"):
        config += f'header = "x-amz-security-token: {credentials["SessionToken"]}"\n'
    answer = tools.run(
        ["curl", "--silent", "--show-error", "--config", "-", "--aws-sigv4", f"aws:amz:{match.group('region')}:aps",
         "--write-out", "\n%{http_code}", f"{endpoint.rstrip('/')}/{AMP_ALERTS_PATH}"],
        "AMP's alert manager",
        stdin=config,
    )  # fmt: skip
    body, _, status = answer.rpartition("\n")
    if status == "403":
        raise UnavailableError("your AWS identity may not read it (IAM action aps:ListAlertManagerAlerts)")
    if status == "404":
        raise UnavailableError("the workspace has no alert manager: alerts.email / alerts.webhook are unset")
    if status != "200":
        raise UnavailableError(f"AMP answered HTTP {status}: {body.strip()[:120]}")
    return [
        f"    firing: {alert['labels'].get('alertname')} ({alert['labels'].get('severity', 'no severity')}) "
        f"since {alert.get('startsAt', '?')}: {(alert.get('annotations') or {}).get('summary', '')}"
        for alert in _json(body, "AMP's answer")
        if (alert.get("status") or {}).get("state") == "active"
    ]


def cloud_monitoring_alert_lines(tools: Tools, stack: str, monitoring: Mapping[str, Any]) -> list[str]:
    project = monitoring.get("project")
    if not project:
        raise UnavailableError("the stack's outputs name no project (monitoring.project; `make up` adds it)")
    text = tools.run(["gcloud", *GCP_OPEN_ALERTS, f"--project={project}"], "Cloud Monitoring's open alerts")
    suffix = f" ({stack})"
    return [
        f"    open: {policy.removesuffix(suffix)} since {alert.get('openTime', '?')}"
        for alert in _json(text or "[]", "gcloud's answer")
        if (policy := str((alert.get("policy") or {}).get("displayName", ""))).endswith(suffix)
    ]


def section(title: str, read: Callable[[], list[str]]) -> list[str]:
    try:
        return [f"{title}:", *read()]
    except UnavailableError as reason:
        return [f"{title}: unavailable - {reason}"]


def status(stack: str, tools: Tools, wait: int, health_only: bool, out: Callable[[str], None]) -> int:
    """Print the status; 0 when Airflow is healthy, 1 otherwise."""
    cloud = stack_cloud(stack)
    try:
        outputs = json.loads(
            tools.run(
                ["pulumi", "stack", "output", "--json", "--show-secrets", "--stack", stack], "the stack's outputs"
            )
        )
    except UnavailableError as reason:
        out(f"outputs: unavailable - {reason}")
        out(f"Airflow's health is unknown: no outputs, so no cluster to ask (has `make up STACK={stack}` run?)")
        return 1
    namespace = str(outputs.get("namespace", "airflow"))
    env = dict(tools.env)
    with tempfile.TemporaryDirectory() as scratch:
        if "kubeconfig" in outputs:
            kubeconfig = Path(scratch) / "kubeconfig"
            kubeconfig.write_text(str(outputs["kubeconfig"]))
            env["KUBECONFIG"] = str(kubeconfig)
        cluster = Cluster(Tools(env), namespace)
        out(f"stack {stack} ({cloud or 'unknown cloud'}), namespace {namespace}, {outputs.get('airflowUrl', 'no URL')}")
        healthy = _health(cluster, wait, out)
        if not health_only:
            for title, read in (
                (f"pods not running in {namespace}", lambda: pod_lines(json.loads(cluster.kubectl(
                    "-n", namespace, "get", "pods", "-o", "json", what="the pods"))) or ["  none"]),
                (f"worker pool nodes ({POOL_LABEL}={WORKER_POOL})", lambda: node_lines(json.loads(cluster.kubectl(
                    "get", "nodes", "-l", f"{POOL_LABEL}={WORKER_POOL}", "-o", "json", what="the nodes")))),
                (f"last {LAST_RUNS} DAG runs", lambda: run_lines(json.loads(_last_runs(cluster)))),
                ("active alerts", lambda: alert_lines(Tools(env), cloud, stack, outputs)),
            ):  # fmt: skip
                for line in section(title, read):
                    out(line)
    return 0 if healthy else 1


def _last_runs(cluster: Cluster) -> str:
    release = cluster.api_server_service().removesuffix("-api-server")
    return cluster.kubectl(
        "-n", cluster.namespace, "exec", f"deploy/{release}-scheduler", "-c", "scheduler", "--",
        "python", "-c", LAST_RUNS_SCRIPT, what="the last DAG runs",
    )  # fmt: skip


def _health(cluster: Cluster, wait: int, out: Callable[[str], None]) -> bool:
    deadline = time.monotonic() + wait
    while True:
        try:
            health = cluster.health(cluster.api_server_service())
            lines, unhealthy = health_lines(health, datetime.datetime.now(datetime.UTC))
            problem = f"not healthy: {', '.join(unhealthy)}" if unhealthy else ""
        except UnavailableError as reason:
            lines, problem = [], f"unavailable - {reason}"
        if not problem or time.monotonic() >= deadline:
            break
        time.sleep(min(10, max(1, wait // 10)))
    out(f"health ({HEALTH_PATH}): {problem or 'healthy'}")
    for line in lines:
        out(line)
    if wait and problem:
        out(f"Airflow is NOT healthy within {wait}s: {problem}. `make status` lists the pods that are not running.")
    elif wait:
        out("Airflow is healthy.")
    return not problem


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m monitoring.status", description=__doc__.splitlines()[0])
    parser.add_argument("--stack", required=True)
    parser.add_argument("--wait", type=int, default=0, help="poll the health endpoint up to this many seconds")
    parser.add_argument("--health-only", action="store_true", help="only the health check (what `make up` ends with)")
    args = parser.parse_args(argv)
    return status(args.stack, Tools(os.environ), args.wait, args.health_only, print)


if __name__ == "__main__":
    sys.exit(main())
