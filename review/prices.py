"""List prices the cost estimate (review/cost.py) multiplies by what a stack creates.

One entry per resource type and size, in USD, for the cloud's base region
(GCP us-central1, AWS us-east-1) with a region factor on top. Every entry
names where the number comes from and when:
- a URL: the page the number was read from (through the project's search
  tool; some are third-party summaries of the official page - the URL says
  which), with the date the page states;
- `NOT_VERIFIED`: the best-known list price, written from memory of the
  official price list and NOT checked against a page here. Treat those as
  the first to re-check on the official calculator.
Change a price here, then regenerate the cost tables (docs/costs.md, the README's headline):
`python -m review.cost --readme`.
"""

from __future__ import annotations

from dataclasses import dataclass

from components import kubernetes_support

HOURS_PER_MONTH = kubernetes_support.HOURS_PER_MONTH
# The day this table was last reviewed; the published cost tables are priced as of it.
CHECKED_ON = "2026-11-22"
# Every price whose source says this was not read from a page here (`is_verified`).
UNVERIFIED = "not re-verified here"
NOT_VERIFIED = f"list price as of 2025, {UNVERIFIED}"
_RECALLED = "2025"


@dataclass(frozen=True)
class Price:
    usd: float
    unit: str  # what one `usd` buys: "hour", "GiB-month", "GiB", "month", "NLCU-hour"
    source: str
    as_of: str
    # False for prices the provider sets the same in every region (control-plane fees,
    # Cloud NAT data processing); True ones are multiplied by the region factor.
    regional: bool = True


def is_verified(source: str) -> bool:
    """Whether a price's source is a page it was read from, not a recalled or assumed figure."""
    return UNVERIFIED not in source


def _recalled(usd: float, unit: str, *, regional: bool = True) -> Price:
    return Price(usd, unit, NOT_VERIFIED, _RECALLED, regional)


def _recalled_hourly(table: dict[str, float]) -> dict[str, Price]:
    return {size: _recalled(usd, "hour") for size, usd in table.items()}


@dataclass(frozen=True)
class RegionFactor:
    factor: float
    source: str
    as_of: str


# --- GCP (us-central1) --------------------------------------------------------

GKE_CLUSTER_FEE = _recalled(0.10, "hour", regional=False)
# One zonal (or Autopilot) cluster per billing account is covered by this monthly credit.
GKE_FREE_TIER_CREDIT = Price(
    74.40, "month", "https://github.com/murphye/cheap-gke-cluster (GKE free tier, one control plane)", "2023", False
)

# Compute Engine on-demand, Linux, per node-hour. Spot VM prices move (Google
# quotes 60-91% off); the estimate assumes GCE_SPOT_FRACTION of on-demand.
GCE_ON_DEMAND: dict[str, Price] = _recalled_hourly(
    {
        "e2-micro": 0.008376,
        "e2-small": 0.016751,
        "e2-medium": 0.033503,
        "e2-standard-2": 0.067006,
        "e2-standard-4": 0.134012,
        "e2-standard-8": 0.268024,
        "e2-standard-16": 0.536048,
        "e2-highmem-2": 0.090381,
        "e2-highmem-4": 0.180763,
        "e2-highcpu-4": 0.098952,
        "n2-standard-2": 0.097118,
        "n2-standard-4": 0.194236,
        "n2-standard-8": 0.388472,
        "n2d-standard-2": 0.084492,
        "n2d-standard-4": 0.168984,
        "t2a-standard-2": 0.077000,
        "t2a-standard-4": 0.154000,
    }
)
GCE_SPOT_FRACTION = 0.30
GCE_SPOT_SOURCE = (
    "assumed 30% of on-demand: Spot VM prices vary (60-91% off per Google), "
    f"https://cloud.google.com/compute/vm-instance-pricing, {UNVERIFIED}"
)

