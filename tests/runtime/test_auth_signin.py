"""`auth.mode: oidc` for real: the stack's generated sign-in configuration in the real API server, a local
OpenID Connect provider (oidc-provider-mock, from PyPI) on loopback, and headless Chromium clicking through.

Runs on the local deployment (conftest): one API server per variant of the stack's sign-in
settings, each with that variant's `apiServer.apiServerConfig` and `apiServer.env` as chart 1.22.0
gives them to the API server only, as a pod rolled with them would get them - started side by
side on the deployment's database (RunningAirflow.rolled_api_servers).

The provider knows two people: alice, in the group the stack maps to Admin, and bob, in a
group it does not map (he gets `auth.defaultRole`, Viewer). Its consent page has a Deny
button: the provider refusing someone. The OAuth client is registered at the provider
(client id and secret of its choosing), so a wrong secret is refused as a real provider
refuses it.
"""

from __future__ import annotations

import json
import re
import time
import urllib.request
from collections.abc import Iterator
from typing import Any

import pytest
from docs_pages import page
from oidc_provider_mock import User, run_server_in_thread
from runtime.harness import Airflow, Chromium, api_url, free_port, tail
from runtime.stack_airflow import RunningAirflow, StackAirflow
from stack_checks import stack_config

from components.airflow.auth import CALLBACK_PATH
from review.runner import run_main

SHAPE = "local"
API_SERVER = "api-server"
ADMIN_GROUP = "data-platform"
ALICE = User(sub="alice", claims={"email": "alice@example.com", "email_verified": True, "groups": [ADMIN_GROUP]})
BOB = User(sub="bob", claims={"email": "bob@example.com", "email_verified": True, "groups": ["marketing"]})
DENY = "deny"
# What the FAB sign-in page shows when the provider's answer cannot be turned into a token,
# and when the platform refuses whom the provider let through (flask-appbuilder AuthView).
DENIED = "The request to sign in was denied."
INVALID_LOGIN = "Invalid login. Please try again."
README_TROUBLESHOOTING = page("troubleshooting.md")
# The sign-in settings the API servers run (`servers`): the stack's oidc defaults, and two that refuse.
OIDC = "oidc"
NO_DEFAULT_ROLE = "no-default-role"
WRONG_CLIENT_SECRET = "wrong-client-secret"


class Provider:
    """The local OpenID Connect provider, the client the stack is registered as, and the port of
    each variant's API server (`servers`: the client accepts each one's callback)."""

    def __init__(self, port: int, api_ports: dict[str, int]) -> None:
        self.issuer = f"http://localhost:{port}"
        self.api_ports = api_ports
        redirect_uris = [api_url(api_port) + CALLBACK_PATH + "oidc" for api_port in api_ports.values()]
        request = urllib.request.Request(
            f"{self.issuer}/oauth2/clients",
            data=json.dumps({"redirect_uris": redirect_uris}).encode(),
            headers={"Content-Type": "application/json"},
        )
        with urllib.request.urlopen(request, timeout=10) as answer:
            client = json.load(answer)
        self.client_id: str = client["client_id"]
        self.client_secret: str = client["client_secret"]

    def stack(self, mode: str = "oidc", client_secret: str | None = None, default_role: str = "Viewer") -> StackAirflow:
        """What the stack program generates for the local shape signing in through this provider."""
        config = stack_config(SHAPE)
        config["auth"] = {
            "mode": mode,
            "issuer": self.issuer,
            "clientId": self.client_id,
            "roles": {"Admin": [ADMIN_GROUP]},
            "defaultRole": default_role,
        }
        config["authClientSecret"] = client_secret or self.client_secret
        return StackAirflow.from_run(SHAPE, run_main(config, SHAPE, secret_keys=("authClientSecret",)))


@pytest.fixture(scope="module")
def provider() -> Iterator[Any]:
    with run_server_in_thread(require_client_registration=True, user_claims=[ALICE, BOB]) as server:
        yield server


