"""`airflow-platform:auth` validation: every bad input one clear problem naming the key, before any resource."""

from __future__ import annotations

from typing import Any

import pytest
from stack_checks import stack_config

from components.auth import ENTRA_ISSUER, GOOGLE_ISSUER
from components.config import HIDDEN, PLAIN_TEXT, ConfigError, parse_stack_config
from review.runner import run_main

ISSUER = "https://idp.example.test"
SECRET_KEY = "airflow-platform:authClientSecret"
# A cloud stack (the tests' own dev shape) with the HTTPS name the provider redirects to.
CLOUD: dict[str, Any] = {**stack_config("dev"), "ui": {"domain": "airflow.example.test"}}


def oidc(cloud: dict[str, Any] | None = None, secret: str | None = HIDDEN, **auth: Any) -> dict[str, Any]:
    """A stack with `auth.mode: oidc` and the client secret set as a Pulumi secret (HIDDEN) unless said otherwise."""
    raw = {**(cloud or {"cloud": "local"}), "auth": {"mode": "oidc", "clientId": "airflow", "issuer": ISSUER, **auth}}
    if secret is not None:
        raw["authClientSecret"] = secret
    return raw


def problems_of(raw: dict[str, Any]) -> dict[str, str]:
    with pytest.raises(ConfigError) as error:
        parse_stack_config(raw, stack="test")
    return {problem.key: str(problem) for problem in error.value.problems}


def test_password_sign_in_is_the_default() -> None:
    auth = parse_stack_config({"cloud": "local"}, stack="local").auth
    assert auth.mode == "password" and not auth.oidc
    assert auth.default_role == "Viewer"


def test_a_generic_oidc_provider_with_roles_and_default_role() -> None:
    auth = parse_stack_config(
        oidc(roles={"Admin": ["data-platform"], "Op": ["data-eng", "oncall"]}, defaultRole="User"), stack="t"
    ).auth
    assert (auth.mode, auth.provider, auth.issuer, auth.client_id) == ("oidc", "oidc", ISSUER, "airflow")
    assert auth.roles == {"Admin": ("data-platform",), "Op": ("data-eng", "oncall")}
    assert auth.default_role == "User"


def test_default_role_none_refuses_everyone_unmapped() -> None:
    assert parse_stack_config(oidc(defaultRole="none"), stack="t").auth.default_role is None


@pytest.mark.parametrize(
    ("preset", "keys", "issuer"),
    [
        ("google", {"domain": "example.com"}, GOOGLE_ISSUER),
        ("entra", {"tenant": "example.onmicrosoft.com"}, ENTRA_ISSUER.format(tenant="example.onmicrosoft.com")),
        ("github", {"organization": "acme-corp"}, None),
        ("okta", {"issuer": "https://acme.okta.com/oauth2/default"}, "https://acme.okta.com/oauth2/default"),
    ],
)
def test_each_preset_implies_its_issuer(preset: str, keys: dict[str, str], issuer: str | None) -> None:
    raw = oidc(provider=preset, **keys)
    if preset != "okta":
        del raw["auth"]["issuer"]
    assert parse_stack_config(raw, stack="t").auth.issuer == issuer


@pytest.mark.parametrize(
    ("issuer", "cloud"),
    [
        ("http://idp.example.test", "local"),
        ("http://localhost:9400", "gcp"),
        ("idp.example.test", "local"),
        ("https://idp.example.test/?tenant=1", "local"),
    ],
)
def test_an_issuer_that_is_not_https_is_refused(issuer: str, cloud: str) -> None:
    problem = problems_of(oidc(CLOUD if cloud == "gcp" else None, issuer=issuer))["airflow-platform:auth.issuer"]
    assert repr(issuer) in problem and "https://" in problem and "http://localhost only on cloud: local" in problem


def test_a_loopback_issuer_is_accepted_on_local() -> None:
    auth = parse_stack_config(oidc(issuer="http://localhost:9400/"), stack="local").auth
    assert auth.issuer == "http://localhost:9400"


def test_an_empty_or_missing_client_id_is_refused() -> None:
    assert "non-empty string" in problems_of(oidc(clientId=" "))["airflow-platform:auth.clientId"]
    raw = oidc()
    del raw["auth"]["clientId"]
    assert "the OAuth client id" in problems_of(raw)["airflow-platform:auth.clientId"]


