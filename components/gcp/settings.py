"""Typed, validated `airflow-platform:gcp` settings (pure: no pulumi_gcp import).

Two shapes from one code path: `production: false` (dev) defaults to the
cheapest sane GKE - zonal cluster (its management fee is covered by the GKE
free tier), a Spot system node with a 30 GB boot disk, spot task nodes that
scale to zero, the smallest shared-core Cloud SQL tier, the UI through
`kubectl port-forward` instead of a load balancer, a 100 GiB Filestore share
for shared data (README "Cost and speed" says what each of these trades
away). `production: true` flips the
defaults to a regional cluster, HA Cloud SQL with point-in-time recovery,
KMS-encrypted Secrets and deletion protection. Every key can still
be set on its own. Providers only validate during a real preview, so every
rule GCP would enforce at apply time that we can check offline is checked here.
"""

from __future__ import annotations

import ipaddress
import re
from dataclasses import dataclass
from typing import Any, ClassVar

from components import config_keys
from components.config_keys import Shape
from components.validation import Problems, Section, check_disjoint_cidrs, parse_cidr

# A GCP project id (bootstrap/settings.py checks its own `gcp.project` with it too).
PROJECT_ID = re.compile(r"^[a-z][a-z0-9-]{4,28}[a-z0-9]$")
_REGION = re.compile(r"^[a-z]+-[a-z]+\d+$")
_ZONE = re.compile(r"^(?P<region>[a-z]+-[a-z]+\d+)-[a-z]$")

# Compute Engine machine types GKE nodes can use: predefined `family-type-vCPUs`
# (e2-standard-4, n2-highmem-8, c3-standard-4-lssd), the shared-core e2 sizes,
# and custom types `[family-]custom-vCPUs-MiB[-ext]` (custom-4-16384).
_MACHINE_TYPE = re.compile(
    r"^(?:"
    r"[a-z]\d[a-z]?-(?:standard|highmem|highcpu|ultramem|megamem)-\d+(?:-lssd)?"
    r"|e2-(?:micro|small|medium)"
    r"|(?:[a-z]\d[a-z]?-)?custom-\d+-\d+(?:-ext)?"
    r")$"
)
MACHINE_TYPE_EXAMPLES = "e2-standard-4, n2-highmem-8, e2-medium or custom-4-16384"

# Cloud SQL tiers: shared core (db-f1-micro, db-g1-small), Enterprise custom
# (db-custom-<vCPUs>-<MiB>), Enterprise Plus (db-perf-optimized-N-<vCPUs>).
_SHARED_CORE_TIERS = ("db-f1-micro", "db-g1-small")
_CUSTOM_TIER = re.compile(r"^db-custom-(?P<cpus>\d+)-(?P<memory>\d+)$")
_PERF_OPTIMIZED_TIER = re.compile(r"^db-perf-optimized-N-(?P<cpus>\d+)$")

# Cloud SQL for PostgreSQL's default max_connections by memory
# (https://cloud.google.com/sql/docs/postgres/quotas#cloud-sql-for-postgresql-connection-limits):
# 25 on db-f1-micro (0.6 GiB), 50 on db-g1-small (1.7 GiB), then by a custom tier's memory -
# 100 from 3.75 GiB up to 6 GiB (production's db-custom-1-3840), ...
SHARED_CORE_MAX_CONNECTIONS = {"db-f1-micro": 25, "db-g1-small": 50}
_MEMORY_MAX_CONNECTIONS = ((3.75, 50), (6, 100), (7.5, 200), (15, 400), (30, 500), (60, 600), (120, 800))
# The slots PostgreSQL keeps for superusers (`superuser_reserved_connections`, default 3;
# Cloud SQL's own agent connects as one): what is left is all Airflow may open at once, and
# components/database_pools.py sizes each component's pool to fit it (tests/runtime measures it).
RESERVED_CONNECTIONS = 3


def cloud_sql_max_connections(tier: str) -> int | None:
    """The default max_connections of a Cloud SQL tier; None for a tier the table does not know."""
    if tier in SHARED_CORE_MAX_CONNECTIONS:
        return SHARED_CORE_MAX_CONNECTIONS[tier]
    custom = _CUSTOM_TIER.match(tier)
    if custom is None:
        return None
    memory_gb = int(custom.group("memory")) / 1024
    return next((limit for below, limit in _MEMORY_MAX_CONNECTIONS if memory_gb < below), 1000)


