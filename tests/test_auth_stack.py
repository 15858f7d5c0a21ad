"""`auth.mode: oidc` through `__main__.py` under mocks: what the API server gets, what stays secret, what is output."""

from __future__ import annotations

import json
from typing import Any

import pytest
import stack_checks as checks

from components.airflow.auth import (
    API_SERVER_FIXES,
    CLIENT_SECRET_ENV,
    CONFIG_CHECKSUM_ANNOTATION,
    SETTINGS_ENV,
    WEBSERVER_CONFIG,
    api_server_config,
    config_checksum,
)
from review.runner import Run, run_main

CLIENT_SECRET = "s3cr3t-client-secret-of-the-tests"
ISSUER = "http://localhost:9400"
ROLES = {"Admin": ["data-platform"], "Op": ["data-eng"]}
SECRET_KEYS = ("authClientSecret",)


def with_oidc(stack: str, **auth: Any) -> dict[str, Any]:
    config = checks.stack_config(stack)
    config["auth"] = {"mode": "oidc", "clientId": "airflow-local", "roles": ROLES, **auth}
    config["authClientSecret"] = CLIENT_SECRET
    return config


@pytest.fixture(scope="module")
def local_oidc() -> Run:
    return run_main(with_oidc("local", issuer=ISSUER), stack="local", secret_keys=SECRET_KEYS)


@pytest.fixture(scope="module")
def prod_okta() -> Run:
    okta = {"provider": "okta", "issuer": "https://acme.okta.com/oauth2/default", "defaultRole": "none"}
    return run_main(with_oidc("prod", **okta), stack="prod", secret_keys=SECRET_KEYS)


def api_server_env(run: Run) -> dict[str, dict[str, Any]]:
    return {item["name"]: item for item in checks.release_values(run)["apiServer"]["env"]}


def test_the_api_server_gets_the_fab_oauth_config_and_its_settings(local_oidc: Run) -> None:
    api_server = checks.release_values(local_oidc)["apiServer"]
    config = api_server["apiServerConfig"]
    assert config.startswith(WEBSERVER_CONFIG) and config.endswith(API_SERVER_FIXES), "sign-in first, then the fixes"
    assert "AUTH_TYPE = AUTH_OAUTH" in config and "AUTH_ROLES_SYNC_AT_LOGIN = True" in config
    assert "{{" not in config, "the chart renders apiServerConfig with tpl: '{{' would be a template"
    compile(config, "webserver_config.py", "exec")  # one file: a `from __future__` after line one would not compile
    settings = json.loads(api_server_env(local_oidc)[SETTINGS_ENV]["value"])
    assert settings == {
        "provider": "oidc",
        "issuer": ISSUER,
        "clientId": "airflow-local",
        "domain": None,
        "organization": None,
        "roles": ROLES,
        "defaultRole": "Viewer",
    }
    checks.assert_release_values_match_chart_schema(local_oidc)


def test_the_client_secret_reaches_the_api_server_from_a_secret_only(local_oidc: Run) -> None:
    ref = api_server_env(local_oidc)[CLIENT_SECRET_ENV]["valueFrom"]["secretKeyRef"]
    secret = checks.secret_named(local_oidc, ref["name"])
    assert secret.inputs["stringData"][ref["key"]] == CLIENT_SECRET
    assert "stringData" in secret.secret_inputs, "the client secret is stored as a Pulumi secret"
    checks.assert_secrets_referenced_by_name_exist(local_oidc)
    values = checks.release_values(local_oidc)
    assert CLIENT_SECRET not in json.dumps(values, default=str), "the client secret appears in the Helm values"
    everyone = json.dumps([values.get("env"), values.get("secret"), values["workers"], values["scheduler"]])
    assert ref["name"] not in everyone, "only the API server may read the client secret"


def test_a_changed_client_secret_rolls_the_api_server(local_oidc: Run) -> None:
    config = with_oidc("local", issuer=ISSUER)
    config["authClientSecret"] = "a-rotated-client-secret"
    rotated = run_main(config, stack="local", secret_keys=SECRET_KEYS)
    assert checks.assert_long_running_pods_carry_the_secrets_checksum(
        rotated
    ) != checks.assert_long_running_pods_carry_the_secrets_checksum(local_oidc)
    annotations = checks.release_values(local_oidc)["apiServer"]["podAnnotations"]
    assert annotations[CONFIG_CHECKSUM_ANNOTATION] == config_checksum(api_server_config(oidc=True)), (
        "a new config file rolls the pods"
    )


def test_the_redirect_uri_to_register_is_an_output(local_oidc: Run, prod_okta: Run) -> None:
    assert local_oidc.exports["authRedirectUri"].value == "http://localhost:8080/auth/oauth-authorized/oidc"
    assert prod_okta.exports["authRedirectUri"].value == "https://airflow.acme.com/auth/oauth-authorized/okta"


def test_a_production_preset_keeps_the_break_glass_admin(prod_okta: Run) -> None:
    values = checks.release_values(prod_okta)
    assert json.loads(api_server_env(prod_okta)[SETTINGS_ENV]["value"])["defaultRole"] is None
    assert values["createUserJob"]["defaultUser"]["role"] == "Admin", "the generated admin still exists"
    checks.assert_secret_outputs_are_secret(prod_okta, ("adminPassword",))
    checks.assert_release_values_match_chart_schema(prod_okta)


def test_password_mode_runs_the_fixes_only() -> None:
    run = checks.shape_run("local")
    api_server = checks.release_values(run)["apiServer"]
    assert api_server["apiServerConfig"] == API_SERVER_FIXES and "{{" not in API_SERVER_FIXES
    assert "AUTH_TYPE" not in API_SERVER_FIXES, "password sign-in stays FAB's default"
    assert "env" not in api_server
    assert api_server["podAnnotations"][CONFIG_CHECKSUM_ANNOTATION] == config_checksum(API_SERVER_FIXES)
    assert "authRedirectUri" not in run.exports
    assert not [s for s in run.of_type(checks.SECRET_TYPE) if "auth-client" in s.inputs["metadata"]["name"]]
