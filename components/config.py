"""StackConfig: the typed, validated configuration of one stack.

Everything a stack can set lives under the `airflow-platform:` namespace in
`Pulumi.<stack>.yaml` (docs/configuration.md, generated from components/config_keys.py). `parse_stack_config`
is pure - a dict in, a frozen dataclass out - so every rule is tested without
Pulumi. `load_stack_config` feeds it from `pulumi.Config`. Any bad value
raises one `ConfigError` listing every problem, before a resource exists.
"""

from __future__ import annotations

import base64
import binascii
import json
import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, Literal, TypeGuard, cast
from urllib.parse import urlsplit

import pulumi

from components import config_keys
from components.auth import AuthSettings, parse_auth_settings
from components.aws.settings import DOCKER_HUB_USERNAME_KEY, AwsSettings, parse_aws_settings
from components.config_keys import CLOUDS, PROJECT, Cloud, Shape
from components.database_pools import component_replicas, database_pools
from components.gcp.settings import GcpSettings, parse_gcp_settings
from components.validation import (
    FQDN,
    HIDDEN,
    ConfigError,
    Problems,
    Section,
    check_dns_label,
    check_duration,
    check_image_repository,
    check_semver,
    parse_cidr,
    parse_quantity,
)

__all__ = ["ConfigError", "StackConfig", "StackConfigError", "load_stack_config", "parse_stack_config"]

# The sources that pull a git repository (same keys, same validation).
GIT_DAG_SOURCES = ("git", "bundle")

# Top-level keys under `airflow-platform:` (declared in components/config_keys.py). The secret
# ones are read separately (`load_fernet_previous_keys`, `load_docker_hub_token`) and only leave as secrets.
TOP_LEVEL_KEYS = tuple(key.path for key in config_keys.top_level() if not key.secret)
DOCKER_HUB_TOKEN_KEY = "dockerHubToken"
# The OAuth client secret of `auth.mode: oidc` (`pulumi config set --secret authClientSecret`).
AUTH_CLIENT_SECRET_KEY = "authClientSecret"
# The one list of top-level keys that hold credentials (declared `secret=True`): validation never echoes
# them, `make plan` masks them, and `pulumi preview` warns when one is set in plain text
# (`plaintext_secret_warnings`).
SECRET_KEYS = config_keys.SECRET_KEYS
assert {DOCKER_HUB_TOKEN_KEY, AUTH_CLIENT_SECRET_KEY} <= set(SECRET_KEYS)
# What `load_stack_config` passes on for a secret key set without `--secret`
# (stored in clear text in Pulumi.<stack>.yaml), in place of its value.
PLAIN_TEXT = "<set in plain text>"

WORLD = "0.0.0.0/0"

# Host keys GitHub publishes ("GitHub's SSH key fingerprints"); the RSA key is
# the one rotated on 2023-03-23. Shipped so a github.com repo needs no
# `dags.knownHosts`; any other host must be given its keys explicitly, because
# git-sync without known_hosts either fails ("Host key verification failed")
# or trusts whoever answers.
GITHUB_KNOWN_HOSTS = "\n".join(
    [
        "github.com ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIOMqqnkVzrm0SdG6UOoqKLsabgH5C9okWi0dh2l9GKJl",
        "github.com ecdsa-sha2-nistp256 AAAAE2VjZHNhLXNoYTItbmlzdHAyNTYAAAAIbmlzdHAyNTYAAABBBEmKSENj"
        "QEezOmxkZMy7opKgwFB9nkt5YRrYMjNuG5N87uRgg6CLrbo5wAdT/y6v0mKV0U2w0WZ2YB/++Tpockg=",
        "github.com ssh-rsa AAAAB3NzaC1yc2EAAAADAQABAAABgQCj7ndNxQowgcQnjshcLrqPEiiphnt+VTTvDP6mHBL9j1aN"
        "UkY4Ue1gvwnGLVlOhGeYrnZaMgRK6+PKCUXaDbC7qtbW8gIkhL7aGCsOr/C56SJMy/BCZfxd1nWzAOxSDPgVsmerOB"
        "YfNqltV9/hWCqBywINIR+5dIg6JTJ72pcEpEjcYgXkE2YEFXV1JHnsKgbLWNlhScqb2UmyRkQyytRLtL+38TGxkxCfl"
        "mO+5Z8CSSNY7GidjMIZ7Q4zMjA2n1nGrlTDkzwDCsw+wqFPGQA179cnfGWOWRVruj16z6XyvxvjJwbz0wQZ75XK5tK"
        "Sb7FNyeIEs4TT4jk+S4dhPeAUC5y+bDYirYgM4GC7uEnztnZyaVWQ7B381AK4Qdrwt51ZqExKbQpTUNn+EjqoTwvqN"
        "j4kqx5QUCI0ThS/YkOxJCXmPUWZbhjpCg56i+2aB6CmK2JGhn57K5mj0MNdBXA4/WnwH6XoPWJzK5Nyu2zB3nAZp+S"
        "5hpQs+p1vN1/wsjk=",
    ]
)
DEFAULT_KNOWN_HOSTS = {"github.com": GITHUB_KNOWN_HOSTS}

