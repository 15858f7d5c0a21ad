"""`auth.mode: oidc` for real: the stack's generated sign-in configuration in the real API server, a local
OpenID Connect provider (oidc-provider-mock, from PyPI) on loopback, and headless Chromium clicking through.

The provider knows two people: alice, in the group the stack maps to Admin, and bob, in a
group it does not map (he gets `auth.defaultRole`, Viewer). Its consent page also has a
Deny button: the provider refusing someone. The OAuth client is registered at the
provider (client id and secret of its choosing), so a wrong secret is refused as a real
provider would refuse it.
"""

from __future__ import annotations

import json
import re
import time
import urllib.request
from collections.abc import Iterator
from typing import Any

import pytest
from oidc_provider_mock import User, run_server_in_thread
from runtime.auth_harness import ApiServer, GeneratedStack, api_server, chromium_context
from stack_checks import stack_config

from components.airflow.auth import CALLBACK_PATH
from review.runner import ROOT, run_main

ADMIN_GROUP = "data-platform"
ALICE = User(sub="alice", claims={"email": "alice@example.com", "email_verified": True, "groups": [ADMIN_GROUP]})
BOB = User(sub="bob", claims={"email": "bob@example.com", "email_verified": True, "groups": ["marketing"]})
DENY = "deny"
# `[fab] cache_ttl` default (providers-fab FabAuthManager.CACHE_TTL): how long a deleted user's token lives on.
USER_CACHE_TTL_SECONDS = 30
# What the FAB sign-in page shows when the provider's answer cannot be turned into a token.
DENIED = "The request to sign in was denied."
README_TROUBLESHOOTING = (ROOT / "README.md").read_text().split("## Troubleshooting", 1)[1]


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

    def stack(self, mode: str = "oidc", client_secret: str | None = None) -> GeneratedStack:
        """What the stack program generates for the local shape signing in through this provider."""
        config = stack_config("local")
        config["auth"] = {
            "mode": mode,
            "issuer": self.issuer,
            "clientId": self.client_id,
            "roles": {"Admin": [ADMIN_GROUP]},
            "defaultRole": "Viewer",
        }
        config["authClientSecret"] = client_secret or self.client_secret
        return GeneratedStack.from_run(run_main(config, stack="local", secret_keys=("authClientSecret",)))


@pytest.fixture(scope="module")
def server() -> Iterator[ApiServer]:
    with api_server() as running:
        yield running


@pytest.fixture(scope="module")
def provider(server: ApiServer) -> Iterator[Provider]:
    with run_server_in_thread(require_client_registration=True, user_claims=[ALICE, BOB]) as oidc:
        yield Provider(oidc.server_port, server.url + CALLBACK_PATH + "oidc")


@pytest.fixture(scope="module")
def oidc_server(server: ApiServer, provider: Provider) -> ApiServer:
    """Installed with the oidc stack (schema, generated admin), then run in password mode and in oidc mode."""
    server.install(provider.stack())
    return server


def sign_in(server: ApiServer, context: Any, who: str) -> Any:
    """Open Airflow, follow its sign-in button to the provider, choose `who` (or Deny); the page it ends on."""
    page = context.new_page()
    page.goto(server.url + "/")
    page.wait_for_url(re.compile(r".*/auth/login/.*"))
    page.click("text=Sign In with oidc")
    page.wait_for_url(re.compile(r".*/oauth2/authorize.*"))
    page.click(f"button[value='{who}']")
    page.wait_for_load_state("networkidle")
    return page


def token_of(context: Any) -> str | None:
    return next((cookie["value"] for cookie in context.cookies() if cookie["name"] == "_token"), None)


def roles_of(server: ApiServer, username: str) -> list[str]:
    # The command logs before it prints the JSON list.
    output = server.run("airflow", "users", "list", "--output", "json").splitlines()
    users = json.loads(next(line for line in output if line.startswith("[{")))
    return next(user["roles"] for user in users if user["username"] == username)


