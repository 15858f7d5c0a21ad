"""A Docker Hub pull-through cache the stack owns: an Artifact Registry remote repository.

Why: every task pod on a node the autoscaler just created pulls the ~1 GB
`apache/airflow` image. Pulled anonymously from Docker Hub through the NAT
address, that is slow and rate-limited per source IP (a busy morning of
new nodes can stall task starts on "toomanyrequests"). A remote repository
fetches each layer from Docker Hub once and serves it to the nodes over
Private Google Access, in region, with no Docker Hub limit after the first
pull; GKE authenticates to it with the node service account, which gets
`roles/artifactregistry.reader` on this repository only. Sources:
https://cloud.google.com/artifact-registry/docs/repositories/remote-repo
(`mode: REMOTE_REPOSITORY`, `docker_repository.public_repository: DOCKER_HUB`)
and the provider's `gcp.artifactregistry.Repository` (pinned pulumi_gcp).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import pulumi
import pulumi_gcp as gcp

from components.names import stack_scoped_name

# Repository ids are unique per project and location: each stack has its own
# (`docker-hub-dev`), so a second stack in the project and region does not get
# 409. A stack first deployed with the fixed `docker-hub` gets the new id on its
# next `up`: the id forces a new repository (the provider's `repository_id` is
# ForceNew), created before the old one is deleted; only cached layers go, and
# the nodes fetch them again through the new one.
REPOSITORY_ID_BASE = "docker-hub"
# Artifact Registry: a repository id is at most 63 characters.
MAX_REPOSITORY_ID_LENGTH = 63
READER_ROLE = "roles/artifactregistry.reader"
# Cached image versions are deleted this long after they were cached, so the
# cache (billed per GiB stored) does not keep every tag ever pulled; an image
# still in use is fetched from Docker Hub once more on its next pull.
CACHE_RETENTION = f"{30 * 24 * 3600}s"


@dataclass(frozen=True)
class DockerHubCacheArgs:
    project: str
    region: str
    stack: str
    # The GKE nodes' service account: the kubelet pulls as this identity.
    node_service_account: pulumi.Input[str]
    # The Artifact Registry API.
    apis: Sequence[pulumi.Resource]


class DockerHubCache(pulumi.ComponentResource):
    repository: gcp.artifactregistry.Repository
    reader: gcp.artifactregistry.RepositoryIamMember
    # Prefix that replaces Docker Hub's: `<prefix>/apache/airflow`.
    mirror: pulumi.Output[str]

    def __init__(self, name: str, args: DockerHubCacheArgs, opts: pulumi.ResourceOptions | None = None) -> None:
        super().__init__("airflow-platform:gcp:DockerHubCache", name, None, opts)
        self.repository = gcp.artifactregistry.Repository(
            f"{name}-repository",
            repository_id=stack_scoped_name(REPOSITORY_ID_BASE, args.stack, MAX_REPOSITORY_ID_LENGTH),
            location=args.region,
            format="DOCKER",
            mode="REMOTE_REPOSITORY",
            description="Docker Hub pull-through cache for the stack's nodes",
            remote_repository_config=gcp.artifactregistry.RepositoryRemoteRepositoryConfigArgs(
                description="Docker Hub",
                docker_repository=gcp.artifactregistry.RepositoryRemoteRepositoryConfigDockerRepositoryArgs(
                    public_repository="DOCKER_HUB"
                ),
            ),
            cleanup_policy_dry_run=False,
            cleanup_policies=[
                gcp.artifactregistry.RepositoryCleanupPolicyArgs(
                    id="delete-unused",
                    action="DELETE",
                    condition=gcp.artifactregistry.RepositoryCleanupPolicyConditionArgs(older_than=CACHE_RETENTION),
                )
            ],
            opts=pulumi.ResourceOptions(parent=self, depends_on=list(args.apis)),
        )
        self.reader = gcp.artifactregistry.RepositoryIamMember(
            f"{name}-node-reader",
            project=args.project,
            location=args.region,
            repository=self.repository.repository_id,
            role=READER_ROLE,
            member=pulumi.Output.concat("serviceAccount:", args.node_service_account),
            opts=pulumi.ResourceOptions(parent=self),
        )
        self.mirror = pulumi.Output.concat(
            args.region, "-docker.pkg.dev/", args.project, "/", self.repository.repository_id
        )
        self.register_outputs({"mirror": self.mirror})
