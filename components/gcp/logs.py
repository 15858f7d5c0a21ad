"""Task logs in a private GCS bucket, written by Airflow pods through Workload Identity."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass

import pulumi
import pulumi_gcp as gcp

from components.gcp.names import service_account_id
from components.gcp.settings import GcpSettings
from components.platform import AIRFLOW_COMPONENTS, RemoteLogging, service_account_names

WORKLOAD_IDENTITY_ANNOTATION = "iam.gke.io/gcp-service-account"
WORKLOAD_IDENTITY_USER = "roles/iam.workloadIdentityUser"
# Read, write, overwrite and list objects in this one bucket; nothing else.
OBJECT_ADMIN = "roles/storage.objectAdmin"
LOG_PREFIX = "logs"
# Airflow's GCS log handler (providers/google .../log/gcs_task_handler.py,
# GCSRemoteLogIO.hook/client) catches AirflowNotFoundException when this
# connection does not exist and falls back to Application Default
# Credentials - on GKE, the pod's Workload Identity. So no connection and no
# key is created: the annotated Kubernetes ServiceAccount is the credential.
CONNECTION_ID = "google_cloud_default"
# With versioning on, Airflow's append-by-rewrite of log files leaves a
# noncurrent version per write; they are kept this long for recovery.
NONCURRENT_VERSION_DAYS = 7


@dataclass(frozen=True)
class LogStoreArgs:
    settings: GcpSettings
    stack: str
    namespace: str
    release_name: str
    protect: bool
    # The storage and iam APIs.
    apis: Sequence[pulumi.Resource]
    # The Workload Identity pool exists only once the cluster does.
    cluster: pulumi.Resource


class LogStore(pulumi.ComponentResource):
    bucket: gcp.storage.Bucket
    account: gcp.serviceaccount.Account
    bucket_access: gcp.storage.BucketIAMMember
    workload_identity: dict[str, gcp.serviceaccount.IAMMember]
    remote_logging: RemoteLogging
    service_account_annotations: Mapping[str, Mapping[str, pulumi.Input[str]]]

    def __init__(self, name: str, args: LogStoreArgs, opts: pulumi.ResourceOptions | None = None) -> None:
        super().__init__("airflow-platform:gcp:LogStore", name, None, opts)
        settings = args.settings
        depends = pulumi.ResourceOptions(parent=self, depends_on=list(args.apis))
        lifecycle_rules = [
            gcp.storage.BucketLifecycleRuleArgs(
                action=gcp.storage.BucketLifecycleRuleActionArgs(type="Delete"),
                condition=gcp.storage.BucketLifecycleRuleConditionArgs(age=settings.log_retention_days),
            )
        ]
        if settings.log_versioning:
            lifecycle_rules.append(
                gcp.storage.BucketLifecycleRuleArgs(
                    action=gcp.storage.BucketLifecycleRuleActionArgs(type="Delete"),
                    condition=gcp.storage.BucketLifecycleRuleConditionArgs(
                        days_since_noncurrent_time=NONCURRENT_VERSION_DAYS
                    ),
                )
            )
        # Autonamed (a random suffix): bucket names are global across GCP.
        self.bucket = gcp.storage.Bucket(
            f"{name}-bucket",
            # Regional, next to the cluster: no cross-region egress.
            location=settings.region.upper(),
            storage_class="STANDARD",
            uniform_bucket_level_access=True,
            public_access_prevention="enforced",
            versioning=gcp.storage.BucketVersioningArgs(enabled=settings.log_versioning),
            lifecycle_rules=lifecycle_rules,
            # A dev stack's logs go with it; production's bucket is
            # protected and refuses deletion while it holds objects.
            force_destroy=not args.protect,
            opts=pulumi.ResourceOptions(parent=self, depends_on=list(args.apis), protect=args.protect),
        )
        self.account = gcp.serviceaccount.Account(
            f"{name}-account",
            account_id=service_account_id(args.stack, "logs"),
            display_name="Airflow platform task logs",
            description="Airflow pods (via Workload Identity): read/write task logs in one bucket.",
            opts=depends,
        )
        member = self.account.email.apply(lambda email: f"serviceAccount:{email}")
        self.bucket_access = gcp.storage.BucketIAMMember(
            f"{name}-bucket-access",
            bucket=self.bucket.name,
            role=OBJECT_ADMIN,
            member=member,
            opts=depends,
        )

        ksa_names = service_account_names(args.release_name)
        self.workload_identity = {
            component: gcp.serviceaccount.IAMMember(
                f"{name}-wi-{ksa_names[component]}",
                service_account_id=self.account.name,
                role=WORKLOAD_IDENTITY_USER,
                member=workload_identity_member(settings.workload_pool, args.namespace, ksa_names[component]),
                opts=pulumi.ResourceOptions(parent=self, depends_on=[*args.apis, args.cluster]),
            )
            for component in AIRFLOW_COMPONENTS
        }
        self.remote_logging = RemoteLogging(
            base_log_folder=pulumi.Output.concat("gs://", self.bucket.name, "/", LOG_PREFIX),
            connection_id=CONNECTION_ID,
        )
        self.service_account_annotations = {
            component: {WORKLOAD_IDENTITY_ANNOTATION: self.account.email} for component in AIRFLOW_COMPONENTS
        }
        self.register_outputs({"bucket": self.bucket.name, "account": self.account.email})


def workload_identity_member(workload_pool: str, namespace: str, ksa_name: str) -> str:
    """The IAM principal of one Kubernetes ServiceAccount under Workload Identity."""
    return f"serviceAccount:{workload_pool}[{namespace}/{ksa_name}]"
