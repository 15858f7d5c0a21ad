"""Task logs in S3, reached by each Airflow component through its own EKS Pod Identity role.

With Pod Identity the ServiceAccounts need no annotation (unlike IRSA's
`eks.amazonaws.com/role-arn`): the association is keyed by namespace and
ServiceAccount name, which the chart values pin
(`components.platform.service_account_names`), and the agent add-on hands the
role's credentials to the pod. No OIDC provider, no trust policy per SA.

Airflow uses `remote_log_conn_id: aws_default`, a connection that is never
created: the Amazon provider's `AwsGenericHook.conn_config` catches the
missing connection, logs "Unable to find AWS Connection ID 'aws_default',
switching to empty" and builds an empty connection, so boto3's default
credential chain applies - which picks up the Pod Identity credentials
(`AWS_CONTAINER_CREDENTIALS_FULL_URI`) the agent injects.
"""

from __future__ import annotations

import json
from dataclasses import dataclass

import pulumi
import pulumi_aws as aws

from components.aws.buckets import lock_down_bucket
from components.aws.iam import POD_IDENTITY_ACTIONS, POD_IDENTITY_PRINCIPAL, trust_policy
from components.platform import AIRFLOW_COMPONENTS, RemoteLogging

LOG_PREFIX = "logs"
AWS_CONNECTION_ID = "aws_default"


@dataclass(frozen=True)
class LogStoreArgs:
    cluster_name: pulumi.Input[str]
    namespace: pulumi.Input[str]
    # Component (AIRFLOW_COMPONENTS) -> Kubernetes ServiceAccount name.
    service_accounts: dict[str, str]
    retention_days: int
    production: bool


class LogStore(pulumi.ComponentResource):
    bucket: aws.s3.Bucket
    roles: dict[str, aws.iam.Role]
    associations: dict[str, aws.eks.PodIdentityAssociation]
    remote_logging: RemoteLogging

    def __init__(self, name: str, args: LogStoreArgs, opts: pulumi.ResourceOptions | None = None) -> None:
        super().__init__("airflow-platform:aws:LogStore", name, None, opts)
        local = pulumi.ResourceOptions(parent=self)

        self.bucket = aws.s3.Bucket(
            f"{name}-bucket",
            # A dev stack can be destroyed with its logs; prod refuses (and is protected).
            force_destroy=not args.production,
            opts=pulumi.ResourceOptions(parent=self, protect=args.production),
        )
        lock_down_bucket(name, self.bucket, local)
        aws.s3.BucketLifecycleConfiguration(
            f"{name}-lifecycle",
            bucket=self.bucket.id,
            rules=[
                aws.s3.BucketLifecycleConfigurationRuleArgs(
                    id="expire-task-logs",
                    status="Enabled",
                    filter=aws.s3.BucketLifecycleConfigurationRuleFilterArgs(prefix=f"{LOG_PREFIX}/"),
                    expiration=aws.s3.BucketLifecycleConfigurationRuleExpirationArgs(days=args.retention_days),
                    abort_incomplete_multipart_upload=aws.s3.BucketLifecycleConfigurationRuleAbortIncompleteMultipartUploadArgs(
                        days_after_initiation=7
                    ),
                )
            ],
            opts=local,
        )
        access_policy = self.bucket.arn.apply(_log_access_policy)
        self.roles = {}
        self.associations = {}
        for component in AIRFLOW_COMPONENTS:
            # One role per component: a compromised API server pod cannot act as the scheduler.
            role = aws.iam.Role(
                f"{name}-{component}",
                assume_role_policy=trust_policy(POD_IDENTITY_PRINCIPAL, POD_IDENTITY_ACTIONS),
                description=f"Airflow {component}: task logs in S3 (EKS Pod Identity)",
                opts=local,
            )
            aws.iam.RolePolicy(f"{name}-{component}-logs", role=role.name, policy=access_policy, opts=local)
            self.roles[component] = role
            self.associations[component] = aws.eks.PodIdentityAssociation(
                f"{name}-{component}",
                cluster_name=args.cluster_name,
                namespace=args.namespace,
                service_account=args.service_accounts[component],
                role_arn=role.arn,
                opts=local,
            )

        self.remote_logging = RemoteLogging(
            base_log_folder=pulumi.Output.concat("s3://", self.bucket.bucket, f"/{LOG_PREFIX}"),
            connection_id=AWS_CONNECTION_ID,
        )
        self.register_outputs({"bucket": self.bucket.bucket, "baseLogFolder": self.remote_logging.base_log_folder})


def _log_access_policy(bucket_arn: str) -> str:
    """List the bucket, read/write/delete objects in it; nothing else."""
    return json.dumps(
        {
            "Version": "2012-10-17",
            "Statement": [
                {"Effect": "Allow", "Action": ["s3:ListBucket"], "Resource": bucket_arn},
                {
                    "Effect": "Allow",
                    "Action": ["s3:GetObject", "s3:PutObject", "s3:DeleteObject"],
                    "Resource": f"{bucket_arn}/*",
                },
            ],
        }
    )
