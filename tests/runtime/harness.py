"""Run the pinned Airflow for real: a throwaway PostgreSQL with TLS, Airflow's processes, headless Chromium.

Reusable by any runtime test (the auth tests start an API server with extra config on
top of these): `PostgresServer` and `Airflow` are context managers that leave no
process, port or directory behind, also when a test fails; every failure is a
`HarnessError` that says what to install or free, with the tail of the failing
component's log.
"""

from __future__ import annotations

import contextlib
import datetime
import json
import os
import pwd
import shutil
import signal
import socket
import subprocess
import tempfile
import threading
import time
import urllib.error
import urllib.request
from collections.abc import Callable, Iterable, Iterator, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit, urlunsplit

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID

LOOPBACK = "127.0.0.1"
LOG_TAIL_LINES = 40
# How long a component gets to exit on SIGTERM before its process group is killed. The API server,
# scheduler and DAG processor exit in ~3 s; the triggerer takes ~11 s (measured on 3.3.2), time
# that every stopped deployment would add to the suite while nothing reads what it leaves.
STOP_GRACE_SECONDS = 5
# The Debian/Ubuntu packages that provide what the harness runs (`.ci/run` installs them).
POSTGRES_PACKAGE = "postgresql"
# Where Debian's postgresql-<major> packages put the server binaries.
POSTGRES_INSTALL_ROOT = Path("/usr/lib/postgresql")
CHROMIUM_PACKAGE = "chromium"
# Debian's package; RUNTIME_CHROMIUM points elsewhere (e.g. /usr/bin/google-chrome on GitHub's Ubuntu runners).
CHROMIUM = Path(os.environ.get("RUNTIME_CHROMIUM", "/usr/bin/chromium"))
# The database superuser of the throwaway server (the stack's own user is created beside it).
SUPERUSER = "postgres"
# Postgres refuses to run as root; CI runs the tests as root.
POSTGRES_OS_USERS = ("postgres", "nobody")
AIRFLOW_COMPONENTS = ("api-server", "scheduler", "dag-processor", "triggerer")
# In a cluster's data directory: its TLS certificate and key, and the settings of this run.
CERTIFICATE_FILE = "server.crt"
KEY_FILE = "server.key"
RUN_SETTINGS_FILE = "run.conf"


class HarnessError(RuntimeError):
    """Something the runtime suite needs is missing or failed; the message says what to do."""


def tail(path: Path, lines: int = LOG_TAIL_LINES) -> str:
    if not path.exists():
        return f"({path} was never written)"
    text = path.read_text(errors="replace").splitlines()[-lines:]
    return "\n".join(f"  | {line}" for line in text)


def api_url(port: int) -> str:
    """Where an API server on `port` answers (the harness binds them to loopback)."""
    return f"http://{LOOPBACK}:{port}"


def free_port() -> int:
    """A port nothing listens on now (the kernel's pick among the ephemeral ones)."""
    with socket.socket() as probe:
        probe.bind((LOOPBACK, 0))
        return int(probe.getsockname()[1])


def require_free_port(port: int, what: str) -> None:
    with socket.socket() as probe:
        # As uvicorn binds: a port whose only sockets are in TIME_WAIT (an API server
        # restarted on the same port) is free; only a listener makes it taken.
        probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            probe.bind((LOOPBACK, port))
        except OSError as error:
            raise HarnessError(
                f"port {port} on {LOOPBACK} is taken ({error.strerror}); {what} needs it: "
                f"stop what listens there (`ss -ltnp 'sport = :{port}'`) or choose another port"
            ) from error


def _self_signed_certificate(directory: Path) -> tuple[Path, Path]:
    """A certificate for 127.0.0.1 made for this run only; clients use sslmode=require (no CA check)."""
    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "airflow-platform runtime tests")])
    now = datetime.datetime.now(datetime.UTC)
    certificate = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - datetime.timedelta(minutes=5))
        .not_valid_after(now + datetime.timedelta(days=1))
        .sign(key, hashes.SHA256())
    )
    cert_file, key_file = directory / CERTIFICATE_FILE, directory / KEY_FILE
    cert_file.write_bytes(certificate.public_bytes(serialization.Encoding.PEM))
    key_file.write_bytes(
        key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption())
    )
    key_file.chmod(0o600)
    return cert_file, key_file


