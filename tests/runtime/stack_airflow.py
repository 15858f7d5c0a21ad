"""A stack's Airflow, run for real: the mock runner's recorded Secrets and chart values -> running processes.

Everything comes from what the stack program generates (the keys, the metadata URLs
with their TLS options, the `config:` and `env` of the chart values, the admin user
and the create-user Job's command); the chart's contract turns it into env and
airflow.cfg (chart_contract.py). Substituted, and nothing else:
- the database host and port (the throwaway server; user, password, database name
  and TLS options stay as generated);
- the executor: LocalExecutor stands in for KubernetesExecutor. Tasks still run
  through the API server's execution API, as KubernetesExecutor pods do;
- addresses: the DAG folder (a copy of dags/), the API server's URL
  (`[api] base_url`, `[core] execution_api_server_url`) on a loopback port;
- what needs the cloud or the cluster: remote logging (GCS / S3) and StatsD are off;
- two settings tuned for a test that the stack leaves at Airflow's defaults
  (`runtime_config`): the DAG processor parses each file once, and the LocalExecutor
  forks as many workers as the burst runs tasks at once.

What costs the suite CPU is Airflow's imports - seconds in every process - so the
Jobs' commands share processes where they run the same code (`airflow_commands`), and
each PostgreSQL cluster is seeded once and kept (`cached_postgres`, `cluster_cache`).
"""

from __future__ import annotations

import contextlib
import copy
import dataclasses
import datetime
import hashlib
import json
import os
import shutil
import threading
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import quote, unquote, urlsplit

from runtime import chart_contract
from runtime.harness import (
    AIRFLOW_COMPONENTS,
    LOOPBACK,
    Airflow,
    HarnessError,
    PostgresServer,
    Response,
    cached_postgres,
    point_at,
    postgres_bindir,
    stop_together,
    tail,
    temporary_directory,
)
from stack_checks import STACK_SHAPES

from components.airflow.secrets import KNOWN_HOSTS_KEY
from components.airflow.values import GIT_CONNECTION_ENV
from components.config import SECRET_KEYS
from components.database_pools import AIRFLOW_DEFAULT_POOL, MAX_OVERFLOW_ENV, POOL_SIZE_ENV, Pool
from review.runner import ROOT, Run, run_main

SECRET_TYPE = "kubernetes:core/v1:Secret"
RELEASE_TYPE = "kubernetes:helm.sh/v3:Release"
CLOUD_SQL_TYPE = "gcp:sql/databaseInstance:DatabaseInstance"
DAGS_VENV = ROOT / ".venv-dags"
# The database every deployment copies (migrate_template) and the role owning it.
MIGRATED_TEMPLATE = "airflow_migrated"
TEMPLATE_OWNER = "airflow_template_owner"
PREVIOUS_VENV = ROOT / ".venv-airflow-previous"
# Seeded PostgreSQL clusters kept between runs (cached_postgres); `make clean` removes them.
CLUSTER_CACHE = ROOT / ".test-artefacts" / "runtime-postgres"
# What a seeded cluster depends on besides the generated configuration: both Airflow versions
# and the code that seeds it.
CLUSTER_CACHE_INPUTS = (
    ROOT / "requirements-dags.txt",
    ROOT / "requirements-airflow-previous.txt",
    *(ROOT / "tests" / "runtime" / name for name in ("harness.py", "stack_airflow.py", "chart_contract.py")),
)
# [core] parallelism of the LocalExecutor standing in for KubernetesExecutor (whose pods it
# caps): the burst's eight runs have at most two tasks each ready at once (tests: BURST_RUNS).
# It forks this many workers at start; Airflow's default, 32, idled at ~0.8 GB.
EXECUTOR_PARALLELISM = 16
# What the previous Airflow writes before the upgrade (seed_previous_airflow, test_upgrade).
UPGRADE_CONNECTION = "runtime_upgrade"
UPGRADE_PASSWORD = "written-by-the-previous-airflow"
UPGRADE_CONNECTION_URI = f"postgres://reader:{UPGRADE_PASSWORD}@warehouse.internal:5432/sales"
UPGRADE_VARIABLE = "runtime_upgrade_variable"
UPGRADE_VARIABLE_VALUE = "still-readable-after-the-upgrade"
METADATA_URL_ENVS = (
    "AIRFLOW__DATABASE__SQL_ALCHEMY_CONN",
    "AIRFLOW_CONN_AIRFLOW_DB",
    "AIRFLOW__DATABASE__SQL_ALCHEMY_CONN_ASYNC",
)


