"""The rules of the airflow-platform policy pack, importable without starting it.

`pulumi preview --policy-pack policy` runs them through `policy/__main__.py`
(the only place that builds the blocking `PolicyPack`); `make plan` runs the
same functions offline over the mock runner's records (`policy/offline.py`).

Each rule reads the properties the engine sends (camelCase, numbers as
floats) and names the checkov / CIS id it mirrors. Rules that only apply to
production read `is_production`. The pack runs in its own virtualenv
(policy/requirements.txt: pulumi and pulumi-policy only), so nothing here may
import the program's components or cloud providers.
"""

from __future__ import annotations

import ipaddress
import json
from collections.abc import Callable, Iterator, Mapping, Sequence
from typing import Any

import pulumi
from pulumi_policy import (
    EnforcementLevel,
    Policy,
    PolicyConfigSchema,
    PolicyResource,
    ReportViolation,
    ResourceValidationArgs,
    ResourceValidationPolicy,
    StackValidationArgs,
    StackValidationPolicy,
)

# The Pulumi project whose config holds `production` (Pulumi.yaml `name`).
PROJECT = "airflow-platform"
PRODUCTION_KEY = "production"

GKE_CLUSTER = "gcp:container/cluster:Cluster"
GKE_NODE_POOL = "gcp:container/nodePool:NodePool"
CLOUD_SQL = "gcp:sql/databaseInstance:DatabaseInstance"
GCS_BUCKET = "gcp:storage/bucket:Bucket"
GCP_KMS_KEY = "gcp:kms/cryptoKey:CryptoKey"
EKS_CLUSTER = "aws:eks/cluster:Cluster"
RDS_INSTANCE = "aws:rds/instance:Instance"
RDS_PARAMETER_GROUP = "aws:rds/parameterGroup:ParameterGroup"
S3_BUCKET = "aws:s3/bucket:Bucket"
S3_PUBLIC_ACCESS_BLOCK = "aws:s3/bucketPublicAccessBlock:BucketPublicAccessBlock"
S3_OWNERSHIP = "aws:s3/bucketOwnershipControls:BucketOwnershipControls"
S3_ENCRYPTION = "aws:s3/bucketServerSideEncryptionConfiguration:BucketServerSideEncryptionConfiguration"
S3_POLICY = "aws:s3/bucketPolicy:BucketPolicy"
EFS = "aws:efs/fileSystem:FileSystem"
AWS_KMS_KEY = "aws:kms/key:Key"
EFS_BACKUP_POLICY = "aws:efs/backupPolicy:BackupPolicy"
LOG_GROUP = "aws:cloudwatch/logGroup:LogGroup"
GCS_BUCKET_IAM_MEMBER = "gcp:storage/bucketIAMMember:BucketIAMMember"
GCS_BUCKET_IAM_BINDING = "gcp:storage/bucketIAMBinding:BucketIAMBinding"
REGISTRY_IAM_MEMBER = "gcp:artifactregistry/repositoryIamMember:RepositoryIamMember"
REGISTRY_IAM_BINDING = "gcp:artifactregistry/repositoryIamBinding:RepositoryIamBinding"
K8S_SERVICE = "kubernetes:core/v1:Service"
K8S_PVC = "kubernetes:core/v1:PersistentVolumeClaim"
HELM_RELEASE = "kubernetes:helm.sh/v3:Release"

# Resources whose replacement or deletion loses data or the cluster itself.
STATEFUL_TYPES = (
    GKE_CLUSTER,
    CLOUD_SQL,
    GCS_BUCKET,
    GCP_KMS_KEY,
    EKS_CLUSTER,
    RDS_INSTANCE,
    S3_BUCKET,
    EFS,
    AWS_KMS_KEY,
    K8S_PVC,
)

# Generated credentials and the outputs that carry them: the one list the
# policy, `make plan`'s redaction and the stack tests' leak checks share.
GENERATED_CREDENTIALS = {
    "random:index/randomPassword:RandomPassword": ("result", "bcryptHash"),
    "random:index/randomBytes:RandomBytes": ("base64", "hex"),
    "tls:index/privateKey:PrivateKey": ("privateKeyPem", "privateKeyOpenssh", "privateKeyPemPkcs8"),
}
# Shorter outputs could match unrelated values by chance.
MIN_CREDENTIAL_LENGTH = 16

MANDATORY = EnforcementLevel.MANDATORY
ADVISORY = EnforcementLevel.ADVISORY

# Lets a `policyPackConfigs` file override the stack's own `production` flag per policy.
PRODUCTION_SCHEMA = PolicyConfigSchema(properties={PRODUCTION_KEY: {"type": "boolean"}})


# A resource rule reports on the resource it validates (the engine ignores any other URN).
Report = Callable[[str], None]
Rule = Callable[[ResourceValidationArgs, Report], None]