def postgres_bindir() -> Path:
    """The newest PostgreSQL server binaries installed (Debian's /usr/lib/postgresql/<major>/bin)."""
    candidates = sorted(POSTGRES_INSTALL_ROOT.glob("*/bin/postgres"), key=lambda p: int(p.parent.parent.name))
    if candidates:
        return candidates[-1].parent
    initdb = shutil.which("initdb")
    if initdb:
        return Path(initdb).resolve().parent
    raise HarnessError(
        f"no PostgreSQL server binaries (initdb, pg_ctl, postgres): install the `{POSTGRES_PACKAGE}` package "
        f"(`apt-get install {POSTGRES_PACKAGE}`; `.ci/run` does it where missing)"
    )


@dataclass
class PostgresServer:
    """A PostgreSQL cluster in a temporary directory, TLS on, listening on a loopback port only."""

    root: Path
    port: int = field(default_factory=free_port)
    password: str = field(default_factory=lambda: os.urandom(12).hex())
    # More postgresql.conf settings, over the harness's own.
    extra_settings: Mapping[str, str] = field(default_factory=dict)

    def __post_init__(self) -> None:
        self.bindir = postgres_bindir()
        self.data = self.root / "data"
        self.log = self.root / "postgresql.log"
        self._run_as: dict[str, Any] = {}
        if os.geteuid() == 0:
            account = next((pwd.getpwnam(n) for n in POSTGRES_OS_USERS if _user_exists(n)), None)
            if account is None:
                raise HarnessError("running as root and no `postgres` or `nobody` user to run PostgreSQL as")
            self._run_as = {"user": account.pw_uid, "group": account.pw_gid, "extra_groups": []}
            os.chown(self.root, account.pw_uid, account.pw_gid)
        self.root.chmod(0o700)

    def _server_command(self, *args: str, timeout: float = 60) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            args, capture_output=True, text=True, timeout=timeout, cwd=self.root, check=False, **self._run_as
        )

    def start(self) -> PostgresServer:
        """initdb a new cluster, then start it."""
        require_free_port(self.port, "the throwaway PostgreSQL")
        password_file = self.root / "superuser-password"
        password_file.write_text(self.password)
        if self._run_as:
            os.chown(password_file, self._run_as["user"], self._run_as["group"])
        initdb = self._server_command(
            str(self.bindir / "initdb"),
            f"--pgdata={self.data}",
            f"--username={SUPERUSER}",
            f"--pwfile={password_file}",
            "--auth=scram-sha-256",
            "--encoding=UTF8",
            "--no-sync",
        )
        if initdb.returncode != 0:
            raise HarnessError(f"initdb failed (exit {initdb.returncode}):\n{initdb.stdout}{initdb.stderr}")
        settings = {
            "listen_addresses": f"'{LOOPBACK}'",
            "ssl": "on",
            # Relative to the data directory: start_existing writes them there for each run.
            "ssl_cert_file": f"'{CERTIFICATE_FILE}'",
            "ssl_key_file": f"'{KEY_FILE}'",
            # Cloud SQL's default on the small tiers is lower; the tests measure, not cap.
            "max_connections": "200",
            # Durability buys nothing in a database deleted after the run.
            "fsync": "off",
            "synchronous_commit": "off",
            "full_page_writes": "off",
        }
        with (self.data / "postgresql.conf").open("a") as conf:
            conf.writelines(f"{key} = {value}\n" for key, value in settings.items())
            # What changes from run to run (port, socket directory, the test's own settings).
            conf.write(f"include_if_exists '{RUN_SETTINGS_FILE}'\n")
        # TCP over TLS only, as on Cloud SQL / RDS with TLS enforced; a client asking for
        # sslmode=disable still connects (the local stack's in-cluster database has no TLS).
        (self.data / "pg_hba.conf").write_text(f"host all all {LOOPBACK}/32 scram-sha-256\n")
        return self.start_existing()

    def start_existing(self) -> PostgresServer:
        """Start the cluster in `data` (made by `start`, or a copy of one: `cached_postgres`) on this
        run's port, with a certificate made for this run."""
        require_free_port(self.port, "the throwaway PostgreSQL")
        cert_file, key_file = _self_signed_certificate(self.data)
        settings = {"port": str(self.port), "unix_socket_directories": f"'{self.root}'", **self.extra_settings}
        run_settings = self.data / RUN_SETTINGS_FILE
        run_settings.write_text("".join(f"{key} = {value}\n" for key, value in settings.items()))
        if self._run_as:
            for path in (cert_file, key_file, run_settings):
                os.chown(path, self._run_as["user"], self._run_as["group"])
        started = self._server_command(
            str(self.bindir / "pg_ctl"), f"--pgdata={self.data}", f"--log={self.log}", "--wait", "--timeout=30", "start"
        )
        if started.returncode != 0:
            raise HarnessError(
                f"PostgreSQL did not start on {LOOPBACK}:{self.port} (pg_ctl exit {started.returncode}); "
                f"its log:\n{tail(self.log)}\n{started.stderr}"
            )
        return self

    def stop_cleanly(self) -> None:
        """A clean shutdown (every buffer written), so that the data directory can be copied."""
        stopped = self._server_command(
            str(self.bindir / "pg_ctl"), f"--pgdata={self.data}", "--mode=fast", "--wait", "stop"
        )
        if stopped.returncode != 0:
            raise HarnessError(f"pg_ctl stop exited {stopped.returncode}: {stopped.stderr}\n{tail(self.log)}")

    def stop(self) -> None:
        if (self.data / "postmaster.pid").exists():
            self._server_command(
                str(self.bindir / "pg_ctl"), f"--pgdata={self.data}", "--mode=immediate", "--wait", "stop"
            )

    def psql(self, sql: str, database: str = "postgres") -> str:
        """Run `sql` as the superuser over TLS; rows as `a|b` lines."""
        environment = {**os.environ, "PGPASSWORD": self.password, "PGSSLMODE": "require", "PGCONNECT_TIMEOUT": "10"}
        result = subprocess.run(
            [
                str(self.bindir / "psql"),
                "-h",
                LOOPBACK,
                "-p",
                str(self.port),
                "-U",
                SUPERUSER,
                "-d",
                database,
                "-v",
                "ON_ERROR_STOP=1",
                "-Atc",
                sql,
            ],
            capture_output=True,
            text=True,
            env=environment,
            timeout=60,
            check=False,
        )
        if result.returncode != 0:
            raise HarnessError(f"psql failed: {result.stderr.strip()}\nPostgreSQL log:\n{tail(self.log)}")
        return result.stdout.strip()

    def set_role(self, user: str, password: str) -> None:
        """A login role `user` with `password`, created or its password changed."""
        quoted_password = password.replace("'", "''")
        verb = "ALTER" if self.psql(f"SELECT 1 FROM pg_roles WHERE rolname = '{user}'") else "CREATE"
        self.psql(f"{verb} ROLE \"{user}\" LOGIN PASSWORD '{quoted_password}'")

    def create_database(self, database: str, owner: str, template: str | None = None) -> None:
        """A new, empty (or `template`'s copy) database; one of that name from an earlier deployment goes first."""
        self.psql(f'DROP DATABASE IF EXISTS "{database}" WITH (FORCE)')
        self.psql(f'CREATE DATABASE "{database}" OWNER "{owner}"' + (f' TEMPLATE "{template}"' if template else ""))

    def client_connections(self) -> dict[str, int]:
        """Client backends connected now (what counts against max_connections) by application_name
        ('' for drivers that send none, as asyncpg), this query's own excluded."""
        rows = self.psql(
            "SELECT application_name, count(*) FROM pg_stat_activity"
            " WHERE backend_type = 'client backend' AND pid <> pg_backend_pid() GROUP BY 1"
        )
        counts = (line.rsplit("|", 1) for line in rows.splitlines() if line)
        return {name: int(count) for name, count in counts}

    def __enter__(self) -> PostgresServer:
        try:
            return self.start()
        except BaseException:
            self.stop()
            raise

    def __exit__(self, *exc: object) -> None:
        self.stop()


