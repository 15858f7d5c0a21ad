"""The real Airflow API server with the sign-in configuration a stack generates, for tests/runtime/test_auth_*.py.

A minimal harness of its own (written while the shared runtime harness was not yet on
main): one `airflow api-server` process of `.venv-dags` on loopback, configured from
what the stack program generates under the mock runner - the Secrets' data, the chart
values' `apiServer.apiServerConfig` (written where chart 1.22.0 mounts it,
$AIRFLOW_HOME/webserver_config.py) and `apiServer.env` (its `secretKeyRef`s resolved
from the stack's own Secrets, as the kubelet would), the create-user Job's exact
command. Substituted, and nothing else: the metadata database (SQLite in the scratch
directory instead of PostgreSQL: sign-in needs no scheduler) and the address
(`[api] base_url` on a loopback port instead of the load balancer's).
"""

from __future__ import annotations

import contextlib
import os
import signal
import socket
import subprocess
import tempfile
import time
import urllib.error
import urllib.request
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from review.runner import ROOT, Run

DAGS_VENV = ROOT / ".venv-dags"
CHROMIUM = Path(os.environ.get("RUNTIME_CHROMIUM", "/usr/bin/chromium"))
LOOPBACK = "127.0.0.1"
SECRET_TYPE = "kubernetes:core/v1:Secret"
RELEASE_TYPE = "kubernetes:helm.sh/v3:Release"
# chart 1.22.0 values.yaml `config.core.auth_manager`: the chart's default, which the stack keeps.
FAB_AUTH_MANAGER = "airflow.providers.fab.auth_manager.fab_auth_manager.FabAuthManager"
# (env var, values key naming the Secret, key in it): what every chart-run Airflow container reads.
CHART_SECRET_ENV = (
    ("AIRFLOW__CORE__FERNET_KEY", "fernetKeySecretName", "fernet-key"),
    ("AIRFLOW__API__SECRET_KEY", "apiSecretKeySecretName", "api-secret-key"),
    ("AIRFLOW__API_AUTH__JWT_SECRET", "jwtSecretName", "jwt-secret"),
)


class HarnessError(RuntimeError):
    """The API server did not start or answer; the message carries its log's tail."""


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind((LOOPBACK, 0))
        return int(probe.getsockname()[1])


@dataclass(frozen=True)
class GeneratedStack:
    """A stack run's chart values and Secrets' data by name."""

    values: dict[str, Any]
    secrets: dict[str, dict[str, str]]

    @classmethod
    def from_run(cls, run: Run) -> GeneratedStack:
        [release] = [r for r in run.of_type(RELEASE_TYPE) if r.inputs["chart"] == "airflow"]
        secrets = {s.inputs["metadata"]["name"]: dict(s.inputs["stringData"]) for s in run.of_type(SECRET_TYPE)}
        return cls(values=release.inputs["values"], secrets=secrets)

    def secret(self, reference: Mapping[str, str]) -> str:
        return self.secrets[reference["name"]][reference["key"]]

    def api_server_environment(self) -> dict[str, str]:
        environment = {name: self.secrets[self.values[key]][data] for name, key, data in CHART_SECRET_ENV}
        for entry in self.values["apiServer"].get("env", []):
            if "valueFrom" in entry:
                environment[entry["name"]] = self.secret(entry["valueFrom"]["secretKeyRef"])
            else:
                environment[entry["name"]] = entry["value"]
        return environment

    @property
    def admin(self) -> tuple[str, str]:
        """(username, password) as the create-user Job passes them."""
        args = self.values["createUserJob"]["args"]
        [password_env] = self.values["createUserJob"]["env"]
        return args[args.index("--username") + 1], self.secret(password_env["valueFrom"]["secretKeyRef"])