# git@host:org/repo.git  |  ssh://[user@]host[:port]/path  |  https://host/path
_SCP_LIKE_REPO = re.compile(r"^[A-Za-z0-9._-]+@(?P<host>[A-Za-z0-9.-]+):(?P<path>[^/\s][^\s]*)$")


class StackConfigError(ConfigError, pulumi.RunError):
    """A ConfigError as the program reports it to the Pulumi CLI.

    The Python language host (pulumi-language-python-exec) logs a RunError as
    `pulumi.log.error(str(e))` - the list of problems alone - and any other
    exception as "Program failed with an unhandled exception:" and a traceback.
    """


@dataclass(frozen=True)
class WorkerResources:
    """Requests/limits of every KubernetesExecutor task pod."""

    cpu_request: str
    memory_request: str
    cpu_limit: str
    memory_limit: str


@dataclass(frozen=True)
class AirflowSettings:
    namespace: str
    release_name: str
    chart_version: str
    airflow_version: str
    image_repository: str
    scheduler_replicas: int
    api_server_replicas: int
    pod_disruption_budgets: bool
    admin_username: str
    admin_email: str
    worker_resources: WorkerResources
    shared_data_size: str
    logs_size: str
    database_cleanup_retention_days: int
    # Bump to generate a new Fernet key (rotation: docs/operations/fernet-rotation.md).
    fernet_key_generation: int


@dataclass(frozen=True)
class DagSettings:
    """Where DAGs come from: git-sync or a GitDagBundle of this repo's dags/, or a ConfigMap."""

    source: Literal["git", "bundle", "configmap"]
    repo: str | None
    branch: str
    sub_path: str
    period: str
    known_hosts: str | None

    @property
    def uses_ssh(self) -> bool:
        """A git source over SSH needs a deploy key; an https repo is public."""
        return self.source in GIT_DAG_SOURCES and self.repo is not None and not self.repo.startswith("https://")


@dataclass(frozen=True)
class LoadBalancerSettings:
    """Who may reach the Airflow UI/API LoadBalancer."""

    source_ranges: tuple[str, ...]
    allow_public_access: bool


@dataclass(frozen=True)
class UiSettings:
    """How people reach the Airflow UI/API on a cloud stack: HTTPS on `domain`, or plain HTTP on purpose."""

    # The UI's DNS name; None: plain HTTP on the load balancer's address.
    domain: str | None
    # Cloud DNS managed-zone name (gcp) or Route 53 hosted-zone id (aws) that
    # holds `domain`; None: the stack exports the records to create by hand.
    dns_zone: str | None
    allow_plain_http: bool

    @property
    def public_url(self) -> str | None:
        return f"https://{self.domain}" if self.domain is not None else None


@dataclass(frozen=True)
class AlertSettings:
    """Who is told when an alert fires (README, "Operations"); the rules themselves are in monitoring/rules/."""

    emails: tuple[str, ...]
    # Whether `alerts.webhook` is set. Its URL is a secret (a chat webhook's
    # path is its token): it never enters the StackConfig, `load_alerts_webhook`
    # hands it to the notification channel as a secret Output.
    webhook: bool

    @property
    def routed(self) -> bool:
        return bool(self.emails) or self.webhook


@dataclass(frozen=True)
class LocalSettings:
    """`cloud: local` - an existing cluster reached through a kube context."""

    kube_context: str | None
    storage_class: str | None
    # ReadWriteOnce works on single-node clusters (kind, minikube, Docker
    # Desktop default classes); multi-node clusters need an RWX class.
    access_mode: str
    database_size: str
    # ClusterIP (reached with `kubectl port-forward`) works on every cluster;
    # LoadBalancer needs an implementation (Docker Desktop, `minikube tunnel`,
    # cloud-provider-kind), else Helm waits for an address until it times out.
    ui_service_type: str


@dataclass(frozen=True)
class StackConfig:
    stack: str
    cloud: Cloud
    production: bool
    # Parked: node pools at zero and the metadata database stopped, every piece of
    # state kept (docs/operations/sleep.md). Never on production or local stacks.
    sleep: bool
    airflow: AirflowSettings
    dags: DagSettings
    load_balancer: LoadBalancerSettings
    ui: UiSettings
    alerts: AlertSettings
    auth: AuthSettings
    local: LocalSettings | None
    gcp: GcpSettings | None
    aws: AwsSettings | None