@contextlib.contextmanager
def cached_postgres(root: Path, cache: Path, seed: Callable[[PostgresServer], object]) -> Iterator[PostgresServer]:
    """A running cluster in `root` whose data directory is a copy of `cache`, a stopped cluster `seed` filled.

    The first run (or one whose `cache` name changed) does everything: initdb, `seed(server)` - the
    `airflow db migrate` and whatever else it writes -, a clean stop, then the data directory is
    copied to `cache` (earlier entries of the same cluster, `<name>-*`, are removed). Later runs copy
    it back instead, seconds instead of Airflow processes. The caller names `cache` after everything
    that shapes what `seed` writes (Airflow versions, generated configuration, the seeding code).
    """
    password_file = cache / "superuser-password"
    if (cache / "data" / "PG_VERSION").exists():
        server = PostgresServer(root, password=password_file.read_text())
        _copy_directory(cache / "data", server.data)
        try:
            yield server.start_existing()
        finally:
            server.stop()
        return
    with PostgresServer(root) as server:
        seed(server)
        server.stop_cleanly()
        staging = cache.with_name(f"{cache.name}.partial-{os.getpid()}")
        shutil.rmtree(staging, ignore_errors=True)
        staging.mkdir(parents=True)
        _copy_directory(server.data, staging / "data")
        (staging / "superuser-password").write_text(server.password)
        cluster = cache.name.rsplit("-", 1)[0]
        for earlier in cache.parent.glob(f"{cluster}-*"):
            if earlier != staging:
                shutil.rmtree(earlier, ignore_errors=True)
        if cache.exists():  # another run of the suite seeded it meanwhile
            shutil.rmtree(staging, ignore_errors=True)
        else:
            staging.rename(cache)
        yield server.start_existing()


