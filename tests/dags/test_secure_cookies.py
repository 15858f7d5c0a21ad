"""Behind GKE's Gateway, the real Airflow 3.2.2 API server marks its cookie Secure, and only there.

The stack runs `airflow api-server --proxy-headers` with FORWARDED_ALLOW_IPS
set to the Google proxies' ranges and the Gateway's address (components/
airflow/values.py; tests/test_secure_cookies.py pins the value). uvicorn's
ProxyHeadersMiddleware is what `--proxy-headers` installs; around Airflow's
own app it decides the scheme Airflow's cookie code reads
(`secure = request.base_url.scheme == "https"`). The first two tests use the
simple auth manager's login route; the last logs in through the FAB auth
manager the chart configures (fab_login.py), and runs where the FAB provider
is installed in .venv-dags.
"""

from __future__ import annotations

import asyncio
import importlib.util
import json
import os
import subprocess
import sys
from pathlib import Path

import httpx
import pytest
from uvicorn.middleware.proxy_headers import ProxyHeadersMiddleware

# Shaped like the GKE stack's value: the GFE proxy ranges, then the Gateway's address.
GATEWAY_ADDRESS = "203.0.113.9"
FORWARDED_ALLOW_IPS = f"35.191.0.0/16,130.211.0.0/22,{GATEWAY_ADDRESS}"
GOOGLE_PROXY = "35.191.3.4"
IN_CLUSTER_CLIENT = "10.8.0.5"
BROWSER = "198.51.100.7"
# What the Gateway sends: TLS ended at the proxy, the client and the LB address appended.
FROM_THE_GATEWAY = {"X-Forwarded-Proto": "https", "X-Forwarded-For": f"{BROWSER}, {GATEWAY_ADDRESS}"}


@pytest.fixture(scope="module")
def api_server():
    """Airflow's API app behind uvicorn's proxy-header handling, as `api-server --proxy-headers` runs it."""
    from airflow.api_fastapi.app import create_app, purge_cached_app

    with pytest.MonkeyPatch.context() as patch:
        patch.setenv(
            "AIRFLOW__CORE__AUTH_MANAGER",
            "airflow.api_fastapi.auth.managers.simple.simple_auth_manager.SimpleAuthManager",
        )
        # A login that needs no user: the route sets the `_token` cookie right away.
        patch.setenv("AIRFLOW__CORE__SIMPLE_AUTH_MANAGER_ALL_ADMINS", "True")
        patch.setenv("AIRFLOW__API_AUTH__JWT_SECRET", "test-only-" + "x" * 64)
        purge_cached_app()
        yield ProxyHeadersMiddleware(create_app(apps="core"), trusted_hosts=FORWARDED_ALLOW_IPS)
        purge_cached_app()


def login_cookie(app, client_ip: str) -> str:
    async def request() -> httpx.Response:
        transport = httpx.ASGITransport(app=app, client=(client_ip, 43210))
        async with httpx.AsyncClient(transport=transport, base_url="http://airflow-api-server:8080") as client:
            return await client.get("/auth/token/login", headers=FROM_THE_GATEWAY)

    response = asyncio.run(request())
    assert response.status_code == 307, response.text
    cookie = response.headers["set-cookie"]
    assert cookie.startswith("_token="), cookie
    return cookie


def attributes(cookie: str) -> set[str]:
    return {part.strip().lower() for part in cookie.split(";")[1:]}


def test_a_request_through_the_gateway_gets_a_secure_cookie(api_server) -> None:
    assert "secure" in attributes(login_cookie(api_server, GOOGLE_PROXY))


def test_anyone_else_claiming_https_is_not_believed(api_server) -> None:
    """A pod in the cluster (or any address not listed) cannot make Airflow believe the scheme."""
    assert "secure" not in attributes(login_cookie(api_server, IN_CLUSTER_CLIENT))


@pytest.mark.skipif(
    importlib.util.find_spec("airflow.providers.fab") is None,
    reason="the FAB provider is not in .venv-dags (requirements-dags.txt)",
)
def test_fab_login_sets_both_cookies_secure_through_the_gateway_and_session_always(tmp_path: Path) -> None:
    """What the HTTPS stacks set: `[fab] cookie_secure = True`, `[fab] enable_proxy_fix = False`.

    Through Google's proxies both cookies are Secure. From an address the API
    server does not trust (as behind AWS's NLB, which sends no header) only
    `session` is: `_token` follows the scheme (README, "Secure cookies").
    """
    env = {
        **os.environ,
        "AIRFLOW_HOME": str(tmp_path),
        "AIRFLOW__DATABASE__SQL_ALCHEMY_CONN": f"sqlite:///{tmp_path}/airflow.db",
        "AIRFLOW__CORE__AUTH_MANAGER": "airflow.providers.fab.auth_manager.fab_auth_manager.FabAuthManager",
        "AIRFLOW__API_AUTH__JWT_SECRET": "test-only-" + "x" * 64,
        "AIRFLOW__FAB__COOKIE_SECURE": "True",
        "AIRFLOW__FAB__ENABLE_PROXY_FIX": "False",
    }
    script = Path(__file__).with_name("fab_login.py")
    result = subprocess.run(
        [sys.executable, str(script), FORWARDED_ALLOW_IPS, GOOGLE_PROXY, IN_CLUSTER_CLIENT],
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    assert result.returncode == 0, result.stderr[-3000:]
    cookies = json.loads(result.stdout.strip().splitlines()[-1])
    assert "secure" in cookies[GOOGLE_PROXY]["_token"] and "secure" in cookies[GOOGLE_PROXY]["session"]
    assert "secure" in cookies[IN_CLUSTER_CLIENT]["session"]
    assert "secure" not in cookies[IN_CLUSTER_CLIENT]["_token"]
