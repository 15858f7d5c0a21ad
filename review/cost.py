"""Monthly cost of a stack at list price, from what the mock run registered.

`estimate(run)` reads the recorded resources (machine and instance types,
sizes, counts, node pool minimums, HA flags, NAT gateways, ...) and prices
them with review/prices.py:
- `monthly_idle_usd`: everything that bills while no task runs, node pools at
  their minimum, 730 hours a month;
- `per_task_node_hour_usd`: one more node of the worker pool for an hour
  (Spot price where the pool is Spot) - what a busy hour of tasks adds;
- `lines`: one per priced item, with its unit price and source;
- `assumptions`: the usage the estimate cannot read from the program;
- `unpriced`: resources that bill but have no price here - listed, never
  counted as zero.

`python -m review.cost --readme` rewrites the generated cost tables of
docs/costs.md (between `<!-- cost-table:<cloud>:begin -->` and `...:end -->`)
and the README's one-line-per-stack headline (`<!-- cost-table:headline:... -->`);
tests/review/test_cost.py fails when they drift.
"""

from __future__ import annotations

import argparse
import datetime
import re
import sys
from collections.abc import Callable, Mapping
from dataclasses import asdict, dataclass, field
from typing import Any

import yaml

from components import kubernetes_support
from components.aws.autoscaler import CHART as AUTOSCALER_CHART
from components.aws.nodes import POOL_LABEL, WORKER_POOL
from components.aws.platform import LB_INTERNAL_ANNOTATION
from components.aws.storage import EFS_PROVISIONER
from components.gcp.storage import FILESTORE_MIN_GIB, FILESTORE_PROVISIONER, PD_CLASS
from components.validation import GIB, ConfigError, parse_quantity
from review import prices
from review.prices import HOURS_PER_MONTH, Price
from review.runner import ROOT, Registered, Run, run_main, stack_file_config

# Usage the program does not say; each is stated in the estimate's assumptions.
LOG_BUCKET_GIB = 20
# The registry cache: the Airflow image (~1 GiB compressed) in up to two
# versions around an upgrade (components/{gcp,aws}/registry.py expire old ones).
REGISTRY_CACHE_GIB = 2
REGISTRY_CACHE_ASSUMPTION = f"Registry cache: {REGISTRY_CACHE_GIB} GiB of images stored (Airflow's, two versions)."
EFS_STORED_GIB = 10
EFS_TRANSFER_GIB = 5  # read and, again, written per month
NAT_DATA_GIB = 20  # image pulls and API calls through NAT, per month, per stack
NLB_AVERAGE_NLCU = 0.1  # a UI used by people, not a public API
# The busy month of the cost tables: task nodes up this many hours (~10 a working day).
TASK_NODE_HOURS = 200
EKS_CONTROL_PLANE_LOG_GIB = 5
RDS_LOG_GIB = 1
CLOUD_SQL_BACKUP_FACTOR = 1.0  # retained backups, as a multiple of the disk size
GKE_DEFAULT_DISK_GIB = 100
GKE_DEFAULT_DISK_TYPE = "pd-balanced"
GKE_REGIONAL_ZONES = 3  # node locations of a regional pool when none are listed
# Series the chart's StatsD exporter serves for a small deployment (Airflow's metrics, per
# DAG, task and pool, and the exporter's own), and those of GKE's managed kube-state-metrics
# Deployment package (every Deployment of the cluster, every 30 s).
EXPORTER_SERIES = 500
KSM_DEPLOYMENT_SERIES = 150
KSM_SCRAPE_SECONDS = 30
# EKS: the scraper keeps only the kube-state-metrics series the rules read, of the Airflow
# namespace (components/aws/monitoring.py): one per Deployment there, a handful.
AMP_KSM_SERIES = 10
SECONDS_PER_MONTH = HOURS_PER_MONTH * 3600
METRICS_ASSUMPTION = (
    f"Metrics: the StatsD exporter serves {EXPORTER_SERIES} series, each scraped at the stack's interval; "
    "rule evaluation and dashboard queries stay in the free or negligible tiers."
)

# The one built-in GKE StorageClass the program claims on (components/gcp/storage.py) and
# its disk type; every other claim is on the stack's own Filestore or EFS class.
GKE_PD_CLASSES = {PD_CLASS: "pd-balanced"}
# The Filestore CSI driver's `tier` parameter -> the Filestore tier it creates.
FILESTORE_CSI_TIERS = {"standard": "BASIC_HDD", "premium": "BASIC_SSD"}

# Types that never bill by themselves (networks, IAM, bindings, in-cluster objects).
FREE_TYPE_PREFIXES = ("airflow-platform:", "pulumi:providers:", "random:", "tls:", "kubernetes:")
FREE_TYPES = frozenset(
    {
        "gcp:compute/network:Network",
        "gcp:compute/subnetwork:Subnetwork",
        "gcp:compute/router:Router",
        "gcp:compute/firewall:Firewall",
        "gcp:projects/service:Service",
        "gcp:projects/serviceIdentity:ServiceIdentity",
        "gcp:projects/iAMMember:IAMMember",
        "gcp:serviceaccount/account:Account",
        "gcp:serviceaccount/iAMMember:IAMMember",
        "gcp:servicenetworking/connection:Connection",
        "gcp:sql/database:Database",
        "gcp:sql/user:User",
        "gcp:storage/bucketIAMMember:BucketIAMMember",
        "gcp:artifactregistry/repositoryIamMember:RepositoryIamMember",
        "gcp:kms/keyRing:KeyRing",
        # Google-managed certificates are free; a record costs nothing beyond the user's own zone.
        "gcp:compute/managedSslCertificate:ManagedSslCertificate",
        # SSL policies are free (Cloud Load Balancing pricing lists none).
        "gcp:compute/sSLPolicy:SSLPolicy",
        "gcp:dns/recordSet:RecordSet",
        # The sleep machinery (components/aws/sleep.py): a start/stop switch, and schedules
        # far within EventBridge Scheduler's 14 million free invocations a month
        # (https://aws.amazon.com/eventbridge/pricing/).
        "aws:rds/instanceDesiredState:InstanceDesiredState",
        "aws:scheduler/schedule:Schedule",
        "gcp:kms/cryptoKeyIAMMember:CryptoKeyIAMMember",
        # Public ACM certificates are free; records in the user's hosted zone
        # cost nothing more (alias queries to an ELB are free).
        "aws:acm/certificate:Certificate",
        "aws:acm/certificateValidation:CertificateValidation",
        "aws:route53/record:Record",
        "aws:ec2/vpc:Vpc",
        # Gateway endpoints (S3) have no hourly or data charge.
        "aws:ec2/vpcEndpoint:VpcEndpoint",
        "aws:ec2/subnet:Subnet",
        "aws:ec2/internetGateway:InternetGateway",
        "aws:ec2/routeTable:RouteTable",
        "aws:ec2/routeTableAssociation:RouteTableAssociation",
        "aws:ec2/route:Route",
        "aws:ec2/securityGroup:SecurityGroup",
        "aws:vpc/securityGroupIngressRule:SecurityGroupIngressRule",
        "aws:vpc/securityGroupEgressRule:SecurityGroupEgressRule",
        "aws:eks/addon:Addon",
        "aws:eks/podIdentityAssociation:PodIdentityAssociation",
        "aws:eks/accessEntry:AccessEntry",
        "aws:eks/accessPolicyAssociation:AccessPolicyAssociation",
        "aws:iam/role:Role",
        "aws:iam/rolePolicy:RolePolicy",
        "aws:secretsmanager/secretVersion:SecretVersion",
        "aws:ecr/repositoryCreationTemplate:RepositoryCreationTemplate",
        "aws:iam/rolePolicyAttachment:RolePolicyAttachment",
        "aws:iam/openIdConnectProvider:OpenIdConnectProvider",
        "aws:kms/alias:Alias",
        "aws:rds/subnetGroup:SubnetGroup",
        "aws:rds/parameterGroup:ParameterGroup",
        "aws:efs/mountTarget:MountTarget",
        "aws:efs/accessPoint:AccessPoint",
        "aws:s3/bucketLifecycleConfiguration:BucketLifecycleConfiguration",
        "aws:s3/bucketOwnershipControls:BucketOwnershipControls",
        "aws:s3/bucketPolicy:BucketPolicy",
        "aws:s3/bucketPublicAccessBlock:BucketPublicAccessBlock",
        "aws:s3/bucketServerSideEncryptionConfiguration:BucketServerSideEncryptionConfiguration",
        "aws:s3/bucketVersioning:BucketVersioning",
        # Free: dashboards, notification channels, an AMP workspace and its rules and alert
        # manager (billed per sample and query, priced on the scraper), SNS topics and their
        # e-mail subscriptions (the first 1,000 e-mails a month are free).
        "gcp:monitoring/dashboard:Dashboard",
        "gcp:monitoring/notificationChannel:NotificationChannel",
        "aws:amp/workspace:Workspace",
        "aws:amp/ruleGroupNamespace:RuleGroupNamespace",
        "aws:amp/alertManagerDefinition:AlertManagerDefinition",
        "aws:sns/topic:Topic",
        "aws:sns/topicPolicy:TopicPolicy",
        "aws:sns/topicSubscription:TopicSubscription",
    }
)

