"""Typed, validated `airflow-platform:aws` settings (pure: no pulumi_aws import).

Every key has a default per shape: `production: false` is the cheap dev shape
(2 AZs, one NAT gateway, single-AZ burstable database, 1-day backups),
`production: true` the HA shape (3 AZs, a NAT gateway per AZ, Multi-AZ RDS,
7-day backups, deletion protection). Switching shape is a config change only.

Subnets: by default they are derived from `vpcCidr` (private subnets get one
eighth of the VPC each, because the VPC CNI gives every pod a VPC address;
public subnets are small slices of the last eighth, they only hold NAT
gateways and load balancers). Explicit `publicSubnetCidrs` /
`privateSubnetCidrs` lists override the derivation, one CIDR per AZ, each
validated inside the VPC and disjoint from every other subnet.
"""

from __future__ import annotations

import ipaddress
import re
from dataclasses import dataclass
from typing import ClassVar

from components import config_keys
from components.config_keys import DEFAULT_KUBERNETES_VERSION, DEFAULT_VPC_CIDR, Shape
from components.validation import Section, check_disjoint_cidrs, parse_cidr

_REGION = re.compile(r"^[a-z]{2}(-gov)?-[a-z]+-\d$")
_KUBERNETES_VERSION = re.compile(r"^1\.(\d+)$")
# The Airflow chart 1.22 needs Kubernetes >= 1.30.
MIN_KUBERNETES_MINOR = 30
_INSTANCE_TYPE = re.compile(r"^[a-z][a-z0-9-]*\.[a-z0-9]+$")
# Graviton families carry a `g` right after the generation digit: m7g, c6gn, t4g, r8gd.
_ARM_FAMILY = re.compile(r"^[a-z]+\d+g")
_DB_INSTANCE_CLASS = re.compile(r"^db\.[a-z0-9-]+\.[a-z0-9]+$")
# RDS PostgreSQL versions: a major ("17") or an exact minor ("17.6").
_ENGINE_VERSION = re.compile(r"^(\d+)(\.\d+)?$")
# Airflow 3 supports PostgreSQL 13 and later.
MIN_POSTGRES_MAJOR = 13
_ROLE_ARN = re.compile(
    r"^arn:(?P<partition>aws|aws-cn|aws-us-gov):iam::(?P<account>\d{12}):role/(?P<path>[A-Za-z0-9+=,.@_/-]{1,512})$"
)
# Docker Hub IDs: 4 to 30 characters, lowercase letters and digits only.
_DOCKER_HUB_USERNAME = re.compile(r"^[a-z0-9]{4,30}$")
# Set together with the top-level secret `dockerHubToken`: components/config.py checks the pair.
DOCKER_HUB_USERNAME_KEY = "dockerHubUsername"
CONTROL_PLANE_LOG_RETENTION_KEY = "controlPlaneLogRetentionDays"
# Access entries: cluster admins besides adminRoleArn (CI's deploy role), and read-only roles (CI's preview role).
DEPLOY_ROLES_KEY = "deployRoleArns"
READ_ONLY_ROLES_KEY = "readOnlyRoleArns"
WORLD = "0.0.0.0/0"
# VPC sizes that leave room for per-AZ private subnets large enough for pod IPs.
MIN_VPC_PREFIX = 16
MAX_VPC_PREFIX = 20
MAX_AZS = 6


# The Cluster Autoscaler's minor must match the cluster's Kubernetes minor: it
# compiles in the scheduler of that minor to simulate where pending pods fit.
# One chart (components/aws/autoscaler.py) with the image tag picked per minor,
# each a tag published on registry.k8s.io/autoscaling/cluster-autoscaler.
# A minor missing here fails validation while the autoscaler is on.
CLUSTER_AUTOSCALER_IMAGE_TAGS = {
    "1.30": "v1.30.7",
    "1.31": "v1.31.5",
    "1.32": "v1.32.5",
    "1.33": "v1.33.3",
    "1.34": "v1.34.2",
    # v1.35.0 was withdrawn from the registry (kubernetes/autoscaler#10091
    # thread); v1.35.1 is the tag aws-ia/terraform-aws-eks-blueprints-addons#516
    # maps 1.35 to.
    "1.35": "v1.35.1",
    # Verified on registry.k8s.io in kubernetes/autoscaler#10091 (2026-08-02).
    "1.36": "v1.36.0",
}


def partition_for(region: str) -> str:
    """The ARN partition of a region (policy ARNs and the admin role must match it)."""
    if region.startswith("cn-"):
        return "aws-cn"
    if "-gov-" in region:
        return "aws-us-gov"
    return "aws"