@dataclass(frozen=True)
class StackAirflow:
    """What one stack hands the chart: its Secrets' data by name and the release values."""

    shape: str
    values: dict[str, Any]
    secrets: dict[str, dict[str, str]]
    # `pulumi stack output fernetKey`: what the README's rotation runbook reads.
    fernet_key_output: str
    # The Cloud SQL tier (GCP shapes), whose connection limit the pools must fit.
    database_tier: str | None = None

    @classmethod
    def from_run(cls, shape: str, run: Run) -> StackAirflow:
        secrets = {
            resource.inputs["metadata"]["name"]: dict(resource.inputs.get("stringData") or {})
            for resource in run.of_type(SECRET_TYPE)
        }
        instances = run.of_type(CLOUD_SQL_TYPE)
        return cls(
            shape=shape,
            values=run.one(RELEASE_TYPE).inputs["values"],
            secrets=secrets,
            fernet_key_output=str(run.exports["fernetKey"].value),
            database_tier=instances[0].inputs["settings"]["tier"] if instances else None,
        )

    def replace(self, **environment: str) -> StackAirflow:
        """A copy whose chart values put `environment` into every container's env (a changed generated value)."""
        values = copy.deepcopy(self.values)
        values["env"] = [entry for entry in values.get("env") or [] if entry["name"] not in environment]
        values["env"] += [{"name": name, "value": value} for name, value in environment.items()]
        return dataclasses.replace(self, values=values)

    def with_secret(self, secret_name: str, key: str, value: str) -> StackAirflow:
        """A copy with one generated Secret value replaced (what a broken generator would produce)."""
        secrets = {name: dict(data) for name, data in self.secrets.items()}
        secrets[secret_name][key] = value
        return dataclasses.replace(self, secrets=secrets)

    @property
    def environment(self) -> dict[str, str]:
        return chart_contract.airflow_environment(self.values, self.secrets)

    @property
    def metadata_url(self) -> str:
        return self.environment["AIRFLOW__DATABASE__SQL_ALCHEMY_CONN"]

    @property
    def admin(self) -> tuple[str, str]:
        """(username, password) as the create-user Job passes them."""
        args, environment = chart_contract.create_user_command(self.values, self.secrets)
        username = args[args.index("--username") + 1]
        return username, next(iter(environment.values()))

    def replicas(self, component: str) -> int:
        """How many of `component` the chart runs (`<component>.replicas`, the chart's default 1)."""
        return int(self.values.get(chart_contract.COMPONENT_VALUES_KEYS[component], {}).get("replicas", 1))

    def pool(self, component: str) -> Pool:
        """The SQLAlchemy pool `component` runs with ([database] sql_alchemy_pool_size, max_overflow):
        its own env over every container's, Airflow's default where neither sets it."""
        environment = {**self.environment, **chart_contract.component_environment(self.values, self.secrets, component)}
        return Pool(
            int(environment.get(POOL_SIZE_ENV, AIRFLOW_DEFAULT_POOL.size)),
            int(environment.get(MAX_OVERFLOW_ENV, AIRFLOW_DEFAULT_POOL.overflow)),
        )


