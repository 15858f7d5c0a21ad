"""AWS side of CI: the Pulumi state bucket, the secrets-provider key, GitHub's OIDC provider and two roles.

Least privilege (README "CI/CD" has the table):
- preview role, trusted for pull requests and the default branch (nightly
  drift): AWS's ReadOnlyAccess for `preview --refresh`, read of the state
  bucket (a DIY-backend preview takes no lock and writes nothing), decrypt on
  the secrets key (only the stack's data key goes through KMS), and the value
  of the stacks' Docker Hub cache secrets (see PULL_THROUGH_CACHE_SECRETS).
- deploy role, trusted only for jobs of the deploy environments (their `sub`
  claim): full control of the services the stack creates (RESOURCE_SERVICES:
  one IAM service per resource module of the main stack). Creating IAM roles
  is one of them, which makes the role as strong as an administrator in
  practice: the environment's reviewer and branch policy guard it.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import pulumi
import pulumi_aws as aws

from bootstrap.settings import GITHUB_OIDC_HOST, GITHUB_OIDC_ISSUER, CloudSettings, GitHubSettings
from components.aws.buckets import lock_down_bucket
from components.aws.registry import REPOSITORY_PREFIX, SECRET_NAME_PREFIX

AUDIENCE = "sts.amazonaws.com"
READ_ONLY_POLICY = "arn:aws:iam::aws:policy/ReadOnlyAccess"
STATE_READ_ACTIONS = ("s3:GetObject", "s3:ListBucket")
KEY_DECRYPT_ACTIONS = ("kms:Decrypt",)
# ReadOnlyAccess leaves out secret values, but refreshing an
# aws.secretsmanager.SecretVersion reads the value (terraform-provider-aws
# internal/service/secretsmanager/secret_version.go: resourceSecretVersionRead ->
# GetSecretValue). So the preview may read the stacks' Docker Hub cache secrets,
# and only those: `ecr-pullthroughcache/docker-hub-<stack>` (components/aws/registry.py),
# in any region of this account. Acceptable because the same token is in each
# stack's state, which this identity already decrypts (as GCP's preview reads
# Kubernetes Secrets: bootstrap/gcp.py PREVIEW_READ_PERMISSIONS).
SECRET_READ_ACTIONS = ("secretsmanager:GetSecretValue",)
PULL_THROUGH_CACHE_SECRETS = f"{SECRET_NAME_PREFIX}{REPOSITORY_PREFIX}-*"
# Where the deploy role's rights come from: every `aws:<module>/...` resource
# type the main stack registers maps to the IAM service prefix its API calls
# are authorised under (AWS Service Authorization Reference, "Actions, resources,
# and condition keys for <service>"). tests/bootstrap runs the main program for
# every shape of stack and fails on a type whose module is missing here.
RESOURCE_SERVICES = {
    "acm": "acm",  # the UI certificate and its validation (components/aws/https.py)
    "ec2": "ec2",
    "ecr": "ecr",  # pull-through cache rule, repository creation template (components/aws/registry.py)
    "efs": "elasticfilesystem",
    "eks": "eks",
    "iam": "iam",
    "kms": "kms",
    "rds": "rds",
    # Alias records; CertificateValidation waits on route53:GetChange.
    "route53": "route53",
    "s3": "s3",
    "secretsmanager": "secretsmanager",  # the Docker Hub token secret and its version
    "vpc": "ec2",  # aws.vpc.SecurityGroupIngressRule is ec2:AuthorizeSecurityGroupIngress
}
# Granted apart from any resource type.
OTHER_DEPLOY_ACTIONS = (
    # aws.get_caller_identity (components/aws/cluster.py).
    "sts:GetCallerIdentity",
    # From the bootstrap's first version, for what the services do around the
    # stack's resources (EKS control-plane and RDS log groups, managed node
    # groups' Auto Scaling groups, EKS-optimised AMI parameters); no resource
    # type of the stack needs them directly.
    "logs:*",
    "autoscaling:*",
    "ssm:GetParameter",
)
DEPLOY_ACTIONS = (
    *sorted({f"{service}:*" for service in RESOURCE_SERVICES.values()}),
    *OTHER_DEPLOY_ACTIONS,
)
SECRETS_ALIAS = "alias/airflow-platform-pulumi"


@dataclass(frozen=True)
class AwsCiArgs:
    cloud: CloudSettings
    github: GitHubSettings


def preview_subjects(github: GitHubSettings) -> list[str]:
    """Pull request jobs, and scheduled drift checks (they run on the default branch)."""
    return [f"{github.subject_prefix}:pull_request", f"{github.subject_prefix}:ref:refs/heads/{github.default_branch}"]


def deploy_subjects(github: GitHubSettings, environments: Sequence[str]) -> list[str]:
    return [github.environment_subject(environment) for environment in environments]


def github_trust_policy(provider_arn: str, subjects: Sequence[str]) -> str:
    """AssumeRoleWithWebIdentity for GitHub tokens whose audience is STS and whose `sub` is exactly one of subjects."""
    return json.dumps(
        {
            "Version": "2012-10-17",
            "Statement": [
                {
                    "Effect": "Allow",
                    "Principal": {"Federated": provider_arn},
                    "Action": "sts:AssumeRoleWithWebIdentity",
                    # StringEquals, not StringLike: no wildcard widens the subjects.
                    "Condition": {
                        "StringEquals": {f"{GITHUB_OIDC_HOST}:aud": AUDIENCE, f"{GITHUB_OIDC_HOST}:sub": list(subjects)}
                    },
                }
            ],
        }
    )


def pull_through_cache_secrets(account_arn: str) -> str:
    """The stacks' Docker Hub cache secrets in every region of the account (and partition) of `account_arn`."""
    _, partition, _, _, account, _ = account_arn.split(":", 5)
    return f"arn:{partition}:secretsmanager:*:{account}:secret:{PULL_THROUGH_CACHE_SECRETS}"