@dataclass(frozen=True)
class NodeGroupSettings:
    instance_types: tuple[str, ...]
    min_size: int
    max_size: int
    desired_size: int

    @property
    def ami_type(self) -> str:
        """Amazon Linux 2023 for the group's CPU architecture (validated uniform)."""
        return "AL2023_ARM_64_STANDARD" if is_arm_instance_type(self.instance_types[0]) else "AL2023_x86_64_STANDARD"


@dataclass(frozen=True)
class DatabaseSettings:
    instance_class: str
    engine_version: str
    allocated_storage_gb: int
    multi_az: bool
    backup_retention_days: int
    deletion_protection: bool

    @property
    def auto_minor_version_upgrade(self) -> bool:
        """A major-only version ("17") lets RDS apply minor upgrades without a diff
        against the pinned value; an exact "17.6" must stay exactly that."""
        return "." not in self.engine_version

    @property
    def performance_insights(self) -> bool:
        return not self.instance_class.endswith((".micro", ".small"))


@dataclass(frozen=True)
class ClusterAccess:
    """Who gets an EKS access entry of the stack's own (validated: each role in one key only)."""

    admin_role_arn: str | None
    # Cluster admins besides adminRoleArn: CI's deploy role(s).
    deploy_role_arns: tuple[str, ...]
    # Roles that may read, never write, the cluster's objects: CI's preview role.
    read_only_role_arns: tuple[str, ...]

    @property
    def admin_role_arns(self) -> tuple[str, ...]:
        return (*((self.admin_role_arn,) if self.admin_role_arn else ()), *self.deploy_role_arns)

    @property
    def creator_is_admin(self) -> bool:
        """EKS makes whoever creates the cluster its admin only when no admin is declared.

        With an admin declared, every admin has an entry of the stack's own and
        the creator gets none: who runs the first `pulumi up` (a person or CI)
        changes nothing that is declared, and no principal gets a second entry
        (EKS refuses one: ResourceInUseException). Without, the creator's
        entry is the only way in, as before these keys existed.
        """
        return not self.admin_role_arns


@dataclass(frozen=True)
class AwsSettings:
    KEYS: ClassVar[tuple[str, ...]] = config_keys.children("aws")

    region: str
    availability_zones: tuple[str, ...]
    vpc_cidr: str
    public_subnet_cidrs: tuple[str, ...]
    private_subnet_cidrs: tuple[str, ...]
    nat_gateway_per_az: bool
    kubernetes_version: str
    endpoint_public_access: bool
    public_access_cidrs: tuple[str, ...]
    access: ClusterAccess
    system_nodes: NodeGroupSettings
    worker_nodes: NodeGroupSettings
    database: DatabaseSettings
    log_retention_days: int
    # The EKS control-plane log group (api, audit, authenticator): CloudWatch's allowed values.
    control_plane_log_retention_days: int
    load_balancer_scheme: str
    # Install the Cluster Autoscaler; without it the node groups stay at desiredSize.
    cluster_autoscaler: bool
    # With the top-level secret `dockerHubToken`: the nodes pull Docker Hub
    # images through an ECR pull-through cache (components/aws/registry.py).
    docker_hub_username: str | None

    @property
    def partition(self) -> str:
        return partition_for(self.region)

    @property
    def cluster_autoscaler_image_tag(self) -> str:
        """The autoscaler release line matching `kubernetes_version` (validated when enabled)."""
        return CLUSTER_AUTOSCALER_IMAGE_TAGS[self.kubernetes_version]