def rerun_stack(shape: str, fernetKeyGeneration: int = 1, fernetPreviousKeys: str | None = None) -> StackAirflow:  # noqa: N803 - the config keys
    """The shape's stack run again under mocks with the Fernet rotation settings a user would set."""
    config: dict[str, Any] = copy.deepcopy(STACK_SHAPES[shape])
    config.setdefault("airflow", {})["fernetKeyGeneration"] = fernetKeyGeneration
    if fernetPreviousKeys is not None:
        config["fernetPreviousKeys"] = fernetPreviousKeys
    return StackAirflow.from_run(shape, run_main(config, shape, secret_keys=SECRET_KEYS))


@dataclass(frozen=True)
class DagRepository:
    """A git repository the GitDagBundle pulls (`dags.source: bundle`) and its head commit."""

    url: str
    commit: str


@dataclass
class RunningAirflow:
    stack: StackAirflow
    postgres: PostgresServer
    airflow: Airflow
    dags_folder: Path
    admin: tuple[str, str] = field(default=("", ""))
    # The metadata schema's Alembic revision before this deployment's `airflow db migrate`
    # (None: a new database); an upgrade's proof that it migrated an older Airflow's data.
    revision_before_migrate: str | None = None
    # Whose sign-in settings the API server runs (`serve_api`): the stack's, or a test's variant.
    api_server_stack: StackAirflow | None = field(default=None, repr=False)
    _token: str | None = field(default=None, repr=False)

    @property
    def database(self) -> str:
        """The metadata database's name (as the generated URL names it)."""
        return urlsplit(self.stack.metadata_url).path.lstrip("/")

    def token(self) -> str:
        """The admin's API token, asked for once: each sign-in hashes the password (FAB's
        scrypt/pbkdf2), seconds of CPU on a busy machine, and the tokens last a day."""
        if self._token is None:
            answer = self.airflow.token(*self.admin)
            assert answer.status in (200, 201), f"POST /auth/token with the generated admin password: {answer}"
            self._token = str(answer.body["access_token"])
        return self._token

    def api(self, method: str, path: str, body: Any = None, timeout: float = 60) -> Response:
        """A REST call as the admin; a HarnessError naming the call on any 5xx."""
        answer = self.airflow.request(method, path, body, token=self.token(), timeout=timeout)
        if answer.status >= 500:
            raise HarnessError(
                f"{method} {path} answered {answer.status}: {answer.body}\n"
                f"api-server log:\n{tail(self.airflow.log_file('api-server'))}"
            )
        return answer

    def serve_api(self, stack: StackAirflow, wait: bool = True) -> None:
        """Run the API server as `stack`'s chart would (its `apiServer.apiServerConfig` and `apiServer.env`),
        restarting it only when that differs from what it runs now (a rolled pod); `wait`: until it answers."""
        if self.api_server_stack is not None and _api_server_settings(stack) == _api_server_settings(
            self.api_server_stack
        ):
            return
        airflow = self.airflow
        airflow.stop(API_SERVER)
        config_file = airflow.home / API_SERVER_CONFIG_FILE
        config_file.unlink(missing_ok=True)
        config, environment = _api_server_settings(stack)
        if config is not None:
            config_file.write_text(config)
        self.api_server_stack = stack
        self._token = None
        airflow.start(API_SERVER, extra_env=environment)
        if wait:
            airflow.wait_until("the API server answers", lambda: airflow.health(), timeout=120)

    def restore_api_server(self) -> None:
        """The API server with the deployment's own stack again (after a test ran it with another)."""
        self.serve_api(self.stack)

    @contextlib.contextmanager
    def rolled_api_servers(self, stacks: Mapping[str, tuple[StackAirflow, int]]) -> Iterator[dict[str, Airflow]]:
        """API servers with each of `stacks`' sign-in settings at once, on this deployment's database,
        each on its port and in its own AIRFLOW_HOME (airflow.cfg copied, its webserver_config.py, its
        log), as pods rolled with those settings, beside the deployment's own API server (stopping it
        would cost its start again, ~6 CPU-s, for the tests after). All but the first start side by
        side (a start is ~6 CPU-s in one thread)."""
        shared = {
            name: value
            for name, value in self.airflow.environment.items()
            if name not in ("HOME", "AIRFLOW_HOME", "PATH")
        }
        rolled: dict[str, Airflow] = {}
        try:
            for name, (stack, port) in stacks.items():
                home = self.airflow.home.parent / f"{API_SERVER}-{name}"
                home.mkdir(exist_ok=True)
                config, environment = _api_server_settings(stack)
                rolled[name] = Airflow(self.airflow.venv, home, {**shared, **environment}, {}, port)
                shutil.copyfile(self.airflow.home / "airflow.cfg", home / "airflow.cfg")
                if config is not None:
                    (home / API_SERVER_CONFIG_FILE).write_text(config)
            # The first starts alone: an API server's start writes the permissions its sign-in views
            # need (FAB's role sync), and two writing new ones at once collide on a unique key - the
            # loser exits 1 (`ab_permission_view_role_permission_view_id_role_id_uq`), as a second
            # replica would, once, on a cluster. The others then find them there.
            first, *others = rolled.values()
            for starting in ([first], others):
                for airflow in starting:
                    airflow.start(API_SERVER)
                for airflow in starting:
                    airflow.wait_until("the API server answers", lambda airflow=airflow: airflow.health(), timeout=180)
            yield rolled
        finally:
            stop_together(rolled.values())

    def wait_for_dag(self, dag_id: str, timeout: float = 90) -> dict[str, Any]:
        """The DAG as the API lists it, once the DAG processor has parsed it."""
        return self.airflow.wait_until(
            f"DAG {dag_id} parsed",
            lambda: (answer := self.api("GET", f"/api/v2/dags/{dag_id}")).status == 200 and answer.body,
            timeout,
            component="dag-processor",
        )

    def trigger(self, dag_id: str, logical_date: datetime.datetime | None = None) -> str:
        """Trigger `dag_id` through the REST API, as the UI's trigger form does; the new run's id.

        Without a logical date by default, as the UI and the API allow in Airflow 3 (the
        run has no `ds`, only `run_after`); with one when `logical_date` is given.
        """
        self.wait_for_dag(dag_id)
        self.api("PATCH", f"/api/v2/dags/{dag_id}", {"is_paused": False})
        body = {"logical_date": logical_date.isoformat() if logical_date else None}
        answer = self.api("POST", f"/api/v2/dags/{dag_id}/dagRuns", body)
        assert answer.status == 200, f"trigger {dag_id}: {answer}"
        return str(answer.body["dag_run_id"])

    def wait_for_run(self, dag_id: str, run_id: str, timeout: float = 180) -> str:
        """The run's final state, read through `/wait`: an endpoint served by Airflow's async
        metadata session (DagRunWaiter, `create_session_async`), so the async URL is exercised."""
        answer = self.api(
            "GET", f"/api/v2/dags/{dag_id}/dagRuns/{quote(run_id, safe='')}/wait?interval=1", timeout=timeout
        )
        assert answer.status == 200, f"wait for {dag_id} {run_id}: {answer}"
        lines = answer.body.strip().splitlines() if isinstance(answer.body, str) else [json.dumps(answer.body)]
        return str(json.loads(lines[-1])["state"])

    def task_instances(self, dag_id: str, run_id: str) -> list[dict[str, Any]]:
        answer = self.api("GET", f"/api/v2/dags/{dag_id}/dagRuns/{quote(run_id, safe='')}/taskInstances")
        return list(answer.body["task_instances"])

    def task_log(self, dag_id: str, run_id: str, task_id: str, try_number: int, map_index: int = -1) -> str:
        answer = self.api(
            "GET",
            f"/api/v2/dags/{dag_id}/dagRuns/{quote(run_id, safe='')}/taskInstances/{task_id}/logs/{try_number}"
            f"?map_index={map_index}",
        )
        assert answer.status == 200, f"log of {dag_id}.{task_id}: {answer}"
        return json.dumps(answer.body["content"])