# GKE gives every node a /24 of the pod range by default (110 pods per node).
_POD_PREFIX_PER_NODE = 24
# Cloud SQL private services access needs at least a /24 allocated range.
_MAX_PRIVATE_SERVICES_PREFIX = 24
_MASTER_PREFIX = 28
WORLD = "0.0.0.0/0"


@dataclass(frozen=True)
class AuthorizedNetwork:
    """A CIDR allowed to reach the GKE control plane (kubectl, Pulumi)."""

    cidr: str
    name: str


@dataclass(frozen=True)
class GcpSettings:
    KEYS: ClassVar[tuple[str, ...]] = config_keys.children("gcp")

    project: str
    region: str
    location_type: str
    # Set only for a zonal cluster: where the cluster, its nodes and the
    # (non-HA) Cloud SQL instance live.
    zone: str | None
    subnet_cidr: str
    pods_cidr: str
    services_cidr: str
    master_cidr: str
    private_services_cidr: str
    master_authorized_networks: tuple[AuthorizedNetwork, ...]
    release_channel: str
    system_machine_type: str
    system_min_nodes: int
    system_max_nodes: int
    system_spot: bool
    system_disk_size_gb: int
    worker_machine_type: str
    worker_min_nodes: int
    worker_max_nodes: int
    worker_spot: bool
    database_tier: str
    database_version: str
    database_high_availability: bool
    point_in_time_recovery: bool
    database_disk_size_gb: int
    log_retention_days: int
    log_versioning: bool
    shared_storage: str
    ui_access: str
    kms_encryption: bool
    deletion_protection: bool

    @property
    def location(self) -> str:
        """The cluster's location: a zone (zonal) or the region (regional)."""
        return self.zone if self.zone is not None else self.region

    @property
    def database_connections(self) -> int | None:
        """Connections the tier lets Airflow open (its max_connections less the reserved); None: not known
        (an Enterprise Plus tier, 16 GiB and more: far more than Airflow's default pools open)."""
        limit = cloud_sql_max_connections(self.database_tier)
        return None if limit is None else limit - RESERVED_CONNECTIONS

    @property
    def workload_pool(self) -> str:
        return f"{self.project}.svc.id.goog"

    @property
    def database_edition(self) -> str:
        """Cloud SQL edition matching the tier.

        Left unset, the API picks ENTERPRISE_PLUS for POSTGRES_16 and later,
        which rejects shared-core and custom tiers ("Invalid Tier for
        ENTERPRISE_PLUS Edition"), so it is always set explicitly.
        """
        return "ENTERPRISE_PLUS" if _PERF_OPTIMIZED_TIER.match(self.database_tier) else "ENTERPRISE"