# Boot disks and PersistentVolumeClaims on PD, per GiB-month.
GCE_DISK: dict[str, Price] = {
    "pd-standard": Price(0.04, "GiB-month", "https://c3x.dev/blog/gcp-persistent-disk-types-cost/", "2026"),
    "pd-balanced": Price(0.10, "GiB-month", "https://c3x.dev/blog/gcp-persistent-disk-types-cost/", "2026"),
    "pd-ssd": Price(0.17, "GiB-month", "https://c3x.dev/blog/gcp-persistent-disk-types-cost/", "2026"),
    # Capacity only: the baseline IOPS and throughput every volume gets are included.
    "hyperdisk-balanced": _recalled(0.08, "GiB-month"),
}

# Filestore, billed on provisioned capacity (GKE's Filestore CSI StorageClasses).
FILESTORE: dict[str, Price] = {
    "BASIC_HDD": _recalled(0.20, "GiB-month"),
    "BASIC_SSD": _recalled(0.30, "GiB-month"),
}

# Cloud SQL for PostgreSQL, Enterprise edition. HA (REGIONAL) bills a standby:
# instance and storage prices double.
CLOUD_SQL_SHARED_CORE: dict[str, Price] = {
    "db-f1-micro": _recalled(0.0105, "hour"),
    "db-g1-small": _recalled(0.0350, "hour"),
}
CLOUD_SQL_VCPU = Price(0.0413, "hour", "https://www.usage.ai/blogs/gcp/cloud-sql/pricing/ (Enterprise)", "2026-05")
CLOUD_SQL_MEMORY_GIB = Price(
    0.007, "hour", "https://www.usage.ai/blogs/gcp/cloud-sql/pricing/ (Enterprise, per GiB)", "2026-05"
)
CLOUD_SQL_STORAGE: dict[str, Price] = {
    "PD_SSD": _recalled(0.17, "GiB-month"),
    "PD_HDD": _recalled(0.09, "GiB-month"),
}
CLOUD_SQL_BACKUP = _recalled(0.08, "GiB-month")
CLOUD_SQL_HA_FACTOR = 2

GCS_STORAGE: dict[str, Price] = {"STANDARD": _recalled(0.020, "GiB-month")}
# Docker images cached by a remote repository; pulls within the region are free.
# The first 0.5 GB per billing account is free; not counted here.
ARTIFACT_REGISTRY_STORAGE = Price(
    0.10, "GiB-month", "https://cloud.google.com/artifact-registry/pricing (Docker, over 0.5 GB)", "2026", False
)

_NAT_PRICING = "https://cloud.google.com/nat/pricing"
CLOUD_NAT_VM_HOUR = Price(0.0014, "hour", _NAT_PRICING, "2026")  # per VM using the gateway
CLOUD_NAT_MAX_HOUR = Price(0.044, "hour", _NAT_PRICING, "2026")  # the cap, from 32 VMs up
CLOUD_NAT_DATA = Price(0.045, "GiB", _NAT_PRICING, "2026", regional=False)
CLOUD_NAT_IP = Price(0.005, "hour", _NAT_PRICING, "2026")

FORWARDING_RULE = Price(0.025, "hour", "https://cloud.google.com/load-balancing/pricing (first 5 rules)", "2026")
# Cloud Armor Standard (pay as you go): per policy and per rule, plus $0.75 per
# million requests (a UI used by people: negligible, said as an assumption).
CLOUD_ARMOR_POLICY = _recalled(5.0, "month", regional=False)
CLOUD_ARMOR_RULE = _recalled(1.0, "month", regional=False)
STATIC_IP_IN_USE = _recalled(0.005, "hour")
CLOUD_KMS_KEY_VERSION = _recalled(0.06, "month")

# --- AWS (us-east-1) ----------------------------------------------------------

