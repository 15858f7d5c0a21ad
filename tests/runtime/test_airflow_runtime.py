"""The stack's own configuration, run by the pinned Airflow against a real PostgreSQL with TLS.

Each shape (`local`, GKE `dev`) gets a throwaway PostgreSQL, `airflow db migrate`, the
create-user Job's command, and the API server, scheduler, DAG processor and triggerer as
processes, configured from the Secrets and chart values the stack program generates
(stack_airflow.py says what is substituted: the database address, the executor -
LocalExecutor instead of KubernetesExecutor, tasks still reach the API server's execution
API as task pods do - and loopback addresses).
"""

from __future__ import annotations

import contextlib
import datetime
import re
import threading
from collections.abc import Iterator
from pathlib import Path

import pytest
from cryptography.fernet import Fernet, InvalidToken
from runtime.chart_contract import COMPONENT_VALUES_KEYS
from runtime.harness import AIRFLOW_COMPONENTS, Chromium, ConnectionPeak, HarnessError
from runtime.stack_airflow import DagRepository, RunningAirflow, StackAirflow, airflow_commands, rerun_stack

from components.airflow.values import GIT_DAG_BUNDLE_NAME
from components.database_pools import DatabasePools
from components.gcp.settings import RESERVED_CONNECTIONS, cloud_sql_max_connections
from review.runner import ROOT

KUBERNETES_POD_OPERATOR = "KubernetesPodOperator"
DAG_ID = re.compile(r'dag_id="(\w+)"')
BUNDLE_DAG = "platform_tutorial"
FERNET_ENV = "AIRFLOW__CORE__FERNET_KEY"
ROTATION_CONNECTION = "runtime_rotation"
ROTATION_PASSWORD = "s3cret-before-rotation"
ROTATION_VARIABLE = "runtime_rotation_variable"
ROTATION_VARIABLE_VALUE = "kept-across-rotation"
ROTATION_PLAINTEXT = (ROTATION_PASSWORD, ROTATION_VARIABLE_VALUE)


def test_every_component_reports_healthy(running: RunningAirflow) -> None:
    health = running.airflow.health()
    assert {part: status["status"] for part, status in health.items()} == {
        "metadatabase": "healthy",
        "scheduler": "healthy",
        "triggerer": "healthy",
        "dag_processor": "healthy",
    }


def test_the_generated_admin_password_signs_in_and_a_wrong_one_is_refused(running: RunningAirflow) -> None:
    username, password = running.admin
    assert running.airflow.token(username, password).status == 201
    refused = running.airflow.token(username, password + "x")
    assert refused.status == 401, f"a wrong password must be refused: {refused}"


def example_dag_ids() -> list[str]:
    """The DAG ids dags/ declares (`dag_id="..."`): what the DAG processor must have parsed."""
    return sorted(set(DAG_ID.findall("".join(path.read_text() for path in (ROOT / "dags").glob("*.py")))))


def runnable_dags(running: RunningAirflow) -> list[str]:
    """Every DAG in dags/ except those that start pods (they need a cluster; parsing them is checked)."""
    dags = running.api("GET", "/api/v2/dags?limit=100").body["dags"]
    runnable = []
    for dag in dags:
        tasks = running.api("GET", f"/api/v2/dags/{dag['dag_id']}/tasks").body["tasks"]
        if all(task["operator_name"] != KUBERNETES_POD_OPERATOR for task in tasks):
            runnable.append(dag["dag_id"])
    return sorted(runnable)