def parse_stack_config(raw: Mapping[str, Any], stack: str, problems: Problems | None = None) -> StackConfig:
    """Validate the stack's config values (already JSON-decoded) into a StackConfig.

    `problems`, when given, is filled in (its `defaults` record what each key would be unset).
    """
    problems = Problems() if problems is None else problems
    for key in raw:
        if key not in TOP_LEVEL_KEYS and key not in SECRET_KEYS:
            problems.add(f"{PROJECT}:{key}", raw[key], f"one of the known keys {sorted(TOP_LEVEL_KEYS + SECRET_KEYS)}")

    cloud = raw.get("cloud")
    if cloud not in CLOUDS:
        problems.add(f"{PROJECT}:cloud", cloud, f"one of {list(CLOUDS)}")
        problems.raise_if_any()  # every other default depends on the cloud
    cloud = cast(Cloud, cloud)

    production = raw.get("production", config_keys.constant_default("production"))
    if not isinstance(production, bool):
        problems.add(f"{PROJECT}:production", production, "true or false")
        production = False

    sleep = _parse_sleep(problems, raw.get("sleep", config_keys.constant_default("sleep")), cloud, production)

    shape = Shape(cloud, production)

    def section(name: str, value: Any = None) -> Section:
        return Section(problems, f"{PROJECT}:{name}", raw.get(name) if value is None else value, shape=shape)

    ui = _parse_ui(section("ui"), cloud)
    config = StackConfig(
        stack=stack,
        cloud=cloud,
        production=production,
        sleep=sleep,
        airflow=_parse_airflow(section("airflow")),
        dags=_parse_dags(section("dags")),
        load_balancer=_parse_load_balancer(section("loadBalancer"), cloud, production),
        ui=ui,
        alerts=_parse_alerts(section("alerts", _masked_alerts(raw.get("alerts"))), cloud),
        auth=_parse_auth(section("auth"), raw, cloud, ui),
        local=_parse_local(section("local")) if cloud == "local" else None,
        gcp=parse_gcp_settings(section("gcp"), production) if cloud == "gcp" else None,
        aws=_parse_aws(section("aws"), raw, production) if cloud == "aws" else None,
    )
    for other in CLOUDS:
        if other != cloud and other in raw:
            problems.add(f"{PROJECT}:{other}", raw[other], f"no '{other}' section on a stack with cloud: {cloud}")
    if cloud != "aws" and _is_set(raw.get(DOCKER_HUB_TOKEN_KEY)):
        # Only the EKS platform reads it (its ECR pull-through cache logs in to
        # Docker Hub): anywhere else a token would sit in the stack unused.
        problems.add(
            f"{PROJECT}:{DOCKER_HUB_TOKEN_KEY}",
            HIDDEN,
            f"unset on a stack with cloud: {cloud} (only cloud: aws logs in to Docker Hub, "
            "for its ECR pull-through cache)",
        )
    _check_production_https(problems, config)
    _check_database_pools(problems, config)
    if config.alerts.webhook:
        _check_alerts_webhook(problems, raw["alerts"][ALERT_WEBHOOK])
    problems.raise_if_any()
    return config


def _parse_sleep(problems: Problems, sleep: Any, cloud: Cloud, production: bool) -> bool:
    """`sleep: true` parks a non-production cloud stack; anywhere else it is refused.

    Production never sleeps (its users expect it at 3 a.m.); a local cluster has no
    cloud bill to cut - stop the cluster itself (kind, minikube, Docker Desktop).
    """
    key = f"{PROJECT}:sleep"
    if not isinstance(sleep, bool):
        problems.add(key, sleep, "true or false")
        return False
    if sleep and production:
        problems.add(key, sleep, "false on a production stack (production: true never sleeps)")
        return False
    if sleep and cloud == "local":
        problems.add(key, sleep, "false on cloud: local (no cloud bill to cut; stop the local cluster itself instead)")
        return False
    return sleep


def _parse_auth(section: Section, raw: Mapping[str, Any], cloud: Cloud, ui: UiSettings) -> AuthSettings:
    """The auth section, and its client secret, which lives at the top level as a Pulumi secret."""
    settings = parse_auth_settings(section, cloud, ui.domain)
    key, secret = f"{PROJECT}:{AUTH_CLIENT_SECRET_KEY}", raw.get(AUTH_CLIENT_SECRET_KEY)
    if secret == PLAIN_TEXT:
        # Never the value: it is already exposed in the stack file, not also in CI logs.
        section.problems.add(
            key,
            HIDDEN,
            f"a Pulumi secret: `pulumi config set --secret {AUTH_CLIENT_SECRET_KEY}` (it is stored in clear "
            "text in the stack file now; rotate it at the provider after re-setting it)",
        )
    elif settings.oidc and not _is_set(secret):
        section.problems.add(
            key, None, f"the OAuth client secret with auth.mode: oidc (`pulumi config set --secret {key}`)"
        )
    return settings


