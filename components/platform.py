"""The platform contract: what every cloud hands to the Airflow layer.

Data flows one way (config -> platform -> airflow). A platform (local, gcp,
aws) owns the cluster and everything stateful around it and returns a
`PlatformOutputs`; the Airflow layer consumes only this, never a cloud SDK.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field

import pulumi
import pulumi_kubernetes as k8s

from components.config import AlertSettings
from components.database_urls import metadata_urls

# The chart components that run Airflow code and therefore read or write task
# logs. The values builder pins each one's Kubernetes ServiceAccount name (so a
# cloud can bind an identity to it before the chart exists).
AIRFLOW_COMPONENTS = ("scheduler", "apiServer", "workers", "triggerer", "dagProcessor")
_COMPONENT_SUFFIX = {
    "scheduler": "scheduler",
    "apiServer": "api-server",
    # Task pods' own account (`workers.kubernetes.serviceAccount`, the chart's
    # default suffix for it): `<release>-worker` is the deprecated root
    # `workers.serviceAccount`, which the chart still creates by default.
    "workers": "worker-kubernetes",
    "triggerer": "triggerer",
    "dagProcessor": "dag-processor",
}


def api_server_service_name(release_name: str) -> str:
    """The chart's API Service, `{{ include "airflow.fullname" . }}-api-server`.

    With `useStandardNaming: false` (the chart's default, kept here: turning
    it on renames and recreates every object) `airflow.fullname` is the
    release name as it is; the chart's own tests expect `release-name-api-server`
    for the release `release-name` (chart/tests, test_backend_service_name).
    """
    return f"{release_name}-api-server"


def api_server_pod_labels(release_name: str) -> dict[str, str]:
    """The labels the chart's API Service selects its pods by (same template as above)."""
    return component_pod_labels(release_name, "api-server")


def component_pod_labels(release_name: str, component: str) -> dict[str, str]:
    """The labels the chart puts on a component's pods (`scheduler`, `api-server`, ...)."""
    return {"tier": "airflow", "component": component, "release": release_name}


def service_account_names(release_name: str) -> dict[str, str]:
    """Kubernetes ServiceAccount name of each Airflow component, e.g. `airflow-worker`."""
    return {component: f"{release_name}-{suffix}" for component, suffix in _COMPONENT_SUFFIX.items()}


@dataclass(frozen=True)
class MetadataDatabase:
    """Where Airflow's metadata database lives; the password is a secret Output."""

    host: pulumi.Input[str]
    port: int
    name: str
    user: str
    password: pulumi.Output[str]
    # libpq sslmode: "require" for managed databases reached over the VPC,
    # "disable" for the in-cluster postgres on local (no certificate there).
    # asyncpg accepts the same mode names as its `ssl` argument.
    sslmode: str

    def connection_url(self) -> pulumi.Output[str]:
        """SQLAlchemy URL for `data.metadataSecretName` (psycopg2); secret."""
        return self._urls().apply(lambda urls: urls[0])

    def async_connection_url(self) -> pulumi.Output[str]:
        """SQLAlchemy URL for Airflow's async engine (asyncpg; see components/database_urls.py); secret."""
        return self._urls().apply(lambda urls: urls[1])

    def _urls(self) -> pulumi.Output[tuple[str, str]]:
        return pulumi.Output.secret(
            pulumi.Output.all(self.host, self.password).apply(
                lambda parts: metadata_urls(
                    user=self.user,
                    password=parts[1],
                    host=parts[0],
                    port=self.port,
                    name=self.name,
                    sslmode=self.sslmode,
                )
            )
        )


@dataclass(frozen=True)
class RemoteLogging:
    """Object storage for task logs (gs://, s3://) and the Airflow connection to reach it."""

    base_log_folder: pulumi.Input[str]
    connection_id: str


@dataclass(frozen=True)
class Placement:
    """Node selection for a class of pods (task pods go to the worker pool)."""

    node_selector: Mapping[str, str] = field(default_factory=dict)
    tolerations: Sequence[Mapping[str, str]] = field(default_factory=tuple)


@dataclass(frozen=True)
class LoadBalancer:
    """How the UI/API Service of type LoadBalancer is exposed."""

    source_ranges: Sequence[str]
    static_ip: pulumi.Input[str] | None = None
    annotations: Mapping[str, pulumi.Input[str]] = field(default_factory=dict)


@dataclass(frozen=True)
class DnsRecord:
    """A DNS record the user creates by hand (no `ui.dnsZone`), exported as `uiDnsRecords`."""

    purpose: str
    name: pulumi.Input[str]
    type: str
    value: pulumi.Input[str]

    def as_output(self) -> pulumi.Output[dict[str, str]]:
        return pulumi.Output.all(self.name, self.value).apply(
            lambda parts: {"purpose": self.purpose, "name": parts[0], "type": self.type, "value": parts[1]}
        )