def _copy_directory(source: Path, target: Path) -> None:
    """`cp -a`: modes and owners kept (PostgreSQL's data directory belongs to its own OS user under root)."""
    copied = subprocess.run(["cp", "-a", str(source), str(target)], capture_output=True, text=True, check=False)
    if copied.returncode != 0:
        raise HarnessError(f"copying {source} to {target} failed: {copied.stderr.strip()}")


class ConnectionPeak:
    """Samples `client_connections()` in a thread while the block runs: `peak` is the most seen at once,
    `peaks` the most each application name (PGAPPNAME: Airflow.start) held at once."""

    def __init__(self, postgres: PostgresServer, interval: float = 0.25) -> None:
        self.postgres = postgres
        self.interval = interval
        self.peak = 0
        self.peaks: dict[str, int] = {}
        self.samples = 0
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._sample, name="pg_stat_activity sampler", daemon=True)

    def _sample(self) -> None:
        while not self._stop.is_set():
            connections = self.postgres.client_connections()
            self.peak = max(self.peak, sum(connections.values()))
            for name, count in connections.items():
                self.peaks[name] = max(self.peaks.get(name, 0), count)
            self.samples += 1
            self._stop.wait(self.interval)

    def __enter__(self) -> ConnectionPeak:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        self._thread.join()


def _user_exists(name: str) -> bool:
    try:
        pwd.getpwnam(name)
    except KeyError:
        return False
    return True


def point_at(url: str, host: str, port: int) -> str:
    """`url` with only its host and port replaced (driver, credentials, database and TLS options kept)."""
    parts = urlsplit(url)
    credentials = parts.netloc.rsplit("@", 1)[0]
    return urlunsplit(parts._replace(netloc=f"{credentials}@{host}:{port}"))


@dataclass
class Response:
    status: int
    body: Any