# From components/kubernetes_support.py, whose extended-support warning quotes the difference.
EKS_STANDARD_SUPPORT = Price(
    kubernetes_support.EKS_STANDARD_SUPPORT_USD_PER_HOUR,
    "hour",
    kubernetes_support.EKS_SUPPORT_PRICING,
    kubernetes_support.EKS_SUPPORT_PRICES_AS_OF,
    regional=False,
)
EKS_EXTENDED_SUPPORT = Price(
    kubernetes_support.EKS_EXTENDED_SUPPORT_USD_PER_HOUR,
    "hour",
    kubernetes_support.EKS_SUPPORT_PRICING,
    kubernetes_support.EKS_SUPPORT_PRICES_AS_OF,
    regional=False,
)

# EC2 on-demand, Linux, per instance-hour. Spot prices move; the estimate
# assumes EC2_SPOT_FRACTION of on-demand for SPOT node groups.
EC2_ON_DEMAND: dict[str, Price] = _recalled_hourly(
    {
        "t3.medium": 0.0416,
        "t3.large": 0.0832,
        "t3.xlarge": 0.1664,
        "t4g.medium": 0.0336,
        "t4g.large": 0.0672,
        "t4g.xlarge": 0.1344,
        "m5.large": 0.096,
        "m5.xlarge": 0.192,
        "m6i.large": 0.096,
        "m6i.xlarge": 0.192,
        "m6a.large": 0.0864,
        "m6a.xlarge": 0.1728,
        "m7i.large": 0.1008,
        "m7i.xlarge": 0.2016,
        "m6g.large": 0.077,
        "m6g.xlarge": 0.154,
        "m7g.xlarge": 0.1632,
        "c6i.large": 0.085,
        "c6i.xlarge": 0.17,
        "r6i.large": 0.126,
    }
) | {
    "m7g.large": Price(
        0.0816,
        "hour",
        "https://www.factualminds.com/blog/amazon-ec2-on-demand-pricing-instance-families-2026/",
        "2026-06",
    ),
}
EC2_SPOT_FRACTION = 0.35
EC2_SPOT_SOURCE = (
    "assumed 35% of on-demand: Spot prices vary by pool (up to 90% off per AWS), "
    f"https://aws.amazon.com/ec2/spot/pricing/, {UNVERIFIED}"
)

EBS_VOLUME: dict[str, Price] = {"gp3": _recalled(0.08, "GiB-month")}
# Root volume of a managed node group node when `diskSize` is not set.
EKS_NODE_DEFAULT_DISK_GIB = 20

_NAT_SOURCE = "https://c3x.dev/resources/gcp/google_compute_router_nat (AWS NAT Gateway comparison)"
NAT_GATEWAY_HOUR = Price(0.045, "hour", _NAT_SOURCE, "2026")
NAT_GATEWAY_DATA = Price(0.045, "GiB", _NAT_SOURCE, "2026")

_ELB_SOURCE = "https://awsnegotiations.com/elastic-load-balancer-cost.html"
NLB_HOUR = Price(0.0225, "hour", _ELB_SOURCE, "2026-05")
NLB_NLCU_HOUR = Price(0.006, "NLCU-hour", _ELB_SOURCE, "2026-05")
PUBLIC_IPV4 = Price(
    0.005,
    "hour",
    "https://www.repost.aws/articles/ARknH_OR0cTvqoTfJrVGaB8A/why-am-i-seeing-charges-for-public-ipv4-addresses-when-i-am-under-the-aws-free-tier",
    "2024-02",
)

# RDS for PostgreSQL, Single-AZ per instance-hour; a Multi-AZ instance bills
# the standby too (RDS_MULTI_AZ_FACTOR on instance and storage).
_RDS_T4G = "https://infratally.com/articles/aws-rds-pricing-explained-2026.html"
RDS_POSTGRES: dict[str, Price] = {
    "db.t4g.micro": Price(0.016, "hour", _RDS_T4G, "2026"),
    "db.t4g.small": Price(0.032, "hour", _RDS_T4G, "2026"),
    "db.t4g.medium": Price(0.065, "hour", _RDS_T4G, "2026"),
} | _recalled_hourly(
    {
        "db.t4g.large": 0.129,
        "db.t4g.xlarge": 0.258,
        "db.t3.micro": 0.018,
        "db.t3.small": 0.036,
        "db.t3.medium": 0.072,
        "db.t3.large": 0.145,
        "db.m6g.large": 0.159,
        "db.m7g.large": 0.168,
        "db.m6i.large": 0.178,
        "db.m5.large": 0.178,
    }
)
RDS_MULTI_AZ_FACTOR = 2
RDS_MULTI_AZ_SOURCE = "https://docs.aws.amazon.com/AmazonRDS/latest/UserGuide/USER_OnDemandDBInstances.html"
RDS_STORAGE: dict[str, Price] = {
    "gp3": Price(
        0.115, "GiB-month", "https://www.usage.ai/blogs/aws/reserved-instances/rds/pricing-calculator/", "2026-06"
    ),
    "gp2": _recalled(0.115, "GiB-month"),
}