_CUSTOM_SQL_TIER = re.compile(r"^db-custom-(?P<cpus>\d+)-(?P<memory_mib>\d+)$")
_GCP_ZONE = re.compile(r"^[a-z]+-[a-z]+\d+-[a-z]$")


@dataclass(frozen=True)
class CostLine:
    urn: str
    name: str
    what: str
    quantity: float
    unit: str
    unit_usd: float  # region factor applied
    monthly_usd: float
    source: str
    as_of: str
    verified: bool  # False: a recalled or assumed price (prices.UNVERIFIED), the first to re-check


@dataclass(frozen=True)
class Unpriced:
    urn: str
    type: str
    reason: str


@dataclass
class CostEstimate:
    cloud: str
    region: str
    priced_on: str  # the day the estimate was made (which Kubernetes versions are in extended support)
    monthly_idle_usd: float = 0.0
    per_task_node_hour_usd: float = 0.0
    lines: list[CostLine] = field(default_factory=list)
    assumptions: list[str] = field(default_factory=list)
    unpriced: list[Unpriced] = field(default_factory=list)
    # The day the price table was last reviewed: what the prices are "as of", whatever the day of the estimate.
    prices_as_of: str = prices.CHECKED_ON
    # A month parked with `sleep: true` (nodes at zero, database stopped, state kept);
    # None where the shape cannot sleep (production) or the estimate does not price it.
    sleeping_month_usd: float | None = None

    @property
    def busy_month_usd(self) -> float:
        """The idle month plus TASK_NODE_HOURS hours of one more task node."""
        return round(self.monthly_idle_usd + TASK_NODE_HOURS * self.per_task_node_hour_usd, 2)

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


@dataclass
class _Context:
    run: Run
    cloud: str
    region: str
    factor: float
    on: datetime.date
    estimate: CostEstimate

    def line(self, resource: Registered, what: str, quantity: float, price: Price, source: str = "") -> None:
        unit_usd = price.usd * (self.factor if price.regional else 1.0)
        per_month = HOURS_PER_MONTH if price.unit.endswith("hour") else 1
        self.estimate.lines.append(
            CostLine(
                urn=resource.urn,
                name=resource.name,
                what=what,
                quantity=quantity,
                unit=f"per {price.unit}",
                unit_usd=round(unit_usd, 6),
                monthly_usd=round(quantity * unit_usd * per_month, 2),
                source=source or price.source,
                as_of=price.as_of,
                verified=prices.is_verified(source or price.source),
            )
        )

    def unpriced(self, resource: Registered, reason: str) -> None:
        self.estimate.unpriced.append(Unpriced(resource.urn, resource.type, reason))

    def assume(self, text: str) -> None:
        if text not in self.estimate.assumptions:
            self.estimate.assumptions.append(text)

    def hourly(self, price: Price) -> float:
        return price.usd * (self.factor if price.regional else 1.0)


def gib(quantity: str) -> float:
    """A Kubernetes storage quantity ("10Gi", "1Ti", "500G") in GiB."""
    size = parse_quantity(quantity.strip())
    if size is None or size < 0:
        raise ValueError(f"not a Kubernetes storage quantity: {quantity!r}")
    return float(size / GIB)


def asleep(run: Run) -> bool:
    """Whether the run is of a parked stack (`sleep: true`, its `asleep` output): no node, the database stopped."""
    exported = run.exports.get("asleep")
    return exported is not None and exported.value is True


def _cloud_and_region(run: Run) -> tuple[str, str]:
    for cloud in ("gcp", "aws"):
        providers = run.of_type(f"pulumi:providers:{cloud}")
        if providers:
            return cloud, str(providers[0].inputs.get("region", ""))
    return "local", ""


def _pool_label(labels: Mapping[str, Any] | None) -> str:
    return str((labels or {}).get(POOL_LABEL, ""))


# --- GCP ------------------------------------------------------------------------


def _gke_zones(pool: Mapping[str, Any]) -> int:
    locations = pool.get("nodeLocations") or []
    if locations:
        return len(locations)
    return 1 if _GCP_ZONE.match(str(pool.get("location", ""))) else GKE_REGIONAL_ZONES


def gke_idle_nodes(pool: Mapping[str, Any]) -> int:
    """Nodes a pool keeps when idle: its autoscaling minimum, else its fixed size."""
    autoscaling = pool.get("autoscaling") or {}
    if "totalMinNodeCount" in autoscaling:
        return int(autoscaling["totalMinNodeCount"])
    per_zone = autoscaling.get("minNodeCount", pool.get("nodeCount", pool.get("initialNodeCount", 0)))
    return int(per_zone) * _gke_zones(pool)


def _gke_node_price(pool: Mapping[str, Any]) -> tuple[Price, str] | str:
    """The hourly price of one node of `pool` and what it is, or why it has none."""
    node = pool.get("nodeConfig") or {}
    machine = str(node.get("machineType", ""))
    on_demand = prices.GCE_ON_DEMAND.get(machine)
    if on_demand is None:
        return f"machine type {machine!r} has no price in review/prices.py"
    if node.get("spot") or node.get("preemptible"):
        spot = Price(on_demand.usd * prices.GCE_SPOT_FRACTION, "hour", prices.GCE_SPOT_SOURCE, on_demand.as_of)
        return spot, f"{machine} Spot"
    return on_demand, f"{machine} on-demand"


def _gke_disk(pool: Mapping[str, Any]) -> tuple[Price, float, str] | str:
    """The per-GiB-month price, size and type of a node's boot disk, or why it has no price."""
    node = pool.get("nodeConfig") or {}
    disk_type = str(node.get("diskType", GKE_DEFAULT_DISK_TYPE))
    price = prices.GCE_DISK.get(disk_type)
    if price is None:
        return f"boot disk type {disk_type!r} has no price in review/prices.py"
    return price, float(node.get("diskSizeGb", GKE_DEFAULT_DISK_GIB)), disk_type