def test_a_client_secret_in_plain_text_is_refused_without_echoing_it() -> None:
    problems = problems_of(oidc(secret=PLAIN_TEXT))
    assert "pulumi config set --secret authClientSecret" in problems[SECRET_KEY]
    assert HIDDEN in problems[SECRET_KEY]


def test_the_client_secret_is_required_with_oidc() -> None:
    assert "the OAuth client secret" in problems_of(oidc(secret=None))[SECRET_KEY]


def test_the_real_program_refuses_a_plain_text_client_secret_and_never_prints_it() -> None:
    """Through `__main__.py`: the CLI marks encrypted keys; an unmarked one is plain text in the stack file."""
    value = "0123456789abcdef-client-secret"
    with pytest.raises(ConfigError) as error:
        run_main(oidc(secret=value), stack="local")
    assert SECRET_KEY in str(error.value)
    assert value not in str(error.value)
    run_main(oidc(secret=value), stack="local", secret_keys=("authClientSecret",))


def test_an_unknown_role_name_is_refused() -> None:
    problems = problems_of(oidc(roles={"Administrator": ["data-platform"]}))
    assert (
        "a role Airflow has: one of ['Admin', 'Op', 'User', 'Viewer']"
        in problems["airflow-platform:auth.roles.Administrator"]
    )
    assert "'Superuser'" in problems_of(oidc(defaultRole="Superuser"))["airflow-platform:auth.defaultRole"]


def test_a_role_maps_a_non_empty_list_of_groups() -> None:
    assert "non-empty list" in problems_of(oidc(roles={"Op": []}))["airflow-platform:auth.roles.Op"]
    assert "non-empty list" in problems_of(oidc(roles={"Op": "data-eng"}))["airflow-platform:auth.roles.Op"]


@pytest.mark.parametrize("domain", ["@example.com", "https://example.com", "Example.COM", "example"])
def test_an_invalid_google_domain_is_refused(domain: str) -> None:
    raw = oidc(provider="google", domain=domain)
    del raw["auth"]["issuer"]
    assert "Google Workspace domain" in problems_of(raw)["airflow-platform:auth.domain"]


@pytest.mark.parametrize("organization", ["-acme", "acme-", "ac--me", "acme corp", "a" * 40, "acme/team"])
def test_an_invalid_github_organization_is_refused(organization: str) -> None:
    raw = oidc(provider="github", organization=organization)
    del raw["auth"]["issuer"]
    assert "a GitHub organization name" in problems_of(raw)["airflow-platform:auth.organization"]


@pytest.mark.parametrize("tenant", ["common", "organizations", "not a tenant"])
def test_a_shared_or_invalid_entra_tenant_is_refused(tenant: str) -> None:
    raw = oidc(provider="entra", tenant=tenant)
    del raw["auth"]["issuer"]
    assert "any tenant could sign in" in problems_of(raw)["airflow-platform:auth.tenant"]


def test_each_preset_needs_its_own_key_and_no_other() -> None:
    raw = oidc(provider="google", organization="acme")
    del raw["auth"]["issuer"]
    problems = problems_of(raw)
    assert "Google Workspace domain" in problems["airflow-platform:auth.domain"]
    assert "unset unless auth.provider is github" in problems["airflow-platform:auth.organization"]
    assert (
        "unset with auth.provider: google"
        in problems_of(oidc(provider="google", domain="example.com"))["airflow-platform:auth.issuer"]
    )


def test_oidc_on_a_cloud_stack_needs_the_ui_domain() -> None:
    without_domain = {**CLOUD, "ui": {}}
    problem = problems_of(oidc(without_domain))["airflow-platform:auth.mode"]
    assert "'oidc'" in problem and "ui.domain" in problem
    assert parse_stack_config(oidc(CLOUD), stack="dev").auth.oidc


def test_switching_back_to_password_keeps_the_provider_settings() -> None:
    """Break-glass is one key: the other auth keys stay valid in password mode."""
    auth = parse_stack_config(oidc(mode="password", roles={"Admin": ["data-platform"]}), stack="t").auth
    assert auth.mode == "password" and auth.client_id == "airflow"