class ApiServer:
    """`airflow api-server` of .venv-dags on one AIRFLOW_HOME, restartable with another stack's configuration."""

    def __init__(self, home: Path) -> None:
        if not (DAGS_VENV / "bin" / "airflow").exists():
            raise HarnessError(f"{DAGS_VENV}/bin/airflow is missing: build it with `scripts/venvs.sh all`")
        self.home = home
        self.port = free_port()
        self.url = f"http://{LOOPBACK}:{self.port}"
        self.log = home / "api-server.log"
        self.process: subprocess.Popen[bytes] | None = None
        self.environment: dict[str, str] = {}

    def _base_environment(self) -> dict[str, str]:
        return {
            "PATH": f"{DAGS_VENV / 'bin'}:{os.environ.get('PATH', '/usr/bin:/bin')}",
            "HOME": str(self.home),
            "LANG": "C.UTF-8",
            "AIRFLOW_HOME": str(self.home),
            "PYTHONDONTWRITEBYTECODE": "1",
            "AIRFLOW__CORE__LOAD_EXAMPLES": "False",
            "AIRFLOW__CORE__AUTH_MANAGER": FAB_AUTH_MANAGER,
            "AIRFLOW__DATABASE__SQL_ALCHEMY_CONN": f"sqlite:///{self.home / 'airflow.db'}",
            "AIRFLOW__API__BASE_URL": self.url,
        }

    def install(self, stack: GeneratedStack) -> None:
        """What `pulumi up` and the chart do before the API server starts: schema, admin user, config file."""
        self.environment = {**self._base_environment(), **stack.api_server_environment()}
        self.run("airflow", "db", "migrate")
        job = stack.values["createUserJob"]
        job_env = {entry["name"]: stack.secret(entry["valueFrom"]["secretKeyRef"]) for entry in job["env"]}
        self.run(*job["args"], extra_env=job_env)

    def run(self, *args: str, extra_env: Mapping[str, str] | None = None) -> str:
        result = subprocess.run(
            args,
            env={**self.environment, **(extra_env or {})},
            cwd=self.home,
            capture_output=True,
            text=True,
            timeout=300,
            check=False,
        )
        if result.returncode != 0:
            raise HarnessError(f"`{' '.join(args[:3])}` exited {result.returncode}:\n{result.stdout[-3000:]}")
        return result.stdout

    def start(self, stack: GeneratedStack) -> None:
        """(Re)start with `stack`'s webserver_config.py and API server env, as a rolled pod would."""
        self.stop()
        config = stack.values["apiServer"].get("apiServerConfig")
        config_file = self.home / "webserver_config.py"
        config_file.unlink(missing_ok=True)
        if config is not None:
            config_file.write_text(config)
        self.environment = {**self._base_environment(), **stack.api_server_environment()}
        with self.log.open("ab") as output:
            self.process = subprocess.Popen(
                ["airflow", "api-server", "--port", str(self.port)],
                stdout=output,
                stderr=subprocess.STDOUT,
                env=self.environment,
                cwd=self.home,
                start_new_session=True,
            )
        deadline = time.monotonic() + 120
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise HarnessError(f"airflow api-server exited {self.process.returncode}:\n{self.log_tail()}")
            with contextlib.suppress(OSError):
                if self.request("GET", "/api/v2/monitor/health")[0] == 200:
                    return
            time.sleep(0.5)
        raise HarnessError(f"airflow api-server did not answer in 120 s:\n{self.log_tail()}")

    def stop(self) -> None:
        if self.process is None:
            return
        with contextlib.suppress(ProcessLookupError):
            os.killpg(self.process.pid, signal.SIGTERM)
        with contextlib.suppress(subprocess.TimeoutExpired):
            self.process.wait(timeout=15)
        with contextlib.suppress(ProcessLookupError):
            os.killpg(self.process.pid, signal.SIGKILL)
        self.process.wait()
        self.process = None

    def log_tail(self, lines: int = 40) -> str:
        return "\n".join(self.log.read_text(errors="replace").splitlines()[-lines:]) if self.log.exists() else ""

    def request(self, method: str, path: str, body: bytes | None = None, token: str | None = None) -> tuple[int, str]:
        headers = {"Content-Type": "application/json", "Accept": "application/json"}
        if token is not None:
            headers["Authorization"] = f"Bearer {token}"
        request = urllib.request.Request(self.url + path, data=body, headers=headers, method=method)
        try:
            with urllib.request.urlopen(request, timeout=30) as answer:
                return answer.status, answer.read().decode()
        except urllib.error.HTTPError as error:
            return error.code, error.read().decode()


@contextlib.contextmanager
def api_server() -> Iterator[ApiServer]:
    """An ApiServer on a scratch AIRFLOW_HOME, stopped and removed on exit."""
    with tempfile.TemporaryDirectory(prefix="runtime-auth-", ignore_cleanup_errors=True) as scratch:
        server = ApiServer(Path(scratch))
        try:
            yield server
        finally:
            server.stop()


@contextlib.contextmanager
def chromium_context() -> Iterator[Any]:
    """A fresh Playwright browser context in Debian's headless Chromium (no downloaded browser)."""
    if not CHROMIUM.exists():
        raise HarnessError(f"{CHROMIUM} is missing: `apt-get install chromium`, or point RUNTIME_CHROMIUM at one")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=str(CHROMIUM), headless=True, args=["--no-sandbox"])
        try:
            context = browser.new_context()
            yield context
        finally:
            browser.close()