def _gke_cluster(ctx: _Context, resource: Registered) -> None:
    location = str(resource.inputs.get("location", ""))
    zonal = bool(_GCP_ZONE.match(location))
    ctx.line(resource, f"GKE cluster management fee ({'zonal' if zonal else 'regional'})", 1, prices.GKE_CLUSTER_FEE)
    if zonal:
        credit = min(prices.GKE_FREE_TIER_CREDIT.usd, prices.GKE_CLUSTER_FEE.usd * HOURS_PER_MONTH)
        ctx.line(
            resource,
            "GKE free tier credit (one zonal cluster per billing account)",
            -1,
            Price(credit, "month", prices.GKE_FREE_TIER_CREDIT.source, prices.GKE_FREE_TIER_CREDIT.as_of, False),
        )
        ctx.assume("GKE: this is the billing account's only zonal cluster, so the free tier credit covers its fee.")
    ctx.assume("GKE: a release channel upgrades the cluster before its version leaves support; no extended fee.")
    # Asleep, no node runs kube-state-metrics: no samples.
    if "DEPLOYMENT" in ((resource.inputs.get("monitoringConfig") or {}).get("enableComponents") or []) and not asleep(
        ctx.run
    ):
        samples = KSM_DEPLOYMENT_SERIES * SECONDS_PER_MONTH / KSM_SCRAPE_SECONDS / 1e6
        what = f"GMP samples, managed kube-state-metrics Deployments ({KSM_DEPLOYMENT_SERIES} series / 30 s)"
        ctx.line(resource, what, round(samples, 2), prices.GMP_SAMPLES)


def _scrape_seconds(interval: str) -> int:
    """A Prometheus scrape interval ("60s", "1m") in seconds."""
    return int(interval[:-1]) * (60 if interval.endswith("m") else 1)


def _exporter_samples(interval: str) -> float:
    """Millions of samples a month of the StatsD exporter's series at `interval`."""
    return round(EXPORTER_SERIES * SECONDS_PER_MONTH / _scrape_seconds(interval) / 1e6, 2)


def _pod_monitoring(ctx: _Context, resource: Registered) -> None:
    if asleep(ctx.run):
        return  # no exporter pod runs, nothing is scraped
    interval = str(((resource.inputs.get("spec") or {}).get("endpoints") or [{}])[0].get("interval", "60s"))
    what = f"GMP samples, StatsD exporter ({EXPORTER_SERIES} series / {interval})"
    ctx.line(resource, what, _exporter_samples(interval), prices.GMP_SAMPLES)
    ctx.assume(METRICS_ASSUMPTION)


def _alert_policy(ctx: _Context, resource: Registered) -> None:
    conditions = len(resource.inputs.get("conditions") or [])
    ctx.line(
        resource,
        f"Cloud Monitoring alert condition x {conditions}: {resource.inputs.get('displayName')}",
        conditions,
        prices.CLOUD_MONITORING_CONDITION,
    )


def _gke_node_pool(ctx: _Context, resource: Registered) -> None:
    nodes = gke_idle_nodes(resource.inputs)
    node_price = _gke_node_price(resource.inputs)
    if isinstance(node_price, str):
        ctx.unpriced(resource, node_price)
    else:
        ctx.line(resource, f"{nodes} x {node_price[1]} node (pool minimum)", nodes, node_price[0])
    disk = _gke_disk(resource.inputs)
    if isinstance(disk, str):
        ctx.unpriced(resource, disk)
    else:
        disk_price, size, disk_type = disk
        ctx.line(resource, f"{nodes} x {size:g} GiB {disk_type} boot disk", nodes * size, disk_price)


def _gke_worker_node_hour(ctx: _Context) -> float:
    for pool in ctx.run.of_type("gcp:container/nodePool:NodePool"):
        if _pool_label((pool.inputs.get("nodeConfig") or {}).get("labels")) != WORKER_POOL:
            continue
        node_price, disk = _gke_node_price(pool.inputs), _gke_disk(pool.inputs)
        if isinstance(node_price, str) or isinstance(disk, str):
            return 0.0  # the pool's line is in `unpriced` already
        disk_price, size, _ = disk
        nat = ctx.hourly(prices.CLOUD_NAT_VM_HOUR) if ctx.run.of_type("gcp:compute/routerNat:RouterNat") else 0.0
        ctx.assume(
            f"Per task-node hour: one {node_price[1]} worker node, its {size:g} GiB boot disk"
            + (" and its Cloud NAT VM-hour." if nat else ".")
        )
        return ctx.hourly(node_price[0]) + size * ctx.hourly(disk_price) / HOURS_PER_MONTH + nat
    return 0.0


def _cloud_sql(ctx: _Context, resource: Registered) -> None:
    settings = resource.inputs.get("settings") or {}
    tier = str(settings.get("tier", ""))
    ha = settings.get("availabilityType") == "REGIONAL"
    copies = prices.CLOUD_SQL_HA_FACTOR if ha else 1
    shape = "HA (primary + standby)" if ha else "zonal"
    custom = _CUSTOM_SQL_TIER.match(tier)
    if settings.get("activationPolicy") == "NEVER":
        # Stopped (`sleep: true`): no vCPU or memory billed; its disk and backups are.
        ctx.assume("Cloud SQL stopped (activation policy NEVER): only its storage and backups are billed.")
    elif tier in prices.CLOUD_SQL_SHARED_CORE:
        ctx.line(resource, f"Cloud SQL {tier}, {shape}", copies, prices.CLOUD_SQL_SHARED_CORE[tier])
    elif custom:
        cpus, memory_gib = int(custom.group("cpus")), int(custom.group("memory_mib")) / 1024
        ctx.line(resource, f"Cloud SQL {tier} vCPUs, {shape}", copies * cpus, prices.CLOUD_SQL_VCPU)
        ctx.line(resource, f"Cloud SQL {tier} memory (GiB), {shape}", copies * memory_gib, prices.CLOUD_SQL_MEMORY_GIB)
    else:
        ctx.unpriced(resource, f"Cloud SQL tier {tier!r} has no price in review/prices.py")
    disk_type = str(settings.get("diskType", "PD_SSD"))
    size = float(settings.get("diskSize", 10))
    storage = prices.CLOUD_SQL_STORAGE.get(disk_type)
    if storage is None:
        ctx.unpriced(resource, f"Cloud SQL disk type {disk_type!r} has no price in review/prices.py")
    else:
        ctx.line(resource, f"Cloud SQL {size:g} GiB {disk_type}, {shape}", copies * size, storage)
    if (settings.get("backupConfiguration") or {}).get("enabled"):
        backup_gib = size * CLOUD_SQL_BACKUP_FACTOR
        ctx.line(resource, f"Cloud SQL backups (~{backup_gib:g} GiB)", backup_gib, prices.CLOUD_SQL_BACKUP)
        ctx.assume(f"Cloud SQL: retained backups take {CLOUD_SQL_BACKUP_FACTOR:g}x the disk size.")


def _gcs_bucket(ctx: _Context, resource: Registered) -> None:
    storage_class = str(resource.inputs.get("storageClass", "STANDARD"))
    price = prices.GCS_STORAGE.get(storage_class)
    if price is None:
        ctx.unpriced(resource, f"GCS storage class {storage_class!r} has no price in review/prices.py")
        return
    ctx.line(resource, f"GCS {storage_class}, {LOG_BUCKET_GIB} GiB of task logs", LOG_BUCKET_GIB, price)
    ctx.assume(f"Task logs: {LOG_BUCKET_GIB} GiB stored (the bucket's lifecycle rule bounds it).")


def _artifact_registry(ctx: _Context, resource: Registered) -> None:
    ctx.line(
        resource,
        f"Artifact Registry, {REGISTRY_CACHE_GIB} GiB of cached images",
        REGISTRY_CACHE_GIB,
        prices.ARTIFACT_REGISTRY_STORAGE,
    )
    ctx.assume(REGISTRY_CACHE_ASSUMPTION)