@pytest.mark.parametrize("running", ["local"], indirect=True)
def test_every_example_dag_runs_to_success_and_its_logs_read_back(running: RunningAirflow) -> None:
    """On `local`, triggered without a logical date, as Airflow 3's UI and REST API allow (such a
    run has no `ds`). The dev shape runs DAGs in the burst and from the git bundle below."""
    for dag_id in example_dag_ids():
        running.wait_for_dag(dag_id)
    dag_ids = runnable_dags(running)
    assert len(dag_ids) >= 4, f"expected the example DAGs that need no cluster, found {dag_ids}"
    runs = {dag_id: running.trigger(dag_id) for dag_id in dag_ids}
    states = {dag_id: running.wait_for_run(dag_id, run_id) for dag_id, run_id in runs.items()}
    assert states == dict.fromkeys(dag_ids, "success")
    for dag_id, run_id in runs.items():
        ran = [ti for ti in running.task_instances(dag_id, run_id) if ti["state"] == "success"]
        assert ran, f"{dag_id}: no task succeeded"
        first = ran[0]
        log = running.task_log(dag_id, run_id, first["task_id"], first["try_number"], first["map_index"])
        assert "Task instance is in running state" in log or first["task_id"] in log, f"{dag_id}: {log[:500]}"


# What the API server logs when components/airflow/api_server_fixes.py took effect.
TOKEN_CHECK_FIX = "token checks run off the event loop"
# Concurrent runs in the burst: the measurement (#19) used eight.
BURST_RUNS = 8
BURST_DAG = "platform_xcom"
# What a component logs when its SQLAlchemy pool ran dry (sqlalchemy/pool/impl.py, QueuePool._do_get):
# the message, or - in the API server's log, whose traceback of a failed request (Airflow 3.3.2's
# structlog rendering) leaves the message out - the line that raised it.
POOL_EXHAUSTED = re.compile(
    r"QueuePool limit of size \d+ overflow \d+ reached|in _do_get\n[ |]*raise exc\.TimeoutError\("
)
# A 5xx in the API server's access log (airflow/api_fastapi/common/http_access_log.py:
# `request finished ... method=POST path=/execution/... status_code=503`).
SERVER_ERROR = re.compile(r"method=\S+ path=\S+ .*status_code=5\d\d")


def connection_budget(stack: StackAirflow) -> int:
    """Connections Airflow may hold on the shape's database: the tier's limit minus the reserved slots."""
    limit = cloud_sql_max_connections(stack.database_tier or "")
    assert limit is not None, f"{stack.shape}: no known connection limit for tier {stack.database_tier!r}"
    return limit - RESERVED_CONNECTIONS


UI_REFRESH_SECONDS = 1.0


class GridWatcher:
    """What the UI's grid view asks while a person watches runs: the DAG's runs and the newest run's
    task instances, every `UI_REFRESH_SECONDS` (Airflow's `[api] auto_refresh_interval` is 3 s; two
    open tabs and a quicker eye make it one)."""

    def __init__(self, running: RunningAirflow, dag_id: str) -> None:
        self.running = running
        self.dag_id = dag_id
        self.requests = 0
        self.failures: list[str] = []
        self._stop = threading.Event()

    def watch(self) -> None:
        while not self._stop.wait(UI_REFRESH_SECONDS):
            try:
                self._refresh()
            except Exception as failure:  # any failure is the test's to report, not the end of the watching
                self.failures.append(f"{type(failure).__name__}: {failure}")

    def _refresh(self) -> None:
        path = f"/api/v2/dags/{self.dag_id}/dagRuns?order_by=-run_after&limit=25"
        runs = self.running.api("GET", path)
        self.requests += 1
        if runs.status != 200:
            raise HarnessError(f"GET {path} answered {runs.status}: {runs.body}")
        for run in runs.body["dag_runs"][:1]:
            self.running.task_instances(self.dag_id, run["dag_run_id"])
            self.requests += 1

    def stop(self) -> None:
        self._stop.set()


@contextlib.contextmanager
def watching_the_grid(running: RunningAirflow, dag_id: str) -> Iterator[GridWatcher]:
    watcher = GridWatcher(running, dag_id)
    thread = threading.Thread(target=watcher.watch, name="grid watcher", daemon=True)
    thread.start()
    try:
        yield watcher
    finally:
        watcher.stop()
        thread.join()