def _parse_aws(section: Section, raw: Mapping[str, Any], production: bool) -> AwsSettings:
    """The aws section, and the Docker Hub login whose halves live in it and at the top level."""
    settings = parse_aws_settings(section, production)
    username_key, token_key = section.key(DOCKER_HUB_USERNAME_KEY), f"{PROJECT}:{DOCKER_HUB_TOKEN_KEY}"
    token_set = _is_set(raw.get(DOCKER_HUB_TOKEN_KEY))
    # The pull-through cache needs both halves of the login, or neither (anonymous pulls).
    if (settings.docker_hub_username is not None) != token_set:
        missing, given = (username_key, token_key) if token_set else (token_key, username_key)
        section.problems.add(
            missing, None, f"set together with {given}: {username_key} and {token_key} (secret) both, or neither"
        )
    return settings


# Conservative on purpose: the value reaches a shell command and a Helm template.
_EMAIL = re.compile(r"^[A-Za-z0-9._%+-]+@[A-Za-z0-9-]+(\.[A-Za-z0-9-]+)*\.[A-Za-z]{2,}$")
_USERNAME = re.compile(r"^[A-Za-z0-9_.-]{1,64}$")


def _parse_airflow(section: Section) -> AirflowSettings:
    problems = section.problems
    namespace = section.str("namespace")
    check_dns_label(problems, section.key("namespace"), namespace)
    release_name = section.str("releaseName")
    # The chart derives names such as `<release>-api-server` from it.
    check_dns_label(problems, section.key("releaseName"), release_name)
    if len(release_name) > 40:
        problems.add(section.key("releaseName"), release_name, "at most 40 characters (the chart appends suffixes)")
    chart_version = section.str("chartVersion")
    check_semver(problems, section.key("chartVersion"), chart_version)
    airflow_version = section.str("airflowVersion")
    pinned = check_semver(problems, section.key("airflowVersion"), airflow_version)
    if pinned and not airflow_version.startswith("3."):
        problems.add(section.key("airflowVersion"), airflow_version, "an Airflow 3.x version")

    admin_username = section.str("adminUsername")
    if not _USERNAME.match(admin_username):
        problems.add(section.key("adminUsername"), admin_username, section.declaration("adminUsername").allowed)
    admin_email = section.str("adminEmail")
    if not _EMAIL.match(admin_email):
        problems.add(section.key("adminEmail"), admin_email, section.declaration("adminEmail").allowed)

    resources = section.section("workerResources")
    worker_resources = WorkerResources(
        cpu_request=resources.quantity("cpuRequest"),
        memory_request=resources.quantity("memoryRequest"),
        cpu_limit=resources.quantity("cpuLimit"),
        memory_limit=resources.quantity("memoryLimit"),
    )
    # Kubernetes rejects a pod whose request exceeds its limit ("must be less
    # than or equal to ... limit"): every task would fail to start.
    for request_name, request, limit_name, limit in (
        ("cpuRequest", worker_resources.cpu_request, "cpuLimit", worker_resources.cpu_limit),
        ("memoryRequest", worker_resources.memory_request, "memoryLimit", worker_resources.memory_limit),
    ):
        request_value, limit_value = parse_quantity(request), parse_quantity(limit)
        if request_value is not None and limit_value is not None and request_value > limit_value:
            problems.add(
                resources.key(request_name),
                request,
                f"at most {resources.key(limit_name)} ({limit}): "
                "Kubernetes rejects a pod requesting more than its limit",
            )
    image_repository = section.str("imageRepository")
    check_image_repository(problems, section.key("imageRepository"), image_repository)

    return AirflowSettings(
        namespace=namespace,
        release_name=release_name,
        chart_version=chart_version,
        airflow_version=airflow_version,
        image_repository=image_repository,
        scheduler_replicas=section.int("schedulerReplicas"),
        api_server_replicas=section.int("apiServerReplicas"),
        pod_disruption_budgets=section.bool("podDisruptionBudgets"),
        admin_username=admin_username,
        admin_email=admin_email,
        worker_resources=worker_resources,
        shared_data_size=section.quantity("sharedDataSize"),
        logs_size=section.quantity("logsSize"),
        database_cleanup_retention_days=section.int("databaseCleanupRetentionDays"),
        fernet_key_generation=section.int("fernetKeyGeneration"),
    )