def is_production(config: Mapping[str, Any]) -> bool:
    """The policy's `production` config if given (offline evaluation always gives it), else the stack's own
    `airflow-platform:production`: the Pulumi CLI hands the stack's config to the pack (PULUMI_CONFIG) and
    pulumi-policy installs it as runtime config before each analysis."""
    if PRODUCTION_KEY in config:
        return bool(config[PRODUCTION_KEY])
    return bool(pulumi.Config(PROJECT).get_bool(PRODUCTION_KEY))


def dig(props: Mapping[str, Any], path: str) -> Any:
    """`props["a"]["b"]` for "a.b", None where any step is missing."""
    value: Any = props
    for key in path.split("."):
        if not isinstance(value, Mapping) or key not in value:
            return None
        value = value[key]
    return value


def open_to_world(cidrs: Sequence[str]) -> list[str]:
    """The ranges that match every address (0.0.0.0/0, ::/0, or any /0)."""
    world = []
    for cidr in cidrs:
        try:
            if ipaddress.ip_network(cidr, strict=False).prefixlen == 0:
                world.append(cidr)
        except ValueError:
            continue
    return world


def _of_type(resources: Sequence[PolicyResource], *types: str) -> list[PolicyResource]:
    return [resource for resource in resources if resource.resource_type in types]


def _attached(resources: Sequence[PolicyResource], target: PolicyResource, type_token: str) -> list[PolicyResource]:
    """Resources of `type_token` that depend on `target` (the S3 bucket's separate configuration resources)."""
    return [r for r in _of_type(resources, type_token) if any(dep.urn == target.urn for dep in r.dependencies)]


# --- GKE ---------------------------------------------------------------------


def _gke_private_nodes(args: ResourceValidationArgs, report: Report) -> None:
    if args.resource_type == GKE_CLUSTER and dig(args.props, "privateClusterConfig.enablePrivateNodes") is not True:
        report("Nodes get public IPs: set privateClusterConfig.enablePrivateNodes=true (Cloud NAT gives them egress).")
    if args.resource_type == GKE_NODE_POOL and dig(args.props, "networkConfig.enablePrivateNodes") is False:
        report("This node pool overrides private nodes: remove networkConfig.enablePrivateNodes=false.")


def _gke_workload_identity(args: ResourceValidationArgs, report: Report) -> None:
    if args.resource_type == GKE_CLUSTER and not dig(args.props, "workloadIdentityConfig.workloadPool"):
        report("Workload Identity is off: set workloadIdentityConfig.workloadPool to '<project>.svc.id.goog'.")
    node_config = args.props.get("nodeConfig")
    if args.resource_type == GKE_NODE_POOL or node_config:
        mode = dig(node_config or {}, "workloadMetadataConfig.mode")
        if mode != "GKE_METADATA":
            report(
                f"Pods can read the node's metadata server (mode {mode!r}): "
                "set nodeConfig.workloadMetadataConfig.mode='GKE_METADATA'."
            )


def _gke_shielded_nodes(args: ResourceValidationArgs, report: Report) -> None:
    if args.resource_type == GKE_CLUSTER and args.props.get("enableShieldedNodes") is False:
        report("Shielded nodes are off: remove enableShieldedNodes=false (the provider default is true).")
    node_config = args.props.get("nodeConfig")
    if args.resource_type == GKE_NODE_POOL or node_config:
        shielded = dig(node_config or {}, "shieldedInstanceConfig") or {}
        if shielded.get("enableSecureBoot") is not True or shielded.get("enableIntegrityMonitoring") is False:
            report(
                "Nodes boot without secure boot or integrity monitoring: set nodeConfig.shieldedInstanceConfig "
                "enableSecureBoot=true and enableIntegrityMonitoring=true."
            )


def _gke_release_channel(args: ResourceValidationArgs, report: Report) -> None:
    channel = dig(args.props, "releaseChannel.channel")
    if channel in (None, "UNSPECIFIED"):
        report("No release channel: set releaseChannel.channel to REGULAR (or STABLE) so GKE patches the cluster.")


def _gke_master_authorized_networks(args: ResourceValidationArgs, report: Report) -> None:
    config = args.props.get("masterAuthorizedNetworksConfig") or {}
    cidrs = [block.get("cidrBlock", "") for block in config.get("cidrBlocks") or []]
    if not cidrs:
        report(
            "The control plane accepts connections from any address: set masterAuthorizedNetworksConfig.cidrBlocks "
            "to the ranges that run Pulumi and kubectl."
        )
    if world := open_to_world(cidrs):
        report(f"masterAuthorizedNetworksConfig allows {world}: list specific ranges instead.")
    if config.get("gcpPublicCidrsAccessEnabled") is True:
        report("Any Google Cloud public IP may reach the control plane: set gcpPublicCidrsAccessEnabled=false.")
    # The DNS-based endpoint takes any source address (CIS GKE 2.0.0, 5.6.4, prefers it);
    # IAM (container.clusters.connect) is its gate only while it refuses credentials
    # Kubernetes issued itself.
    dns = dig(args.props, "controlPlaneEndpointsConfig.dnsEndpointConfig") or {}
    if dns.get("allowExternalTraffic") is True:
        for flag in ("enableK8sTokensViaDns", "enableK8sCertsViaDns"):
            if dns.get(flag) is True:
                report(
                    f"The DNS-based endpoint is open to any address and {flag} lets Kubernetes-issued credentials "
                    f"in without an IAM check: set controlPlaneEndpointsConfig.dnsEndpointConfig.{flag}=false."
                )


