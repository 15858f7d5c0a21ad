"""A Docker Hub pull-through cache the stack owns: an ECR pull-through cache rule.

Why: every task pod on a node the autoscaler just created pulls the ~1 GB
`apache/airflow` image. Pulled anonymously from Docker Hub through the NAT
gateways, that is slow and rate-limited per source IP (a busy morning of new
nodes can stall task starts on "toomanyrequests"). With the rule, the first
pull of `<account>.dkr.ecr.<region>.amazonaws.com/docker-hub/<name>` makes
ECR fetch the image from Docker Hub with the stack's Docker Hub account and
keep it in a private repository; every later pull is served in region by
ECR. Apache does not publish apache/airflow on ECR Public, so the upstream is
Docker Hub, which ECR only accepts with credentials: a Secrets Manager secret
named `ecr-pullthroughcache/...` holding `{"username", "accessToken"}`
(https://docs.aws.amazon.com/AmazonECR/latest/userguide/pull-through-cache-creating-rule.html,
upstream URL `registry-1.docker.io` per CreatePullThroughCacheRule).

The nodes already read every ECR repository (AmazonEC2ContainerRegistryReadOnly);
a first pull through a rule also needs `ecr:BatchImportUpstreamImage` and, while
the cached repository does not exist yet, `ecr:CreateRepository`
(https://docs.aws.amazon.com/AmazonECR/latest/userguide/pull-through-cache-iam.html).
The node role gets those two on the rule's prefix only.
"""

from __future__ import annotations

import json
from dataclasses import dataclass

import pulumi
import pulumi_aws as aws

from components.names import stack_scoped_name

# Repositories the rule creates are named `<prefix>/<docker hub name>`. A
# prefix is unique per account and region, so each stack gets its own
# (`docker-hub-dev`): two stacks in one region would otherwise fight over it.
REPOSITORY_PREFIX = "docker-hub"
# CreatePullThroughCacheRule: ecrRepositoryPrefix is 2 to 30 characters.
MAX_PREFIX_LENGTH = 30
UPSTREAM_REGISTRY = "registry-1.docker.io"
# ECR refuses a credential secret whose name does not start with this.
SECRET_NAME_PREFIX = "ecr-pullthroughcache/"
IMPORT_ACTIONS = ("ecr:BatchImportUpstreamImage", "ecr:CreateRepository")
# Cached images are expired this long after ECR cached them, so the cache
# (billed per GiB stored) does not keep every tag ever pulled; an image still
# in use is fetched from Docker Hub once more on its next pull (as on GCP).
CACHE_RETENTION_DAYS = 30


def repository_prefix(stack: str) -> str:
    """`docker-hub-<stack>` within ECR's prefix grammar and length."""
    return stack_scoped_name(REPOSITORY_PREFIX, stack, MAX_PREFIX_LENGTH)


@dataclass(frozen=True)
class DockerHubCacheArgs:
    region: str
    partition: str
    stack: str
    username: str
    token: pulumi.Output[str]
    # The EKS nodes' role: the kubelet pulls as this identity.
    node_role_name: pulumi.Input[str]


def registry_host(account: str, region: str, partition: str) -> str:
    """The account's private registry (`.com.cn` in the China partition)."""
    suffix = "amazonaws.com.cn" if partition == "aws-cn" else "amazonaws.com"
    return f"{account}.dkr.ecr.{region}.{suffix}"


def expiry_policy() -> str:
    """ECR lifecycle policy: expire every image `CACHE_RETENTION_DAYS` after it was cached (pushed)."""
    return json.dumps(
        {
            "rules": [
                {
                    "rulePriority": 1,
                    "description": f"expire cached images after {CACHE_RETENTION_DAYS} days",
                    "selection": {
                        "tagStatus": "any",
                        "countType": "sinceImagePushed",
                        "countUnit": "days",
                        "countNumber": CACHE_RETENTION_DAYS,
                    },
                    "action": {"type": "expire"},
                }
            ]
        }
    )


def import_policy(repositories_arn: str) -> str:
    return json.dumps(
        {
            "Version": "2012-10-17",
            "Statement": [{"Effect": "Allow", "Action": list(IMPORT_ACTIONS), "Resource": repositories_arn}],
        }
    )


class DockerHubCache(pulumi.ComponentResource):
    secret: aws.secretsmanager.Secret
    rule: aws.ecr.PullThroughCacheRule
    template: aws.ecr.RepositoryCreationTemplate
    node_import: aws.iam.RolePolicy
    # Prefix that replaces Docker Hub's: `<mirror>/apache/airflow`.
    mirror: pulumi.Output[str]

    def __init__(self, name: str, args: DockerHubCacheArgs, opts: pulumi.ResourceOptions | None = None) -> None:
        super().__init__("airflow-platform:aws:DockerHubCache", name, None, opts)
        local = pulumi.ResourceOptions(parent=self)
        prefix = repository_prefix(args.stack)
        self.secret = aws.secretsmanager.Secret(
            f"{name}-credentials",
            name=f"{SECRET_NAME_PREFIX}{prefix}",
            description="Docker Hub access token for the ECR pull-through cache",
            # Deleted at once on `pulumi destroy`, so a re-created stack can reuse the name.
            recovery_window_in_days=0,
            opts=local,
        )
        secret_version = aws.secretsmanager.SecretVersion(
            f"{name}-credentials-version",
            secret_id=self.secret.id,
            # Secret because the token Output is: the JSON is sent and stored encrypted.
            secret_string=args.token.apply(lambda token: json.dumps({"username": args.username, "accessToken": token})),
            opts=local,
        )
        self.rule = aws.ecr.PullThroughCacheRule(
            f"{name}-rule",
            ecr_repository_prefix=prefix,
            upstream_registry_url=UPSTREAM_REGISTRY,
            credential_arn=self.secret.arn,
            # ECR validates the credentials when the rule is created.
            opts=pulumi.ResourceOptions(parent=self, depends_on=[secret_version]),
        )
        # The repositories the rule creates on first pull take their settings
        # from a creation template with the same prefix; it must exist first.
        self.template = aws.ecr.RepositoryCreationTemplate(
            f"{name}-template",
            prefix=prefix,
            applied_fors=["PULL_THROUGH_CACHE"],
            description="Docker Hub cache: cached images expire",
            lifecycle_policy=expiry_policy(),
            opts=local,
        )
        account = aws.get_caller_identity_output(opts=pulumi.InvokeOutputOptions(parent=self)).account_id
        self.node_import = aws.iam.RolePolicy(
            f"{name}-node-import",
            role=args.node_role_name,
            policy=account.apply(
                lambda account_id: import_policy(
                    f"arn:{args.partition}:ecr:{args.region}:{account_id}:repository/{prefix}/*"
                )
            ),
            opts=local,
        )
        self.mirror = pulumi.Output.concat(
            account.apply(lambda account_id: registry_host(account_id, args.region, args.partition)),
            "/",
            self.rule.ecr_repository_prefix,
        )
        self.register_outputs({"mirror": self.mirror})