def runtime_config(
    stack: StackAirflow, airflow_url: str, dags_folder: Path, git_repository: str | None = None
) -> dict[str, dict[str, str]]:
    values = stack.values
    bundles = values.get("dagProcessor", {}).get("dagBundleConfigList")
    if git_repository is not None and bundles:
        values = copy.deepcopy(values)
        for bundle in values["dagProcessor"]["dagBundleConfigList"]:
            bundle["kwargs"]["repo_url"] = git_repository
    config = chart_contract.airflow_config(values)
    config["core"].update(
        executor="LocalExecutor",
        dags_folder=str(dags_folder),
        execution_api_server_url=f"{airflow_url}/execution/",
    )
    if "base_url" in config.get("api", {}):
        config["api"]["base_url"] = airflow_url
    config["logging"]["remote_logging"] = "False"
    config["metrics"]["statsd_on"] = "False"
    # Where bundles clone to: the default is the machine's temp dir (`airflow/dag_bundles`), one per
    # pod on the cluster but shared by every run here, where a clone of an earlier run's repository
    # would be reused (and outlive it).
    config["dag_processor"]["dag_bundle_storage_path"] = str(dags_folder.parent / "dag-bundles")
    # Tuned for a test where the stack keeps Airflow's default: each DAG file parsed once (the
    # default re-parses every file every 30 s, the largest idle cost of a deployment here; nothing
    # changes the files during a run), and the LocalExecutor's workers (EXECUTOR_PARALLELISM).
    config["dag_processor"].setdefault("min_file_process_interval", "600")
    config["core"].setdefault("parallelism", str(EXECUTOR_PARALLELISM))
    return config