def _gke_secrets_encryption(args: ResourceValidationArgs, report: Report) -> None:
    if not is_production(args.get_config()):
        return
    encryption = args.props.get("databaseEncryption") or {}
    if encryption.get("state") != "ENCRYPTED" or not encryption.get("keyName"):
        report(
            "Kubernetes Secrets are stored with Google's default encryption only: set databaseEncryption "
            "state='ENCRYPTED' with a Cloud KMS keyName (gcp.kmsEncryption)."
        )


def _gke_logging(args: ResourceValidationArgs, report: Report) -> None:
    # The provider defaults to logging.googleapis.com/kubernetes with system and workload logs.
    components = dig(args.props, "loggingConfig.enableComponents")
    if args.props.get("loggingService") == "none" or components == []:
        report("Cluster logs are off: remove loggingService='none' and any empty loggingConfig.enableComponents.")


# --- EKS ---------------------------------------------------------------------


def _eks_private_endpoint(args: ResourceValidationArgs, report: Report) -> None:
    if dig(args.props, "vpcConfig.endpointPrivateAccess") is not True:
        report("Nodes reach the API over the internet: set vpcConfig.endpointPrivateAccess=true.")


def _eks_public_endpoint_cidrs(args: ResourceValidationArgs, report: Report) -> None:
    # Both default to open in the provider and the EKS API: public access on, from 0.0.0.0/0.
    if dig(args.props, "vpcConfig.endpointPublicAccess") is False:
        return
    cidrs = dig(args.props, "vpcConfig.publicAccessCidrs") or []
    if not cidrs or open_to_world(cidrs):
        report(
            "The public API endpoint is open to the internet: set vpcConfig.publicAccessCidrs to your office/VPN/CI "
            "ranges, or vpcConfig.endpointPublicAccess=false."
        )


def _eks_secrets_encryption(args: ResourceValidationArgs, report: Report) -> None:
    config = args.props.get("encryptionConfig") or {}
    if "secrets" not in (config.get("resources") or []) or not dig(config, "provider.keyArn"):
        report(
            "Kubernetes Secrets are not envelope-encrypted: set encryptionConfig with resources=['secrets'] and a "
            "KMS provider.keyArn (adding it later replaces the cluster)."
        )


EKS_REQUIRED_LOGS = ("api", "audit", "authenticator")


def _eks_control_plane_logs(args: ResourceValidationArgs, report: Report) -> None:
    enabled = args.props.get("enabledClusterLogTypes") or []
    if missing := [log for log in EKS_REQUIRED_LOGS if log not in enabled]:
        report(f"Control-plane logs {missing} are off: add them to enabledClusterLogTypes.")


# --- Databases ---------------------------------------------------------------


def _database_no_public_ip(args: ResourceValidationArgs, report: Report) -> None:
    # Cloud SQL's ipv4Enabled defaults to true (a public IP); RDS defaults to private.
    if args.resource_type == CLOUD_SQL and dig(args.props, "settings.ipConfiguration.ipv4Enabled") is not False:
        report("The instance gets a public IP: set settings.ipConfiguration.ipv4Enabled=false and a privateNetwork.")
    if args.resource_type == RDS_INSTANCE and args.props.get("publiclyAccessible") is True:
        report("The instance is reachable from the internet: set publiclyAccessible=false.")


def _database_backups(args: ResourceValidationArgs, report: Report) -> None:
    if args.resource_type == CLOUD_SQL and dig(args.props, "settings.backupConfiguration.enabled") is not True:
        report("No automated backups: set settings.backupConfiguration.enabled=true.")
    if args.resource_type == RDS_INSTANCE and (args.props.get("backupRetentionPeriod") or 0) < 1:
        report("No automated backups: set backupRetentionPeriod to at least 1 day (7 in production).")


def _database_deletion_protection(args: ResourceValidationArgs, report: Report) -> None:
    if not is_production(args.get_config()):
        return
    if args.resource_type == CLOUD_SQL and (
        args.props.get("deletionProtection") is False
        or dig(args.props, "settings.deletionProtectionEnabled") is not True
    ):
        report(
            "A production database can be deleted: set deletionProtection=true and "
            "settings.deletionProtectionEnabled=true."
        )
    if args.resource_type == RDS_INSTANCE and args.props.get("deletionProtection") is not True:
        report("A production database can be deleted: set deletionProtection=true.")