def parse_aws_settings(section: Section, production: bool) -> AwsSettings:
    section = section.shaped(Shape("aws", production))
    problems = section.problems
    region = section.str("region")
    if not _REGION.match(region):
        problems.add(section.key("region"), region, section.declaration("region").allowed)

    zones = _parse_zones(section, region, production)
    vpc_cidr, public_cidrs, private_cidrs = _parse_network(section, len(zones))
    public_access, public_access_cidrs = _parse_endpoint(section, production)

    admin_role_arn = section.optional_str("adminRoleArn")
    admin_key = section.key("adminRoleArn")
    # EKS keeps one access entry per principal: which key already grants each role.
    granted: dict[tuple[str, str, str], str] = {}
    if admin_role_arn is not None and (admin_role := _parse_role_arn(section, admin_key, admin_role_arn, region)):
        granted[admin_role] = admin_key
    deploy_role_arns = _parse_role_list(section, DEPLOY_ROLES_KEY, region, granted)
    read_only_role_arns = _parse_role_list(section, READ_ONLY_ROLES_KEY, region, granted)

    kubernetes_version = section.version("kubernetesVersion")
    version_match = _KUBERNETES_VERSION.match(kubernetes_version)
    kubernetes_version_valid = version_match is not None and int(version_match.group(1)) >= MIN_KUBERNETES_MINOR
    if not kubernetes_version_valid:
        problems.add(
            section.key("kubernetesVersion"),
            kubernetes_version,
            f"an EKS version MAJOR.MINOR >= 1.{MIN_KUBERNETES_MINOR} (the Airflow chart needs it), e.g. "
            f"{DEFAULT_KUBERNETES_VERSION}",
        )

    cluster_autoscaler = section.bool("clusterAutoscaler")
    # An invalid kubernetesVersion is reported above, once.
    if cluster_autoscaler and kubernetes_version_valid and kubernetes_version not in CLUSTER_AUTOSCALER_IMAGE_TAGS:
        problems.add(
            section.key("clusterAutoscaler"),
            cluster_autoscaler,
            f"false, or a kubernetesVersion the Cluster Autoscaler is pinned for "
            f"({', '.join(CLUSTER_AUTOSCALER_IMAGE_TAGS)}; got kubernetesVersion {kubernetes_version}): "
            "its minor must match the cluster's",
        )

    # Production's system group: one node per AZ, up to two (the declared `derived` defaults).
    per_az = {"minSize": len(zones), "maxSize": 2 * len(zones), "desiredSize": len(zones)}
    system_nodes = _parse_node_group(section.section("systemNodes"), per_az)
    worker_nodes = _parse_node_group(section.section("workerNodes"), per_az)

    return AwsSettings(
        region=region,
        availability_zones=zones,
        vpc_cidr=vpc_cidr,
        public_subnet_cidrs=public_cidrs,
        private_subnet_cidrs=private_cidrs,
        # One NAT gateway per AZ survives an AZ outage; one in total is ~$33/month each cheaper.
        nat_gateway_per_az=section.bool("natGatewayPerAz"),
        kubernetes_version=kubernetes_version,
        endpoint_public_access=public_access,
        public_access_cidrs=public_access_cidrs,
        access=ClusterAccess(admin_role_arn, deploy_role_arns, read_only_role_arns),
        system_nodes=system_nodes,
        worker_nodes=worker_nodes,
        database=_parse_database(section.section("database"), production),
        log_retention_days=section.int("logRetentionDays"),
        control_plane_log_retention_days=_parse_control_plane_log_retention(section),
        load_balancer_scheme=section.choice("loadBalancerScheme"),
        cluster_autoscaler=cluster_autoscaler,
        docker_hub_username=_parse_docker_hub_username(section),
    )


def _parse_control_plane_log_retention(section: Section) -> int:
    """One of CloudWatch Logs' retention periods, never "never expire"."""
    days = section.int(CONTROL_PLANE_LOG_RETENTION_KEY)
    periods = section.declaration(CONTROL_PLANE_LOG_RETENTION_KEY).choices
    if days not in periods:
        section.problems.add(
            section.key(CONTROL_PLANE_LOG_RETENTION_KEY),
            days,
            f"one of CloudWatch Logs' retention periods {list(periods)}",
        )
        return int(section.default(CONTROL_PLANE_LOG_RETENTION_KEY))
    return days


def _parse_docker_hub_username(section: Section) -> str | None:
    username = section.optional_str(DOCKER_HUB_USERNAME_KEY)
    if username is not None and not _DOCKER_HUB_USERNAME.match(username):
        section.problems.add(
            section.key(DOCKER_HUB_USERNAME_KEY),
            username,
            section.declaration(DOCKER_HUB_USERNAME_KEY).allowed,
        )
    return username


def iam_principal(arn: str) -> tuple[str, str, str]:
    """(account, kind, name) of an IAM ARN, kind being `role`, `user`...: what tells two principals apart.

    A path (SSO roles live under `aws-reserved/sso.amazonaws.com/<region>/`) does
    not make another principal: names are unique in an account whatever their path."""
    _, _, _, _, account, resource = arn.split(":", 5)
    kind, _, path = resource.partition("/")
    return account, kind, path.rsplit("/", 1)[-1]