def _gcp_address(ctx: _Context, resource: Registered) -> None:
    if resource.inputs.get("addressType", "EXTERNAL") == "EXTERNAL":
        ctx.line(resource, "static external IP (in use by the UI load balancer)", 1, prices.STATIC_IP_IN_USE)


def _cloud_armor(ctx: _Context, resource: Registered) -> None:
    rules = len(resource.inputs.get("rules") or [])
    ctx.line(resource, "Cloud Armor policy (UI allowlist)", 1, prices.CLOUD_ARMOR_POLICY)
    ctx.line(resource, f"Cloud Armor rules x {rules}", rules, prices.CLOUD_ARMOR_RULE)
    ctx.assume("Cloud Armor: the UI's requests (people, not a public API) add a negligible per-request charge.")


def _gateway(ctx: _Context, resource: Registered) -> None:
    # GKE's Gateway controller creates the global load balancer's forwarding rule; the
    # Gateway itself and its policies are free Kubernetes objects.
    ctx.line(resource, "UI Gateway forwarding rule (global external Application LB)", 1, prices.FORWARDING_RULE)


def _cloud_nat(ctx: _Context, resource: Registered) -> None:
    vms = sum(gke_idle_nodes(pool.inputs) for pool in ctx.run.of_type("gcp:container/nodePool:NodePool"))
    if vms * prices.CLOUD_NAT_VM_HOUR.usd < prices.CLOUD_NAT_MAX_HOUR.usd:
        ctx.line(resource, f"Cloud NAT gateway, {vms} VM(s) at idle", vms, prices.CLOUD_NAT_VM_HOUR)
    else:
        ctx.line(resource, "Cloud NAT gateway (32+ VMs: capped rate)", 1, prices.CLOUD_NAT_MAX_HOUR)
    ips = len(resource.inputs.get("natIps") or []) or 1
    ctx.line(resource, f"Cloud NAT external IP x {ips}", ips, prices.CLOUD_NAT_IP)
    # No node, no traffic: a sleeping stack (`sleep: true`) sends nothing through NAT.
    data_gib = NAT_DATA_GIB if vms else 0
    ctx.line(resource, f"Cloud NAT data processed ({data_gib} GiB)", data_gib, prices.CLOUD_NAT_DATA)
    ctx.assume(f"NAT: {NAT_DATA_GIB} GiB a month of image pulls and API calls leave through NAT while nodes run.")


def _cloud_kms_key(ctx: _Context, resource: Registered) -> None:
    ctx.line(resource, "Cloud KMS key (one active version)", 1, prices.CLOUD_KMS_KEY_VERSION)
    ctx.assume("Cloud KMS: one active key version (each rotation adds $0.06/month unless old versions are destroyed).")


# --- AWS ------------------------------------------------------------------------


def _eks_cluster(ctx: _Context, resource: Registered) -> None:
    version = str(resource.inputs.get("version", ""))
    support_type = str((resource.inputs.get("upgradePolicy") or {}).get("supportType", "EXTENDED"))
    window = kubernetes_support.STANDARD_SUPPORT.get(ctx.cloud, {}).get(version)
    # With supportType STANDARD, EKS upgrades the cluster when standard support ends instead of billing extended.
    if window is not None and ctx.on >= window.end_of_standard_support and support_type != "STANDARD":
        price = prices.EKS_EXTENDED_SUPPORT
        ends = window.end_of_standard_support.isoformat()
        source = f"{price.source}; end of standard support: {window.source}"
        ctx.line(resource, f"EKS control plane, {version} in EXTENDED support (since {ends})", 1, price, source)
    else:
        ctx.line(resource, f"EKS control plane, {version} in standard support", 1, prices.EKS_STANDARD_SUPPORT)
    warning = kubernetes_support.standard_support_warning(ctx.cloud, version, ctx.on)
    if warning is not None:
        ctx.assume(f"{warning}.")
    if resource.inputs.get("enabledClusterLogTypes"):
        ctx.line(
            resource,
            f"CloudWatch Logs ingestion, control-plane logs ({EKS_CONTROL_PLANE_LOG_GIB} GiB)",
            EKS_CONTROL_PLANE_LOG_GIB,
            prices.CLOUDWATCH_LOGS_INGEST,
        )
        ctx.assume(f"EKS control-plane logs: {EKS_CONTROL_PLANE_LOG_GIB} GiB a month ingested into CloudWatch.")


def _has_cluster_autoscaler(run: Run) -> bool:
    return any(r.inputs.get("chart") == AUTOSCALER_CHART for r in run.of_type("kubernetes:helm.sh/v3:Release"))


def eks_idle_nodes(run: Run, group: Mapping[str, Any]) -> int:
    """Nodes a node group keeps when idle: its minimum if the Cluster Autoscaler runs, else its desired size."""
    if asleep(run):
        return 0  # the sleep schedule holds every group at zero (components/aws/sleep.py)
    scaling = group.get("scalingConfig") or {}
    return int(scaling.get("minSize" if _has_cluster_autoscaler(run) else "desiredSize", 0))


def _ec2_price(group: Mapping[str, Any]) -> tuple[Price, str] | str:
    """The hourly price of one node of `group` and what it is, or why it has none."""
    instance_types = group.get("instanceTypes") or []
    instance = str(instance_types[0]) if instance_types else ""
    on_demand = prices.EC2_ON_DEMAND.get(instance)
    if on_demand is None:
        return f"instance type {instance!r} has no price in review/prices.py"
    if group.get("capacityType") == "SPOT":
        spot = Price(on_demand.usd * prices.EC2_SPOT_FRACTION, "hour", prices.EC2_SPOT_SOURCE, on_demand.as_of)
        return spot, f"{instance} Spot"
    return on_demand, f"{instance} on-demand"


def _eks_node_disk_gib(group: Mapping[str, Any]) -> float:
    return float(group.get("diskSize", prices.EKS_NODE_DEFAULT_DISK_GIB))


def _eks_node_group(ctx: _Context, resource: Registered) -> None:
    nodes = eks_idle_nodes(ctx.run, resource.inputs)
    ec2 = _ec2_price(resource.inputs)
    if isinstance(ec2, str):
        ctx.unpriced(resource, ec2)
    else:
        ctx.line(resource, f"{nodes} x {ec2[1]} node (group minimum)", nodes, ec2[0])
    if len(resource.inputs.get("instanceTypes") or []) > 1:
        ctx.assume("Node groups with several instance types are priced at the first one listed.")
    size = _eks_node_disk_gib(resource.inputs)
    ctx.line(resource, f"{nodes} x {size:g} GiB gp3 root volume", nodes * size, prices.EBS_VOLUME["gp3"])
    ctx.assume("EKS nodes: root volumes are gp3 of the node group's diskSize (20 GiB when unset).")


def _eks_worker_node_hour(ctx: _Context) -> float:
    for group in ctx.run.of_type("aws:eks/nodeGroup:NodeGroup"):
        if _pool_label(group.inputs.get("labels")) != WORKER_POOL:
            continue
        ec2 = _ec2_price(group.inputs)
        if isinstance(ec2, str):
            return 0.0  # the group's line is in `unpriced` already
        size = _eks_node_disk_gib(group.inputs)
        ctx.assume(f"Per task-node hour: one {ec2[1]} worker node and its {size:g} GiB root volume.")
        return ctx.hourly(ec2[0]) + size * ctx.hourly(prices.EBS_VOLUME["gp3"]) / HOURS_PER_MONTH
    return 0.0


