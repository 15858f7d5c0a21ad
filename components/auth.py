"""Typed, validated `airflow-platform:auth` settings: how people sign in to Airflow (pure, no Pulumi).

`mode: password` (the default) keeps the chart's database sign-in with the
generated admin. `mode: oidc` signs people in through the company's identity
provider with Airflow 3's FAB auth manager (components/airflow/auth.py builds
the API server's configuration from these settings): any OpenID Connect
provider (`provider: oidc` with `issuer`), or a preset that knows its
provider's endpoints and how it says who may sign in - Google Workspace
(`domain`), GitHub (`organization`; GitHub apps speak OAuth 2, not OpenID
Connect, so the API server asks GitHub's REST API for the organization and
team membership instead of reading an ID token), Microsoft Entra ID
(`tenant`) and Okta (`issuer`). The client secret is the Pulumi secret
`authClientSecret`; it never enters these settings.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Literal, cast
from urllib.parse import urlsplit

from components.config_keys import AIRFLOW_ROLES, NO_ROLE
from components.config_keys import AUTH_PROVIDERS as PROVIDERS
from components.validation import FQDN, Section

__all__ = ["AIRFLOW_ROLES", "NO_ROLE", "PROVIDERS", "AuthSettings", "parse_auth_settings"]

Provider = Literal["oidc", "google", "github", "entra", "okta"]

GOOGLE_ISSUER = "https://accounts.google.com"
# The tenant's own v2.0 issuer: ID tokens of any other tenant fail the issuer check.
ENTRA_ISSUER = "https://login.microsoftonline.com/{tenant}/v2.0"
# Entra's multi-tenant aliases: any Microsoft account's tenant could sign in.
_ENTRA_SHARED_TENANTS = ("common", "organizations", "consumers")
_GUID = re.compile(r"^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$")
# GitHub logins: alphanumerics and single inner hyphens, at most 39 characters.
_GITHUB_ORGANIZATION = re.compile(r"^[A-Za-z0-9](?:[A-Za-z0-9]|-(?=[A-Za-z0-9])){0,38}$")
# An issuer served without TLS is only acceptable on the machine itself (a test provider).
_LOOPBACK_HOSTS = ("localhost", "127.0.0.1")

# The one key each preset needs to say who may sign in; no other preset reads it.
_PRESET_KEYS: Mapping[str, str] = {"google": "domain", "github": "organization", "entra": "tenant"}


@dataclass(frozen=True)
class AuthSettings:
    """How people sign in. Everything but `mode` only matters with `mode: oidc`."""

    mode: Literal["password", "oidc"]
    provider: Provider
    # The OpenID Connect issuer (its /.well-known/openid-configuration); None for GitHub (OAuth 2 only).
    issuer: str | None
    client_id: str | None
    # Google Workspace domain / GitHub organization / Entra tenant: who may sign in.
    domain: str | None
    organization: str | None
    tenant: str | None
    # Airflow role -> the provider's groups (GitHub: team slugs) or people's e-mail addresses.
    roles: Mapping[str, tuple[str, ...]]
    # Role of everyone else the provider signs in; None refuses them.
    default_role: str | None

    @property
    def oidc(self) -> bool:
        return self.mode == "oidc"


def parse_auth_settings(section: Section, cloud: str, ui_domain: str | None) -> AuthSettings:
    """The `auth` section; every rule applies in both modes, so switching to password and back is one key."""
    problems = section.problems
    mode = section.choice("mode")
    provider = section.choice("provider")
    issuer = section.optional_str("issuer")
    client_id = section.optional_str("clientId")
    domain = section.optional_str("domain")
    organization = section.optional_str("organization")
    tenant = section.optional_str("tenant")

    for name, value in (("domain", domain), ("organization", organization), ("tenant", tenant)):
        if value is not None and _PRESET_KEYS.get(provider) != name:
            owner = next(preset for preset, key in _PRESET_KEYS.items() if key == name)
            problems.add(section.key(name), value, f"unset unless auth.provider is {owner}")
    if domain is not None and provider == "google" and not FQDN.match(domain):
        problems.add(
            section.key("domain"), domain, "the Google Workspace domain in lowercase, e.g. example.com (no @, no URL)"
        )
    if organization is not None and provider == "github" and not _GITHUB_ORGANIZATION.match(organization):
        problems.add(
            section.key("organization"),
            organization,
            "a GitHub organization name: letters, digits and single inner hyphens, at most 39 characters",
        )
    if tenant is not None and provider == "entra" and not (_GUID.match(tenant) or FQDN.match(tenant)):
        problems.add(
            section.key("tenant"),
            tenant,
            "the directory (tenant) id, e.g. 72f988bf-86f1-41af-91ab-2d7cd011db47, or its primary domain, "
            f"e.g. example.onmicrosoft.com (not {'/'.join(_ENTRA_SHARED_TENANTS)}: any tenant could sign in)",
        )

    issuer = _check_issuer(section, provider, issuer, cloud, tenant, required=mode == "oidc")
    if mode == "oidc":
        if not section.has("clientId"):  # a blank one is already reported
            problems.add(section.key("clientId"), None, "the OAuth client id registered at the provider")
        preset_key = _PRESET_KEYS.get(provider)
        if preset_key is not None and section.raw.get(preset_key) is None:
            problems.add(section.key(preset_key), None, _PRESET_KEY_HELP[preset_key])
        if cloud != "local" and ui_domain is None:
            # The provider sends people back to a registered https address.
            problems.add(
                section.key("mode"),
                mode,
                "password unless ui.domain is set: the provider redirects people to https://<ui.domain>, "
                "so a cloud stack signs in through its identity provider only on its HTTPS name",
            )

    return AuthSettings(
        mode=cast(Literal["password", "oidc"], mode),
        provider=cast(Provider, provider),
        issuer=issuer,
        client_id=client_id,
        domain=domain,
        organization=organization,
        tenant=tenant,
        roles=_parse_roles(section),
        default_role=_parse_default_role(section),
    )


_PRESET_KEY_HELP = {
    "domain": "the Google Workspace domain whose accounts may sign in, e.g. example.com",
    "organization": "the GitHub organization whose members may sign in, e.g. acme",
    "tenant": "the Entra ID directory (tenant) id or primary domain whose accounts may sign in",
}


def _check_issuer(
    section: Section, provider: str, issuer: str | None, cloud: str, tenant: str | None, required: bool
) -> str | None:
    """The issuer a preset implies, or the one given, which must be https (http only on loopback, on local)."""
    key = section.key("issuer")
    if provider in ("google", "entra", "github"):
        if issuer is not None:
            implied = {
                "google": GOOGLE_ISSUER,
                "entra": ENTRA_ISSUER.format(tenant="<auth.tenant>"),
                "github": "none: GitHub is OAuth 2 only",
            }
            section.problems.add(key, issuer, f"unset with auth.provider: {provider} (its issuer: {implied[provider]})")
        if provider == "google":
            return GOOGLE_ISSUER
        if provider == "entra" and tenant is not None:
            return ENTRA_ISSUER.format(tenant=tenant)
        return None
    if issuer is None:
        if required:
            example = "https://example.okta.com/oauth2/default" if provider == "okta" else "https://idp.example.com"
            section.problems.add(key, None, f"the provider's OpenID Connect issuer URL, e.g. {example}")
        return None
    parts = urlsplit(issuer)
    loopback = parts.scheme == "http" and parts.hostname in _LOOPBACK_HOSTS and cloud == "local"
    if (parts.scheme != "https" and not loopback) or not parts.hostname or parts.query or parts.fragment:
        section.problems.add(
            key,
            issuer,
            "an https:// URL with no query or fragment, the provider's issuer as its discovery document "
            "says (http://localhost only on cloud: local, for a test provider)",
        )
        return None
    # The discovery document lives at <issuer>/.well-known/openid-configuration.
    return issuer.rstrip("/")


def _parse_roles(section: Section) -> dict[str, tuple[str, ...]]:
    key = section.key("roles")
    raw = section.raw.get("roles", section.default("roles"))
    if not isinstance(raw, Mapping):
        section.problems.add(key, raw, f"a mapping of Airflow roles {list(AIRFLOW_ROLES)} to lists of group names")
        return {}
    roles: dict[str, tuple[str, ...]] = {}
    for role, groups in raw.items():
        if role not in AIRFLOW_ROLES:
            section.problems.add(f"{key}.{role}", groups, f"a role Airflow has: one of {list(AIRFLOW_ROLES)}")
            continue
        if not isinstance(groups, list) or not groups or not all(isinstance(g, str) and g.strip() for g in groups):
            section.problems.add(f"{key}.{role}", groups, "a non-empty list of group names (or e-mail addresses)")
            continue
        roles[role] = tuple(groups)
    return roles


def _parse_default_role(section: Section) -> str | None:
    role = section.choice("defaultRole")
    return None if role == NO_ROLE else role