def _database_high_availability(args: ResourceValidationArgs, report: Report) -> None:
    if not is_production(args.get_config()):
        return
    if args.resource_type == CLOUD_SQL and dig(args.props, "settings.availabilityType") != "REGIONAL":
        report("A zone outage stops Airflow: set settings.availabilityType='REGIONAL'.")
    if args.resource_type == RDS_INSTANCE and args.props.get("multiAz") is not True:
        report("A zone outage stops Airflow: set multiAz=true.")


def _database_encryption(args: ResourceValidationArgs, report: Report) -> None:
    # Cloud SQL encrypts every instance at rest; RDS only when asked, and only at creation.
    if args.resource_type == RDS_INSTANCE and args.props.get("storageEncrypted") is not True:
        report(
            "The database is not encrypted at rest: set storageEncrypted=true with a kmsKeyId "
            "(turning it on later replaces the instance)."
        )


def _database_logs(args: ResourceValidationArgs, report: Report) -> None:
    # Cloud SQL sends its PostgreSQL log to Cloud Logging by itself; RDS keeps it on the instance unless exported.
    if args.resource_type == RDS_INSTANCE and "postgresql" not in (
        args.props.get("enabledCloudwatchLogsExports") or []
    ):
        report("The PostgreSQL log stays on the instance: add 'postgresql' to enabledCloudwatchLogsExports.")


def _database_final_snapshot(args: ResourceValidationArgs, report: Report) -> None:
    if is_production(args.get_config()) and args.props.get("skipFinalSnapshot") is True:
        report("Deleting the production database leaves no snapshot: set skipFinalSnapshot=false.")


# RDS for PostgreSQL 15 and later ships rds.force_ssl=1 in its default parameter group.
RDS_FORCE_SSL_SINCE = 15


def _rds_forces_tls(instance: PolicyResource) -> bool:
    groups = [dep for dep in instance.dependencies if dep.resource_type == RDS_PARAMETER_GROUP]
    if groups:
        return any(
            parameter.get("name") == "rds.force_ssl" and str(parameter.get("value")) == "1"
            for group in groups
            for parameter in group.props.get("parameters") or []
        )
    if instance.props.get("engine") != "postgres":
        return False
    major = str(instance.props.get("engineVersion") or "0").split(".")[0]
    return major.isdigit() and int(major) >= RDS_FORCE_SSL_SINCE


def _database_tls(args: StackValidationArgs, report: ReportViolation) -> None:
    for instance in _of_type(args.resources, CLOUD_SQL):
        ssl_mode = dig(instance.props, "settings.ipConfiguration.sslMode")
        required = dig(instance.props, "settings.ipConfiguration.requireSsl") is True
        if ssl_mode not in ("ENCRYPTED_ONLY", "TRUSTED_CLIENT_CERTIFICATE_REQUIRED") and not required:
            report(
                f"Clients may connect without TLS (sslMode {ssl_mode!r}): set "
                "settings.ipConfiguration.sslMode='ENCRYPTED_ONLY'.",
                instance.urn,
            )
    for instance in _of_type(args.resources, RDS_INSTANCE):
        if not _rds_forces_tls(instance):
            report(
                "Clients may connect without TLS: use PostgreSQL 15+ with the default parameter group, or a "
                "parameter group in this stack with rds.force_ssl=1.",
                instance.urn,
            )


# --- Buckets and file systems -----------------------------------------------------


def _bucket_public_access_prevention(args: StackValidationArgs, report: ReportViolation) -> None:
    for bucket in _of_type(args.resources, GCS_BUCKET):
        if bucket.props.get("publicAccessPrevention") != "enforced":
            report("The bucket can be made public: set publicAccessPrevention='enforced'.", bucket.urn)
    flags = ("blockPublicAcls", "blockPublicPolicy", "ignorePublicAcls", "restrictPublicBuckets")
    for bucket in _of_type(args.resources, S3_BUCKET):
        blocks = _attached(args.resources, bucket, S3_PUBLIC_ACCESS_BLOCK)
        if not any(all(block.props.get(flag) is True for flag in flags) for block in blocks):
            report(
                f"The bucket can be made public: add a BucketPublicAccessBlock with {', '.join(flags)}=true.",
                bucket.urn,
            )


def _bucket_uniform_access(args: StackValidationArgs, report: ReportViolation) -> None:
    for bucket in _of_type(args.resources, GCS_BUCKET):
        if bucket.props.get("uniformBucketLevelAccess") is not True:
            report("Object ACLs can grant access past IAM: set uniformBucketLevelAccess=true.", bucket.urn)
    for bucket in _of_type(args.resources, S3_BUCKET):
        controls = _attached(args.resources, bucket, S3_OWNERSHIP)
        if not any(dig(control.props, "rule.objectOwnership") == "BucketOwnerEnforced" for control in controls):
            report(
                "Object ACLs can grant access past IAM: add BucketOwnershipControls with "
                "rule.objectOwnership='BucketOwnerEnforced'.",
                bucket.urn,
            )