def parse_gcp_settings(section: Section, production: bool) -> GcpSettings:
    section = section.shaped(Shape("gcp", production))
    problems = section.problems
    # Required: reported once when unset, then not matched again.
    project = section.required_str("project")
    if project is not None and not PROJECT_ID.match(project):
        problems.add(section.key("project"), project, section.declaration("project").allowed)
    region = section.str("region")
    if not _REGION.match(region):
        problems.add(section.key("region"), region, section.declaration("region").allowed)

    location_type = section.choice("locationType")
    zone = _parse_zone(section, region, location_type)

    cidrs = {
        name: section.str(name)
        for name in ("subnetCidr", "podsCidr", "servicesCidr", "masterCidr", "privateServicesCidr")
    }
    networks = {section.key(name): parse_cidr(problems, section.key(name), value) for name, value in cidrs.items()}
    master = networks[section.key("masterCidr")]
    if master is not None and master.prefixlen != _MASTER_PREFIX:
        problems.add(section.key("masterCidr"), cidrs["masterCidr"], "a /28 (GKE's control plane range size)")
    private_services = networks[section.key("privateServicesCidr")]
    if private_services is not None and private_services.prefixlen > _MAX_PRIVATE_SERVICES_PREFIX:
        problems.add(
            section.key("privateServicesCidr"),
            cidrs["privateServicesCidr"],
            "a /24 or larger range (Cloud SQL private services access needs at least a /24)",
        )
    check_disjoint_cidrs(problems, networks)

    system_min = section.int("systemMinNodes")
    system_max = section.int("systemMaxNodes")
    _check_max(section, "systemMaxNodes", system_max, "systemMinNodes", system_min)
    worker_min = section.int("workerMinNodes")
    worker_max = section.int("workerMaxNodes")
    _check_max(section, "workerMaxNodes", worker_max, "workerMinNodes", worker_min)
    _check_capacity(section, networks, system_max + worker_max)

    # Production: db-custom-1-3840, 1 vCPU and 3.75 GiB, HA (components/config_keys.py).
    # Airflow's metadata database is small and mostly idle; its connections are
    # capped to the tier's limit (components/database_pools.py). A tier change is in place (the
    # provider does not force a new instance): Cloud SQL restarts the instance, a
    # few minutes without a database, nothing lost (docs/costs.md, "Database").
    database_tier = section.str("databaseTier")
    _check_database_tier(section, database_tier)
    shared_storage = _shared_storage(section, worker_max)

    return GcpSettings(
        project=project or "",
        region=region,
        location_type=location_type,
        zone=zone,
        subnet_cidr=cidrs["subnetCidr"],
        pods_cidr=cidrs["podsCidr"],
        services_cidr=cidrs["servicesCidr"],
        master_cidr=cidrs["masterCidr"],
        private_services_cidr=cidrs["privateServicesCidr"],
        master_authorized_networks=_parse_authorized_networks(section, production),
        release_channel=section.choice("releaseChannel"),
        # e2-standard-2 in both shapes (components/config_keys.py): production's three
        # (one per zone of the regional pool) hold every system pod with a zone to
        # spare (docs/costs.md, "Node sizes"). A machine type change is in place: GKE
        # recreates the pool's nodes one at a time (surge 1), pods move, no data lost.
        system_machine_type=_machine_type(section, "systemMachineType"),
        system_min_nodes=system_min,
        system_max_nodes=system_max,
        system_spot=_system_spot(section, production),
        system_disk_size_gb=section.int("systemDiskSizeGb"),
        worker_machine_type=_machine_type(section, "workerMachineType"),
        worker_min_nodes=worker_min,
        worker_max_nodes=worker_max,
        worker_spot=section.bool("workerSpot"),
        database_tier=database_tier,
        database_version=section.choice("databaseVersion"),
        database_high_availability=section.bool("databaseHighAvailability"),
        point_in_time_recovery=section.bool("pointInTimeRecovery"),
        database_disk_size_gb=section.int("databaseDiskSizeGb"),
        log_retention_days=section.int("logRetentionDays"),
        log_versioning=section.bool("logVersioning"),
        shared_storage=shared_storage,
        ui_access=section.choice("uiAccess"),
        kms_encryption=section.bool("kmsEncryption"),
        deletion_protection=section.bool("deletionProtection"),
    )


def _parse_zone(section: Section, region: str, location_type: str) -> str | None:
    problems = section.problems
    if location_type == "regional":
        if section.has("zone"):
            problems.add(
                section.key("zone"),
                section.raw["zone"],
                "unset with locationType: regional (the cluster spans the region's zones); or set locationType: zonal",
            )
        return None
    # `b` exists in every region (europe-west1 and us-east1 have no `a`).
    zone = section.str("zone", f"{region}-b")
    match = _ZONE.match(zone)
    if match is None:
        problems.add(section.key("zone"), zone, f"a zone of region {region}, such as {region}-b")
    elif match.group("region") != region:
        problems.add(section.key("zone"), zone, f"a zone of region {region} (gcp.region), such as {region}-b")
    return zone


def _parse_authorized_networks(section: Section, production: bool) -> tuple[AuthorizedNetwork, ...]:
    """`masterAuthorizedNetworks: [{cidr: 203.0.113.0/24, name: office}]`.

    Required: Pulumi itself talks to the control plane from wherever it runs,
    so an empty list would lock it out, and a default would open it.
    """
    problems = section.problems
    key = section.key("masterAuthorizedNetworks")
    shape = "a list of {cidr, name} objects, e.g. [{cidr: 203.0.113.0/24, name: office}]"
    raw: Any = section.raw.get("masterAuthorizedNetworks")
    if raw is None or raw == []:
        problems.add(key, raw, f"{shape}: the networks you run Pulumi and kubectl from")
        return ()
    if not isinstance(raw, list):
        problems.add(key, raw, shape)
        return ()
    networks = []
    for index, entry in enumerate(raw):
        item_key = f"{key}[{index}]"
        if not isinstance(entry, dict) or set(entry) - {"cidr", "name"} or "cidr" not in entry:
            problems.add(item_key, entry, "an object {cidr, name}; name is optional")
            continue
        cidr = entry["cidr"]
        parse_cidr(problems, f"{item_key}.cidr", cidr)
        name = entry.get("name", f"network-{index}")
        if not isinstance(name, str) or not name.strip():
            problems.add(f"{item_key}.name", name, "a non-empty string")
            name = f"network-{index}"
        if production and cidr == WORLD:
            problems.add(f"{item_key}.cidr", cidr, "specific CIDRs on a production stack, never the whole internet")
        networks.append(AuthorizedNetwork(cidr=str(cidr), name=name))
    return tuple(networks)