def runtime_environment(stack: StackAirflow, postgres: PostgresServer, home: Path) -> dict[str, str]:
    environment = stack.environment
    for name in METADATA_URL_ENVS:
        if name in environment:
            environment[name] = point_at(environment[name], LOOPBACK, postgres.port)
    if GIT_CONNECTION_ENV in environment:
        # The Secret's knownHosts, where the chart would mount it (a path of this machine).
        connection = json.loads(environment[GIT_CONNECTION_ENV])
        known_hosts = home / "known_hosts"
        secret_name = next(
            entry["secretName"] for entry in stack.values["secret"] if entry["envName"] == GIT_CONNECTION_ENV
        )
        known_hosts.write_text(stack.secrets[secret_name][KNOWN_HOSTS_KEY])
        connection["extra"]["known_hosts_file"] = str(known_hosts)
        environment[GIT_CONNECTION_ENV] = json.dumps(connection)
    return environment


def prepare_database(stack: StackAirflow, postgres: PostgresServer, template: str | None) -> None:
    """The role and database the generated metadata URL names, with its generated password.

    From `template` (migrate_template), the schema is already there, owned by its
    role; the deployment's own `airflow db migrate` then finds nothing to do.
    """
    url = urlsplit(stack.metadata_url)
    user, database = unquote(url.username or ""), url.path.lstrip("/")
    postgres.set_role(user, unquote(url.password or ""))
    postgres.create_database(database, user, template)
    if template is not None:
        postgres.psql(f'REASSIGN OWNED BY "{TEMPLATE_OWNER}" TO "{user}"', database=database)