_EFS_SOURCE = "https://aws.amazon.com/efs/pricing/"
EFS_STANDARD = Price(0.30, "GiB-month", _EFS_SOURCE, "2026")
_EFS_THROUGHPUT = "https://www.factualminds.com/blog/amazon-efs-pricing-throughput-modes-storage-classes/"
EFS_ELASTIC_READ = Price(0.03, "GiB", _EFS_THROUGHPUT, "2026-06")
EFS_ELASTIC_WRITE = Price(0.06, "GiB", _EFS_THROUGHPUT, "2026-06")
AWS_BACKUP_EFS_WARM = _recalled(0.05, "GiB-month")
S3_STANDARD = _recalled(0.023, "GiB-month")
KMS_KEY = _recalled(1.00, "month")
# The pull-through cache: images ECR keeps in the repositories the rule creates
# (pulls in the same region are free), and the secret with the Docker Hub token.
ECR_STORAGE = Price(
    0.10, "GiB-month", "https://cloudburn.io/blog/amazon-ecr-pricing (summary of aws.amazon.com/ecr/pricing)", "2026-03"
)
SECRETS_MANAGER_SECRET = Price(
    0.40, "month", "https://hivebook.wiki/wiki/aws-secrets-manager-rotated-secrets-dynamic-db-credentials-kms", "2026"
)
CLOUDWATCH_LOGS_INGEST = _recalled(0.50, "GiB")
CLOUDWATCH_LOGS_STORAGE = _recalled(0.03, "GiB-month")

# --- Metrics and alerts (issue 21) ---------------------------------------------
# Read 2026-12-06 through the project's search tool. The official pages render their price
# tables in script, so the figures come from third-party transcriptions of them, which agree
# with each other; each source names the official page first. Dashboards, notification
# channels, an AMP workspace, its rules and alert manager, and SNS topics are free; SNS mails
# the first 1,000 e-mails a month free (a few alert mails).
MONITORING_READ_ON = "2026-12-06"
# GMP: per sample ingested, the same in every region: $0.06 per million for the first 50
# billion samples a month of the billing account ($0.048 above). GKE's system metrics are free;
# the managed kube-state-metrics package bills like any GMP sample.
GMP_SAMPLES = Price(
    0.06,
    "million samples",
    "https://cloud.google.com/stackdriver/pricing (Managed Service for Prometheus, first 50 billion samples; "
    "as transcribed in a 2026 GMP cost analysis, 'Tier 1: $0.06 per million samples')",
    MONITORING_READ_ON,
    regional=False,
)
# Cloud Monitoring alerting: $0.10 per condition of an alert policy per month, plus $0.35 per
# million time series a condition's query returns - the rules aggregate (sum/max) and return
# series only while violated, so a quiet stack's policies return next to none.
CLOUD_MONITORING_CONDITION = Price(
    0.10,
    "month",
    "https://cloud.google.com/stackdriver/pricing (alerting: per condition per month; the same 2026 "
    "transcription, 'Alert conditions: $0.10/month per alert rule')",
    MONITORING_READ_ON,
    regional=False,
)
# AMP (us-east-1, us-west-2, eu-west-1, eu-west-2 alike; AWS Price List API offer
# AmazonPrometheus): $0.90 per 10 million samples ingested (first 2 billion a month), and the
# managed collector $0.04 per collector-hour plus $0.03 per 10 million samples it collects. The
# free tier (40 million samples) is left out: it is per account, not per stack.
_AMP_SOURCE = (
    "https://aws.amazon.com/prometheus/pricing/ (transcribed from the Price List API offer AmazonPrometheus: '{}')"
)
AMP_SAMPLES = Price(
    0.09,
    "million samples",
    _AMP_SOURCE.format("Ingestion, first 2B samples/mo: $0.90 per 10M samples"),
    MONITORING_READ_ON,
    regional=False,
)
AMP_COLLECTOR_HOUR = Price(
    0.04, "hour", _AMP_SOURCE.format("Managed collector: $0.04 per collector-hour"), MONITORING_READ_ON, regional=False
)
AMP_COLLECTOR_SAMPLES = Price(
    0.003,
    "million samples",
    _AMP_SOURCE.format("Samples collected (managed collector): $0.03 per 10M"),
    MONITORING_READ_ON,
    regional=False,
)
# A standard-resolution alarm on one metric; the account's first 10 are free (not counted here).
CLOUDWATCH_ALARM = Price(
    0.10,
    "month",
    "https://aws.amazon.com/cloudwatch/pricing/ (its worked example, 'Four standard resolution alarms = $0.10 "
    "per alarm metric * 4 = $0.40 per month', as quoted in a 2026 price log)",
    MONITORING_READ_ON,
    regional=False,
)

