"""`make plan STACK=prod` with `auth.mode: oidc`: the auth settings are shown, the client secret never is."""

from __future__ import annotations

import contextlib
import io
import json
from pathlib import Path
from typing import Any

import yaml
from stack_checks import RELEASE_TYPE, stack_config

from review.__main__ import main
from review.plan import SECRET, placeholder
from review.runner import PROJECT

CIPHERTEXT = "v1:AAAABBBBCCCCDDDDeeeeffff:theencryptedclientsecretnobodycanread"
AUTH = {
    "mode": "oidc",
    "provider": "entra",
    "tenant": "example.onmicrosoft.com",
    "clientId": "3f1d2c4b-airflow-prod",
    "roles": {"Admin": ["data-platform"], "Viewer": ["analysts"]},
    "defaultRole": "none",
}


def plan_prod(root: Path, client_secret: Any) -> tuple[int, str, str, Path]:
    """`python -m review plan --stack prod` on a prod stack file with `auth` and `authClientSecret`."""
    config = {**stack_config("prod"), "auth": AUTH, "authClientSecret": client_secret}
    document = {"config": {f"{PROJECT}:{key}": value for key, value in config.items()}}
    (root / "Pulumi.prod.yaml").write_text(yaml.safe_dump(document, sort_keys=False))
    out = root / "plan.json"
    stdout, stderr = io.StringIO(), io.StringIO()
    with contextlib.redirect_stdout(stdout), contextlib.redirect_stderr(stderr):
        status = main(["plan", "--stack", "prod", "--out", str(out)], root=root)
    return status, stdout.getvalue(), stderr.getvalue(), out


def test_the_plan_shows_the_auth_settings_and_never_the_client_secret(tmp_path: Path) -> None:
    status, text, stderr, out = plan_prod(tmp_path, {"secure": CIPHERTEXT})
    assert status == 0, stderr
    plan = json.loads(out.read_text())
    [release] = [r for r in plan["resources"] if r["type"] == RELEASE_TYPE and r["inputs"]["chart"] == "airflow"]
    env = {item["name"]: item for item in release["inputs"]["values"]["apiServer"]["env"]}
    shown = json.loads(env["AIRFLOW_PLATFORM_AUTH"]["value"])
    assert shown["issuer"] == "https://login.microsoftonline.com/example.onmicrosoft.com/v2.0"
    assert shown["roles"] == AUTH["roles"] and shown["clientId"] == AUTH["clientId"]
    assert plan["exports"]["authRedirectUri"] == "https://airflow.acme.com/auth/oauth-authorized/entra"
    [client_secret] = [
        r for r in plan["resources"] if r["type"] == "kubernetes:core/v1:Secret" and r["name"].endswith("auth-client")
    ]
    assert client_secret["inputs"]["stringData"] == SECRET
    for rendered in (out.read_text(), text):
        assert CIPHERTEXT not in rendered
        assert placeholder("authClientSecret") not in rendered
    assert "authRedirectUri" in text


def test_a_plain_text_client_secret_fails_the_plan_without_printing_it(tmp_path: Path) -> None:
    value = "an-unencrypted-client-secret-value"
    status, text, stderr, _ = plan_prod(tmp_path, value)
    assert status == 1 and text == ""
    assert f"{PROJECT}:authClientSecret" in stderr and "pulumi config set --secret authClientSecret" in stderr
    assert value not in stderr