def migrate_template(postgres: PostgresServer, venv: Path = DAGS_VENV) -> str:
    """A database migrated once by `airflow db migrate` for every deployment to copy (CREATE DATABASE ... TEMPLATE).

    Each deployment copies it in a second and runs its own (no-op) migrate; the session's
    cluster keeps it between runs (conftest: `cached_postgres`).
    """
    password = os.urandom(12).hex()
    postgres.set_role(TEMPLATE_OWNER, password)
    postgres.create_database(MIGRATED_TEMPLATE, TEMPLATE_OWNER)
    url = f"postgresql://{TEMPLATE_OWNER}:{password}@{LOOPBACK}:{postgres.port}/{MIGRATED_TEMPLATE}?sslmode=require"
    with temporary_directory("runtime-template-") as home:
        Airflow(venv, Path(home), {"AIRFLOW__DATABASE__SQL_ALCHEMY_CONN": url}, {}).airflow("db", "migrate")
    return MIGRATED_TEMPLATE


def cluster_cache(name: str, *generated: StackAirflow) -> Path:
    """Where the seeded cluster `name` is kept: named after everything its seed depends on -
    PostgreSQL's binaries, both Airflow versions, the seeding code, and what the stacks generate."""
    digest = hashlib.sha256(str(postgres_bindir()).encode())
    for path in CLUSTER_CACHE_INPUTS:
        digest.update(path.name.encode() + path.read_bytes())
    for stack in generated:
        digest.update(json.dumps([stack.values, stack.secrets], sort_keys=True).encode())
    return CLUSTER_CACHE / f"{name}-{digest.hexdigest()[:16]}"


@contextlib.contextmanager
def seeded_postgres(
    name: str, seed: Callable[[PostgresServer], object], *generated: StackAirflow
) -> Iterator[PostgresServer]:
    """A throwaway cluster from the cache `cluster_cache(name, *generated)`, seeded by `seed` when it is not there."""
    with (
        temporary_directory(f"runtime-postgres-{name}-") as scratch,
        cached_postgres(Path(scratch), cluster_cache(name, *generated), seed) as server,
    ):
        yield server


def seed_previous_airflow(stack: StackAirflow) -> Callable[[PostgresServer], None]:
    """What the previously pinned Airflow (.venv-airflow-previous) leaves in `stack`'s database:
    its `airflow db migrate`, the create-user Job's command, a connection and a variable."""

    def seed(postgres: PostgresServer) -> None:
        prepare_database(stack, postgres, template=None)
        with temporary_directory("runtime-previous-") as scratch:
            home = Path(scratch)
            airflow = Airflow(PREVIOUS_VENV, home, runtime_environment(stack, postgres, home), {})
            airflow.write_config(runtime_config(stack, airflow.base_url, home / "dags"))
            airflow_commands(
                airflow,
                ("db", "migrate"),
                ("connections", "add", UPGRADE_CONNECTION, "--conn-uri", UPGRADE_CONNECTION_URI),
                ("variables", "set", UPGRADE_VARIABLE, UPGRADE_VARIABLE_VALUE),
                log_name="previous-airflow",
            )
            create_admin(airflow, stack)

    return seed


# Several `airflow` commands in one process, each through the CLI's own entry point
# (airflow/__main__.py `main`: the parser, then the command's function), as separate
# `airflow ...` calls would run them, Airflow's imports (seconds of CPU) paid once. `preflight`
# checks each generated value Airflow only reads later - the Fernet key on the first encrypted
# write, the async URL on the first async request - and fails naming it.
AIRFLOW_COMMANDS = """
import asyncio, json, sys
from sqlalchemy import text

def fernet_key():
    from airflow.models.crypto import get_fernet
    get_fernet().encrypt(b"runtime preflight")

def async_metadata_url():
    from airflow import settings
    from airflow.utils.session import create_session_async
    async def ping():
        async with create_session_async() as session:
            await session.execute(text("SELECT 1"))
        await settings.async_engine.dispose()  # inside the loop: no noise when the process exits
    asyncio.run(ping())

def preflight():
    for what, check in (
        ("the generated Fernet key (AIRFLOW__CORE__FERNET_KEY)", fernet_key),
        ("the generated async metadata URL (AIRFLOW__DATABASE__SQL_ALCHEMY_CONN_ASYNC)", async_metadata_url),
    ):
        try:
            check()
        except Exception as error:
            sys.exit(f"{what} does not work with Airflow: {type(error).__name__}: {error}")

from airflow.__main__ import main

for command in json.loads(sys.argv[1]):
    print("runtime: airflow", *command[:2], flush=True)
    if command == ["preflight"]:
        preflight()
        continue
    sys.argv = ["airflow", *command]
    try:
        main()
    except SystemExit as exit:
        if exit.code not in (None, 0):
            sys.exit(f"`airflow {' '.join(command[:2])}` exited {exit.code}")
"""
PREFLIGHT = ("preflight",)


