"""`auth.mode: oidc` for real: the stack's generated sign-in configuration in the real API server, a local
OpenID Connect provider (oidc-provider-mock, from PyPI) on loopback, and headless Chromium clicking through.

Runs on the local deployment (conftest): its API server is restarted with each variant's
`apiServer.apiServerConfig` and `apiServer.env` as chart 1.22.0 gives them to the API server only
(RunningAirflow.serve_api), as a rolled pod would get them.

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
from runtime.harness import Airflow, Chromium, tail
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


class Provider:
    """The local OpenID Connect provider and the client the stack is registered as."""

    def __init__(self, port: int, redirect_uri: str) -> None:
        self.issuer = f"http://localhost:{port}"
        request = urllib.request.Request(
            f"{self.issuer}/oauth2/clients",
            data=json.dumps({"redirect_uris": [redirect_uri]}).encode(),
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
    client = Provider(provider.server_port, running.airflow.base_url + CALLBACK_PATH + "oidc")
    assert client.stack().admin == running.admin, "the auth settings changed the generated admin"
    yield running, client


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


def roles_of(running: RunningAirflow, username: str) -> list[str]:
    """The user's roles as FAB stores them (what `airflow users list` prints), read with SQL."""
    quoted = username.replace("'", "''")
    rows = running.postgres.psql(
        "SELECT r.name FROM ab_user u JOIN ab_user_role ur ON ur.user_id = u.id JOIN ab_role r ON r.id = ur.role_id"
        f" WHERE u.username = '{quoted}' ORDER BY r.name",
        database=running.database,
    )
    return rows.splitlines()


def test_the_admin_password_signs_in_only_in_password_mode(signed_in: tuple[RunningAirflow, Provider]) -> None:
    """Break-glass: in password mode the generated admin signs in; with oidc the same password opens nothing."""
    running, provider = signed_in
    airflow = running.airflow
    running.serve_api(provider.stack(mode="password"))
    assert airflow.token(*running.admin).status == 201, "password mode: the generated admin signs in"
    running.serve_api(provider.stack())
    refused = airflow.token(*running.admin)
    assert refused.status == 401, f"oidc mode: POST /auth/token with the admin password answered {refused}"
    assert "password sign-in of admin refused: auth.mode is oidc" in tail(airflow.log_file(API_SERVER), 200)


def test_a_user_in_the_admin_group_lands_as_admin(
    signed_in: tuple[RunningAirflow, Provider], chromium: Chromium
) -> None:
    running = signed_in[0]
    airflow = running.airflow
    with chromium.page() as page:
        sign_in(airflow, page, ALICE.sub)
        assert page.url == airflow.base_url + "/", f"alice ended on {page.url}: {page.inner_text('body')[:300]}"
        token = token_of(page)
    assert token is not None, "no Airflow session after signing in"
    assert roles_of(running, "alice@example.com") == ["Admin"]
    assert airflow.request("GET", "/auth/fab/v1/roles", token=token).status == 200, "an Admin reads the roles"


def test_a_user_in_no_mapped_group_gets_the_default_role(
    signed_in: tuple[RunningAirflow, Provider], chromium: Chromium
) -> None:
    running = signed_in[0]
    airflow = running.airflow
    with chromium.page() as page:
        sign_in(airflow, page, BOB.sub)
        assert page.url == airflow.base_url + "/"
        token = token_of(page)
    assert token is not None
    assert roles_of(running, "bob@example.com") == ["Viewer"]
    assert airflow.request("GET", "/api/v2/dags", token=token).status == 200, "a Viewer reads the DAGs"
    assert airflow.request("GET", "/auth/fab/v1/roles", token=token).status == 403, "but not the roles"


def test_a_user_the_provider_refuses_never_gets_a_session(
    signed_in: tuple[RunningAirflow, Provider], chromium: Chromium
) -> None:
    airflow = signed_in[0].airflow
    with chromium.page() as page:
        sign_in(airflow, page, DENY)
        assert DENIED in page.inner_text("body")
        assert token_of(page) is None, "a refused sign-in left an Airflow token"
    assert "access_denied" in tail(airflow.log_file(API_SERVER), 200)


def test_a_removed_user_is_signed_out_within_the_user_cache_ttl(
    signed_in: tuple[RunningAirflow, Provider], chromium: Chromium
) -> None:
    """docs/operations/access.md, "Remove someone": deleting the user ends the token they already
    hold, once the FAB auth manager's user cache (`[fab] cache_ttl`, as the stack sets it) lets go of them."""
    running = signed_in[0]
    airflow = running.airflow
    cache_ttl = int(running.stack.values["config"]["fab"]["cache_ttl"])
    with chromium.page() as page:
        sign_in(airflow, page, ALICE.sub)
        token = token_of(page)
    assert airflow.request("GET", "/api/v2/dags", token=token).status == 200
    airflow.airflow("users", "delete", "--username", "alice@example.com")
    deadline = time.monotonic() + cache_ttl + 5
    while (status := airflow.request("GET", "/api/v2/dags", token=token).status) == 200:
        assert time.monotonic() < deadline, "the deleted user's token still works"
        time.sleep(1)
    assert status in (401, 403)


def refused_sign_in(running: RunningAirflow, chromium: Chromium, stack: StackAirflow, who: str, shown: str) -> str:
    """Restart with `stack`; `who` signing in sees `shown` and gets no session. The README's row for it."""
    running.serve_api(stack)
    with chromium.page() as page:
        sign_in(running.airflow, page, who)
        assert shown in page.inner_text("body")
        assert token_of(page) is None, f"{who} got an Airflow session"
    return next(line for line in README_TROUBLESHOOTING.splitlines() if shown in line)


def test_default_role_none_refuses_whoever_is_in_no_mapped_group(
    signed_in: tuple[RunningAirflow, Provider], chromium: Chromium
) -> None:
    running, provider = signed_in
    row = refused_sign_in(running, chromium, provider.stack(default_role="none"), BOB.sub, INVALID_LOGIN)
    log = tail(running.airflow.log_file(API_SERVER), 200)
    assert "in no group auth.roles maps, and auth.defaultRole is none" in log
    assert "auth.defaultRole" in row, "the README's row explains this refusal"


def test_a_wrong_client_secret_fails_as_the_readme_explains(
    signed_in: tuple[RunningAirflow, Provider], chromium: Chromium
) -> None:
    running, provider = signed_in
    wrong_secret = provider.stack(client_secret="not-the-registered-secret")
    row = refused_sign_in(running, chromium, wrong_secret, BOB.sub, DENIED)
    log = tail(running.airflow.log_file(API_SERVER), 200)
    assert "Error authorizing OAuth access token: invalid_client" in log
    assert "invalid_client" in row and "authClientSecret" in row, "the README's row explains this failure"