def _parse_dags(section: Section) -> DagSettings:
    problems = section.problems
    source = section.choice("source")
    repo = section.optional_str("repo")
    known_hosts = section.optional_str("knownHosts")
    branch = section.str("branch")
    if re.search(r"\s|\.\.|^-", branch):
        problems.add(section.key("branch"), branch, section.declaration("branch").allowed)
    sub_path = section.str("subPath")
    if sub_path.startswith("/") or ".." in sub_path.split("/"):
        problems.add(section.key("subPath"), sub_path, section.declaration("subPath").allowed)
    period = section.str("period")
    check_duration(problems, section.key("period"), period)

    if source in GIT_DAG_SOURCES:
        if repo is None:
            problems.add(
                section.key("repo"), None, f"required with dags.source: {source} (git@github.com:org/repo.git)"
            )
        else:
            host = _ssh_repo_host(repo)
            if _has_credentials(repo):
                # The message masks them (ConfigProblem).
                problems.add(
                    section.key("repo"),
                    repo,
                    "a URL without credentials: a token in it would be stored in plain text in the stack "
                    "and the chart values; use an SSH URL (git@host:org/repo.git) and the deploy key",
                )
            elif host is None and not _is_https_repo(repo):
                problems.add(
                    section.key("repo"),
                    repo,
                    "git@host:org/repo.git or ssh://git@host/org/repo.git (SSH), or https://host/org/repo.git (public)",
                )
            elif host is not None and known_hosts is None:
                known_hosts = DEFAULT_KNOWN_HOSTS.get(host)
                if known_hosts is None:
                    problems.add(
                        section.key("knownHosts"),
                        None,
                        f"the SSH host keys of {host} (`ssh-keyscan {host}`, checked against the host's "
                        f"published fingerprints); only {sorted(DEFAULT_KNOWN_HOSTS)} ship as default",
                    )
    elif repo is not None:
        problems.add(
            section.key("repo"), repo, "unset with dags.source: configmap (the repo's dags/ folder is shipped)"
        )

    return DagSettings(
        source=cast(Literal["git", "bundle", "configmap"], source),
        repo=repo,
        branch=branch,
        sub_path=sub_path,
        period=period,
        known_hosts=known_hosts,
    )


def _ssh_repo_host(repo: str) -> str | None:
    """The host an SSH repo URL points at, in known_hosts form; None if not SSH."""
    scp_like = _SCP_LIKE_REPO.match(repo)
    if scp_like and "://" not in repo:
        return scp_like.group("host")
    if repo.startswith("ssh://"):
        parts = urlsplit(repo)
        if not parts.hostname or len(parts.path) <= 1:
            return None
        # A non-standard port is recorded as [host]:port in known_hosts, so the
        # shipped github.com entries do not apply to it.
        return parts.hostname if parts.port in (None, 22) else f"[{parts.hostname}]:{parts.port}"
    return None


def _is_https_repo(repo: str) -> bool:
    parts = urlsplit(repo)
    return parts.scheme == "https" and bool(parts.hostname) and len(parts.path) > 1


def _has_credentials(repo: str) -> bool:
    """A password (ssh://user:pw@), or any userinfo on http(s) - GitHub takes a bare token as user name."""
    parts = urlsplit(repo)
    return parts.password is not None or (parts.scheme in ("http", "https") and parts.username is not None)


def _parse_load_balancer(section: Section, cloud: Cloud, production: bool) -> LoadBalancerSettings:
    problems = section.problems
    key = section.key("sourceRanges")
    allow_public = section.bool("allowPublicAccess")
    # Unset on a cloud stack is refused below; on local an unset list restricts nothing.
    ranges = section.str_list("sourceRanges", [])
    for index, source_range in enumerate(ranges):
        parse_cidr(problems, f"{key}[{index}]", source_range)
    example = "the CIDRs allowed to reach the UI, e.g. your office or VPN range ['203.0.113.0/24']"
    if cloud != "local" and not section.has("sourceRanges"):
        # An unset list would open the UI to the internet: make it a choice.
        problems.add(key, None, example)
    elif cloud != "local" and not ranges and (production or not allow_public):
        # An empty loadBalancerSourceRanges leaves the cloud LoadBalancer open
        # to every address, exactly as 0.0.0.0/0 would, without saying so.
        opt_in = "" if production else f"; or [{WORLD}] with loadBalancer.allowPublicAccess: true"
        problems.add(key, ranges, f"{example} (an empty list opens the UI to the internet){opt_in}")
    if production and WORLD in ranges and not allow_public:
        problems.add(
            key, ranges, f"specific CIDRs on a production stack; {WORLD} needs loadBalancer.allowPublicAccess: true"
        )
    return LoadBalancerSettings(source_ranges=tuple(ranges), allow_public_access=allow_public)