def _s3_default_encryption(bucket: PolicyResource, resources: Sequence[PolicyResource]) -> bool:
    configs = [bucket, *_attached(resources, bucket, S3_ENCRYPTION)]
    rules = [
        rule
        for config in configs
        for rule in (config.props.get("rules") or dig(config.props, "serverSideEncryptionConfiguration.rules") or [])
    ]
    return any(dig(rule, "applyServerSideEncryptionByDefault.sseAlgorithm") for rule in rules)


def _bucket_encryption(args: StackValidationArgs, report: ReportViolation) -> None:
    # GCS encrypts every object at rest with Google-managed keys; nothing to configure.
    for bucket in _of_type(args.resources, S3_BUCKET):
        if not _s3_default_encryption(bucket, args.resources):
            report(
                "No default encryption declared: add a BucketServerSideEncryptionConfiguration "
                "(sseAlgorithm 'aws:kms' or 'AES256').",
                bucket.urn,
            )


def _denies_plain_http(policy_document: Any) -> bool:
    document = json.loads(policy_document) if isinstance(policy_document, str) else policy_document or {}
    statements = document.get("Statement") or []
    # IAM accepts a single statement object as well as a list.
    for statement in statements if isinstance(statements, list) else [statements]:
        secure_transport = dig(statement, "Condition.Bool.aws:SecureTransport")
        if statement.get("Effect") == "Deny" and str(secure_transport).lower() == "false":
            return True
    return False


def _bucket_tls_only(args: StackValidationArgs, report: ReportViolation) -> None:
    # GCS serves its API over HTTPS only; S3 still accepts plain HTTP unless a bucket policy denies it.
    for bucket in _of_type(args.resources, S3_BUCKET):
        policies = _attached(args.resources, bucket, S3_POLICY)
        if not any(_denies_plain_http(policy.props.get("policy")) for policy in policies):
            report(
                "The bucket accepts plain HTTP: add a BucketPolicy statement that denies s3:* when "
                "aws:SecureTransport is 'false'.",
                bucket.urn,
            )


def _efs_encryption(args: ResourceValidationArgs, report: Report) -> None:
    if args.props.get("encrypted") is not True:
        report(
            "The file system is not encrypted at rest: set encrypted=true with a kmsKeyId "
            "(turning it on later replaces the file system and loses its data)."
        )


def _efs_backups(args: StackValidationArgs, report: ReportViolation) -> None:
    for file_system in _of_type(args.resources, EFS):
        policies = _attached(args.resources, file_system, EFS_BACKUP_POLICY)
        if not any(dig(policy.props, "backupPolicy.status") == "ENABLED" for policy in policies):
            report(
                "No AWS Backup of the file system: add an aws.efs.BackupPolicy with backupPolicy.status='ENABLED'.",
                file_system.urn,
            )


# --- Keys, logs, grants --------------------------------------------------------

# CKV_GCP_43: a Cloud KMS key rotates at least every 90 days.
MAX_KEY_ROTATION_SECONDS = 90 * 24 * 3600


def _kms_key_rotation(args: ResourceValidationArgs, report: Report) -> None:
    if args.resource_type == AWS_KMS_KEY and args.props.get("enableKeyRotation") is not True:
        report("The key never rotates: set enableKeyRotation=true (yearly by default).")
    if args.resource_type == GCP_KMS_KEY:
        period = str(args.props.get("rotationPeriod") or "")
        seconds = float(period.removesuffix("s")) if period.removesuffix("s").replace(".", "", 1).isdigit() else None
        if seconds is None or seconds > MAX_KEY_ROTATION_SECONDS:
            report(
                f"The key rotates {'never' if seconds is None else 'less often than every 90 days'}: "
                "set rotationPeriod to '7776000s' (90 days) or less."
            )


def _log_group_retention(args: ResourceValidationArgs, report: Report) -> None:
    # CloudWatch keeps a group's logs forever unless it has a retention (and bills them every month).
    if not args.props.get("retentionInDays"):
        report("The log group keeps its logs forever: set retentionInDays.")


# Members that grant access to anyone on the internet (or any Google account).
PUBLIC_MEMBERS = ("allUsers", "allAuthenticatedUsers")


def _no_public_grants(args: ResourceValidationArgs, report: Report) -> None:
    members = [args.props.get("member"), *(args.props.get("members") or [])]
    if public := [member for member in members if member in PUBLIC_MEMBERS]:
        report(f"{public} would make it readable by anyone: grant named service accounts or groups instead.")


def _no_force_destroy_in_production(args: ResourceValidationArgs, report: Report) -> None:
    if is_production(args.get_config()) and args.props.get("forceDestroy") is True:
        report("Deleting the bucket would delete every object in it: set forceDestroy=false on production.")