@pytest.fixture(scope="module")
def signed_in(deployments: dict[str, RunningAirflow], provider: Any) -> Iterator[tuple[RunningAirflow, Provider]]:
    """The local deployment (its database, the generated admin) and the provider's client for it."""
    running = deployments[SHAPE]
    client = Provider(
        provider.server_port, {name: free_port() for name in (OIDC, NO_DEFAULT_ROLE, WRONG_CLIENT_SECRET)}
    )
    assert client.stack().admin == running.admin, "the auth settings changed the generated admin"
    yield running, client


@pytest.fixture(scope="module")
def servers(signed_in: tuple[RunningAirflow, Provider]) -> Iterator[dict[str, Airflow]]:
    """An API server per variant: the stack's oidc settings, `auth.defaultRole: none`, a wrong client secret."""
    running, client = signed_in
    variants = {
        OIDC: client.stack(),
        NO_DEFAULT_ROLE: client.stack(default_role="none"),
        WRONG_CLIENT_SECRET: client.stack(client_secret="not-the-registered-secret"),
    }
    with running.rolled_api_servers(
        {name: (stack, client.api_ports[name]) for name, stack in variants.items()}
    ) as rolled:
        yield rolled


def sign_in(airflow: Airflow, page: Any, who: str) -> Any:
    """Open Airflow, follow its sign-in button to the provider, choose `who` (or Deny); the page it ends on."""
    page.goto(airflow.base_url + "/")
    page.wait_for_url(re.compile(r".*/auth/login/.*"))
    page.click("text=Sign In with oidc")
    page.wait_for_url(re.compile(r".*/oauth2/authorize.*"))
    # Back from the provider the browser lands on the UI: these tests look at where, and at the session
    # cookie, not at what the React UI renders there (the DAG-list test does); its bundle is not
    # loaded again, each load costs Chromium seconds of CPU.
    page.route(f"{airflow.base_url}/static/**", lambda route: route.abort())
    page.click(f"button[value='{who}']")
    page.wait_for_load_state("networkidle")
    return page


def token_of(page: Any) -> str | None:
    return next((cookie["value"] for cookie in page.context.cookies() if cookie["name"] == "_token"), None)


def session_of(airflow: Airflow, chromium: Chromium, who: str) -> str:
    """`who` signs in through `airflow` and lands on the UI; the Airflow token their browser holds."""
    with chromium.page() as page:
        sign_in(airflow, page, who)
        assert page.url == airflow.base_url + "/", f"{who} ended on {page.url}: {page.inner_text('body')[:300]}"
        token = token_of(page)
    assert token is not None, f"no Airflow session after {who} signed in"
    return token


def roles_of(running: RunningAirflow, username: str) -> list[str]:
    """The user's roles as FAB stores them (what `airflow users list` prints), read with SQL."""
    quoted = username.replace("'", "''")
    rows = running.postgres.psql(
        "SELECT r.name FROM ab_user u JOIN ab_user_role ur ON ur.user_id = u.id JOIN ab_role r ON r.id = ur.role_id"
        f" WHERE u.username = '{quoted}' ORDER BY r.name",
        database=running.database,
    )
    return rows.splitlines()


def test_the_admin_password_signs_in_in_password_mode(signed_in: tuple[RunningAirflow, Provider]) -> None:
    """Break-glass: in password mode (the auth settings kept, `auth.mode: password`) the generated admin signs in."""
    running, provider = signed_in
    running.serve_api(provider.stack(mode="password"))
    assert running.airflow.token(*running.admin).status == 201, "password mode: the generated admin signs in"


def test_the_admin_password_opens_nothing_in_oidc_mode(
    signed_in: tuple[RunningAirflow, Provider], servers: dict[str, Airflow]
) -> None:
    airflow = servers[OIDC]
    refused = airflow.token(*signed_in[0].admin)
    assert refused.status == 401, f"oidc mode: POST /auth/token with the admin password answered {refused}"
    assert "password sign-in of admin refused: auth.mode is oidc" in tail(airflow.log_file(API_SERVER), 200)