# Cloud DNS managed-zone names: 1-63 lowercase letters, digits and dashes, starting with a letter.
_CLOUD_DNS_ZONE = re.compile(r"^[a-z]([-a-z0-9]{0,61}[a-z0-9])?$")
# Route 53 hosted-zone ids: "Z" and upper-case letters/digits (Z0123456789ABCDEFGHIJ).
_ROUTE53_ZONE = re.compile(r"^Z[A-Z0-9]{1,31}$")
_DNS_ZONE_FORMS = {
    "gcp": (_CLOUD_DNS_ZONE, "a Cloud DNS managed-zone name such as 'example-com' (gcloud dns managed-zones list)"),
    "aws": (_ROUTE53_ZONE, "a Route 53 hosted-zone id such as 'Z0123456789ABCDEFGHIJ' (aws route53 list-hosted-zones)"),
}


def _parse_ui(section: Section, cloud: Cloud) -> UiSettings:
    """HTTPS on cloud stacks; plain HTTP only as a deliberate choice on production.

    Without a domain a cloud load balancer serves the UI as plain HTTP:
    passwords and session cookies cross the network in clear text. A
    production stack must either name the domain or say `allowPlainHttp: true`
    (`_check_production_https`); a non-production one gets a warning at
    preview (`plain_http_warning`). GKE's `gcp.uiAccess: portForward` puts
    the UI on no load balancer at all (kubectl's tunnel is TLS).
    """
    problems = section.problems
    domain = section.optional_str("domain")
    dns_zone = section.optional_str("dnsZone")
    allow_plain_http = section.bool("allowPlainHttp")
    if cloud == "local":
        for name, value in (("domain", domain), ("dnsZone", dns_zone)):
            if value is not None:
                problems.add(
                    section.key(name),
                    value,
                    "unset on cloud: local (the local UI is plain HTTP through kubectl port-forward)",
                )
        return UiSettings(domain=None, dns_zone=None, allow_plain_http=allow_plain_http)
    # No wildcard: Google-managed certificates cover exact names only, and one
    # name keeps the ACM and Google certificates alike.
    if domain is not None and not FQDN.match(domain):
        problems.add(
            section.key("domain"),
            domain,
            section.declaration("domain").allowed,
        )
    if dns_zone is not None:
        pattern, form = _DNS_ZONE_FORMS[cloud]
        if domain is None:
            problems.add(section.key("dnsZone"), dns_zone, "unset unless ui.domain is set (the zone holds that name)")
        elif not pattern.match(dns_zone):
            problems.add(section.key("dnsZone"), dns_zone, form)
    if domain is not None and allow_plain_http:
        problems.add(
            section.key("allowPlainHttp"),
            allow_plain_http,
            "unset with ui.domain (the domain is served over HTTPS only)",
        )
    return UiSettings(domain=domain, dns_zone=dns_zone, allow_plain_http=allow_plain_http)


def _check_production_https(problems: Problems, config: StackConfig) -> None:
    """A production UI on a load balancer is HTTPS, unless plain HTTP is chosen on purpose."""
    if config.production and _serves_plain_http(config) and not config.ui.allow_plain_http:
        problems.add(
            f"{PROJECT}:ui.domain",
            None,
            "the UI's DNS name on a production stack (served over HTTPS with a managed certificate), "
            "or ui.allowPlainHttp: true to serve passwords in clear text on purpose",
        )


def _check_database_pools(problems: Problems, config: StackConfig) -> None:
    """The API servers and schedulers must fit the Cloud SQL tier's connections (database_pools.py)."""
    if config.gcp is None:
        return
    connections = config.gcp.database_connections
    airflow = config.airflow

    def fits(api_servers: int, schedulers: int) -> bool:
        try:
            database_pools(connections, component_replicas(schedulers, api_servers))
        except ValueError:
            return False
        return True

    if fits(airflow.api_server_replicas, airflow.scheduler_replicas):
        return
    tier = f"gcp.databaseTier {config.gcp.database_tier} ({connections} connections for Airflow)"
    api_servers = max(
        (count for count in range(1, airflow.api_server_replicas) if fits(count, airflow.scheduler_replicas)), default=0
    )
    if api_servers:
        problems.add(
            f"{PROJECT}:airflow.apiServerReplicas",
            airflow.api_server_replicas,
            f"at most {api_servers} with {airflow.scheduler_replicas} scheduler(s) on {tier}, or a larger tier",
        )
        return
    # Not even one API server fits beside these schedulers: they are what to lower.
    schedulers = max((count for count in range(1, airflow.scheduler_replicas) if fits(1, count)), default=0)
    problems.add(
        f"{PROJECT}:airflow.schedulerReplicas",
        airflow.scheduler_replicas,
        f"at most {schedulers} with 1 API server on {tier}, or a larger tier",
    )


def _serves_plain_http(config: StackConfig) -> bool:
    """The UI is on a cloud load balancer without TLS (not local, not GKE's port-forward-only access)."""
    port_forward_only = config.gcp is not None and config.gcp.ui_access == "portForward"
    return config.cloud != "local" and config.ui.domain is None and not port_forward_only