def _amp_scraper(ctx: _Context, resource: Registered) -> None:
    configuration = yaml.safe_load(str(resource.inputs.get("scrapeConfiguration") or "")) or {}
    interval = str((configuration.get("global") or {}).get("scrape_interval", "60s"))
    ctx.line(resource, "AMP managed scraper (collector hours)", 1, prices.AMP_COLLECTOR_HOUR)
    what = f"AMP samples ingested, StatsD exporter ({EXPORTER_SERIES} series / {interval})"
    ctx.line(resource, what, _exporter_samples(interval), prices.AMP_SAMPLES)
    collected = _exporter_samples(interval)
    if any(job.get("job_name") == "kube-state-metrics" for job in configuration.get("scrape_configs") or []):
        # The add-on itself is free; its pod runs on the system nodes already priced.
        samples = round(AMP_KSM_SERIES * SECONDS_PER_MONTH / _scrape_seconds(interval) / 1e6, 2)
        what = f"AMP samples ingested, kube-state-metrics add-on Deployments ({AMP_KSM_SERIES} series / {interval})"
        ctx.line(resource, what, samples, prices.AMP_SAMPLES)
        collected += samples
    # Every sample the scraper collects bills once more, besides its ingestion.
    ctx.line(resource, "AMP managed scraper, samples collected", round(collected, 2), prices.AMP_COLLECTOR_SAMPLES)
    ctx.assume(METRICS_ASSUMPTION)


def _cloudwatch_alarm(ctx: _Context, resource: Registered) -> None:
    ctx.line(resource, f"CloudWatch alarm ({resource.inputs.get('metricName')})", 1, prices.CLOUDWATCH_ALARM)


def _nat_gateway(ctx: _Context, resource: Registered) -> None:
    gateways = len(ctx.run.of_type("aws:ec2/natGateway:NatGateway"))
    ctx.line(resource, "NAT gateway", 1, prices.NAT_GATEWAY_HOUR)
    share = round(NAT_DATA_GIB / gateways, 2)
    ctx.line(resource, f"NAT gateway data processed ({share:g} GiB)", share, prices.NAT_GATEWAY_DATA)
    ctx.assume(f"NAT: {NAT_DATA_GIB} GiB a month of image pulls and API calls leave through NAT.")


def _eip(ctx: _Context, resource: Registered) -> None:
    ctx.line(resource, "public IPv4 address (Elastic IP)", 1, prices.PUBLIC_IPV4)


def _rds(ctx: _Context, resource: Registered) -> None:
    instance_class = str(resource.inputs.get("instanceClass", ""))
    multi_az = bool(resource.inputs.get("multiAz"))
    copies = prices.RDS_MULTI_AZ_FACTOR if multi_az else 1
    shape = "Multi-AZ (primary + standby)" if multi_az else "Single-AZ"
    source = prices.RDS_MULTI_AZ_SOURCE if multi_az else ""
    price = prices.RDS_POSTGRES.get(instance_class)
    if asleep(ctx.run):
        # Stopped (aws.rds.InstanceDesiredState): storage and backups billed, no instance hours.
        ctx.assume("RDS stopped: only its storage (and backups beyond the free allowance) is billed.")
    elif price is None:
        ctx.unpriced(resource, f"RDS instance class {instance_class!r} has no price in review/prices.py")
    else:
        ctx.line(
            resource,
            f"RDS PostgreSQL {instance_class}, {shape}",
            copies,
            price,
            source and f"{price.source}; x2: {source}",
        )
    storage_type = str(resource.inputs.get("storageType", "gp2"))
    size = float(resource.inputs.get("allocatedStorage", 0))
    storage = prices.RDS_STORAGE.get(storage_type)
    if storage is None:
        ctx.unpriced(resource, f"RDS storage type {storage_type!r} has no price in review/prices.py")
    else:
        ctx.line(resource, f"RDS {size:g} GiB {storage_type}, {shape}", copies * size, storage)
    ctx.assume("RDS: automated backups stay within the free allowance (100% of the provisioned storage).")
    if resource.inputs.get("enabledCloudwatchLogsExports"):
        ctx.line(
            resource,
            f"CloudWatch Logs ingestion, PostgreSQL logs ({RDS_LOG_GIB} GiB)",
            RDS_LOG_GIB,
            prices.CLOUDWATCH_LOGS_INGEST,
        )


def _efs(ctx: _Context, resource: Registered) -> None:
    ctx.line(resource, f"EFS Standard, {EFS_STORED_GIB} GiB stored", EFS_STORED_GIB, prices.EFS_STANDARD)
    if resource.inputs.get("throughputMode") == "elastic":
        ctx.line(
            resource,
            f"EFS Elastic Throughput reads ({EFS_TRANSFER_GIB} GiB)",
            EFS_TRANSFER_GIB,
            prices.EFS_ELASTIC_READ,
        )
        ctx.line(
            resource,
            f"EFS Elastic Throughput writes ({EFS_TRANSFER_GIB} GiB)",
            EFS_TRANSFER_GIB,
            prices.EFS_ELASTIC_WRITE,
        )
    ctx.assume(
        f"Shared data on EFS: {EFS_STORED_GIB} GiB stored, {EFS_TRANSFER_GIB} GiB read and {EFS_TRANSFER_GIB} GiB "
        "written a month (EFS bills use, not the PVC's requested size)."
    )


def _efs_backup(ctx: _Context, resource: Registered) -> None:
    if (resource.inputs.get("backupPolicy") or {}).get("status") == "ENABLED":
        ctx.line(resource, f"AWS Backup of EFS ({EFS_STORED_GIB} GiB warm)", EFS_STORED_GIB, prices.AWS_BACKUP_EFS_WARM)


def _s3_bucket(ctx: _Context, resource: Registered) -> None:
    ctx.line(resource, f"S3 Standard, {LOG_BUCKET_GIB} GiB of task logs", LOG_BUCKET_GIB, prices.S3_STANDARD)
    ctx.assume(f"Task logs: {LOG_BUCKET_GIB} GiB stored (the bucket's lifecycle rule bounds it).")


def _kms_key(ctx: _Context, resource: Registered) -> None:
    ctx.line(resource, "KMS customer managed key", 1, prices.KMS_KEY)


def _ecr_cache(ctx: _Context, resource: Registered) -> None:
    ctx.line(resource, f"ECR, {REGISTRY_CACHE_GIB} GiB of cached images", REGISTRY_CACHE_GIB, prices.ECR_STORAGE)
    ctx.assume(REGISTRY_CACHE_ASSUMPTION)


def _log_group(ctx: _Context, resource: Registered) -> None:
    """Stored control-plane logs at steady state: a month's ingestion kept `retentionInDays`."""
    stored_gib = round(EKS_CONTROL_PLANE_LOG_GIB * int(resource.inputs["retentionInDays"]) / 30, 1)
    ctx.line(resource, f"CloudWatch Logs storage, {stored_gib} GiB kept", stored_gib, prices.CLOUDWATCH_LOGS_STORAGE)


def _secret(ctx: _Context, resource: Registered) -> None:
    ctx.line(resource, "Secrets Manager secret", 1, prices.SECRETS_MANAGER_SECRET)


# --- Kubernetes objects that create cloud resources --------------------------------


def _pvc(ctx: _Context, resource: Registered) -> None:
    spec = resource.inputs.get("spec") or {}
    size = gib(str(((spec.get("resources") or {}).get("requests") or {}).get("storage", "0")))
    name = str(spec.get("storageClassName", ""))
    storage_class = _storage_class(ctx.run, name)
    provisioner = storage_class.get("provisioner")
    if provisioner == EFS_PROVISIONER:
        return  # billed on the EFS file system's line, by use
    tier = ""
    if provisioner == FILESTORE_PROVISIONER:
        tier = FILESTORE_CSI_TIERS.get(str((storage_class.get("parameters") or {}).get("tier", "standard")), "")
    if tier in prices.FILESTORE:
        ctx.line(
            resource, f"PVC {size:g} GiB on Filestore {tier} (billed as provisioned)", size, prices.FILESTORE[tier]
        )
    elif ctx.cloud == "gcp" and name in GKE_PD_CLASSES:
        disk_type = GKE_PD_CLASSES[name]
        ctx.line(resource, f"PVC {size:g} GiB on {disk_type}", size, prices.GCE_DISK[disk_type])
    else:
        ctx.unpriced(resource, f"PVC on StorageClass {name!r}: no price for it on {ctx.cloud}")