def _cluster_deletion_protection(args: ResourceValidationArgs, report: Report) -> None:
    if not is_production(args.get_config()):
        return
    # GKE's provider defaults deletionProtection to true; EKS's to false.
    if args.resource_type == GKE_CLUSTER and args.props.get("deletionProtection") is False:
        report("The production cluster can be deleted: remove deletionProtection=false.")
    if args.resource_type == EKS_CLUSTER and args.props.get("deletionProtection") is not True:
        report("The production cluster can be deleted: set deletionProtection=true.")


# --- Kubernetes --------------------------------------------------------------


def _load_balancers(args: ResourceValidationArgs) -> Iterator[tuple[str, list[str]]]:
    """(where, source ranges) of each LoadBalancer Service the resource declares or asks a chart to render."""
    if args.resource_type == K8S_SERVICE:
        spec = args.props.get("spec") or {}
        if spec.get("type") == "LoadBalancer":
            yield "spec", list(spec.get("loadBalancerSourceRanges") or [])
    if args.resource_type == HELM_RELEASE:
        yield from _chart_load_balancers(args.props.get("values") or {}, "values")


def _chart_load_balancers(values: Any, path: str) -> Iterator[tuple[str, list[str]]]:
    # Charts name their service blocks freely (the Airflow chart's is apiServer.service); match on the type.
    if isinstance(values, Mapping):
        if values.get("type") == "LoadBalancer":
            yield path, list(values.get("loadBalancerSourceRanges") or [])
        for key, value in values.items():
            yield from _chart_load_balancers(value, f"{path}.{key}")
    elif isinstance(values, list):
        for index, value in enumerate(values):
            yield from _chart_load_balancers(value, f"{path}[{index}]")


def _lb_source_ranges(args: ResourceValidationArgs, report: Report) -> None:
    for where, ranges in _load_balancers(args):
        if not ranges:
            report(
                f"{where}: a LoadBalancer with no loadBalancerSourceRanges accepts every address: set "
                "loadBalancer.sourceRanges in the stack file."
            )


def _lb_no_world_in_production(args: ResourceValidationArgs, report: Report) -> None:
    if not is_production(args.get_config()):
        return
    for where, ranges in _load_balancers(args):
        if not ranges or open_to_world(ranges):
            report(
                f"{where}: a production LoadBalancer is open to the internet ({ranges or 'no ranges'}): set "
                "loadBalancer.sourceRanges to your office/VPN CIDRs."
            )


def _strings(value: Any) -> Iterator[tuple[str, str]]:
    if isinstance(value, str):
        yield "", value
    elif isinstance(value, Mapping):
        for key, item in value.items():
            yield from ((f".{key}{path}", text) for path, text in _strings(item))
    elif isinstance(value, list):
        for index, item in enumerate(value):
            yield from ((f"[{index}]{path}", text) for path, text in _strings(item))


def _helm_values_no_generated_credentials(args: StackValidationArgs, report: ReportViolation) -> None:
    credentials = {
        str(resource.props[output]): resource.name
        for resource in args.resources
        for output in GENERATED_CREDENTIALS.get(resource.resource_type, ())
        if len(str(resource.props.get(output) or "")) >= MIN_CREDENTIAL_LENGTH
    }
    for release in _of_type(args.resources, HELM_RELEASE):
        for path, text in _strings(release.props.get("values") or {}):
            for credential, source in credentials.items():
                if credential in text:
                    report(
                        f"values{path} holds the generated credential of {source!r}; Helm stores values in "
                        "plain text in the release: put it in a Kubernetes Secret and pass the Secret's name.",
                        release.urn,
                    )


def _stateful_resources_protected(args: StackValidationArgs, report: ReportViolation) -> None:
    if not is_production(args.get_config()):
        return
    for resource in _of_type(args.resources, *STATEFUL_TYPES):
        if not resource.opts.protect:
            report(
                f"{resource.resource_type.split(':')[-1]} {resource.name!r} holds data and is not protected: "
                "create it with ResourceOptions(protect=production).",
                resource.urn,
            )


# --- The pack ------------------------------------------------------------------

Validate = Callable[[ResourceValidationArgs, ReportViolation], None]


def _for_types(types: Sequence[str], rule: Rule) -> Validate:
    def validate(args: ResourceValidationArgs, report_violation: ReportViolation) -> None:
        if args.resource_type in types:
            rule(args, lambda message: report_violation(message, None))

    return validate


def _resource_policy(
    name: str,
    description: str,
    enforcement: EnforcementLevel,
    types: Sequence[str],
    rule: Rule,
    *,
    production_only: bool = False,
) -> ResourceValidationPolicy:
    return ResourceValidationPolicy(
        name=name,
        description=description,
        validate=_for_types(types, rule),
        enforcement_level=enforcement,
        config_schema=PRODUCTION_SCHEMA if production_only else None,
    )