def plain_http_warning(config: StackConfig) -> str | None:
    """What `pulumi preview` prints for a cloud stack whose UI is plain HTTP; None otherwise."""
    if not _serves_plain_http(config):
        return None
    return (
        "ui.domain is unset: the Airflow UI and API are served as plain HTTP on the load balancer, so "
        "passwords and session cookies cross the network in clear text. Set ui.domain (README, "
        "'HTTPS for the UI') to serve them over HTTPS."
    )


ALERTS_KEY = f"{PROJECT}:alerts"
ALERT_WEBHOOK = "webhook"


def _masked_alerts(raw: Any, mask: str = HIDDEN) -> Any:
    """The alerts section as messages may show it: every value but the addresses (a webhook URL, or
    one under a misspelt key, is a secret) replaced by `mask`."""
    if isinstance(raw, Mapping):
        return {key: value if key == "email" or value is None else mask for key, value in raw.items()}
    return raw


def _parse_alerts(section: Section, cloud: Cloud) -> AlertSettings:
    """`alerts.email` addresses and an optional `alerts.webhook` (https, no credentials in it).

    Cloud stacks route the alerts of monitoring/rules/ through the cloud's own
    notification channel (Cloud Monitoring, SNS); a local cluster has no
    managed Prometheus to evaluate them, so `alerts` there is refused.
    """
    problems = section.problems
    if cloud == "local":
        if section.raw:
            problems.add(
                section.path,
                section.raw,
                "unset on cloud: local (no managed Prometheus evaluates alerts there; README, 'Operations' "
                "shows how to read the metrics with a port-forward)",
            )
        return AlertSettings(emails=(), webhook=False)
    emails = section.str_list("email", [])
    for index, email in enumerate(emails):
        if not _EMAIL.match(email):
            problems.add(f"{section.key('email')}[{index}]", email, section.declaration("email").allowed)
    return AlertSettings(emails=tuple(emails), webhook=section.has(ALERT_WEBHOOK))


def _check_alerts_webhook(problems: Problems, value: Any) -> None:
    """An https URL with a host and no user-info; the value itself is never echoed (HIDDEN)."""
    key, parts = f"{ALERTS_KEY}.{ALERT_WEBHOOK}", urlsplit(value) if isinstance(value, str) else None
    if parts is None or parts.scheme != "https" or not parts.hostname:
        problems.add(key, HIDDEN, "an https:// URL of the endpoint that receives alerts, set as a secret")
    elif parts.username is not None or parts.password is not None:
        problems.add(
            key,
            HIDDEN,
            "a URL without user:password@ (the notification channel would show it); a token in the path or "
            "query is fine: set the key as a secret (`pulumi config set --secret --path alerts.webhook ...`)",
        )


def unrouted_alerts_warning(config: StackConfig) -> str | None:
    """What `pulumi preview` prints for a production stack whose alerts would reach nobody; None otherwise.

    A dev stack without alerts is a normal choice (README, 'Operations'); a production one is not.
    """
    if not config.production or config.alerts.routed:
        return None
    return (
        "alerts.email is unset: the stack collects metrics and has a dashboard, but deploys no alert rule "
        "(one that tells nobody would only bill). Set alerts.email (and optionally the secret "
        "alerts.webhook) - README, 'Operations'."
    )


def _parse_local(section: Section) -> LocalSettings:
    storage_class = section.optional_str("storageClass")
    if storage_class is not None:
        check_dns_label(section.problems, section.key("storageClass"), storage_class)
    return LocalSettings(
        kube_context=section.optional_str("kubeContext"),
        storage_class=storage_class,
        access_mode=section.choice("accessMode"),
        database_size=section.quantity("databaseSize"),
        ui_service_type=section.choice("uiServiceType"),
    )


def parse_fernet_previous_keys(value: str | None) -> list[str]:
    """Older Fernet keys kept for rotation: comma-separated, each must be valid.

    The values are secret, so messages never echo them.
    """
    if value is None or not value.strip():
        return []
    problems = Problems()
    keys = [key.strip() for key in value.split(",")]
    for index, key in enumerate(keys):
        if not is_fernet_key(key):
            problems.add(f"{PROJECT}:fernetPreviousKeys[{index}]", HIDDEN, "a Fernet key: 32 bytes, url-safe base64")
    problems.raise_if_any()
    return keys


def is_fernet_key(key: str) -> bool:
    """What `cryptography.fernet.Fernet(key)` accepts: url-safe base64 of 32 bytes."""
    try:
        return len(base64.urlsafe_b64decode(key.encode("ascii"))) == 32 and len(key) == 44
    except (binascii.Error, UnicodeEncodeError, ValueError):
        return False


