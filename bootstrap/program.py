"""The bootstrap program: each configured cloud's CI access, then GitHub pointing the workflows at it."""

from __future__ import annotations

import pulumi

from bootstrap.aws import AwsCi, AwsCiArgs
from bootstrap.gcp import GcpCi, GcpCiArgs
from bootstrap.github import GitHubDelivery, GitHubDeliveryArgs
from bootstrap.settings import DEPLOY_ENVIRONMENTS, BootstrapSettings


def create_bootstrap(settings: BootstrapSettings, stack: str) -> None:
    # The names below are the `vars.*` the workflows in .github/workflows read.
    # Read by .github/workflows/sleep.yml: "true" turns the dev stack's night-and-weekend sleep on.
    variables: dict[str, pulumi.Input[str]] = {"SLEEP_SCHEDULE": str(settings.github.sleep_schedule).lower()}
    if settings.gcp is not None:
        gcp_ci = GcpCi("gcp-ci", GcpCiArgs(cloud=settings.gcp, github=settings.github, stack=stack))
        variables |= {
            "GCP_PULUMI_BACKEND_URL": gcp_ci.backend_url,
            "GCP_WORKLOAD_IDENTITY_PROVIDER": gcp_ci.provider.name,
            "GCP_PREVIEW_SERVICE_ACCOUNT": gcp_ci.preview_account.email,
            "GCP_DEPLOY_SERVICE_ACCOUNT": gcp_ci.deploy_account.email,
        }
        pulumi.export("gcpBackendUrl", gcp_ci.backend_url)
        pulumi.export("gcpSecretsProvider", gcp_ci.secrets_provider)
    if settings.aws is not None:
        aws_ci = AwsCi("aws-ci", AwsCiArgs(cloud=settings.aws, github=settings.github))
        variables |= {
            "AWS_PULUMI_BACKEND_URL": aws_ci.backend_url,
            "AWS_REGION": settings.aws.region,
            "AWS_PREVIEW_ROLE_ARN": aws_ci.preview_role.arn,
            "AWS_DEPLOY_ROLE_ARN": aws_ci.deploy_role.arn,
        }
        pulumi.export("awsBackendUrl", aws_ci.backend_url)
        pulumi.export("awsSecretsProvider", aws_ci.secrets_provider)
        # Goes into each EKS stack's aws.readOnlyRoleArns: its access entry lets the preview read in-cluster objects.
        pulumi.export("awsPreviewRoleArn", aws_ci.preview_role.arn)
        # Goes into each EKS stack's aws.deployRoleArns: a cluster-admin access entry for CI's `pulumi up`.
        pulumi.export("awsDeployRoleArn", aws_ci.deploy_role.arn)
    GitHubDelivery(
        "github",
        GitHubDeliveryArgs(settings=settings.github, environments=DEPLOY_ENVIRONMENTS, variables=variables),
    )
