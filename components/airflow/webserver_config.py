"""webserver_config.py of the Airflow API server with `auth.mode: oidc` (airflow-platform).

Not part of the Pulumi program: components/airflow/auth.py ships this file's
text as the chart's `apiServer.apiServerConfig`, which chart 1.22.0 mounts at
$AIRFLOW_HOME/webserver_config.py in the API server only (`[fab] config_file`),
where the FAB auth manager's Flask app loads it (apache-airflow-providers-fab,
www/app.py: `flask_app.config.from_pyfile(...)` inside an app context). Its
settings come from two environment variables the chart gives the API server
container only: AIRFLOW_PLATFORM_AUTH (JSON, nothing secret; shown by
`pulumi preview`) and AIRFLOW_PLATFORM_AUTH_CLIENT_SECRET (from a Kubernetes
Secret). The chart renders the text with Helm's `tpl`, so it must never hold
two opening braces in a row.

What it changes in FAB (flask-appbuilder 5.2 / providers-fab 3.6, both read):
- AUTH_OAUTH: the sign-in page offers the company's provider only;
- password sign-in is refused everywhere, the API's `POST /auth/token`
  included (FabAuthManager.create_token falls back to `auth_user_db` whatever
  AUTH_TYPE says), so the generated admin is break-glass only: usable after
  switching `auth.mode` back to `password`;
- who someone is comes from the ID token the provider signed (authlib checks
  issuer, audience, expiry and nonce) merged with its userinfo endpoint; GitHub
  is OAuth 2 without ID tokens, so its REST API says who the user is, whether
  they are an active member of the organization and which of its teams they
  are in;
- roles: the groups (GitHub: team slugs) and the e-mail address of the person
  are looked up in AUTH_ROLES_MAPPING at every sign-in; someone in no mapped
  group gets `defaultRole`, or is refused when it is none.
"""

from __future__ import annotations

import json
import logging
import os
from typing import Any

from airflow.configuration import conf
from airflow.providers.fab.auth_manager.security_manager.override import FabAirflowSecurityManagerOverride
from flask import current_app, has_app_context
from flask_appbuilder.const import AUTH_OAUTH

log = logging.getLogger(__name__)

SETTINGS: dict[str, Any] = json.loads(os.environ["AIRFLOW_PLATFORM_AUTH"])
PROVIDER: str = SETTINGS["provider"]
GITHUB_API = "https://api.github.com/"
# Scopes per provider: OpenID Connect's standard ones; Okta's authorization
# servers add the groups claim only for the `groups` scope. GitHub: read:org
# lists private organization and team memberships, user:email the address.
SCOPES = {"github": "read:org user:email", "okta": "openid email profile groups"}
OIDC_SCOPES = "openid email profile"

AUTH_TYPE = AUTH_OAUTH
# Everyone the provider lets through gets an Airflow account at first sign-in,
# with the roles their groups map to; re-synced at every sign-in, so a group
# change at the provider takes effect at the next one.
AUTH_USER_REGISTRATION = True
AUTH_ROLES_SYNC_AT_LOGIN = True
AUTH_ROLES_MAPPING: dict[str, list[str]] = {}
for _role, _keys in SETTINGS["roles"].items():
    for _key in _keys:
        AUTH_ROLES_MAPPING.setdefault(_key, []).append(_role)
if SETTINGS["defaultRole"] is not None:
    AUTH_USER_REGISTRATION_ROLE = SETTINGS["defaultRole"]

_remote_app: dict[str, Any] = {
    "client_id": SETTINGS["clientId"],
    "client_secret": os.environ["AIRFLOW_PLATFORM_AUTH_CLIENT_SECRET"],
    "client_kwargs": {"scope": SCOPES.get(PROVIDER, OIDC_SCOPES)},
}
if PROVIDER == "github":
    _remote_app |= {
        "api_base_url": GITHUB_API,
        "access_token_url": "https://github.com/login/oauth/access_token",
        "authorize_url": "https://github.com/login/oauth/authorize",
    }
else:
    _remote_app["server_metadata_url"] = f"{SETTINGS['issuer']}/.well-known/openid-configuration"
if PROVIDER == "google":
    # Only a hint for Google's account chooser; the `hd` claim is what is checked.
    _remote_app["authorize_params"] = {"hd": SETTINGS["domain"]}
OAUTH_PROVIDERS = [{"name": PROVIDER, "token_key": "access_token", "icon": "fa-sign-in", "remote_app": _remote_app}]