def test_a_user_in_the_admin_group_lands_as_admin(
    signed_in: tuple[RunningAirflow, Provider], servers: dict[str, Airflow], chromium: Chromium
) -> None:
    running = signed_in[0]
    airflow = servers[OIDC]
    token = session_of(airflow, chromium, ALICE.sub)
    assert roles_of(running, "alice@example.com") == ["Admin"]
    assert airflow.request("GET", "/auth/fab/v1/roles", token=token).status == 200, "an Admin reads the roles"


def test_a_user_in_no_mapped_group_gets_the_default_role(
    signed_in: tuple[RunningAirflow, Provider], servers: dict[str, Airflow], chromium: Chromium
) -> None:
    running = signed_in[0]
    airflow = servers[OIDC]
    token = session_of(airflow, chromium, BOB.sub)
    assert roles_of(running, "bob@example.com") == ["Viewer"]
    assert airflow.request("GET", "/api/v2/dags", token=token).status == 200, "a Viewer reads the DAGs"
    assert airflow.request("GET", "/auth/fab/v1/roles", token=token).status == 403, "but not the roles"


def test_a_user_the_provider_refuses_never_gets_a_session(servers: dict[str, Airflow], chromium: Chromium) -> None:
    airflow = servers[OIDC]
    with chromium.page() as page:
        sign_in(airflow, page, DENY)
        assert DENIED in page.inner_text("body")
        assert token_of(page) is None, "a refused sign-in left an Airflow token"
    assert "access_denied" in tail(airflow.log_file(API_SERVER), 200)


def test_a_removed_user_is_signed_out_within_the_user_cache_ttl(
    signed_in: tuple[RunningAirflow, Provider], servers: dict[str, Airflow], chromium: Chromium
) -> None:
    """docs/operations/access.md, "Remove someone": deleting the user ends the token they already
    hold, once the FAB auth manager's user cache (`[fab] cache_ttl`, as the stack sets it) lets go of them."""
    running = signed_in[0]
    airflow = servers[OIDC]
    cache_ttl = int(running.stack.values["config"]["fab"]["cache_ttl"])
    token = session_of(airflow, chromium, ALICE.sub)
    assert airflow.request("GET", "/api/v2/dags", token=token).status == 200
    airflow.airflow("users", "delete", "--username", "alice@example.com")
    deadline = time.monotonic() + cache_ttl + 5
    while (status := airflow.request("GET", "/api/v2/dags", token=token).status) == 200:
        assert time.monotonic() < deadline, "the deleted user's token still works"
        time.sleep(1)
    assert status in (401, 403)


def refused_sign_in(airflow: Airflow, chromium: Chromium, who: str, shown: str) -> str:
    """`who` signing in through `airflow` sees `shown` and gets no session. The troubleshooting page's row for it."""
    with chromium.page() as page:
        sign_in(airflow, page, who)
        assert shown in page.inner_text("body")
        assert token_of(page) is None, f"{who} got an Airflow session"
    return next(line for line in README_TROUBLESHOOTING.splitlines() if shown in line)


def test_default_role_none_refuses_whoever_is_in_no_mapped_group(
    servers: dict[str, Airflow], chromium: Chromium
) -> None:
    airflow = servers[NO_DEFAULT_ROLE]
    row = refused_sign_in(airflow, chromium, BOB.sub, INVALID_LOGIN)
    log = tail(airflow.log_file(API_SERVER), 200)
    assert "in no group auth.roles maps, and auth.defaultRole is none" in log
    assert "auth.defaultRole" in row, "the README's row explains this refusal"


def test_a_wrong_client_secret_fails_as_the_readme_explains(servers: dict[str, Airflow], chromium: Chromium) -> None:
    airflow = servers[WRONG_CLIENT_SECRET]
    row = refused_sign_in(airflow, chromium, BOB.sub, DENIED)
    log = tail(airflow.log_file(API_SERVER), 200)
    assert "Error authorizing OAuth access token: invalid_client" in log
    assert "invalid_client" in row and "authClientSecret" in row, "the README's row explains this failure"