@dataclass(frozen=True)
class MonitoringArgs:
    """What every cloud's monitoring component needs: the Airflow release it watches and who is told."""

    namespace: pulumi.Input[str]
    release_name: str
    # Non-production stacks are scraped less often (monitoring.rules.scrape_interval).
    production: bool
    alerts: AlertSettings
    # `alerts.webhook` as a secret Output (components.config.load_alerts_webhook).
    webhook: pulumi.Output[str] | None
    # `sleep: true`: no Airflow pod runs, so the rules that watch it (a stopped scheduler
    # heartbeat, no ready API server) would page all night; their notifications are muted.
    asleep: bool


@dataclass(frozen=True)
class PlatformOutputs:
    provider: k8s.Provider
    namespace: pulumi.Output[str]
    database: MetadataDatabase
    # Exactly one of the two: task logs must outlive KubernetesExecutor pods.
    remote_logging: RemoteLogging | None
    logs_claim_name: pulumi.Input[str] | None
    # Per Airflow component (AIRFLOW_COMPONENTS): ServiceAccount annotations
    # that grant the cloud identity (GKE Workload Identity, IRSA).
    service_account_annotations: Mapping[str, Mapping[str, pulumi.Input[str]]]
    # None: the chart's UI Service is ClusterIP: reached with `kubectl
    # port-forward` (local clusters without a LoadBalancer implementation), or
    # through the platform's own HTTPS entry point when `public_url` is set.
    load_balancer: LoadBalancer | None
    worker_placement: Placement
    # What the chart's own pods need before the Helm release starts: nodes that
    # run them (the system pool), cluster networking and DNS, the database and
    # the identities they write logs with. Never what only task pods use (the
    # worker pool, shared-data storage and its CSI driver): the release would
    # wait for them on every first `pulumi up` for nothing (README, "Cost and
    # speed").
    dependencies: Sequence[pulumi.Resource]
    cluster_name: pulumi.Output[str] | None = None
    kubeconfig: pulumi.Output[str] | None = None
    # Registry path that serves Docker Hub images through the stack's own
    # pull-through cache (`<mirror>/apache/airflow`); None: pull from Docker Hub.
    docker_hub_mirror: pulumi.Input[str] | None = None
    # Connections the metadata database lets Airflow open at once (its limit less the
    # superuser-reserved slots): each component's pool is sized to fit them together
    # (components/database_pools.py). None: no limit known, Airflow's default pools.
    database_connections: int | None = None
    # Plain (non-secret) environment every Airflow container and task pod
    # needs from the cloud, e.g. AWS_REGION for the S3 log handler.
    environment: Mapping[str, pulumi.Input[str]] = field(default_factory=dict)
    # `https://<ui.domain>` when the platform serves the UI over HTTPS itself
    # (certificate, TLS listener, allowlist); Airflow's links use it.
    public_url: pulumi.Input[str] | None = None
    # Records the user must create (no `ui.dnsZone`): certificate validation, the UI's name.
    manual_dns_records: Sequence[DnsRecord] = ()
    # Addresses (IPs or CIDRs) the HTTPS entry point's proxies reach the API
    # server from, setting X-Forwarded-Proto: the API server trusts those
    # headers from them only. Empty: no proxy sends them (AWS's NLB forwards
    # bare TCP), so the API server trusts none.
    trusted_proxies: Sequence[pulumi.Input[str]] = ()
    # Where to see the metrics, alerts and dashboard (exported as `monitoring`); empty on local.
    monitoring: Mapping[str, pulumi.Input[str]] = field(default_factory=dict)
    # The system pool's nodes may sit in several zones (and carry the zone label):
    # the chart's replicated pods are then spread over zones (components/airflow/values.py).
    zoned_nodes: bool = False

    def __post_init__(self) -> None:
        if (self.remote_logging is None) == (self.logs_claim_name is None):
            raise ValueError("a platform must provide exactly one of remote_logging or logs_claim_name")
        if self.public_url is not None and self.load_balancer is not None:
            raise ValueError("public_url and load_balancer exclude each other: the HTTPS entry point replaces the LB")
        if self.trusted_proxies and self.public_url is None:
            raise ValueError("trusted_proxies belong to an HTTPS entry point: the platform has no public_url")


def docker_hub_image(repository: str, mirror: pulumi.Input[str] | None) -> pulumi.Input[str]:
    """`repository` through `mirror` when it is a Docker Hub image; any other registry's name unchanged.

    A Docker Hub name has no registry host: its first path part has no '.'
    or ':' and is not `localhost` (the Docker reference grammar); official
    images (`python`) live under `library/` on the registry itself.
    """
    first, _, rest = repository.partition("/")
    if mirror is None or (rest and ("." in first or ":" in first or first == "localhost")):
        return repository
    path = repository if rest else f"library/{repository}"
    return f"{mirror}/{path}" if isinstance(mirror, str) else pulumi.Output.concat(mirror, "/", path)


# PVC names the Airflow layer mounts; every platform creates them under these names.
SHARED_DATA_CLAIM_NAME = "airflow-shared-data"
LOGS_CLAIM_NAME = "airflow-logs"