def _storage_class(run: Run, name: str) -> Mapping[str, Any]:
    """The inputs of the stack's own StorageClass `name`, or {} for a class the cluster ships."""
    for storage_class in run.of_type("kubernetes:storage.k8s.io/v1:StorageClass"):
        if (storage_class.inputs.get("metadata") or {}).get("name") == name:
            return storage_class.inputs
    return {}


def _load_balancer(ctx: _Context, resource: Registered, annotations: Mapping[str, Any]) -> None:
    if ctx.cloud == "gcp":
        ctx.line(resource, "UI load balancer forwarding rule", 1, prices.FORWARDING_RULE)
    elif ctx.cloud == "aws":
        ctx.line(resource, "UI Network Load Balancer", 1, prices.NLB_HOUR)
        ctx.line(
            resource,
            f"UI Network Load Balancer capacity ({NLB_AVERAGE_NLCU:g} NLCU)",
            NLB_AVERAGE_NLCU,
            prices.NLB_NLCU_HOUR,
        )
        ctx.assume(f"NLB: the UI uses {NLB_AVERAGE_NLCU:g} NLCU on average (people, not a public API).")
        if str(annotations.get(LB_INTERNAL_ANNOTATION, "")).lower() != "true":
            zones = sum(
                1
                for subnet in ctx.run.of_type("aws:ec2/subnet:Subnet")
                if (subnet.inputs.get("tags") or {}).get("kubernetes.io/role/elb") == "1"
            )
            ctx.line(
                resource, f"public IPv4 addresses of the internet-facing NLB ({zones} AZs)", zones, prices.PUBLIC_IPV4
            )


def _service(ctx: _Context, resource: Registered) -> None:
    spec = resource.inputs.get("spec") or {}
    if spec.get("type") == "LoadBalancer":
        _load_balancer(ctx, resource, (resource.inputs.get("metadata") or {}).get("annotations") or {})


def _helm_release(ctx: _Context, resource: Registered) -> None:
    # The chart's API server Service is no Pulumi resource; its values say whether it is a cloud load balancer.
    service = ((resource.inputs.get("values") or {}).get("apiServer") or {}).get("service") or {}
    if service.get("type") == "LoadBalancer":
        _load_balancer(ctx, resource, service.get("annotations") or {})


_PRICERS: dict[str, Callable[[_Context, Registered], None]] = {
    "gcp:container/cluster:Cluster": _gke_cluster,
    "gcp:container/nodePool:NodePool": _gke_node_pool,
    "gcp:sql/databaseInstance:DatabaseInstance": _cloud_sql,
    "gcp:storage/bucket:Bucket": _gcs_bucket,
    "gcp:artifactregistry/repository:Repository": _artifact_registry,
    "gcp:compute/address:Address": _gcp_address,
    "gcp:compute/globalAddress:GlobalAddress": _gcp_address,
    "gcp:compute/routerNat:RouterNat": _cloud_nat,
    "gcp:compute/securityPolicy:SecurityPolicy": _cloud_armor,
    "kubernetes:gateway.networking.k8s.io/v1:Gateway": _gateway,
    "kubernetes:monitoring.googleapis.com/v1:PodMonitoring": _pod_monitoring,
    "gcp:monitoring/alertPolicy:AlertPolicy": _alert_policy,
    "aws:amp/scraper:Scraper": _amp_scraper,
    "aws:cloudwatch/metricAlarm:MetricAlarm": _cloudwatch_alarm,
    "gcp:kms/cryptoKey:CryptoKey": _cloud_kms_key,
    "aws:eks/cluster:Cluster": _eks_cluster,
    "aws:eks/nodeGroup:NodeGroup": _eks_node_group,
    "aws:ec2/natGateway:NatGateway": _nat_gateway,
    "aws:ec2/eip:Eip": _eip,
    "aws:rds/instance:Instance": _rds,
    "aws:efs/fileSystem:FileSystem": _efs,
    "aws:efs/backupPolicy:BackupPolicy": _efs_backup,
    "aws:s3/bucket:Bucket": _s3_bucket,
    "aws:s3/bucketV2:BucketV2": _s3_bucket,
    "aws:kms/key:Key": _kms_key,
    "aws:ecr/pullThroughCacheRule:PullThroughCacheRule": _ecr_cache,
    "aws:secretsmanager/secret:Secret": _secret,
    "aws:cloudwatch/logGroup:LogGroup": _log_group,
    "kubernetes:core/v1:PersistentVolumeClaim": _pvc,
    "kubernetes:core/v1:Service": _service,
    "kubernetes:helm.sh/v3:Release": _helm_release,
}


def estimate(run: Run, *, on: datetime.date | None = None, region: str | None = None) -> CostEstimate:
    """Price `run` at list price as of `on` (default today), in its own region unless `region` is given.

    An EKS cluster whose version is past its end of standard support on `on`
    (components/kubernetes_support.py) is priced at the extended-support rate.
    """
    cloud, stack_region = _cloud_and_region(run)
    region = region or stack_region
    priced_on = on or datetime.date.today()
    result = CostEstimate(cloud=cloud, region=region, priced_on=priced_on.isoformat())
    region_factor = prices.REGION_FACTORS.get(region)
    ctx = _Context(
        run=run,
        cloud=cloud,
        region=region,
        factor=region_factor.factor if region_factor else 1.0,
        on=priced_on,
        estimate=result,
    )
    for resource in run.resources:
        pricer = _PRICERS.get(resource.type)
        if resource.read or (pricer is not None and cloud == "local"):
            continue  # `Resource.get` is billed where it is managed; a local cluster bills nothing
        if pricer is not None:
            pricer(ctx, resource)
        elif resource.type not in FREE_TYPES and not resource.type.startswith(FREE_TYPE_PREFIXES):
            ctx.unpriced(resource, "no price in review/prices.py and not known to be free")
    # Registration order varies between runs of the same program; the estimate must not.
    result.lines.sort(key=lambda line: (line.urn, line.what))
    result.unpriced.sort(key=lambda item: (item.urn, item.reason))
    result.assumptions.sort()
    result.assumptions.insert(0, f"{HOURS_PER_MONTH} hours a month, list prices before taxes, credits and discounts.")
    if cloud == "local":
        result.assumptions.append("local: runs on your own Kubernetes cluster; no cloud charges.")
        return result
    base = prices.GCP_BASE_REGION if cloud == "gcp" else prices.AWS_BASE_REGION
    if region_factor is None:
        result.assumptions.append(f"Region {region}: no region factor here; {base} prices used.")
    else:
        result.assumptions.append(
            f"Region {region}: {base} prices x {region_factor.factor:g} ({region_factor.source})."
        )
    result.monthly_idle_usd = round(sum(line.monthly_usd for line in result.lines), 2)
    worker_hour = _gke_worker_node_hour(ctx) if cloud == "gcp" else _eks_worker_node_hour(ctx)
    result.per_task_node_hour_usd = round(worker_hour, 4)
    return result


# --- docs/costs.md tables and the README headline ---------------------------------