def airflow_commands(
    airflow: Airflow, *commands: tuple[str, ...], extra_env: Mapping[str, str] | None = None, log_name: str
) -> str:
    """Run `commands` (each an `airflow` command line, or PREFLIGHT) in one process; its output."""
    return airflow.run("python", "-c", AIRFLOW_COMMANDS, json.dumps(commands), extra_env=extra_env, log_name=log_name)


def create_admin(airflow: Airflow, stack: StackAirflow) -> None:
    """The create-user Job's exact command (its bash wrapper reads the password from the Secret's env)."""
    args, job_environment = chart_contract.create_user_command(stack.values, stack.secrets)
    airflow.run(*args, extra_env=job_environment, log_name="create-user")


def migrate_and_create_admin(running: RunningAirflow) -> None:
    """What the chart's Jobs run: `airflow db migrate` (with the preflight checks), then the create-user
    Job's command - on an upgrade too: it reruns with every release and finds the user there."""
    airflow_commands(running.airflow, ("db", "migrate"), PREFLIGHT, log_name="migrate")
    create_admin(running.airflow, running.stack)


API_SERVER = "api-server"
# Where chart 1.22.0 mounts `apiServer.apiServerConfig` (templates/configmaps/configmap.yaml).
API_SERVER_CONFIG_FILE = "webserver_config.py"


def _api_server_settings(stack: StackAirflow) -> tuple[str | None, dict[str, str]]:
    """`apiServer.apiServerConfig` and `apiServer.env` (its `secretKeyRef`s resolved from the stack's
    Secrets), what chart 1.22.0 gives the API server only (`container_extra_envs`)."""
    environment = chart_contract.component_environment(stack.values, stack.secrets, API_SERVER)
    return stack.values.get("apiServer", {}).get("apiServerConfig"), environment


def alembic_revision(postgres: PostgresServer, database: str) -> str | None:
    """The metadata schema's revision, None in a database Airflow never migrated."""
    if postgres.psql("SELECT to_regclass('alembic_version') IS NOT NULL", database=database) != "t":
        return None
    return postgres.psql("SELECT version_num FROM alembic_version", database=database) or None


