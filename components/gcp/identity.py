"""The node service account: what GKE nodes themselves may do, and nothing more."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import pulumi
import pulumi_gcp as gcp

from components.gcp.names import service_account_id

# GKE's documented minimum for a node service account. The default compute
# account has Editor on the whole project, which every pod on the node could
# borrow. Image pulls: reader on the stack's Docker Hub cache only
# (components/gcp/registry.py), not on every repository of the project; a
# custom airflow.imageRepository in another repository needs its own grant
# (README, "Cost and speed").
NODE_ROLES = (
    "roles/logging.logWriter",
    "roles/monitoring.metricWriter",
    "roles/monitoring.viewer",
    "roles/stackdriver.resourceMetadata.writer",
)


@dataclass(frozen=True)
class NodeIdentityArgs:
    project: str
    stack: str
    # The iam and cloudresourcemanager APIs.
    apis: Sequence[pulumi.Resource]


class NodeIdentity(pulumi.ComponentResource):
    account: gcp.serviceaccount.Account
    role_bindings: list[gcp.projects.IAMMember]

    def __init__(self, name: str, args: NodeIdentityArgs, opts: pulumi.ResourceOptions | None = None) -> None:
        super().__init__("airflow-platform:gcp:NodeIdentity", name, None, opts)
        self.account = gcp.serviceaccount.Account(
            f"{name}-account",
            account_id=service_account_id(args.stack, "nodes"),
            display_name="Airflow platform GKE nodes",
            description="Least-privilege identity of GKE nodes (logs, metrics, image pulls).",
            opts=pulumi.ResourceOptions(parent=self, depends_on=list(args.apis)),
        )
        self.role_bindings = [
            gcp.projects.IAMMember(
                f"{name}-{role.removeprefix('roles/').replace('.', '-').lower()}",
                project=args.project,
                role=role,
                member=self.account.email.apply(lambda email: f"serviceAccount:{email}"),
                opts=pulumi.ResourceOptions(parent=self, depends_on=list(args.apis)),
            )
            for role in NODE_ROLES
        ]
        self.register_outputs({"email": self.account.email})