def _parse_role_arn(section: Section, key: str, arn: str, region: str) -> tuple[str, str, str] | None:
    """`iam_principal` of a valid role ARN in the region's partition, else a problem and None."""
    match = _ROLE_ARN.match(arn)
    if match is None:
        section.problems.add(key, arn, "an IAM role ARN such as arn:aws:iam::123456789012:role/Admin")
        return None
    if match.group("partition") != partition_for(region):
        section.problems.add(key, arn, f"a role in the {partition_for(region)} partition (region {region})")
        return None
    return iam_principal(arn)


def _parse_role_list(
    section: Section, name: str, region: str, granted: dict[tuple[str, str, str], str]
) -> tuple[str, ...]:
    """A list of role ARNs, each role once across every access key: EKS keeps one
    access entry per principal, so a second entry for a role is refused at `pulumi up`.
    `granted` maps each role seen so far to the key that grants it, and grows."""
    arns = section.str_list(name, [])
    key = section.key(name)
    for index, arn in enumerate(arns):
        item_key = f"{key}[{index}]"
        role = _parse_role_arn(section, item_key, arn, region)
        if role is None:
            continue
        if role in granted:
            where = "it is listed before" if granted[role].startswith(key) else f"{granted[role]} grants it already"
            section.problems.add(item_key, arn, f"each role once across the access keys ({where})")
        else:
            granted[role] = item_key
    return tuple(arns)


def _parse_zones(section: Section, region: str, production: bool) -> tuple[str, ...]:
    problems = section.problems
    default_count = 3 if production else 2
    zones = section.str_list("availabilityZones", [f"{region}{letter}" for letter in "abc"[:default_count]])
    key = section.key("availabilityZones")
    zone_pattern = re.compile(rf"^{re.escape(region)}[a-z]$")
    for index, zone in enumerate(zones):
        if not zone_pattern.match(zone):
            problems.add(f"{key}[{index}]", zone, f"an availability zone of region {region}, such as {region}a")
    if len(set(zones)) != len(zones):
        problems.add(key, zones, "distinct availability zones")
    # EKS refuses a control plane with subnets in fewer than two AZs.
    if not 2 <= len(zones) <= MAX_AZS:
        problems.add(key, zones, f"2 to {MAX_AZS} availability zones (3 for the production shape)")
    return tuple(zones)


def _parse_network(section: Section, zone_count: int) -> tuple[str, tuple[str, ...], tuple[str, ...]]:
    problems = section.problems
    vpc_cidr = section.str("vpcCidr")
    vpc = parse_cidr(problems, section.key("vpcCidr"), vpc_cidr)
    if vpc is not None and not (MIN_VPC_PREFIX <= vpc.prefixlen <= MAX_VPC_PREFIX and vpc.is_private):
        problems.add(
            section.key("vpcCidr"),
            vpc_cidr,
            f"a private (RFC 1918) range from /{MIN_VPC_PREFIX} to /{MAX_VPC_PREFIX}, such as {DEFAULT_VPC_CIDR}",
        )
        vpc = None
    derived_private, derived_public = _derive_subnets(vpc, zone_count)
    subnets: dict[str, ipaddress.IPv4Network | None] = {}
    cidrs: dict[str, tuple[str, ...]] = {}
    for name, derived in (("publicSubnetCidrs", derived_public), ("privateSubnetCidrs", derived_private)):
        key = section.key(name)
        explicit = section.has(name)
        values = section.str_list(name, derived)
        if explicit and len(values) > zone_count:
            problems.add(
                section.key("availabilityZones"),
                zone_count,
                f"one availability zone per subnet: {name} lists {len(values)} subnets",
            )
        elif explicit and len(values) < zone_count:
            problems.add(key, values, f"one subnet CIDR per availability zone ({zone_count})")
        for index, value in enumerate(values):
            subnet = parse_cidr(problems, f"{key}[{index}]", value)
            if subnet is not None and vpc is not None and not subnet.subnet_of(vpc):
                problems.add(f"{key}[{index}]", value, f"a CIDR inside vpcCidr ({vpc})")
            subnets[f"{key}[{index}]"] = subnet
        cidrs[name] = tuple(values)
    check_disjoint_cidrs(problems, subnets)
    return vpc_cidr, cidrs["publicSubnetCidrs"], cidrs["privateSubnetCidrs"]


def _derive_subnets(vpc: ipaddress.IPv4Network | None, zone_count: int) -> tuple[list[str], list[str]]:
    """Private: eighths of the VPC (a /19 of a /16: 8190 pod and node IPs per AZ).
    Public: /22 slices (of a /16) of the last eighth, which stays otherwise free."""
    if vpc is None or zone_count > MAX_AZS:
        return [], []
    eighths = list(vpc.subnets(prefixlen_diff=3))
    private = [str(block) for block in eighths[:zone_count]]
    public = [str(block) for block in list(eighths[-1].subnets(prefixlen_diff=3))[:zone_count]]
    return private, public