@pytest.mark.parametrize("running", ["dev"], indirect=True)
def test_a_burst_of_dag_runs_never_waits_on_a_pool_and_fits_the_tier(
    running: RunningAirflow, capsys: pytest.CaptureFixture[str]
) -> None:
    """Eight runs at once on the dev shape's pool caps while a person watches them in the UI: no pool
    timeout, no 5xx, every run succeeds, and both what the pools may open together (the stack's
    replicas) and the most connections PostgreSQL saw at once fit db-f1-micro with its reserved
    slots off."""
    budget = connection_budget(running.stack)
    pools = {component: running.stack.pool(component) for component in AIRFLOW_COMPONENTS}
    replicas = {component: running.stack.replicas(component) for component in AIRFLOW_COMPONENTS}
    most = DatabasePools(
        {COMPONENT_VALUES_KEYS[component]: pool for component, pool in pools.items()},
        {COMPONENT_VALUES_KEYS[component]: count for component, count in replicas.items()},
    ).most
    caps = {component: f"{pool.size}+{pool.overflow}" for component, pool in pools.items()}
    assert most <= budget, (
        f"the pools {caps} of {replicas} replicas may open {most} connections, more than the {budget} "
        f"{running.stack.database_tier} leaves Airflow"
    )
    running.wait_for_dag(BURST_DAG)
    with ConnectionPeak(running.postgres) as connections, watching_the_grid(running, BURST_DAG) as watcher:
        runs = [running.trigger(BURST_DAG) for _ in range(BURST_RUNS)]
        states = [running.wait_for_run(BURST_DAG, run_id, timeout=300) for run_id in runs]
    with capsys.disabled():
        print(
            f"\n[runtime] {running.stack.shape}: {BURST_RUNS} concurrent runs of {BURST_DAG}, "
            f"{watcher.requests} UI requests beside them, pools {caps}: peak {connections.peak} connections in "
            f"pg_stat_activity (sync engines {connections.peaks}; {connections.samples} samples), budget {budget} "
            f"({running.stack.database_tier}: {budget + RESERVED_CONNECTIONS} - {RESERVED_CONNECTIONS} reserved; "
            f"the pools may open {most})"
        )
    logs = running.airflow.logs()
    assert TOKEN_CHECK_FIX in logs["api-server"], "the API server must run api_server_fixes.py (webserver_config.py)"
    exhausted = {name: POOL_EXHAUSTED.findall(text) for name, text in logs.items() if POOL_EXHAUSTED.search(text)}
    assert not exhausted, f"a component waited on its connection pool: {exhausted}"
    assert not watcher.failures, f"the UI's requests failed during the burst: {watcher.failures[:3]}"
    errors = SERVER_ERROR.findall(logs.get("api-server", ""))
    assert not errors, f"the API server answered {len(errors)} requests with 5xx: {errors[:5]}"
    assert states == ["success"] * BURST_RUNS
    assert connections.peak <= budget, (
        f"peak {connections.peak} connections > {budget} that {running.stack.database_tier} leaves Airflow"
    )


