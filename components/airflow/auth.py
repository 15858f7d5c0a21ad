"""The API server's sign-in through the company's identity provider (`auth.mode: oidc`), as chart values.

Chart 1.22.0 already runs Airflow 3 with the FAB auth manager
(`config.core.auth_manager` in its values.yaml). Its `apiServer.apiServerConfig`
string becomes the API server's webserver_config.py (templates/configmaps/
api-server-configmap.yaml, mounted by api-server-deployment.yaml), and
`apiServer.env` reaches that container only - not the scheduler, not the task
pods, unlike the chart's top-level `env` and `secret`. So the settings and the
client secret's Secret reference go there; the secret itself stays in the
Secret (components/airflow/secrets.py).
"""

from __future__ import annotations

import hashlib
import json
from pathlib import Path
from typing import Any

from components.auth import AuthSettings

SETTINGS_ENV = "AIRFLOW_PLATFORM_AUTH"
CLIENT_SECRET_ENV = "AIRFLOW_PLATFORM_AUTH_CLIENT_SECRET"
# The Secret key holding the OAuth client secret (components/airflow/secrets.py).
CLIENT_SECRET_KEY = "client-secret"
# Where FAB's OAuth view receives the provider's answer (flask-appbuilder
# AuthOAuthView.oauth_authorized) under the auth manager's mount point `/auth`.
CALLBACK_PATH = "/auth/oauth-authorized/"
# Pod annotation with the config file's digest: the chart's checksums do not
# cover the api-server ConfigMap, so a changed file would not roll the pods.
CONFIG_CHECKSUM_ANNOTATION = "airflow-platform/api-server-config-checksum"
# How long the FAB auth manager keeps a user it looked up (`[fab] cache_ttl`, 30 s by default;
# providers-fab FabAuthManager.CACHE_TTL): a deleted user's token works until then. At 10 s a
# removed person is locked out three times sooner, for one metadata query per signed-in user
# per 10 s of use.
USER_CACHE_TTL_SECONDS = 10
# Sign-in through the identity provider (`auth.mode: oidc`).
WEBSERVER_CONFIG = (Path(__file__).parent / "webserver_config.py").read_text()
# What every API server runs at start, whatever the sign-in (api_server_fixes.py says why).
API_SERVER_FIXES = (Path(__file__).parent / "api_server_fixes.py").read_text()


def api_server_config(oidc: bool) -> str:
    """The API server's webserver_config.py: the fixes, after the provider sign-in with `auth.mode: oidc`."""
    return f"{WEBSERVER_CONFIG}\n\n{API_SERVER_FIXES}" if oidc else API_SERVER_FIXES


def config_checksum(text: str) -> str:
    """CONFIG_CHECKSUM_ANNOTATION's value: the config file's digest."""
    return hashlib.sha256(text.encode()).hexdigest()


def redirect_path(settings: AuthSettings) -> str:
    """The path of the redirect URI to register at the provider, after the UI's address."""
    return f"{CALLBACK_PATH}{settings.provider}"


def settings_json(settings: AuthSettings) -> str:
    """What webserver_config.py reads from AIRFLOW_PLATFORM_AUTH: nothing secret, keys sorted for stable diffs."""
    return json.dumps(
        {
            "provider": settings.provider,
            "issuer": settings.issuer,
            "clientId": settings.client_id,
            "domain": settings.domain,
            "organization": settings.organization,
            "roles": {role: list(groups) for role, groups in settings.roles.items()},
            "defaultRole": settings.default_role,
        },
        sort_keys=True,
    )


def api_server_auth_environment(settings: AuthSettings, client_secret_name: str) -> list[dict[str, Any]]:
    """The `apiServer.env` entries webserver_config.py reads: its settings, the client secret by reference."""
    return [
        {"name": SETTINGS_ENV, "value": settings_json(settings)},
        {
            "name": CLIENT_SECRET_ENV,
            "valueFrom": {"secretKeyRef": {"name": client_secret_name, "key": CLIENT_SECRET_KEY}},
        },
    ]