README = ROOT / "README.md"
COSTS_PAGE = ROOT / "docs" / "costs.md"
# The README's block: one line per shipped stack, linking to the tables of docs/costs.md.
HEADLINE = "headline"
_COSTS_ANCHORS = {"gcp": "gcp-gke-what-the-stacks-cost", "aws": "aws-eks-what-the-stacks-cost", "local": "local"}
REGENERATE = "python -m review.cost --readme"
_DOC_RANGE = "203.0.113.0/24"
_REPO = "git@github.com:your-org/airflow-platform.git"
# Shapes docs/costs.md prices besides the shipped stack files: GKE in production
# mode and EKS in dev mode (the stack files ship the other two).
GCP_PRODUCTION_SHAPE: dict[str, Any] = {
    "cloud": "gcp",
    "production": True,
    "gcp": {
        "project": "your-project-id",
        "region": "europe-west1",
        "masterAuthorizedNetworks": [{"cidr": _DOC_RANGE, "name": "office"}],
    },
    "loadBalancer": {"sourceRanges": [_DOC_RANGE]},
    # Production needs HTTPS (or the plain-HTTP opt-in): priced with the Gateway.
    "ui": {"domain": "airflow.example.com"},
    "dags": {"source": "git", "repo": _REPO},
    # The default 10Gi is below Filestore Basic HDD's minimum on GKE: the shape takes the minimum.
    "airflow": {"sharedDataSize": f"{FILESTORE_MIN_GIB}Gi"},
    # Alerts routed: priced with the alert conditions and the Deployment metrics they read.
    "alerts": {"email": ["ops@example.com"]},
}
AWS_DEV_SHAPE: dict[str, Any] = {
    "cloud": "aws",
    "production": False,
    "aws": {"region": "eu-west-1", "publicAccessCidrs": [_DOC_RANGE]},
    "loadBalancer": {"sourceRanges": [_DOC_RANGE]},
    "dags": {"source": "git", "repo": _REPO},
    # Alerts routed: priced with the CloudWatch alarms (the SNS topic and AMP rules are free).
    "alerts": {"email": ["ops@example.com"]},
}


@dataclass(frozen=True)
class Shape:
    stack: str
    label: str  # where the config comes from, as docs/costs.md names it
    config: Mapping[str, Any]


# The stack files docs/costs.md prices: the shipped ones, named so that a stack a team adds
# (docs/quickstart.md "Add an environment") leaves the tables as they are. To price yours too, add its
# stack name here and run REGENERATE.
README_STACKS = ("dev", "local", "prod")


def readme_shapes() -> list[Shape]:
    """The README_STACKS' `Pulumi.<stack>.yaml`, then the two fixture shapes."""
    shipped = [
        Shape(stack, f"`{path.name}`", stack_file_config(path))
        for stack in README_STACKS
        if (path := ROOT / f"Pulumi.{stack}.yaml").is_file()
    ]
    return [
        *shipped,
        Shape("prod-gcp", "`production: true` on GCP with `alerts.email`, defaults otherwise", GCP_PRODUCTION_SHAPE),
        Shape("dev-aws", "`production: false` on AWS with `alerts.email`, defaults otherwise", AWS_DEV_SHAPE),
    ]


def _number(value: float) -> str:
    return f"{value:,.2f}".rstrip("0").rstrip(".") if value != int(value) else f"{int(value):,}"


def render_table(shape: Shape, cost: CostEstimate, sources: list[str]) -> str:
    """One shape's Markdown table; sources are numbered in `sources` (shared by a cost-table block)."""
    if not cost.lines and not cost.unpriced:
        return f"**{shape.stack}** ({shape.label}; {cost.cloud}): **$0/month**, no billed cloud resources."
    where = f"{cost.cloud.upper()}, priced at {cost.region} list prices"
    out = [
        f"**{shape.stack}** ({shape.label}; {where}): idle **${cost.monthly_idle_usd:,.0f}/month**; "
        f"each task node adds **${cost.per_task_node_hour_usd:.3f}/hour** while it runs.",
        "",
        "| Item | Quantity | Unit price (USD) | USD/month | Source |",
        "|---|---:|---:|---:|---|",
    ]
    for line in sorted(cost.lines, key=lambda line: (-line.monthly_usd, line.what)):
        reference = line.source if line.source == prices.NOT_VERIFIED else f"{line.source}, as of {line.as_of}"
        if reference not in sources:
            sources.append(reference)
        out.append(
            f"| {line.what} | {_number(line.quantity)} | {line.unit_usd:.4g} {line.unit} | "
            f"{line.monthly_usd:,.2f} | [{sources.index(reference) + 1}] |"
        )
    out.append(f"| **Idle total** | | | **{cost.monthly_idle_usd:,.2f}** | |")
    for item in cost.unpriced:
        out.append(f"\nNot priced: `{item.type}` {item.urn.rsplit('::', 1)[-1]} - {item.reason}.")
    return "\n".join(out)


def sleeping_month_usd(shape: Shape) -> float | None:
    """What `shape` costs a month asleep (`sleep: true`) at the published prices; None where it
    cannot sleep. Which shapes can is the config validation's call (it refuses production and
    local stacks), not a second copy of that rule here: the shape is valid awake, so a refusal
    is about `sleep` alone."""
    try:
        asleep = run_main({**shape.config, "sleep": True}, stack=shape.stack)
    except ConfigError:
        return None
    return readme_estimate(asleep).monthly_idle_usd


def readme_estimate(run: Run) -> CostEstimate:
    """The published prices: as of the price table's review date, in the cloud's base region.

    Neither depends on what a user edits in a stack file (its region, say), so
    the tables change only with the program and the price table.
    """
    cloud, _ = _cloud_and_region(run)
    base = {"gcp": prices.GCP_BASE_REGION, "aws": prices.AWS_BASE_REGION}.get(cloud)
    return estimate(run, on=datetime.date.fromisoformat(prices.CHECKED_ON), region=base)


def estimate_shapes() -> list[tuple[Shape, CostEstimate]]:
    """Every priced shape's estimate, with its sleeping month where the shape can sleep."""
    return [(shape, shape_estimate(shape, run_main(shape.config, stack=shape.stack))) for shape in readme_shapes()]


def shape_estimate(shape: Shape, run: Run) -> CostEstimate:
    """`shape`'s published estimate from its mock `run`, with its sleeping month where it can sleep."""
    cost = readme_estimate(run)
    cost.sleeping_month_usd = sleeping_month_usd(shape)
    return cost


@dataclass(frozen=True)
class HaChoice:
    """An availability choice for a production shape, priced as what it adds to the shape without it."""

    shape: str  # a readme_shapes() stack
    what: str  # the choice and its key, as docs/costs.md names them
    without: Mapping[str, Any]  # config merged over the shape's to drop it
    # Config merged over the shape's to have it; empty when the shape has it already.
    with_it: Mapping[str, Any] = field(default_factory=dict)

    @property
    def in_the_shape(self) -> bool:
        return not self.with_it


HA_CHOICES = (
    HaChoice(
        "prod",
        "A NAT gateway per AZ instead of one (`aws.natGatewayPerAz`)",
        {"aws": {"natGatewayPerAz": False}},
        {"aws": {"natGatewayPerAz": True}},
    ),
    HaChoice(
        "prod",
        "Multi-AZ RDS, a standby in a second AZ (`aws.database.multiAz`)",
        {"aws": {"database": {"multiAz": False}}},
    ),
    HaChoice(
        "prod-gcp",
        "Cloud SQL HA, a standby in a second zone (`gcp.databaseHighAvailability`)",
        {"gcp": {"databaseHighAvailability": False}},
    ),
    HaChoice(
        "prod-gcp",
        "A regional cluster instead of a zonal one (`gcp.locationType`)",
        {"gcp": {"locationType": "zonal"}},
    ),
)