@pytest.mark.parametrize("running", ["local"], indirect=True)
def test_stored_secrets_survive_the_readme_fernet_rotation(running: RunningAirflow) -> None:
    """README "Rotate the Fernet key", step by step, with the keys the stack generates at each step.

    It leaves the database under the new key while the deployment's processes keep the old one
    (rolling them would cost a restart of all four): conftest runs it after the other tests that
    read encrypted values from the local deployment.

    The runbook's `kubectl exec deploy/<release>-scheduler -- airflow ...` commands run as
    processes with the env the rolled pods get from the rotated Secret; what is stored is
    read from the database and decrypted with each key.
    """
    secret_name = running.stack.values["fernetKeySecretName"]
    connection = {"connection_id": ROTATION_CONNECTION, "conn_type": "postgres", "password": ROTATION_PASSWORD}
    assert running.api("POST", "/api/v2/connections", connection).status == 201
    variable = {"key": ROTATION_VARIABLE, "value": ROTATION_VARIABLE_VALUE}
    assert running.api("POST", "/api/v2/variables", variable).status == 201
    stored = stored_secrets(running)
    old_key = running.stack.fernet_key_output
    assert decrypted(stored, old_key) == ROTATION_PLAINTEXT, "stored encrypted with the stack's key"

    # 1-2: keep the current key (`pulumi stack output fernetKey`), bump the generation.
    rotating = rerun_stack(running.stack.shape, fernetKeyGeneration=2, fernetPreviousKeys=old_key)
    new_key = rotating.fernet_key_output
    assert new_key != old_key, "a new generation must give a new Fernet key"
    # 3: the pods roll with the Secret's new data: new key first, old one kept.
    both = rotating.secrets[secret_name]["fernet-key"]
    assert both == f"{new_key},{old_key}"
    # 4: re-encrypt everything with the new key, and the runbook's check (one process, the CLI's code).
    listed = airflow_commands(
        running.airflow,
        ("rotate-fernet-key",),
        ("connections", "list"),
        extra_env={FERNET_ENV: both},
        log_name="fernet-rotation",
    )
    assert ROTATION_CONNECTION in listed and "InvalidToken" not in listed
    # 5: drop the old key: the Secret holds the new one alone, and it reads everything.
    rotated = rerun_stack(running.stack.shape, fernetKeyGeneration=2)
    assert rotated.secrets[secret_name]["fernet-key"] == new_key
    rotated_values = stored_secrets(running)
    assert decrypted(rotated_values, new_key) == ROTATION_PLAINTEXT
    with pytest.raises(InvalidToken):
        decrypted(rotated_values, old_key)


def stored_secrets(running: RunningAirflow) -> tuple[str, str]:
    """The rotation test's connection password and variable value as stored (Fernet tokens)."""
    password = running.postgres.psql(
        f"SELECT password FROM connection WHERE conn_id = '{ROTATION_CONNECTION}' AND is_encrypted",
        database=running.database,
    )
    value = running.postgres.psql(
        f"SELECT val FROM variable WHERE key = '{ROTATION_VARIABLE}' AND is_encrypted", database=running.database
    )
    assert password and value, "the connection's password and the variable must be stored encrypted"
    return password, value


def decrypted(tokens: tuple[str, ...], key: str) -> tuple[str, ...]:
    return tuple(Fernet(key.encode()).decrypt(token.encode()).decode() for token in tokens)


@pytest.mark.parametrize("running", ["local"], indirect=True)
def test_chromium_signs_in_with_the_generated_password_and_sees_the_dag_list(
    running: RunningAirflow, chromium: Chromium, artefacts: Path
) -> None:
    username, password = running.admin
    running.wait_for_dag("platform_tutorial")
    with chromium.page() as page:
        page.goto(running.airflow.base_url + "/", wait_until="domcontentloaded")
        page.fill("input[name=username]", username)
        page.fill("input[name=password]", password)
        page.click("input[type=submit], button[type=submit]")
        page.goto(running.airflow.base_url + "/dags", wait_until="domcontentloaded")
        try:
            page.get_by_text("platform_tutorial").first.wait_for(timeout=30_000)
        finally:
            page.screenshot(path=str(artefacts / f"dag-list-{running.stack.shape}.png"), full_page=True)


@pytest.mark.parametrize("running", ["dev"], indirect=True)
def test_the_git_dag_bundle_serves_the_repository_and_a_dag_from_it_runs(
    running: RunningAirflow, dag_repository: DagRepository
) -> None:
    """`dags.source: bundle` as the stack configures Airflow 3's GitDagBundle, pulling a local
    repository that stands in for the git host (the dev shape runs with it: conftest.RUNTIME_CONFIG)."""
    dag = running.wait_for_dag(BUNDLE_DAG)
    assert dag["bundle_name"] == GIT_DAG_BUNDLE_NAME
    run_id = running.trigger(BUNDLE_DAG, logical_date=datetime.datetime.now(datetime.UTC))
    assert running.wait_for_run(BUNDLE_DAG, run_id) == "success"
    run = running.api("GET", f"/api/v2/dags/{BUNDLE_DAG}/dagRuns/{run_id}").body
    assert run["bundle_version"] == dag_repository.commit, "the run must use the commit the bundle pulled"