# --- Region factors -------------------------------------------------------------
# One multiplier per region for every regional price: a flat approximation
# (ratios of e2-standard-2 / m6i.large on-demand to the base region). Regions
# not listed are priced at the base region and say so in the assumptions.
GCP_BASE_REGION = "us-central1"
AWS_BASE_REGION = "us-east-1"
REGION_FACTORS: dict[str, RegionFactor] = {
    region: RegionFactor(factor, NOT_VERIFIED, _RECALLED)
    for region, factor in {
        "us-central1": 1.0,
        "us-east1": 1.0,
        "us-west1": 1.0,
        "europe-west1": 1.10,
        "europe-west4": 1.10,
        "us-east-1": 1.0,
        "us-east-2": 1.0,
        "us-west-2": 1.0,
        "eu-west-1": 1.11,
        "eu-central-1": 1.20,
    }.items()
}

# --- Managed Airflow offerings (the cost tables' comparison rows) -------------------


@dataclass(frozen=True)
class ManagedOffering:
    name: str
    low_usd: float | None  # a month at list price, always on; None: no list price found here
    high_usd: float | None  # the top of a quoted range, else the same as low_usd
    what: str  # what that price buys
    source: str
    as_of: str


MANAGED_OFFERINGS = (
    ManagedOffering(
        "Amazon MWAA, mw1.small environment",
        357.70,
        357.70,
        "$0.49/hour, always on (no scale to zero); scheduler, web server and one worker included, "
        "extra workers ~$0.055/hour, metadata storage per GB-month",
        "https://c3x.dev/blog/mwaa-cost-managed-airflow/",
        "2026",
    ),
    ManagedOffering(
        "Google Cloud Composer 3, small environment",
        300.0,
        400.0,
        "idle, before any DAG runs: billed in DCU-hours ($0.06 per DCU-hour, "
        "https://cloud.google.com/composer/pricing); KubernetesExecutor task pods bill DCU-hours too",
        "https://adriennevermorel.com/notes/cloud-composer-cost-and-capabilities/",
        "2026",
    ),
    ManagedOffering(
        "Astronomer Astro Hosted, smallest deployment",
        None,
        None,
        "billed per deployment-hour by size and cluster type; development deployments can hibernate "
        "(https://astronomer.io/docs/astro/deployment-resources#hibernate-a-development-deployment)",
        f"no list price found in the pages searched here; see https://www.astronomer.io/pricing/, {UNVERIFIED}",
        "2026-12-06",
    ),
)