def test_the_admin_password_signs_in_only_in_password_mode(oidc_server: ApiServer, provider: Provider) -> None:
    """Break-glass: in password mode the generated admin signs in; with oidc the same password opens nothing."""
    stack = provider.stack()
    credentials = json.dumps(dict(zip(("username", "password"), stack.admin, strict=True))).encode()
    oidc_server.start(provider.stack(mode="password"))
    assert oidc_server.request("POST", "/auth/token", credentials)[0] == 201, "password mode: the admin signs in"
    oidc_server.start(stack)
    status, body = oidc_server.request("POST", "/auth/token", credentials)
    assert status == 401, f"oidc mode: POST /auth/token with the admin password answered {status} {body}"
    assert "password sign-in of admin refused: auth.mode is oidc" in oidc_server.log_tail(200)


def test_a_user_in_the_admin_group_lands_as_admin(oidc_server: ApiServer) -> None:
    with chromium_context() as context:
        page = sign_in(oidc_server, context, ALICE.sub)
        assert page.url == oidc_server.url + "/", f"alice ended on {page.url}: {page.inner_text('body')[:300]}"
        token = token_of(context)
        assert token is not None, "no Airflow session after signing in"
    assert roles_of(oidc_server, "alice@example.com") == ["Admin"]
    assert oidc_server.request("GET", "/auth/fab/v1/roles", token=token)[0] == 200, "an Admin reads the roles"


def test_a_user_in_no_mapped_group_gets_the_default_role(oidc_server: ApiServer) -> None:
    with chromium_context() as context:
        page = sign_in(oidc_server, context, BOB.sub)
        assert page.url == oidc_server.url + "/"
        token = token_of(context)
        assert token is not None
    assert roles_of(oidc_server, "bob@example.com") == ["Viewer"]
    assert oidc_server.request("GET", "/api/v2/dags", token=token)[0] == 200, "a Viewer reads the DAGs"
    assert oidc_server.request("GET", "/auth/fab/v1/roles", token=token)[0] == 403, "but not the roles"


def test_a_user_the_provider_refuses_never_gets_a_session(oidc_server: ApiServer) -> None:
    with chromium_context() as context:
        page = sign_in(oidc_server, context, DENY)
        assert DENIED in page.inner_text("body")
        assert token_of(context) is None, "a refused sign-in left an Airflow token"
    assert "access_denied" in oidc_server.log_tail(200)


def test_a_removed_user_is_signed_out_within_the_user_cache_ttl(oidc_server: ApiServer) -> None:
    """README, "Remove someone": deleting the user ends the token they already hold, once the
    FAB auth manager's user cache (`[fab] cache_ttl`, 30 s) lets go of them."""
    with chromium_context() as context:
        sign_in(oidc_server, context, ALICE.sub)
        token = token_of(context)
    assert oidc_server.request("GET", "/api/v2/dags", token=token)[0] == 200
    oidc_server.run("airflow", "users", "delete", "--username", "alice@example.com")
    deadline = time.monotonic() + USER_CACHE_TTL_SECONDS + 15
    while (status := oidc_server.request("GET", "/api/v2/dags", token=token)[0]) == 200:
        assert time.monotonic() < deadline, "the deleted user's token still works"
        time.sleep(2)
    assert status in (401, 403)


def test_a_wrong_client_secret_fails_as_the_readme_explains(oidc_server: ApiServer, provider: Provider) -> None:
    """Last: it leaves the API server running with the wrong secret."""
    oidc_server.start(provider.stack(client_secret="not-the-registered-secret"))
    with chromium_context() as context:
        page = sign_in(oidc_server, context, BOB.sub)
        assert DENIED in page.inner_text("body")
        assert token_of(context) is None
    assert "Error authorizing OAuth access token: invalid_client" in oidc_server.log_tail(200)
    row = next(line for line in README_TROUBLESHOOTING.splitlines() if DENIED in line)
    assert "invalid_client" in row and "authClientSecret" in row, "the README's row explains this failure"