def _parse_endpoint(section: Section, production: bool) -> tuple[bool, tuple[str, ...]]:
    """The Kubernetes API endpoint: private always; public only for an allowlist.

    `pulumi up` talks to the API to create the namespace and the Helm release,
    so running it from outside the VPC needs the public endpoint, limited to
    where it runs. Unset, AWS would default the allowlist to 0.0.0.0/0.
    """
    problems = section.problems
    public_access = section.bool("endpointPublicAccess")
    cidrs = section.str_list("publicAccessCidrs", [])
    key = section.key("publicAccessCidrs")
    for index, cidr in enumerate(cidrs):
        parse_cidr(problems, f"{key}[{index}]", cidr)
    if public_access and not cidrs:
        problems.add(
            key,
            section.raw.get("publicAccessCidrs"),
            "the CIDRs allowed to reach the Kubernetes API (where `pulumi up` and kubectl run), "
            "e.g. ['203.0.113.0/24']; or endpointPublicAccess: false to deploy from inside the VPC",
        )
    if not public_access and cidrs:
        problems.add(key, cidrs, "unset when endpointPublicAccess is false (the public endpoint is off)")
    if production and WORLD in cidrs:
        problems.add(key, cidrs, f"specific CIDRs on a production stack, never {WORLD}")
    return public_access, tuple(cidrs)


def _parse_node_group(section: Section, derived: dict[str, int]) -> NodeGroupSettings:
    """A node group; `derived` holds the sizes whose declared default the code derives (per AZ)."""
    problems = section.problems

    def size(name: str, at_least: int = 0) -> int:
        default = section.default(name)
        if isinstance(default, config_keys.NoDefault):
            default = derived[name]
        return section.int(name, max(default, at_least))

    instance_types = section.str_list("instanceTypes")
    key = section.key("instanceTypes")
    for index, instance_type in enumerate(instance_types):
        if not _INSTANCE_TYPE.match(instance_type):
            problems.add(f"{key}[{index}]", instance_type, "an EC2 instance type such as m6i.large")
    if not instance_types:
        problems.add(key, instance_types, "at least one EC2 instance type")
        instance_types = list(section.default("instanceTypes"))
    elif len({is_arm_instance_type(instance_type) for instance_type in instance_types}) > 1:
        problems.add(key, instance_types, "instance types of one CPU architecture (all Graviton or all x86)")
    min_size = size("minSize")
    max_size = size("maxSize")
    # Unset, desiredSize is at least minSize.
    desired_size = size("desiredSize", at_least=min_size)
    if not min_size <= desired_size <= max_size:
        problems.add(
            section.key("desiredSize"),
            desired_size,
            f"minSize ({min_size}) <= desiredSize <= maxSize ({max_size})",
        )
    return NodeGroupSettings(tuple(instance_types), min_size, max_size, desired_size)


def is_arm_instance_type(instance_type: str) -> bool:
    return bool(_ARM_FAMILY.match(instance_type.split(".", 1)[0]))


def _parse_database(section: Section, production: bool) -> DatabaseSettings:
    problems = section.problems
    instance_class = section.str("instanceClass")
    if not _DB_INSTANCE_CLASS.match(instance_class):
        problems.add(section.key("instanceClass"), instance_class, section.declaration("instanceClass").allowed)
    engine_version = section.version("engineVersion")
    version_match = _ENGINE_VERSION.match(engine_version)
    if version_match is None or int(version_match.group(1)) < MIN_POSTGRES_MAJOR:
        problems.add(
            section.key("engineVersion"),
            engine_version,
            f"a PostgreSQL major version >= {MIN_POSTGRES_MAJOR} ('17', minor upgrades automatic) "
            "or an exact version ('17.6', no automatic upgrades)",
        )
    backup_retention_days = section.int("backupRetentionDays")
    if production and backup_retention_days < 7:
        problems.add(section.key("backupRetentionDays"), backup_retention_days, "at least 7 on a production stack")
    deletion_protection = section.bool("deletionProtection")
    if production and not deletion_protection:
        problems.add(section.key("deletionProtection"), deletion_protection, "true on a production stack")
    return DatabaseSettings(
        instance_class=instance_class,
        engine_version=engine_version,
        allocated_storage_gb=section.int("allocatedStorageGb"),
        multi_az=section.bool("multiAz"),
        backup_retention_days=backup_retention_days,
        deletion_protection=deletion_protection,
    )