@contextlib.contextmanager
def deployed(
    stack: StackAirflow,
    *,
    venv: Path = DAGS_VENV,
    extra_config: Mapping[str, Mapping[str, str]] | None = None,
    extra_env: Mapping[str, str] | None = None,
    git_repository: str | None = None,
    postgres: PostgresServer | None = None,
    template: str | None = None,
    new_database: bool = True,
    start: bool = True,
) -> Iterator[RunningAirflow]:
    """PostgreSQL + migrated database + admin user + the four Airflow processes, all removed on exit.

    `git_repository` stands in for the repository a GitDagBundle pulls (`dags.source: bundle`);
    `postgres` is a running server to use (else one of its own), `template` a database to copy;
    `new_database=False` upgrades the database already there (seed_previous_airflow) instead.
    """
    with temporary_directory("runtime-airflow-") as scratch:
        root = Path(scratch)
        # PostgreSQL runs as another user when the tests run as root: it may pass
        # through (not list) the scratch directory to reach its own.
        root.chmod(0o711)
        (root / "postgres").mkdir()
        (root / "home").mkdir()
        dags_folder = root / "dags"
        shutil.copytree(ROOT / "dags", dags_folder, ignore=shutil.ignore_patterns("__pycache__"))
        with contextlib.ExitStack() as resources:
            if postgres is None:
                postgres = resources.enter_context(PostgresServer(root / "postgres"))
            database = urlsplit(stack.metadata_url).path.lstrip("/")
            if new_database:
                prepare_database(stack, postgres, template)
            revision = None if new_database else alembic_revision(postgres, database)
            environment = {**runtime_environment(stack, postgres, root / "home"), **(extra_env or {})}
            airflow = Airflow(venv, root / "home", environment, {})
            config = runtime_config(stack, airflow.base_url, dags_folder, git_repository)
            for section, entries in (extra_config or {}).items():
                config.setdefault(section, {}).update(entries)
            airflow.write_config(config)
            with airflow:
                running = RunningAirflow(
                    stack, postgres, airflow, dags_folder, admin=stack.admin, revision_before_migrate=revision
                )
                migrate_and_create_admin(running)
                if start:
                    # All four at once, as the chart's pods start once the migration Job is done: the
                    # others do not wait for the API server (a start is ~6 CPU-s in one thread).
                    for component in AIRFLOW_COMPONENTS:
                        if component == API_SERVER:
                            running.serve_api(stack, wait=False)
                        else:
                            airflow.start(
                                component,
                                extra_env=chart_contract.component_environment(stack.values, stack.secrets, component),
                            )
                    airflow.wait_healthy()
                yield running


class Deployments:
    """Each shape's Airflow, started when a test first uses it, or ahead of that in the background
    (`start_ahead`), and stopped (`release`) after the last test that uses it. The tests run shape by
    shape (conftest): two deployments held ~3 GB with Chromium and the sign-in API servers on top, so
    the next one starts only once those are gone, beside the current shape's last tests."""

    def __init__(self, starters: Mapping[str, Callable[[], contextlib.AbstractContextManager[RunningAirflow]]]) -> None:
        self._starters = dict(starters)
        self._running: dict[str, RunningAirflow] = {}
        self._exits: dict[str, contextlib.ExitStack] = {}
        self._failed: dict[str, BaseException] = {}
        self._starting: dict[str, threading.Thread] = {}

    def _start(self, shape: str) -> None:
        assert shape in self._starters, f"the {shape} deployment was already stopped"
        exit = self._exits[shape] = contextlib.ExitStack()
        try:
            self._running[shape] = exit.enter_context(self._starters.pop(shape)())
        except BaseException as failure:
            self._failed[shape] = failure
            raise

    def start_ahead(self, shape: str) -> None:
        """Start `shape` in a thread (its start is mostly waiting on Airflow's processes); its first
        test waits for it, and gets the failure if it did not start."""
        if shape in self._starters and shape not in self._starting:
            # A failure is kept in _failed for the first test; the thread itself has nothing to say.
            def start() -> None:
                with contextlib.suppress(BaseException):
                    self._start(shape)

            self._starting[shape] = thread = threading.Thread(target=start, name=f"start {shape}", daemon=True)
            thread.start()

    def __getitem__(self, shape: str) -> RunningAirflow:
        if (starting := self._starting.pop(shape, None)) is not None:
            starting.join()
            if shape in self._failed:
                raise self._failed[shape]
        if shape in self._failed:
            # Started once: the first test that used it shows the whole failure.
            raise HarnessError(f"the {shape} deployment did not start: {self._failed[shape]}")
        if shape not in self._running:
            self._start(shape)
        return self._running[shape]

    def release(self, shape: str) -> None:
        if (starting := self._starting.pop(shape, None)) is not None:
            starting.join()
        self._running.pop(shape, None)
        if (exit := self._exits.pop(shape, None)) is not None:
            exit.close()

    def close(self) -> None:
        for shape in [*self._starting, *self._exits]:
            self.release(shape)