def _system_spot(section: Section, production: bool) -> bool:
    spot = section.bool("systemSpot")
    if production and spot:
        section.problems.add(
            section.key("systemSpot"),
            spot,
            "false on a production stack: a reclaimed Spot node stops the scheduler and the UI until GKE replaces it",
        )
    return spot


def _shared_storage(section: Section, worker_max: int) -> str:
    """Every task pod mounts the shared volume, so it must be mountable from
    every node task pods can land on. A persistent disk attaches to one node
    (ReadWriteOnce): a pod on a second node waits in ContainerCreating
    (Multi-Attach error). It is therefore only offered, and the default, when
    the worker pool has a single node; otherwise Filestore (ReadWriteMany)."""
    shared_storage = section.choice("sharedStorage", "pd" if worker_max == 1 else "filestore")
    if shared_storage == "pd" and worker_max > 1:
        section.problems.add(
            section.key("sharedStorage"),
            shared_storage,
            f"filestore while workerMaxNodes is {worker_max}: a persistent disk attaches to one node only and "
            "task pods on the others could not mount it; or set workerMaxNodes: 1",
        )
    return shared_storage


def _machine_type(section: Section, name: str) -> str:
    value = section.str(name)
    if not _MACHINE_TYPE.match(value):
        section.problems.add(section.key(name), value, f"a Compute Engine machine type such as {MACHINE_TYPE_EXAMPLES}")
    return value


def _check_max(section: Section, max_name: str, max_value: int, min_name: str, min_value: int) -> None:
    if max_value < min_value:
        section.problems.add(section.key(max_name), max_value, f"a number >= {section.key(min_name)} ({min_value})")


def _check_capacity(section: Section, networks: dict[str, ipaddress.IPv4Network | None], max_nodes: int) -> None:
    """The pod range must hold a /24 per node, the subnet one address per node."""
    problems: Problems = section.problems
    pods = networks[section.key("podsCidr")]
    if pods is not None:
        capacity = 2 ** (_POD_PREFIX_PER_NODE - pods.prefixlen) if pods.prefixlen <= _POD_PREFIX_PER_NODE else 0
        if capacity < max_nodes:
            problems.add(
                section.key("podsCidr"),
                str(pods),
                f"a range with a /24 for each of the {max_nodes} nodes systemMaxNodes + workerMaxNodes allow "
                f"(a /{_POD_PREFIX_PER_NODE - (max_nodes - 1).bit_length()} or larger)",
            )
    subnet = networks[section.key("subnetCidr")]
    # GCP reserves four addresses in every subnet.
    if subnet is not None and subnet.num_addresses - 4 < max_nodes:
        problems.add(
            section.key("subnetCidr"), str(subnet), f"a range with an address for each of the {max_nodes} nodes"
        )


def _check_database_tier(section: Section, tier: str) -> None:
    key, allowed = section.key("databaseTier"), section.declaration("databaseTier").allowed
    if tier in _SHARED_CORE_TIERS or _PERF_OPTIMIZED_TIER.match(tier):
        return
    custom = _CUSTOM_TIER.match(tier)
    if custom is None:
        section.problems.add(key, tier, allowed)
        return
    cpus, memory = int(custom.group("cpus")), int(custom.group("memory"))
    cpus_ok = cpus == 1 or (cpus % 2 == 0 and 2 <= cpus <= 96)
    memory_ok = memory % 256 == 0 and memory >= 3840 and 0.9 * 1024 * cpus <= memory <= 6.5 * 1024 * cpus
    if not (cpus_ok and memory_ok):
        section.problems.add(key, tier, allowed)