POLICIES: list[Policy] = [
    _resource_policy(
        "gke-private-nodes",
        "GKE nodes have no public IP (CKV_GCP_64, CIS GKE 5.6.5).",
        MANDATORY,
        (GKE_CLUSTER, GKE_NODE_POOL),
        _gke_private_nodes,
    ),
    _resource_policy(
        "gke-workload-identity",
        "GKE pods use Workload Identity, not the node's metadata server (CIS GKE 5.2.2, CKV_GCP_69).",
        MANDATORY,
        (GKE_CLUSTER, GKE_NODE_POOL),
        _gke_workload_identity,
    ),
    _resource_policy(
        "gke-shielded-nodes",
        "GKE nodes are shielded with secure boot and integrity monitoring (CKV_GCP_71, CKV_GCP_68, CKV_GCP_72).",
        MANDATORY,
        (GKE_CLUSTER, GKE_NODE_POOL),
        _gke_shielded_nodes,
    ),
    # Advisory: without a channel GKE still runs, only upgrades become manual - an operational choice.
    _resource_policy(
        "gke-release-channel",
        "GKE clusters are enrolled in a release channel (CKV_GCP_70).",
        ADVISORY,
        (GKE_CLUSTER,),
        _gke_release_channel,
    ),
    _resource_policy(
        "gke-master-authorized-networks",
        "The GKE control plane's IP endpoint accepts only listed networks, its DNS endpoint only "
        "IAM-checked Google credentials (CKV_GCP_20, CIS GKE 5.6.3).",
        MANDATORY,
        (GKE_CLUSTER,),
        _gke_master_authorized_networks,
    ),
    _resource_policy(
        "gke-secrets-encryption",
        "Production: GKE encrypts Kubernetes Secrets with a Cloud KMS key (CIS GKE 5.3.1).",
        MANDATORY,
        (GKE_CLUSTER,),
        _gke_secrets_encryption,
        production_only=True,
    ),
    _resource_policy(
        "gke-logging",
        "GKE sends system and workload logs to Cloud Logging (CKV_GCP_1).",
        MANDATORY,
        (GKE_CLUSTER,),
        _gke_logging,
    ),
    _resource_policy(
        "cluster-deletion-protection",
        "Production: the GKE or EKS cluster has deletion protection (ours; CIS asks it of the database).",
        MANDATORY,
        (GKE_CLUSTER, EKS_CLUSTER),
        _cluster_deletion_protection,
        production_only=True,
    ),
    _resource_policy(
        "eks-private-endpoint",
        "The EKS API has a private endpoint inside the VPC (CIS EKS 5.4.2, with CKV_AWS_39).",
        MANDATORY,
        (EKS_CLUSTER,),
        _eks_private_endpoint,
    ),
    _resource_policy(
        "eks-public-endpoint-cidrs",
        "A public EKS endpoint is limited to listed CIDRs, never 0.0.0.0/0 (CKV_AWS_38, CIS EKS 5.4.1).",
        MANDATORY,
        (EKS_CLUSTER,),
        _eks_public_endpoint_cidrs,
    ),
    _resource_policy(
        "eks-secrets-encryption",
        "EKS encrypts Kubernetes Secrets with a KMS key (CKV_AWS_58, CIS EKS 5.3.1).",
        MANDATORY,
        (EKS_CLUSTER,),
        _eks_secrets_encryption,
    ),
    _resource_policy(
        "eks-control-plane-logs",
        "EKS ships api, audit and authenticator logs (CKV_AWS_37 subset, CIS EKS 2.1.1).",
        MANDATORY,
        (EKS_CLUSTER,),
        _eks_control_plane_logs,
    ),
    _resource_policy(
        "database-no-public-ip",
        "The metadata database has no public IP (CKV_GCP_60, CKV_AWS_17).",
        MANDATORY,
        (CLOUD_SQL, RDS_INSTANCE),
        _database_no_public_ip,
    ),
    StackValidationPolicy(
        name="database-tls",
        description="The metadata database refuses connections without TLS (CKV_GCP_6; RDS rds.force_ssl).",
        validate=_database_tls,
        enforcement_level=MANDATORY,
    ),
    _resource_policy(
        "database-backups",
        "The metadata database has automated backups (CKV_GCP_14, CKV_AWS_133).",
        MANDATORY,
        (CLOUD_SQL, RDS_INSTANCE),
        _database_backups,
    ),
    _resource_policy(
        "database-deletion-protection",
        "Production: the metadata database has deletion protection (CKV_AWS_293).",
        MANDATORY,
        (CLOUD_SQL, RDS_INSTANCE),
        _database_deletion_protection,
        production_only=True,
    ),
    _resource_policy(
        "database-encryption",
        "The metadata database is encrypted at rest (CKV_AWS_16); Cloud SQL always encrypts.",
        MANDATORY,
        (RDS_INSTANCE,),
        _database_encryption,
    ),
    _resource_policy(
        "database-logs",
        "RDS exports the PostgreSQL log to CloudWatch (CKV_AWS_129); Cloud SQL logs to Cloud Logging.",
        MANDATORY,
        (RDS_INSTANCE,),
        _database_logs,
    ),
    _resource_policy(
        "database-final-snapshot",
        "Production: deleting the RDS database leaves a final snapshot (ours).",
        MANDATORY,
        (RDS_INSTANCE,),
        _database_final_snapshot,
        production_only=True,
    ),
    # Advisory: a standby doubles the database bill; a small production may run single-zone on purpose.
    _resource_policy(
        "database-high-availability",
        "Production: the metadata database survives a zone outage (CKV_AWS_157; Cloud SQL REGIONAL).",
        ADVISORY,
        (CLOUD_SQL, RDS_INSTANCE),
        _database_high_availability,
        production_only=True,
    ),
    StackValidationPolicy(
        name="bucket-public-access-prevention",
        description="Buckets cannot be made public (CKV_GCP_114, CKV2_AWS_6).",
        validate=_bucket_public_access_prevention,
        enforcement_level=MANDATORY,
    ),
    StackValidationPolicy(
        name="bucket-uniform-access",
        description="Bucket access is IAM only, object ACLs disabled (CKV_GCP_29, CKV2_AWS_65).",
        validate=_bucket_uniform_access,
        enforcement_level=MANDATORY,
    ),
    StackValidationPolicy(
        name="bucket-encryption",
        description="S3 buckets declare default encryption (CKV_AWS_19); GCS always encrypts.",
        validate=_bucket_encryption,
        enforcement_level=MANDATORY,
    ),
    StackValidationPolicy(
        name="bucket-tls-only",
        description="S3 buckets deny requests without TLS (AWS Security Hub S3.5); GCS is HTTPS only.",
        validate=_bucket_tls_only,
        enforcement_level=MANDATORY,
    ),
    _resource_policy(
        "efs-encryption",
        "EFS file systems are encrypted at rest (CKV_AWS_42).",
        MANDATORY,
        (EFS,),
        _efs_encryption,
    ),
    StackValidationPolicy(
        name="efs-backups",
        description="EFS file systems have AWS Backup enabled (CKV2_AWS_18).",
        validate=_efs_backups,
        enforcement_level=MANDATORY,
    ),
    _resource_policy(
        "bucket-no-force-destroy",
        "Production: a bucket is never deleted with its objects (forceDestroy; ours).",
        MANDATORY,
        (GCS_BUCKET, S3_BUCKET),
        _no_force_destroy_in_production,
        production_only=True,
    ),
    _resource_policy(
        "no-public-grants",
        "No bucket or registry is granted to allUsers or allAuthenticatedUsers (CKV_GCP_28; ours for Artifact "
        "Registry).",
        MANDATORY,
        (GCS_BUCKET_IAM_MEMBER, GCS_BUCKET_IAM_BINDING, REGISTRY_IAM_MEMBER, REGISTRY_IAM_BINDING),
        _no_public_grants,
    ),
    _resource_policy(
        "kms-key-rotation",
        "KMS keys rotate: AWS yearly (CKV_AWS_7), Cloud KMS at least every 90 days (CKV_GCP_43).",
        MANDATORY,
        (AWS_KMS_KEY, GCP_KMS_KEY),
        _kms_key_rotation,
    ),
    _resource_policy(
        "log-group-retention",
        "CloudWatch log groups expire their logs (retentionInDays; CKV_AWS_338 asks a year or more).",
        MANDATORY,
        (LOG_GROUP,),
        _log_group_retention,
    ),
    # Advisory: a local stack that opts into a LoadBalancer (local.uiServiceType; kind, Docker Desktop expose it
    # on the host) may list no ranges; cloud stacks must list loadBalancer.sourceRanges unless a non-production
    # stack opts in with allowPublicAccess (components/config.py); production is mandatory below.
    _resource_policy(
        "lb-source-ranges",
        "A LoadBalancer Service lists loadBalancerSourceRanges (no checkov rule; ours).",
        ADVISORY,
        (K8S_SERVICE, HELM_RELEASE),
        _lb_source_ranges,
    ),
    _resource_policy(
        "lb-no-world-in-production",
        "Production: a LoadBalancer Service lists source ranges and none is 0.0.0.0/0 (no checkov rule; ours).",
        MANDATORY,
        (K8S_SERVICE, HELM_RELEASE),
        _lb_no_world_in_production,
        production_only=True,
    ),
    StackValidationPolicy(
        name="helm-values-no-generated-credentials",
        description="No generated password or key appears in Helm values, which Helm stores unencrypted (ours).",
        validate=_helm_values_no_generated_credentials,
        enforcement_level=MANDATORY,
    ),
    StackValidationPolicy(
        name="stateful-resources-protected",
        description="Production: clusters, databases, buckets, file systems, keys and volumes are `protect`ed (ours).",
        validate=_stateful_resources_protected,
        enforcement_level=MANDATORY,
        config_schema=PRODUCTION_SCHEMA,
    ),
]