def load_stack_config() -> StackConfig:
    """Read every `airflow-platform:*` config value of the running stack."""
    prefix = f"{PROJECT}:"
    raw: dict[str, Any] = {}
    for full_key, value in pulumi.runtime.config.CONFIG.get().items():
        if not full_key.startswith(prefix):
            continue
        key = full_key[len(prefix) :]
        if key not in SECRET_KEYS:
            raw[key] = _decode(value)
        elif _is_set(value):
            # A secret's value never enters the StackConfig: only that it is set,
            # which the rules need (dockerHubToken: which cloud, with which username),
            # and whether it was set as a secret.
            raw[key] = PLAIN_TEXT if _in_plain_text(full_key) else HIDDEN
    return parse_stack_config(raw, stack=pulumi.get_stack())


def load_fernet_previous_keys() -> pulumi.Output[str] | None:
    """The secret rotation keys, validated, as a secret Output (or None)."""
    # Read through the runtime (not Config.get) so the value is validated
    # without Pulumi warning about plaintext use; it leaves only as a secret.
    value = pulumi.runtime.config.get_config(f"{PROJECT}:fernetPreviousKeys")
    keys = parse_fernet_previous_keys(value)
    return pulumi.Output.secret(",".join(keys)) if keys else None


def load_auth_client_secret() -> pulumi.Output[str] | None:
    """The OAuth client secret of `auth.mode: oidc`, as a secret Output (or None when unset)."""
    return _load_secret(AUTH_CLIENT_SECRET_KEY)


def load_docker_hub_token() -> pulumi.Output[str] | None:
    """The Docker Hub access token for the AWS pull-through cache, as a secret Output (or None when unset)."""
    return _load_secret(DOCKER_HUB_TOKEN_KEY)


def _load_secret(key: str) -> pulumi.Output[str] | None:
    # Read through the runtime like the Fernet keys: never a plaintext value in the program.
    value = pulumi.runtime.config.get_config(f"{PROJECT}:{key}")
    return pulumi.Output.secret(value.strip()) if _is_set(value) else None


def plaintext_secret_warnings() -> list[str]:
    """What `pulumi preview` prints for each credential the stack file holds unencrypted (never the value):
    a SECRET_KEYS key, or `alerts.webhook` (a token in its URL) in an `alerts` section set in plain text."""
    plain = [
        (key, f"pulumi config set --secret {key}")
        for key in SECRET_KEYS
        if _is_set(pulumi.runtime.config.get_config(f"{PROJECT}:{key}")) and _in_plain_text(f"{PROJECT}:{key}")
    ]
    # `pulumi config set --secret --path alerts.webhook` makes the whole `alerts` value secret.
    alerts = pulumi.runtime.config.get_config(ALERTS_KEY)
    if alerts and _is_set(_decode(alerts).get(ALERT_WEBHOOK)) and _in_plain_text(ALERTS_KEY):
        plain.append((f"alerts.{ALERT_WEBHOOK}", f"pulumi config set --secret --path alerts.{ALERT_WEBHOOK} <url>"))
    return [
        f"{PROJECT}:{key} is set in plain text in the stack file: anyone who can read the repository can use it. "
        f"Encrypt it with `{command}` and rotate it (git history keeps the plain value)."
        for key, command in plain
    ]


def masked_config(config: Mapping[str, Any], mask: str = HIDDEN) -> dict[str, Any]:
    """The stack file's values as a plan may show them: each credential (SECRET_KEYS, `alerts.webhook`) is `mask`."""
    return {
        key: mask if key in SECRET_KEYS else _masked_alerts(value, mask) if key == "alerts" else value
        for key, value in config.items()
    }


def load_alerts_webhook() -> pulumi.Output[str] | None:
    """`alerts.webhook` as a secret Output (None when unset); parse_stack_config validated it."""
    # Read through the runtime like the other secrets: the URL (its token) stays out of the StackConfig.
    value = pulumi.runtime.config.get_config(ALERTS_KEY)
    webhook = _decode(value).get(ALERT_WEBHOOK) if value else None
    return pulumi.Output.secret(webhook) if isinstance(webhook, str) else None


def _in_plain_text(full_key: str) -> bool:
    """Set without `--secret`: the CLI names the encrypted keys in PULUMI_CONFIG_SECRET_KEYS
    (pulumi sdk/python/lib/pulumi/runtime/config.py), so the value sits in clear in the stack file."""
    return not pulumi.runtime.config.is_config_secret(full_key)


def _is_set(secret: object) -> TypeGuard[str]:
    """A blank secret counts as unset, the same in validation and where it is read."""
    return isinstance(secret, str) and bool(secret.strip())


def _decode(value: Any) -> Any:
    """Config values arrive as strings; objects, lists, numbers and booleans as JSON."""
    if not isinstance(value, str):
        return value
    try:
        return json.loads(value)
    except json.JSONDecodeError:
        return value