def merged(base: Mapping[str, Any], override: Mapping[str, Any]) -> dict[str, Any]:
    """`base` with `override`'s keys replaced, nested mappings merged key by key."""
    result = dict(base)
    for key, value in override.items():
        inner = result.get(key)
        result[key] = merged(inner, value) if isinstance(value, Mapping) and isinstance(inner, Mapping) else value
    return result


def ha_choice_costs(estimates: list[tuple[Shape, CostEstimate]]) -> list[tuple[str, HaChoice, float]]:
    """(cloud, choice, USD/month it adds) for each HA choice, from runs of its shape with and without it."""
    by_stack = {shape.stack: (shape, estimate) for shape, estimate in estimates}
    rows = []
    for choice in HA_CHOICES:
        shape, as_shipped = by_stack[choice.shape]
        with_it = (
            readme_estimate(run_main(merged(shape.config, choice.with_it), stack=shape.stack))
            if choice.with_it
            else as_shipped
        )
        without = readme_estimate(run_main(merged(shape.config, choice.without), stack=shape.stack))
        rows.append((as_shipped.cloud, choice, round(with_it.monthly_idle_usd - without.monthly_idle_usd, 2)))
    return rows


def render_ha_choices(rows: list[tuple[str, HaChoice, float]], cloud: str) -> list[str]:
    mine = [(choice, usd) for row_cloud, choice, usd in rows if row_cloud == cloud]
    if not mine:
        return []
    table = [
        "What each availability choice adds to a production shape's idle month (the shape with it minus "
        "the same shape without it), and whether the shape as shipped has it:",
        "",
        "| Choice | Shape | In the shape | USD/month |",
        "|---|---|---|---:|",
        *(
            f"| {choice.what} | {choice.shape} | {'yes' if choice.in_the_shape else 'no'} | {usd:,.2f} |"
            for choice, usd in mine
        ),
    ]
    return ["\n".join(table)]


def render_blocks(
    estimates: list[tuple[Shape, CostEstimate]], ha_rows: list[tuple[str, HaChoice, float]] | None = None
) -> dict[str, str]:
    """cloud -> the Markdown of its docs/costs.md block: each shape's table, the assumptions, the sources."""
    by_cloud: dict[str, list[tuple[Shape, CostEstimate]]] = {}
    for shape, cost in estimates:
        by_cloud.setdefault(cost.cloud, []).append((shape, cost))
    blocks = {}
    for cloud, shapes in by_cloud.items():
        sources: list[str] = []
        tables = [render_table(shape, cost, sources) for shape, cost in shapes]
        assumptions = list(dict.fromkeys(text for _, cost in shapes for text in cost.assumptions))
        numbered = "\n".join(f"{number}. {source}" for number, source in enumerate(sources, 1))
        blocks[cloud] = "\n\n".join(
            [
                f"<!-- Generated by `{REGENERATE}` from review/prices.py; do not edit by hand. -->",
                f"Priced on {shapes[0][1].priced_on}.",
                *tables,
                *render_ha_choices(ha_rows or [], cloud),
                "Assumptions:\n\n" + "\n".join(f"- {text}" for text in assumptions),
                *([f"Sources:\n\n{numbered}"] if sources else []),
            ]
        )
    return blocks


SUMMARY = "summary"


def _usd(value: float | None) -> str:
    return "-" if value is None else f"${value:,.0f}"


def render_summary(estimates: list[tuple[Shape, CostEstimate]]) -> str:
    """Every shape's month idle, busy and asleep, then the managed offerings' list prices beside them."""
    shapes = [
        f"| {shape.stack} | {cost.cloud} | {_usd(cost.monthly_idle_usd)} | {_usd(cost.busy_month_usd)} | "
        f"{_usd(cost.sleeping_month_usd)} |"
        for shape, cost in estimates
    ]
    offerings = []
    for offering in prices.MANAGED_OFFERINGS:
        price = (
            "no list price found"
            if offering.low_usd is None
            else _usd(offering.low_usd)
            if offering.high_usd == offering.low_usd
            else f"{_usd(offering.low_usd)}-{_usd(offering.high_usd)}"
        )
        offerings.append(f"| {offering.name} | {price} | {offering.what} | {offering.source}, as of {offering.as_of} |")
    return "\n\n".join(
        [
            f"<!-- Generated by `{REGENERATE}` from review/prices.py; do not edit by hand. -->",
            f"Priced on {prices.CHECKED_ON}, at each cloud's base-region list prices (the tables below say what "
            f"each month is made of). Busy: the idle month plus {TASK_NODE_HOURS} task-node hours (one worker "
            "node up ~10 hours a working day). Asleep: a month parked with `sleep: true`; `-` where the shape "
            "cannot sleep (production) or it has no price.",
            "\n".join(
                [
                    "| Shape | Cloud | Idle month | Busy month | Asleep month |",
                    "|---|---|---:|---:|---:|",
                    *shapes,
                ]
            ),
            "The managed offerings, always on, at their list prices:",
            "\n".join(
                [
                    "| Offering | USD/month | What it buys | Source |",
                    "|---|---:|---|---|",
                    *offerings,
                ]
            ),
        ]
    )


def render_headline(estimates: list[tuple[Shape, CostEstimate]]) -> str:
    """The README's cost headline: one line per shipped stack (README_STACKS), idle and per task node."""
    out = [f"<!-- Generated by `{REGENERATE}` from review/prices.py; do not edit by hand. -->"]
    for shape, cost in estimates:
        if shape.stack not in README_STACKS:
            continue
        where = f"[{cost.cloud}](docs/costs.md#{_COSTS_ANCHORS[cost.cloud]})"
        if not cost.lines and not cost.unpriced:
            out.append(f"- **{shape.stack}** ({where}, {shape.label}): **$0/month** in a cloud, your own cluster")
        else:
            out.append(
                f"- **{shape.stack}** ({where}, {shape.label}): idle **${cost.monthly_idle_usd:,.0f}/month**, "
                f"plus **${cost.per_task_node_hour_usd:.3f}/hour** per task node while it runs"
                + ("" if cost.sleeping_month_usd is None else f"; **${cost.sleeping_month_usd:,.0f}/month** asleep")
            )
    return "\n".join(out)


def _markers(cloud: str) -> tuple[str, str]:
    return f"<!-- cost-table:{cloud}:begin -->", f"<!-- cost-table:{cloud}:end -->"


def readme_block(text: str, cloud: str) -> str:
    """What `text` (docs/costs.md, or the README for HEADLINE) holds between `cloud`'s markers."""
    begin, end = _markers(cloud)
    if begin not in text or end not in text:
        raise ValueError(f"no {begin} ... {end} block")
    return text.split(begin, 1)[1].split(end, 1)[0].strip("\n")


def replace_blocks(text: str, blocks: Mapping[str, str]) -> str:
    for cloud, block in blocks.items():
        begin, end = _markers(cloud)
        readme_block(text, cloud)  # both markers present
        head, rest = text.split(begin, 1)
        text = f"{head}{begin}\n{block}\n{end}{rest.split(end, 1)[1]}"
    return text


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m review.cost", description=__doc__.splitlines()[0])
    parser.add_argument(
        "--readme", action="store_true", help="rewrite docs/costs.md's generated cost tables and the README's headline"
    )
    args = parser.parse_args(argv)
    estimates = estimate_shapes()
    blocks = render_blocks(estimates, ha_choice_costs(estimates)) | {SUMMARY: render_summary(estimates)}
    if args.readme:
        COSTS_PAGE.write_text(replace_blocks(COSTS_PAGE.read_text(), blocks))
        README.write_text(replace_blocks(README.read_text(), {HEADLINE: render_headline(estimates)}))
    else:
        sys.stdout.write("\n\n".join(blocks.values()) + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
