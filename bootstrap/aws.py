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

from bootstrap.settings import (
    GITHUB_OIDC_HOST,
    GITHUB_OIDC_ISSUER,
    GITHUB_OIDC_PROVIDER_KEY,
    PROJECT,
    CloudSettings,
    GitHubSettings,
)
from components.aws.buckets import lock_down_bucket
from components.aws.registry import REPOSITORY_PREFIX, SECRET_NAME_PREFIX
from components.validation import ConfigError, ConfigProblem

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
    # The Prometheus workspace, its scraper, rules and alert manager (components/aws/monitoring.py).
    "amp": "aps",
    "cloudwatch": "cloudwatch",  # the RDS alarms; the control-plane log group is logs:* below
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
    # The sleep schedules (components/aws/sleep.py); their role is passed with iam:PassRole (iam:*).
    "scheduler": "scheduler",
    "secretsmanager": "secretsmanager",  # the Docker Hub token secret and its version
    "sns": "sns",  # the alerts topic and its subscriptions
    "vpc": "ec2",  # aws.vpc.SecurityGroupIngressRule is ec2:AuthorizeSecurityGroupIngress
}
# Granted apart from any resource type.
OTHER_DEPLOY_ACTIONS = (
    # aws.get_caller_identity (components/aws/cluster.py).
    "sts:GetCallerIdentity",
    # From the bootstrap's first version, for what the services do around the
    # stack's resources (the RDS log groups, the EKS control-plane log group
    # (aws:cloudwatch/logGroup, components/aws/control_plane_logs.py), managed node
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
# What `pulumi preview --refresh` calls to read each `aws:` type the main stack
# registers (terraform-provider-aws internal/service/<service>/<resource>.go, the
# resource's Read). Kubernetes objects are read through the EKS access entry
# that aws.readOnlyRoleArns gives the role (AmazonEKSAdminViewPolicy, tests/aws).
# tests/bootstrap fails on a registered type missing here.
PREVIEW_READS: dict[str, tuple[str, ...]] = {
    "aws:acm/certificate:Certificate": ("acm:DescribeCertificate", "acm:ListTagsForCertificate"),
    "aws:acm/certificateValidation:CertificateValidation": ("acm:DescribeCertificate",),
    "aws:amp/alertManagerDefinition:AlertManagerDefinition": ("aps:DescribeAlertManagerDefinition",),
    "aws:amp/ruleGroupNamespace:RuleGroupNamespace": ("aps:DescribeRuleGroupsNamespace",),
    "aws:amp/scraper:Scraper": ("aps:DescribeScraper",),
    "aws:amp/workspace:Workspace": ("aps:DescribeWorkspace", "aps:ListTagsForResource"),
    "aws:cloudwatch/metricAlarm:MetricAlarm": ("cloudwatch:DescribeAlarms", "cloudwatch:ListTagsForResource"),
    "aws:cloudwatch/logGroup:LogGroup": ("logs:DescribeLogGroups", "logs:ListTagsForResource"),
    "aws:ec2/eip:Eip": ("ec2:DescribeAddresses",),
    "aws:ec2/internetGateway:InternetGateway": ("ec2:DescribeInternetGateways",),
    "aws:ec2/natGateway:NatGateway": ("ec2:DescribeNatGateways",),
    "aws:ec2/routeTable:RouteTable": ("ec2:DescribeRouteTables",),
    "aws:ec2/routeTableAssociation:RouteTableAssociation": ("ec2:DescribeRouteTables",),
    "aws:ec2/securityGroup:SecurityGroup": ("ec2:DescribeSecurityGroups",),
    "aws:ec2/subnet:Subnet": ("ec2:DescribeSubnets",),
    "aws:ec2/vpc:Vpc": ("ec2:DescribeVpcs", "ec2:DescribeVpcAttribute"),
    "aws:ec2/vpcEndpoint:VpcEndpoint": ("ec2:DescribeVpcEndpoints", "ec2:DescribePrefixLists"),
    "aws:ecr/pullThroughCacheRule:PullThroughCacheRule": ("ecr:DescribePullThroughCacheRules",),
    "aws:ecr/repositoryCreationTemplate:RepositoryCreationTemplate": ("ecr:DescribeRepositoryCreationTemplates",),
    "aws:efs/backupPolicy:BackupPolicy": ("elasticfilesystem:DescribeBackupPolicy",),
    "aws:efs/fileSystem:FileSystem": (
        "elasticfilesystem:DescribeFileSystems",
        "elasticfilesystem:DescribeLifecycleConfiguration",
    ),
    "aws:efs/mountTarget:MountTarget": ("elasticfilesystem:DescribeMountTargets",),
    "aws:eks/accessEntry:AccessEntry": ("eks:DescribeAccessEntry",),
    "aws:eks/accessPolicyAssociation:AccessPolicyAssociation": ("eks:ListAssociatedAccessPolicies",),
    "aws:eks/addon:Addon": ("eks:DescribeAddon",),
    "aws:eks/cluster:Cluster": ("eks:DescribeCluster",),
    "aws:eks/nodeGroup:NodeGroup": ("eks:DescribeNodegroup",),
    "aws:eks/podIdentityAssociation:PodIdentityAssociation": ("eks:DescribePodIdentityAssociation",),
    "aws:iam/role:Role": ("iam:GetRole",),
    "aws:iam/rolePolicy:RolePolicy": ("iam:GetRolePolicy",),
    "aws:iam/rolePolicyAttachment:RolePolicyAttachment": ("iam:ListAttachedRolePolicies",),
    "aws:kms/key:Key": ("kms:DescribeKey", "kms:GetKeyPolicy", "kms:GetKeyRotationStatus", "kms:ListResourceTags"),
    "aws:rds/instance:Instance": ("rds:DescribeDBInstances",),
    "aws:rds/instanceDesiredState:InstanceDesiredState": ("rds:DescribeDBInstances",),
    "aws:rds/subnetGroup:SubnetGroup": ("rds:DescribeDBSubnetGroups",),
    "aws:route53/record:Record": ("route53:ListResourceRecordSets",),
    "aws:s3/bucket:Bucket": ("s3:ListBucket", "s3:GetBucketTagging"),
    "aws:s3/bucketLifecycleConfiguration:BucketLifecycleConfiguration": ("s3:GetLifecycleConfiguration",),
    "aws:s3/bucketOwnershipControls:BucketOwnershipControls": ("s3:GetBucketOwnershipControls",),
    "aws:s3/bucketPolicy:BucketPolicy": ("s3:GetBucketPolicy",),
    "aws:s3/bucketPublicAccessBlock:BucketPublicAccessBlock": ("s3:GetBucketPublicAccessBlock",),
    "aws:s3/bucketServerSideEncryptionConfiguration:BucketServerSideEncryptionConfiguration": (
        "s3:GetEncryptionConfiguration",
    ),
    "aws:scheduler/schedule:Schedule": ("scheduler:GetSchedule",),
    "aws:secretsmanager/secret:Secret": ("secretsmanager:DescribeSecret", "secretsmanager:GetResourcePolicy"),
    # The value itself: granted on the Docker Hub cache secrets only (SECRET_READ_ACTIONS).
    "aws:secretsmanager/secretVersion:SecretVersion": ("secretsmanager:GetSecretValue",),
    "aws:sns/topic:Topic": ("sns:GetTopicAttributes", "sns:ListTagsForResource"),
    "aws:sns/topicPolicy:TopicPolicy": ("sns:GetTopicAttributes",),
    "aws:sns/topicSubscription:TopicSubscription": ("sns:GetSubscriptionAttributes",),
    "aws:vpc/securityGroupIngressRule:SecurityGroupIngressRule": ("ec2:DescribeSecurityGroupRules",),
}
# The statements of AWS's ReadOnlyAccess that grant the reads above, as in
# iann0036/iam-dataset aws/managedpolicies/ReadOnlyAccess.json (commit 3c0e123f,
# 2026-08-21). tests/bootstrap matches every action of PREVIEW_READS against
# these and the preview role's own statements.
READ_ONLY_ACCESS_ACTIONS = (
    "acm:Describe*",
    "acm:List*",
    "aps:Describe*",
    "aps:List*",
    "cloudwatch:Describe*",
    "cloudwatch:List*",
    "ec2:Describe*",
    "ecr:Describe*",
    "eks:Describe*",
    "eks:List*",
    "elasticfilesystem:Describe*",
    "iam:Get*",
    "iam:List*",
    "kms:Describe*",
    "kms:Get*",
    "kms:List*",
    "logs:Describe*",
    "logs:List*",
    "rds:Describe*",
    "route53:List*",
    "s3:Get*",
    "s3:List*",
    "scheduler:Get*",
    "scheduler:List*",
    "secretsmanager:Describe*",
    "secretsmanager:GetResourcePolicy",
    "sns:Get*",
    "sns:List*",
)


@dataclass(frozen=True)
class AwsCiArgs:
    cloud: CloudSettings
    github: GitHubSettings


def github_oidc_provider(
    name: str, cloud: CloudSettings, provider: aws.Provider, parent: pulumi.Resource
) -> pulumi.Output[str]:
    """The ARN of the account's GitHub OIDC provider: the configured one, or one created here.

    IAM holds one provider per URL per account, and GitHub's often exists already
    (another team, an earlier bootstrap): creating a second fails with
    EntityAlreadyExists, so `aws.githubOidcProviderArn` names it instead. It is
    read at preview time, so a wrong ARN or a provider without the STS audience
    fails before anything is created. One created here is left in the account when
    the stack lets go of it (destroy, or the key set later): other roles may trust it.
    """
    if cloud.github_oidc_provider_arn is not None:
        existing = aws.iam.get_open_id_connect_provider(
            arn=cloud.github_oidc_provider_arn, opts=pulumi.InvokeOptions(provider=provider)
        )
        if AUDIENCE not in existing.client_id_lists:
            raise ConfigError(
                [
                    ConfigProblem(
                        f"{PROJECT}:aws.{GITHUB_OIDC_PROVIDER_KEY}",
                        cloud.github_oidc_provider_arn,
                        f"a provider whose audiences include {AUDIENCE} (it has {existing.client_id_lists}): "
                        f"aws iam add-client-id-to-open-id-connect-provider --open-id-connect-provider-arn "
                        f"{cloud.github_oidc_provider_arn} --client-id {AUDIENCE}",
                    )
                ]
            )
        return pulumi.Output.from_input(cloud.github_oidc_provider_arn)
    # AWS validates GitHub's certificate against its own trusted CAs: no thumbprint.
    created = aws.iam.OpenIdConnectProvider(
        name,
        url=GITHUB_OIDC_ISSUER,
        client_id_lists=[AUDIENCE],
        opts=pulumi.ResourceOptions(parent=parent, provider=provider, retain_on_delete=True),
    )
    return created.arn


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
    oidc_provider_arn: pulumi.Output[str]
    preview_role: aws.iam.Role
    deploy_role: aws.iam.Role

    def __init__(self, name: str, args: AwsCiArgs, opts: pulumi.ResourceOptions | None = None) -> None:
        super().__init__("airflow-platform:bootstrap:AwsCi", name, None, opts)
        aws_provider = aws.Provider(
            f"{name}-provider", region=args.cloud.region, opts=pulumi.ResourceOptions(parent=self)
        )
        local = pulumi.ResourceOptions(parent=self, provider=aws_provider)
        # Read during `pulumi preview`: a configured provider that will not do stops it.
        self.oidc_provider_arn = github_oidc_provider(f"{name}-github", args.cloud, aws_provider, self)
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

        self.preview_role = aws.iam.Role(
            f"{name}-preview",
            description="GitHub Actions: pull request previews and nightly drift checks. Reads only.",
            assume_role_policy=self.oidc_provider_arn.apply(
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
            assume_role_policy=self.oidc_provider_arn.apply(
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