def allow(actions: Sequence[str], resources: Sequence[str]) -> dict[str, Any]:
    return {"Effect": "Allow", "Action": list(actions), "Resource": list(resources)}


def policy(*statements: dict[str, Any]) -> str:
    return json.dumps({"Version": "2012-10-17", "Statement": list(statements)})


class AwsCi(pulumi.ComponentResource):
    state_bucket: aws.s3.Bucket
    secrets_key: aws.kms.Key
    oidc_provider: aws.iam.OpenIdConnectProvider
    preview_role: aws.iam.Role
    deploy_role: aws.iam.Role

    def __init__(self, name: str, args: AwsCiArgs, opts: pulumi.ResourceOptions | None = None) -> None:
        super().__init__("airflow-platform:bootstrap:AwsCi", name, None, opts)
        aws_provider = aws.Provider(
            f"{name}-provider", region=args.cloud.region, opts=pulumi.ResourceOptions(parent=self)
        )
        local = pulumi.ResourceOptions(parent=self, provider=aws_provider)
        # Losing either loses every stack: protected, and `pulumi destroy` refuses.
        kept = pulumi.ResourceOptions(parent=self, provider=aws_provider, protect=True)

        self.secrets_key = aws.kms.Key(
            f"{name}-secrets",
            description="Pulumi secrets provider of the airflow-platform stacks",
            enable_key_rotation=True,
            deletion_window_in_days=30,
            opts=kept,
        )
        aws.kms.Alias(f"{name}-secrets", name=SECRETS_ALIAS, target_key_id=self.secrets_key.key_id, opts=local)

        self.state_bucket = aws.s3.Bucket(f"{name}-state", opts=kept)
        # Versioned: an overwritten or deleted checkpoint can be restored.
        aws.s3.BucketVersioning(
            f"{name}-state-versioning",
            bucket=self.state_bucket.id,
            versioning_configuration=aws.s3.BucketVersioningVersioningConfigurationArgs(status="Enabled"),
            opts=local,
        )
        # Private, ACLs off, SSE-S3 at rest (the secrets inside are encrypted again with the key), TLS only.
        lock_down_bucket(f"{name}-state", self.state_bucket, local)

        # AWS validates GitHub's certificate against its own trusted CAs: no thumbprint.
        self.oidc_provider = aws.iam.OpenIdConnectProvider(
            f"{name}-github", url=GITHUB_OIDC_ISSUER, client_id_lists=[AUDIENCE], opts=local
        )
        self.preview_role = aws.iam.Role(
            f"{name}-preview",
            description="GitHub Actions: pull request previews and nightly drift checks. Reads only.",
            assume_role_policy=self.oidc_provider.arn.apply(
                lambda arn: github_trust_policy(arn, preview_subjects(args.github))
            ),
            opts=local,
        )
        aws.iam.RolePolicyAttachment(
            f"{name}-preview-read-only", role=self.preview_role.name, policy_arn=READ_ONLY_POLICY, opts=local
        )
        aws.iam.RolePolicy(
            f"{name}-preview-state",
            role=self.preview_role.name,
            policy=pulumi.Output.all(self.state_bucket.arn, self.secrets_key.arn).apply(
                lambda arns: policy(
                    allow(STATE_READ_ACTIONS, [arns[0], f"{arns[0]}/*"]),
                    allow(KEY_DECRYPT_ACTIONS, [arns[1]]),
                    allow(SECRET_READ_ACTIONS, [pull_through_cache_secrets(arns[1])]),
                )
            ),
            opts=local,
        )
        self.deploy_role = aws.iam.Role(
            f"{name}-deploy",
            description="GitHub Actions: pulumi up from the deploy environments only.",
            assume_role_policy=self.oidc_provider.arn.apply(
                lambda arn: github_trust_policy(arn, deploy_subjects(args.github, args.cloud.deploy_environments))
            ),
            # Three hours, the longest `aws-role-duration-seconds` of .github/workflows/deploy.yml (prod:
            # timeout 120 min): the default one hour ends a first `up` (cluster and database) midway.
            # AssumeRoleWithWebIdentity grants up to this (1-12 h; IAM CreateRole MaxSessionDuration).
            max_session_duration=3 * 60 * 60,
            opts=local,
        )
        aws.iam.RolePolicy(
            f"{name}-deploy-services",
            role=self.deploy_role.name,
            policy=policy(allow(DEPLOY_ACTIONS, ["*"])),
            opts=local,
        )

        self.backend_url = self.state_bucket.bucket.apply(lambda bucket: f"s3://{bucket}?region={args.cloud.region}")
        self.secrets_provider = f"awskms://{SECRETS_ALIAS}?region={args.cloud.region}"
        self.register_outputs({"backendUrl": self.backend_url, "secretsProvider": self.secrets_provider})
