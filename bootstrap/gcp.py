"""GCP side of CI: the Pulumi state bucket, the secrets-provider key, and the two OIDC identities.

Least privilege, role by role (README "CI/CD" has the table):
- preview (pull requests, nightly drift): read-only viewer roles on the project,
  read on the state bucket (a DIY-backend preview takes no lock and writes
  nothing: pulumi/pkg/backend/diy/backend.go, Preview -> apply with DryRun),
  and decrypt on the secrets key (the stack's data key is decrypted once,
  secrets are then en/decrypted locally).
- deploy (`dev`/`prod` environment jobs only): the admin roles of the services
  the stack creates (DEPLOY_GRANTS: the roles each resource type needs).
  Setting IAM on the project is among them, so the deploy identity is as
  powerful as the stack it deploys: the environment's reviewer and branch
  policy are what guard it.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

import pulumi
import pulumi_gcp as gcp
import pulumi_random as random

from bootstrap.settings import GITHUB_OIDC_ISSUER, CloudSettings, GitHubSettings
from components.gcp.names import service_account_id

WORKLOAD_IDENTITY_USER = "roles/iam.workloadIdentityUser"
STATE_READER = "roles/storage.objectViewer"
KEY_DECRYPTER = "roles/cloudkms.cryptoKeyDecrypter"
APIS = (
    "iam.googleapis.com",
    "iamcredentials.googleapis.com",
    "sts.googleapis.com",
    "cloudkms.googleapis.com",
    "cloudresourcemanager.googleapis.com",
    "storage.googleapis.com",
)
# Predefined roles and what they hold: https://cloud.google.com/iam/docs/roles-permissions/<service>.
NETWORK_ADMIN = "roles/compute.networkAdmin"
# compute.networkAdmin leaves out firewall rules and SSL certificates, and
# Cloud Armor policies are created only by compute.securityAdmin
# (https://cloud.google.com/armor/docs/create-security-policies, "Set up IAM permissions").
SECURITY_ADMIN = "roles/compute.securityAdmin"
CONTAINER_ADMIN = "roles/container.admin"
# Clusters and node pools run as the stack's node service account (iam.serviceAccounts.actAs).
ACT_AS = "roles/iam.serviceAccountUser"
SERVICE_USAGE_ADMIN = "roles/serviceusage.serviceUsageAdmin"
SERVICE_ACCOUNT_ADMIN = "roles/iam.serviceAccountAdmin"
# monitoring.alertPolicies.*, monitoring.notificationChannels.*, monitoring.dashboards.*
# (https://cloud.google.com/iam/docs/roles-permissions/monitoring).
MONITORING_EDITOR = "roles/monitoring.editor"
# Where the deploy identity's rights come from: the roles each `gcp:` resource
# type of the main stack needs, nothing else. tests/bootstrap runs the main
# program for every shape of stack and fails on a type missing here.
DEPLOY_GRANTS: dict[str, tuple[str, ...]] = {
    "gcp:artifactregistry/repository:Repository": ("roles/artifactregistry.admin",),
    "gcp:artifactregistry/repositoryIamMember:RepositoryIamMember": ("roles/artifactregistry.admin",),
    "gcp:compute/address:Address": (NETWORK_ADMIN,),
    "gcp:compute/globalAddress:GlobalAddress": (NETWORK_ADMIN,),
    "gcp:compute/network:Network": (NETWORK_ADMIN,),
    "gcp:compute/router:Router": (NETWORK_ADMIN,),
    "gcp:compute/routerNat:RouterNat": (NETWORK_ADMIN,),
    "gcp:compute/subnetwork:Subnetwork": (NETWORK_ADMIN,),
    "gcp:compute/firewall:Firewall": (SECURITY_ADMIN,),
    "gcp:compute/managedSslCertificate:ManagedSslCertificate": (SECURITY_ADMIN,),
    "gcp:compute/securityPolicy:SecurityPolicy": (SECURITY_ADMIN,),
    # compute.sslPolicies.* (the UI's TLS floor, components/gcp/https.py).
    "gcp:compute/sSLPolicy:SSLPolicy": (SECURITY_ADMIN,),
    "gcp:container/cluster:Cluster": (CONTAINER_ADMIN, ACT_AS),
    "gcp:container/nodePool:NodePool": (CONTAINER_ADMIN, ACT_AS),
    # The UI's A record when `ui.dnsZone` is set (dns.changes.create, dns.resourceRecordSets.*).
    "gcp:dns/recordSet:RecordSet": ("roles/dns.admin",),
    "gcp:kms/keyRing:KeyRing": ("roles/cloudkms.admin",),
    "gcp:kms/cryptoKey:CryptoKey": ("roles/cloudkms.admin",),
    "gcp:kms/cryptoKeyIAMMember:CryptoKeyIAMMember": ("roles/cloudkms.admin",),
    # Also resourcemanager.projects.get, which the stack's project-number lookup needs.
    # Alert policies, notification channels and the dashboard (components/gcp/monitoring.py).
    "gcp:monitoring/alertPolicy:AlertPolicy": (MONITORING_EDITOR,),
    "gcp:monitoring/dashboard:Dashboard": (MONITORING_EDITOR,),
    "gcp:monitoring/notificationChannel:NotificationChannel": (MONITORING_EDITOR,),
    "gcp:projects/iAMMember:IAMMember": ("roles/resourcemanager.projectIamAdmin",),
    "gcp:projects/service:Service": (SERVICE_USAGE_ADMIN,),
    # services.generateServiceIdentity: Google documents no IAM permission for it
    # (github.com/firebase/firebase-tools/issues/11005 asks); the service-state
    # admin role is the one that manages a project's services and their agents.
    "gcp:projects/serviceIdentity:ServiceIdentity": (SERVICE_USAGE_ADMIN,),
    "gcp:serviceaccount/account:Account": (SERVICE_ACCOUNT_ADMIN,),
    # iam.serviceAccounts.setIamPolicy (Workload Identity bindings).
    "gcp:serviceaccount/iAMMember:IAMMember": (SERVICE_ACCOUNT_ADMIN,),
    "gcp:servicenetworking/connection:Connection": ("roles/servicenetworking.networksAdmin",),
    "gcp:sql/databaseInstance:DatabaseInstance": ("roles/cloudsql.admin",),
    "gcp:sql/database:Database": ("roles/cloudsql.admin",),
    "gcp:sql/user:User": ("roles/cloudsql.admin",),
    # Also the state bucket's objects: the deploy writes its checkpoints there.
    "gcp:storage/bucket:Bucket": ("roles/storage.admin",),
    "gcp:storage/bucketIAMMember:BucketIAMMember": ("roles/storage.admin",),
}
DEPLOY_ROLES = tuple(dict.fromkeys(role for roles in DEPLOY_GRANTS.values() for role in roles))
# What `pulumi preview --refresh` calls to read each type the main stack registers
# (the provider's Read, e.g. terraform-provider-google's resource*Read). Kubernetes
# objects are read through the cluster's DNS-based endpoint, which first checks
# container.clusters.connect; GKE then authorises the call with the container.*
# permission of the kind. tests/bootstrap fails on a registered type missing here.
DNS_ENDPOINT_CONNECT = "container.clusters.connect"
HELM_RELEASE_READS = ("container.secrets.list", "container.secrets.get")  # Helm's release records are Secrets
CUSTOM_OBJECT_READ = "container.thirdPartyObjects.get"  # objects of CustomResourceDefinitions
PREVIEW_READS: dict[str, tuple[str, ...]] = {
    "gcp:artifactregistry/repository:Repository": ("artifactregistry.repositories.get",),
    "gcp:artifactregistry/repositoryIamMember:RepositoryIamMember": ("artifactregistry.repositories.getIamPolicy",),
    "gcp:compute/address:Address": ("compute.addresses.get",),
    "gcp:compute/firewall:Firewall": ("compute.firewalls.get",),
    "gcp:compute/globalAddress:GlobalAddress": ("compute.globalAddresses.get",),
    "gcp:compute/managedSslCertificate:ManagedSslCertificate": ("compute.sslCertificates.get",),
    "gcp:compute/network:Network": ("compute.networks.get",),
    "gcp:compute/router:Router": ("compute.routers.get",),
    "gcp:compute/routerNat:RouterNat": ("compute.routers.get",),
    "gcp:compute/securityPolicy:SecurityPolicy": ("compute.securityPolicies.get",),
    "gcp:compute/sSLPolicy:SSLPolicy": ("compute.sslPolicies.get",),
    "gcp:compute/subnetwork:Subnetwork": ("compute.subnetworks.get",),
    "gcp:container/cluster:Cluster": ("container.clusters.get",),
    "gcp:container/nodePool:NodePool": ("container.clusters.get",),
    "gcp:dns/recordSet:RecordSet": ("dns.resourceRecordSets.list",),
    "gcp:kms/cryptoKey:CryptoKey": ("cloudkms.cryptoKeys.get",),
    "gcp:kms/cryptoKeyIAMMember:CryptoKeyIAMMember": ("cloudkms.cryptoKeys.getIamPolicy",),
    "gcp:kms/keyRing:KeyRing": ("cloudkms.keyRings.get",),
    "gcp:monitoring/alertPolicy:AlertPolicy": ("monitoring.alertPolicies.get",),
    "gcp:monitoring/dashboard:Dashboard": ("monitoring.dashboards.get",),
    "gcp:monitoring/notificationChannel:NotificationChannel": ("monitoring.notificationChannels.get",),
    "gcp:projects/iAMMember:IAMMember": ("resourcemanager.projects.getIamPolicy",),
    # The provider lists the enabled services (ListCurrentlyEnabledServices).
    "gcp:projects/service:Service": ("serviceusage.services.list",),
    # "There is no read endpoint for this API": its Read returns at once
    # (terraform-provider-google resource_project_service_identity.go).
    "gcp:projects/serviceIdentity:ServiceIdentity": (),
    "gcp:serviceaccount/account:Account": ("iam.serviceAccounts.get",),
    "gcp:serviceaccount/iAMMember:IAMMember": ("iam.serviceAccounts.getIamPolicy",),
    # Not in roles/compute.viewer: without it every GCP preview and drift run got 403.
    "gcp:servicenetworking/connection:Connection": ("servicenetworking.services.get",),
    "gcp:sql/database:Database": ("cloudsql.databases.get",),
    "gcp:sql/databaseInstance:DatabaseInstance": ("cloudsql.instances.get",),
    "gcp:sql/user:User": ("cloudsql.users.list",),
    "gcp:storage/bucket:Bucket": ("storage.buckets.get",),
    "gcp:storage/bucketIAMMember:BucketIAMMember": ("storage.buckets.getIamPolicy",),
    "kubernetes:batch/v1:Job": (DNS_ENDPOINT_CONNECT, "container.jobs.get"),
    "kubernetes:core/v1:Namespace": (DNS_ENDPOINT_CONNECT, "container.namespaces.get"),
    "kubernetes:core/v1:PersistentVolumeClaim": (DNS_ENDPOINT_CONNECT, "container.persistentVolumeClaims.get"),
    "kubernetes:core/v1:Secret": (DNS_ENDPOINT_CONNECT, "container.secrets.get"),
    "kubernetes:core/v1:Service": (DNS_ENDPOINT_CONNECT, "container.services.get"),
    "kubernetes:gateway.networking.k8s.io/v1:Gateway": (DNS_ENDPOINT_CONNECT, CUSTOM_OBJECT_READ),
    "kubernetes:gateway.networking.k8s.io/v1:HTTPRoute": (DNS_ENDPOINT_CONNECT, CUSTOM_OBJECT_READ),
    "kubernetes:helm.sh/v3:Release": (DNS_ENDPOINT_CONNECT, *HELM_RELEASE_READS),
    "kubernetes:monitoring.googleapis.com/v1:PodMonitoring": (DNS_ENDPOINT_CONNECT, CUSTOM_OBJECT_READ),
    "kubernetes:networking.gke.io/v1:GCPBackendPolicy": (DNS_ENDPOINT_CONNECT, CUSTOM_OBJECT_READ),
    "kubernetes:networking.gke.io/v1:GCPGatewayPolicy": (DNS_ENDPOINT_CONNECT, CUSTOM_OBJECT_READ),
    "kubernetes:networking.gke.io/v1:HealthCheckPolicy": (DNS_ENDPOINT_CONNECT, CUSTOM_OBJECT_READ),
    "kubernetes:rbac.authorization.k8s.io/v1:Role": (DNS_ENDPOINT_CONNECT, "container.roles.get"),
    "kubernetes:rbac.authorization.k8s.io/v1:RoleBinding": (DNS_ENDPOINT_CONNECT, "container.roleBindings.get"),
    "kubernetes:storage.k8s.io/v1:StorageClass": (DNS_ENDPOINT_CONNECT, "container.storageClasses.get"),
}
# The read-only predefined roles the preview identity holds, each with the
# permissions of PREVIEW_READS it is granted for - each one checked in the role's
# definition in iann0036/iam-dataset, gcp/roles/<role>.json at commit 2073fa52
# (2026-08-22), a daily copy of the IAM roles API. `resourcemanager.projects.get`
# (the stack's project-number lookup) is in roles/browser.
PREVIEW_ROLE_READS: dict[str, frozenset[str]] = {
    "roles/compute.viewer": frozenset(
        {
            "compute.addresses.get",
            "compute.firewalls.get",
            "compute.globalAddresses.get",
            "compute.networks.get",
            "compute.routers.get",
            "compute.securityPolicies.get",
            "compute.sslCertificates.get",
            "compute.sslPolicies.get",
            "compute.subnetworks.get",
        }
    ),
    # Also everything Kubernetes but Secrets, and container.clusters.connect (the DNS endpoint).
    "roles/container.viewer": frozenset(
        {
            DNS_ENDPOINT_CONNECT,
            "container.clusters.get",
            "container.jobs.get",
            "container.namespaces.get",
            "container.persistentVolumeClaims.get",
            "container.roleBindings.get",
            "container.roles.get",
            "container.services.get",
            "container.storageClasses.get",
            CUSTOM_OBJECT_READ,
        }
    ),
    "roles/cloudsql.viewer": frozenset({"cloudsql.databases.get", "cloudsql.instances.get", "cloudsql.users.list"}),
    "roles/cloudkms.viewer": frozenset({"cloudkms.cryptoKeys.get", "cloudkms.keyRings.get"}),
    "roles/storage.bucketViewer": frozenset({"storage.buckets.get"}),
    "roles/serviceusage.serviceUsageViewer": frozenset({"serviceusage.services.list"}),
    # The UI's record set, when the stack manages one (https://cloud.google.com/dns/docs/access-control).
    "roles/dns.reader": frozenset({"dns.resourceRecordSets.list"}),
    # The IAM policies the stack's IAMMember resources live in.
    "roles/iam.securityReviewer": frozenset(
        {
            "artifactregistry.repositories.getIamPolicy",
            "cloudkms.cryptoKeys.getIamPolicy",
            "iam.serviceAccounts.get",
            "iam.serviceAccounts.getIamPolicy",
            "resourcemanager.projects.getIamPolicy",
            "storage.buckets.getIamPolicy",
        }
    ),
    # The alert policies, notification channels and dashboard (components/gcp/monitoring.py).
    "roles/monitoring.viewer": frozenset(
        {"monitoring.alertPolicies.get", "monitoring.dashboards.get", "monitoring.notificationChannels.get"}
    ),
    # resourcemanager.projects.get: the stack looks its project number up.
    "roles/browser": frozenset({"resourcemanager.projects.get"}),
    # The narrowest role with it (roles/compute.networkViewer has it too; roles/compute.viewer does not).
    "roles/servicenetworking.viewer": frozenset({"servicenetworking.services.get"}),
}
PREVIEW_ROLES = tuple(PREVIEW_ROLE_READS)
# Reads no predefined read-only role above grants, so a custom role holds them:
# Kubernetes Secrets (container.viewer leaves them out, but the stack manages
# Secrets and Helm keeps its release records in them; the same values are in
# the state this identity can already decrypt) and the image cache repository
# (no viewer role covers Artifact Registry; roles/artifactregistry.reader would
# also let it pull every image). Derived, so a new read lands here or in a role.
PREVIEW_READ_PERMISSIONS = tuple(
    sorted(
        {permission for reads in PREVIEW_READS.values() for permission in reads}
        - {permission for reads in PREVIEW_ROLE_READS.values() for permission in reads}
    )
)
# Where the DNS-based control-plane endpoint's check passes for the deploy identity.
DEPLOY_ROLE_READS: dict[str, frozenset[str]] = {CONTAINER_ADMIN: frozenset({DNS_ENDPOINT_CONNECT})}


# Workload identity pools and their providers stay soft-deleted for 30 days after
# a delete, custom roles for 37, and their ids cannot be created again meanwhile
# (409 ALREADY_EXISTS; https://cloud.google.com/iam/docs/manage-workload-identity-pools-providers,
# https://cloud.google.com/iam/docs/creating-custom-roles#deleting-custom-role). So the ids
# carry the stack's name and a random suffix that `pulumi destroy` deletes with them:
# a run after a destroy draws a new suffix and creates new ids, no undelete needed.
# Day 2: a stack from before (fixed ids) replaces its pool, provider and custom
# role once, new before old; GCP_WORKLOAD_IDENTITY_PROVIDER follows in the same run.
# Patterns and lengths from the IAM API reference (projects.locations.workloadIdentityPools.create:
# 4-32 of a-z0-9-, no `gcp-` prefix; projects.roles.create: roleId 3-64 of a-zA-Z0-9_.).
POOL_ID = re.compile(r"^(?!gcp-)[a-z0-9-]{4,32}$")
ROLE_ID = re.compile(r"^[a-zA-Z0-9_.]{3,64}$")
ID_SUFFIX_BYTES = 3
# Unique within its pool, whose id changes on every re-creation.
PROVIDER_ID = "github"


@dataclass(frozen=True)
class IdentityIds:
    pool: str
    preview_role: str


def identity_ids(stack: str, suffix: str) -> IdentityIds:
    """The pool's and the preview custom role's ids for a bootstrap stack and a random hex suffix."""
    words = re.findall(r"[a-z0-9]+", stack.lower())
    pool_stem = "-".join(["gh", *words])[: 32 - len(suffix) - 1].rstrip("-")
    role_stem = "_".join(["ciPreviewReader", *words])[: 64 - len(suffix) - 1].rstrip("_")
    ids = IdentityIds(pool=f"{pool_stem}-{suffix}", preview_role=f"{role_stem}_{suffix}")
    assert POOL_ID.match(ids.pool) and ROLE_ID.match(ids.preview_role), ids
    return ids


@dataclass(frozen=True)
class GcpCiArgs:
    cloud: CloudSettings
    github: GitHubSettings
    stack: str


def role_resource_name(role: str) -> str:
    return role.removeprefix("roles/").replace(".", "-").lower()


class GcpCi(pulumi.ComponentResource):
    state_bucket: gcp.storage.Bucket
    secrets_key: gcp.kms.CryptoKey
    provider: gcp.iam.WorkloadIdentityPoolProvider
    preview_account: gcp.serviceaccount.Account
    deploy_account: gcp.serviceaccount.Account

    def __init__(self, name: str, args: GcpCiArgs, opts: pulumi.ResourceOptions | None = None) -> None:
        super().__init__("airflow-platform:bootstrap:GcpCi", name, None, opts)
        project = args.cloud.project
        gcp_provider = gcp.Provider(
            f"{name}-provider", project=project, region=args.cloud.region, opts=pulumi.ResourceOptions(parent=self)
        )
        local = pulumi.ResourceOptions(parent=self, provider=gcp_provider)
        apis = [
            gcp.projects.Service(
                f"{name}-{api.split('.')[0]}", service=api, disable_on_destroy=False, project=project, opts=local
            )
            for api in APIS
        ]
        after_apis = pulumi.ResourceOptions(parent=self, provider=gcp_provider, depends_on=apis)
        # Losing either loses every stack: protected, and `pulumi destroy` refuses.
        kept = pulumi.ResourceOptions(parent=self, provider=gcp_provider, depends_on=apis, protect=True)

        # Versioned: an overwritten or deleted checkpoint can be restored.
        # Google encrypts it at rest; the secrets inside are encrypted again by the key below.
        self.state_bucket = gcp.storage.Bucket(
            f"{name}-state",
            location=args.cloud.region,
            uniform_bucket_level_access=True,
            public_access_prevention="enforced",
            versioning=gcp.storage.BucketVersioningArgs(enabled=True),
            opts=kept,
        )
        key_ring = gcp.kms.KeyRing(f"{name}-ring", location=args.cloud.region, opts=after_apis)
        self.secrets_key = gcp.kms.CryptoKey(
            f"{name}-secrets", key_ring=key_ring.id, purpose="ENCRYPT_DECRYPT", opts=kept
        )

        id_suffix = random.RandomId(
            f"{name}-ids", byte_length=ID_SUFFIX_BYTES, opts=pulumi.ResourceOptions(parent=self)
        )
        ids = id_suffix.hex.apply(lambda suffix: identity_ids(args.stack, suffix))
        pool = gcp.iam.WorkloadIdentityPool(
            f"{name}-pool",
            workload_identity_pool_id=ids.apply(lambda ids: ids.pool),
            display_name="GitHub Actions",
            opts=after_apis,
        )
        self.provider = gcp.iam.WorkloadIdentityPoolProvider(
            f"{name}-github",
            workload_identity_pool_id=pool.workload_identity_pool_id,
            workload_identity_pool_provider_id=PROVIDER_ID,
            display_name="GitHub Actions OIDC",
            attribute_mapping={
                "google.subject": "assertion.sub",
                "attribute.repository": "assertion.repository",
                "attribute.environment": "assertion.environment",
            },
            # Without a condition any repository on GitHub could exchange its token here.
            attribute_condition=attribute_condition(args.github),
            oidc=gcp.iam.WorkloadIdentityPoolProviderOidcArgs(issuer_uri=GITHUB_OIDC_ISSUER),
            opts=after_apis,
        )

        self.preview_account = gcp.serviceaccount.Account(
            f"{name}-preview",
            account_id=service_account_id(args.stack, "ci-preview"),
            display_name="CI preview (read-only)",
            description="GitHub Actions: pull request previews and nightly drift checks. Reads only.",
            opts=after_apis,
        )
        self.deploy_account = gcp.serviceaccount.Account(
            f"{name}-deploy",
            account_id=service_account_id(args.stack, "ci-deploy"),
            display_name="CI deploy",
            description="GitHub Actions: pulumi up from the dev/prod environments only.",
            opts=after_apis,
        )
        preview = self.preview_account.email.apply(lambda email: f"serviceAccount:{email}")
        deploy = self.deploy_account.email.apply(lambda email: f"serviceAccount:{email}")

        # Who may act as each account: any workflow of the repository for preview,
        # only jobs of a deploy environment (their `sub`) for deploy.
        gcp.serviceaccount.IAMMember(
            f"{name}-preview-wif",
            service_account_id=self.preview_account.name,
            role=WORKLOAD_IDENTITY_USER,
            member=pulumi.Output.concat(
                "principalSet://iam.googleapis.com/", pool.name, f"/attribute.repository/{args.github.full_name}"
            ),
            opts=local,
        )
        for environment in args.cloud.deploy_environments:
            subject = args.github.environment_subject(environment)
            gcp.serviceaccount.IAMMember(
                f"{name}-deploy-wif-{environment}",
                service_account_id=self.deploy_account.name,
                role=WORKLOAD_IDENTITY_USER,
                member=pulumi.Output.concat("principal://iam.googleapis.com/", pool.name, f"/subject/{subject}"),
                opts=local,
            )

        extra_reader = gcp.projects.IAMCustomRole(
            f"{name}-preview-secrets",
            role_id=ids.apply(lambda ids: ids.preview_role),
            title="CI preview: reads no viewer role grants",
            description="Refresh of Kubernetes Secrets, Helm release records and the image cache repository.",
            permissions=list(PREVIEW_READ_PERMISSIONS),
            project=project,
            opts=after_apis,
        )
        for role in PREVIEW_ROLES:
            gcp.projects.IAMMember(
                f"{name}-preview-{role_resource_name(role)}", project=project, role=role, member=preview, opts=local
            )
        gcp.projects.IAMMember(
            f"{name}-preview-secrets-reader", project=project, role=extra_reader.name, member=preview, opts=local
        )
        for role in DEPLOY_ROLES:
            gcp.projects.IAMMember(
                f"{name}-deploy-{role_resource_name(role)}", project=project, role=role, member=deploy, opts=local
            )

        # The deploy identity writes state through roles/storage.admin above;
        # preview only reads it. Both decrypt the stack's data key, neither encrypts.
        gcp.storage.BucketIAMMember(
            f"{name}-preview-state", bucket=self.state_bucket.name, role=STATE_READER, member=preview, opts=local
        )
        for identity, member in (("preview", preview), ("deploy", deploy)):
            gcp.kms.CryptoKeyIAMMember(
                f"{name}-{identity}-decrypt",
                crypto_key_id=self.secrets_key.id,
                role=KEY_DECRYPTER,
                member=member,
                opts=local,
            )

        self.backend_url = self.state_bucket.name.apply(lambda bucket: f"gs://{bucket}")
        self.secrets_provider = self.secrets_key.id.apply(lambda key: f"gcpkms://{key}")
        self.register_outputs(
            {
                "backendUrl": self.backend_url,
                "secretsProvider": self.secrets_provider,
                "workloadIdentityProvider": self.provider.name,
            }
        )


def attribute_condition(github: GitHubSettings) -> str:
    """Only tokens of this repository (by name, and by `sub` so a renamed repository's ids still match)."""
    return f"assertion.repository == '{github.full_name}' && assertion.sub.startsWith('{github.subject_prefix}:')"
