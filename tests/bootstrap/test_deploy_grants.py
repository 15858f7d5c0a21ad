"""The deploy identities can create everything the main stack creates.

The main program runs under the mock runner for shapes of stack that between
them register every kind of cloud resource (the tests' own configs, imported
from the cloud suites); each `aws:`/`gcp:` resource type must be explained by
the bootstrap's mapping (bootstrap/aws.py RESOURCE_SERVICES, bootstrap/gcp.py
DEPLOY_GRANTS), and what the mapping asks for must be what the bootstrap
program actually grants. A new resource type fails here, named, until its
grant is added.
"""

from __future__ import annotations

from fnmatch import fnmatchcase
from functools import cache
from typing import Any

from aws.test_https import WITH_ZONE as AWS_WITH_ZONE
from aws.test_registry import STACK as AWS_REGISTRY_STACK
from aws.test_registry import with_credentials
from aws.test_settings import PREVIEW_ROLE
from gcp.test_https import BASE as GCP_BASE
from gcp.test_https import WITH_ZONE as GCP_WITH_ZONE
from test_bootstrap import account_member, fixture_run, members, role_policies

from bootstrap.aws import RESOURCE_SERVICES
from bootstrap.gcp import DEPLOY_GRANTS
from review.runner import Run, run_main

# Each shape adds kinds the others lack: ACM/Route 53 (zone), ECR/Secrets Manager
# (Docker Hub credentials), EKS access entries (aws.readOnlyRoleArns); Cloud DNS,
# the managed certificate and Cloud Armor (zone), the Filestore firewall
# (sharedStorage), the regional UI address (uiAccess: loadBalancer).
AWS_CREDENTIALS = with_credentials()
AWS_SHAPES: dict[str, dict[str, Any]] = {
    AWS_REGISTRY_STACK: {
        **AWS_CREDENTIALS,
        **{key: value for key, value in AWS_WITH_ZONE.items() if key != "aws"},
        "aws": {**AWS_CREDENTIALS["aws"], "readOnlyRoleArns": [PREVIEW_ROLE]},
        # The SNS topic, AMP rules and CloudWatch alarms (components/aws/monitoring.py).
        "alerts": {"email": ["ops@example.com"]},
    },
    # A sleeping non-production stack: the EventBridge schedules and RDS InstanceDesiredState
    # (components/aws/sleep.py; awake stacks register them too, disabled).
    "aws-asleep": {**AWS_WITH_ZONE, "production": False, "sleep": True},
}
GCP_SHAPES: dict[str, dict[str, Any]] = {
    "gcp-https-zone": {**GCP_WITH_ZONE, "gcp": {**GCP_WITH_ZONE["gcp"], "sharedStorage": "filestore"}},
    # alerts.email: the notification channel (components/gcp/monitoring.py).
    "gcp-plain": {
        **GCP_BASE,
        "gcp": {**GCP_BASE["gcp"], "uiAccess": "loadBalancer"},
        "alerts": {"email": ["ops@example.com"]},
    },
}


@cache
def shape_runs(cloud: str) -> tuple[Run, ...]:
    shapes = AWS_SHAPES if cloud == "aws" else GCP_SHAPES
    return tuple(
        run_main(config, stack=stack, secret_keys=("dockerHubToken",) if "dockerHubToken" in config else ())
        for stack, config in shapes.items()
    )


def created_types(cloud: str) -> set[str]:
    """The `<cloud>:` resource types the main stack creates (reads of existing objects need no write grant)."""
    return {r.type for run in shape_runs(cloud) for r in run.resources if not r.read and r.type.startswith(f"{cloud}:")}


def module(type_token: str) -> str:
    """`aws:route53/record:Record` -> `route53`."""
    return type_token.split(":")[1].split("/")[0]


def test_every_aws_resource_type_has_an_iam_service() -> None:
    unmapped = sorted(t for t in created_types("aws") if module(t) not in RESOURCE_SERVICES)
    assert not unmapped, f"add the IAM service of {unmapped} to bootstrap/aws.py RESOURCE_SERVICES"


def test_aws_deploy_role_may_call_the_service_of_every_created_type() -> None:
    _, statements = role_policies(fixture_run(), "aws-ci-deploy")
    granted = {action for statement in statements for action in statement["Action"]}
    missing = {
        t: f"{RESOURCE_SERVICES[module(t)]}:*"
        for t in sorted(created_types("aws"))
        if module(t) in RESOURCE_SERVICES and f"{RESOURCE_SERVICES[module(t)]}:*" not in granted
    }
    assert not missing, f"aws-ci-deploy lacks {missing}"


def test_every_gcp_resource_type_has_deploy_roles() -> None:
    unmapped = sorted(created_types("gcp") - set(DEPLOY_GRANTS))
    assert not unmapped, f"add the roles that create {unmapped} to bootstrap/gcp.py DEPLOY_GRANTS"


def test_gcp_deploy_account_holds_the_roles_of_every_created_type() -> None:
    run = fixture_run()
    granted = {
        b.inputs["role"] for b in members(run, "gcp:projects/iAMMember:IAMMember", account_member(run, "deploy"))
    }
    missing = {
        t: sorted(set(DEPLOY_GRANTS[t]) - granted)
        for t in sorted(created_types("gcp") & set(DEPLOY_GRANTS))
        if not set(DEPLOY_GRANTS[t]) <= granted
    }
    assert not missing, f"gcp-ci-deploy lacks {missing}"


def test_mappings_name_only_types_the_stack_creates() -> None:
    """A grant whose resource type left the stack (or that no shape above creates) is stale or untested."""
    aws_stale = set(RESOURCE_SERVICES) - {module(t) for t in created_types("aws")}
    assert not aws_stale, f"no shape creates a resource of {sorted(aws_stale)}: remove it or add the shape"
    gcp_stale = set(DEPLOY_GRANTS) - created_types("gcp")
    assert not gcp_stale, f"no shape creates {sorted(gcp_stale)}: remove it or add the shape"


def test_aws_preview_reads_only_the_docker_hub_cache_secrets() -> None:
    """Refreshing the token's SecretVersion reads its value; no other secret of the account is readable."""
    _, statements = role_policies(fixture_run(), "aws-ci-preview")
    secret_reads = [s for s in statements if any(a.startswith("secretsmanager:") for a in s["Action"])]
    assert len(secret_reads) == 1, "aws-ci-preview needs one statement reading the Docker Hub cache secrets"
    [secret_read] = secret_reads
    assert secret_read["Action"] == ["secretsmanager:GetSecretValue"]
    [pattern] = secret_read["Resource"]
    registry_run = shape_runs("aws")[0]  # AWS_REGISTRY_STACK, the one with the Docker Hub login
    cache_secret = registry_run.one("aws:secretsmanager/secret:Secret").outputs["arn"]
    # IAM's `*` matches any characters, `:` included, as fnmatch's does.
    assert fnmatchcase(cache_secret, pattern), (pattern, cache_secret)
    other_secret = cache_secret.replace("ecr-pullthroughcache/", "prod/")
    assert not fnmatchcase(other_secret, pattern), pattern