class Airflow:
    """The pinned Airflow's processes on one AIRFLOW_HOME, configured with a stack's env and airflow.cfg.

    Everything the chart would run in a container runs here as a process of the
    virtualenv `venv` (`.venv-dags`, or the previous Airflow's for the upgrade test),
    each in its own process group with its log in AIRFLOW_HOME.
    """

    def __init__(
        self,
        venv: Path,
        home: Path,
        environment: Mapping[str, str],
        config: Mapping[str, Mapping[str, str]],
        api_port: int | None = None,
    ) -> None:
        self.home = home
        self.api_port = api_port or free_port()
        self.base_url = api_url(self.api_port)
        self.processes: dict[str, subprocess.Popen[bytes]] = {}
        self.component_environments: dict[str, dict[str, str]] = {}
        self.environment = {
            "HOME": str(home),
            "LANG": "C.UTF-8",
            "AIRFLOW_HOME": str(home),
            "PYTHONDONTWRITEBYTECODE": "1",
            **environment,
        }
        self.use_venv(venv)
        self.write_config(config)

    def use_venv(self, venv: Path) -> None:
        """Run `airflow` from `venv` from now on (another Airflow version on the same home and database)."""
        if not (venv / "bin" / "airflow").exists():
            raise HarnessError(f"{venv}/bin/airflow is missing: build it with `scripts/venvs.sh all`")
        self.venv = venv
        self.environment["PATH"] = f"{venv / 'bin'}:{os.environ.get('PATH', '/usr/bin:/bin')}"

    def write_config(self, config: Mapping[str, Mapping[str, str]]) -> None:
        lines = []
        for section, entries in config.items():
            lines.append(f"[{section}]")
            # airflow.cfg is read by ConfigParser: '%' must be doubled.
            lines += [f"{key} = {str(value).replace('%', '%%')}" for key, value in entries.items()]
        (self.home / "airflow.cfg").write_text("\n".join(lines) + "\n")

    def log_file(self, component: str) -> Path:
        return self.home / f"{component}.log"

    def run(
        self, *args: str, timeout: float = 300, extra_env: Mapping[str, str] | None = None, log_name: str = ""
    ) -> str:
        """One command to completion (what a Job runs); its output, or a HarnessError with the tail."""
        log = self.log_file(log_name or "-".join(args[:2]).replace("/", "_"))
        with log.open("wb") as output:
            result = subprocess.run(
                args,
                stdout=output,
                stderr=subprocess.STDOUT,
                env={**self.environment, **(extra_env or {})},
                cwd=self.home,
                timeout=timeout,
                check=False,
            )
        if result.returncode != 0:
            command = log_name or " ".join(args[:3])
            raise HarnessError(f"`{command}` exited {result.returncode}; its log ({log}):\n{tail(log)}")
        return log.read_text(errors="replace")

    def airflow(self, *args: str, timeout: float = 300) -> str:
        return self.run("airflow", *args, timeout=timeout)

    def start(self, component: str, *args: str, extra_env: Mapping[str, str] | None = None) -> None:
        """`airflow <component>` with the shared env and what its own container adds (`extra_env`, kept
        for its later starts, as a restarted container keeps its env), named in pg_stat_activity by
        libpq's PGAPPNAME (its sync engine's connections: ConnectionPeak.peaks)."""
        if extra_env is not None:
            self.component_environments[component] = dict(extra_env)
        if component == "api-server":
            require_free_port(self.api_port, "the Airflow API server")
            args = ("--port", str(self.api_port), *args)
        with self.log_file(component).open("ab") as output:
            self.processes[component] = subprocess.Popen(
                ["airflow", component, *args],
                stdout=output,
                stderr=subprocess.STDOUT,
                env={**self.environment, **self.component_environments.get(component, {}), "PGAPPNAME": component},
                cwd=self.home,
                # A session of its own (stop: killpg on its group). In the test's session, where
                # `nice` ranks it above make test's niced steps, the run was slower: those steps,
                # starved, outlasted the suite (docs/testing.md).
                start_new_session=True,
            )

    def logs(self) -> dict[str, str]:
        """Every component's log, and every task's (`tasks`), by name."""
        logs = {path.stem: path.read_text(errors="replace") for path in self.home.glob("*.log")}
        task_logs = sorted((self.home / "logs").glob("dag_id=*/**/*.log"))
        logs["tasks"] = "\n".join(path.read_text(errors="replace") for path in task_logs)
        return logs

    def check_running(self) -> None:
        for component, process in self.processes.items():
            if process.poll() is not None:
                raise HarnessError(
                    f"airflow {component} exited {process.returncode}; its log:\n{tail(self.log_file(component))}"
                )

    def stop(self, component: str) -> None:
        process = self.processes.pop(component, None)
        if process is None:
            return
        with contextlib.suppress(ProcessLookupError):
            os.killpg(process.pid, signal.SIGTERM)
        with contextlib.suppress(subprocess.TimeoutExpired):
            process.wait(timeout=STOP_GRACE_SECONDS)
        # Task and worker processes the component forked live in its group too.
        with contextlib.suppress(ProcessLookupError):
            os.killpg(process.pid, signal.SIGKILL)
        process.wait()

    def stop_all(self) -> None:
        stop_together([self])

    def __enter__(self) -> Airflow:
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop_all()

    def request(
        self, method: str, path: str, body: Any = None, token: str | None = None, timeout: float = 30
    ) -> Response:
        headers = {"Accept": "application/json"}
        data = None
        if body is not None:
            data = json.dumps(body).encode()
            headers["Content-Type"] = "application/json"
        if token is not None:
            headers["Authorization"] = f"Bearer {token}"
        request = urllib.request.Request(self.base_url + path, data=data, headers=headers, method=method)
        try:
            with urllib.request.urlopen(request, timeout=timeout) as answer:
                status, raw = answer.status, answer.read()
        except urllib.error.HTTPError as error:
            status, raw = error.code, error.read()
        try:
            parsed: Any = json.loads(raw) if raw else None
        except json.JSONDecodeError:
            parsed = raw.decode(errors="replace")
        return Response(status, parsed)

    def wait_until(self, what: str, ready: Any, timeout: float, component: str = "api-server") -> Any:
        """Poll `ready()` until it returns something truthy; a HarnessError with `component`'s log otherwise."""
        deadline = time.monotonic() + timeout
        last: Any = None
        while time.monotonic() < deadline:
            self.check_running()
            with contextlib.suppress(OSError):
                last = ready()
                if last:
                    return last
            time.sleep(0.5)
        raise HarnessError(
            f"{what}: not after {timeout:.0f} s (last: {last!r}); {component} log:\n{tail(self.log_file(component))}"
        )

    def health(self) -> dict[str, Any]:
        answer = self.request("GET", "/api/v2/monitor/health")
        return answer.body if answer.status == 200 and isinstance(answer.body, dict) else {}

    def wait_healthy(self, timeout: float = 120) -> dict[str, Any]:
        def all_healthy() -> dict[str, Any] | None:
            health = self.health()
            statuses = [part.get("status") for part in health.values() if isinstance(part, dict)]
            return health if statuses and all(status == "healthy" for status in statuses) else None

        return self.wait_until("every component healthy in /api/v2/monitor/health", all_healthy, timeout)

    def token(self, username: str, password: str) -> Response:
        return self.request("POST", "/auth/token", {"username": username, "password": password})