def _refuse(who: str, reason: str) -> dict[str, Any]:
    """No username: FAB's auth_user_oauth refuses the sign-in ("Invalid login")."""
    log.warning("airflow-platform auth: sign-in of %s refused: %s", who, reason)
    return {}


class PlatformSecurityManager(FabAirflowSecurityManagerOverride):
    """The FAB security manager with the platform's identity, membership and role rules."""

    def get_oauth_user_info(self, provider: str, resp: dict[str, Any]) -> dict[str, Any]:
        if PROVIDER == "github":
            return self._github_user()
        return self._oidc_user(resp)

    def _oidc_user(self, resp: dict[str, Any]) -> dict[str, Any]:
        # `userinfo`: the ID token's claims, validated by authlib (authorize_access_token).
        claims = dict(resp.get("userinfo") or {})
        claims.update(self.oauth_remotes[PROVIDER].userinfo())
        subject = str(claims.get("sub", "?"))
        email = claims.get("email") if claims.get("email_verified") is not False else None
        if PROVIDER == "google" and claims.get("hd") != SETTINGS["domain"]:
            return _refuse(str(email or subject), f"not an account of the Google Workspace domain {SETTINGS['domain']}")
        # A verified address is the name people recognise in the audit log; the
        # provider's prefix keeps any other name apart from the local admin's.
        username = email or f"{PROVIDER}_{claims.get('preferred_username') or subject}"
        groups = [group for group in claims.get("groups") or [] if isinstance(group, str)]
        return {
            "username": username,
            "email": email or "",
            "first_name": claims.get("given_name", ""),
            "last_name": claims.get("family_name", ""),
            "role_keys": [*groups, *([email] if email else [])],
        }

    def _github_user(self) -> dict[str, Any]:
        remote = self.oauth_remotes[PROVIDER]
        user = remote.get("user").json()
        login, organization = user["login"], SETTINGS["organization"]
        # 200 with state "active" for members; 404 for others, 403 when the
        # organization has not approved this OAuth app (its third-party access policy).
        membership = remote.get(f"user/memberships/orgs/{organization}")
        if membership.status_code != 200 or membership.json().get("state") != "active":
            return _refuse(
                login, f"not an active member of the GitHub organization {organization} (HTTP {membership.status_code})"
            )
        teams = remote.get("user/teams", params={"per_page": 100}).json()
        slugs = [team["slug"] for team in teams if team["organization"]["login"].lower() == organization.lower()]
        return {
            "username": f"github_{login}",
            "email": user.get("email") or "",
            "first_name": user.get("name") or login,
            "last_name": "",
            "role_keys": slugs,
        }

    def _oauth_calculate_user_roles(self, userinfo: dict[str, Any]) -> list[Any]:
        """The mapped roles, else the default role alone (FAB would add it to the mapped ones)."""
        mapped = self.get_roles_from_keys(userinfo.get("role_keys", []))
        if mapped:
            return list(mapped)
        default = self.find_role(SETTINGS["defaultRole"]) if SETTINGS["defaultRole"] else None
        return [default] if default else []

    def auth_user_oauth(self, userinfo: dict[str, Any], rotate_session_id: bool = True) -> Any:
        if userinfo.get("username") and not self._oauth_calculate_user_roles(userinfo):
            _refuse(userinfo["username"], "in no group auth.roles maps, and auth.defaultRole is none")
            return None
        return super().auth_user_oauth(userinfo, rotate_session_id)

    def auth_user_db(self, username: str, password: str, rotate_session_id: bool = True) -> None:
        log.warning("airflow-platform auth: password sign-in of %s refused: auth.mode is oidc", username)
        return None


SECURITY_MANAGER_CLASS = PlatformSecurityManager


class _HttpsScheme:
    """Tells Flask the request came over HTTPS, so the redirect URI it builds is the https one.

    TLS ends at the load balancer: the EKS NLB forwards plain TCP and sends no
    X-Forwarded-Proto (components/aws/https.py), so without this FAB would hand
    the provider http://<ui.domain>/auth/oauth-authorized/..., which matches no
    registered redirect URI. Only installed when `[api] base_url` is https.
    """

    def __init__(self, app: Any) -> None:
        self.app = app

    def __call__(self, environ: dict[str, Any], start_response: Any) -> Any:
        environ["wsgi.url_scheme"] = "https"
        return self.app(environ, start_response)


if has_app_context() and conf.get("api", "base_url", fallback="").startswith("https://"):
    current_app.wsgi_app = _HttpsScheme(current_app.wsgi_app)  # type: ignore[method-assign]