def stop_together(deployments: Iterable[Airflow]) -> None:
    """Every process of `deployments` told to stop at once, then waited for: each takes seconds."""
    deployments = list(deployments)
    for airflow in deployments:
        for process in airflow.processes.values():
            with contextlib.suppress(ProcessLookupError):
                os.killpg(process.pid, signal.SIGTERM)
    for airflow in deployments:
        for component in list(airflow.processes):
            airflow.stop(component)


def temporary_directory(prefix: str) -> contextlib.AbstractContextManager[str]:
    return tempfile.TemporaryDirectory(prefix=prefix, ignore_cleanup_errors=True)


class Chromium:
    """Headless Chromium (Debian's, never a downloaded browser) driven by Playwright, started once
    for all the tests that use it: a browser start costs seconds of CPU, a new browser context -
    its own cookies and storage, as a fresh profile - almost nothing (`page`)."""

    def __init__(self) -> None:
        self._resources = contextlib.ExitStack()
        self._browser: Any = None

    def __enter__(self) -> Chromium:
        if not CHROMIUM.exists():
            raise HarnessError(
                f"{CHROMIUM} is missing (headless Chromium for the UI tests): install the `{CHROMIUM_PACKAGE}` "
                f"package (`apt-get install {CHROMIUM_PACKAGE}`; `.ci/run` does it where missing) "
                "or point RUNTIME_CHROMIUM at a Chromium binary"
            )
        from playwright.sync_api import sync_playwright

        try:
            playwright = self._resources.enter_context(sync_playwright())
            self._browser = playwright.chromium.launch(
                executable_path=str(CHROMIUM),
                headless=True,
                args=[
                    "--no-sandbox",
                    "--disable-gpu",
                    "--disable-background-networking",
                    "--disable-component-update",
                    "--disable-sync",
                    "--no-first-run",
                ],
            )
            self._resources.callback(self._browser.close)
        except BaseException:
            self._resources.close()
            raise
        return self

    def __exit__(self, *exc: object) -> None:
        self._resources.close()

    @contextlib.contextmanager
    def page(self, viewport: tuple[int, int] = (1280, 800)) -> Iterator[Any]:
        """A page in a new browser context (no cookies, no storage), closed with the block."""
        context = self._browser.new_context(viewport={"width": viewport[0], "height": viewport[1]})
        try:
            yield context.new_page()
        finally:
            context.close()
