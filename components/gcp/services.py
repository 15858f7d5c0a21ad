"""The Google APIs the stack calls, enabled in the project before anything uses them."""

from __future__ import annotations

from dataclasses import dataclass

import pulumi
import pulumi_gcp as gcp

# Always needed. cloudresourcemanager serves project IAM bindings and the
# project-number lookup; logging/monitoring receive what GKE nodes ship.
BASE_APIS = (
    "compute",
    "container",
    "sqladmin",
    "servicenetworking",
    "iam",
    "storage",
    "cloudresourcemanager",
    "logging",
    "monitoring",
    # The Docker Hub cache (components/gcp/registry.py) and image streaming
    # (the worker pool's gcfs_config) that reads from it.
    "artifactregistry",
    "containerfilesystem",
)
FILESTORE_API = "file"
KMS_API = "cloudkms"


@dataclass(frozen=True)
class ProjectServicesArgs:
    project: str
    filestore: bool
    kms: bool


class ProjectServices(pulumi.ComponentResource):
    """One `gcp.projects.Service` per API, by short name (`services["container"]`)."""

    services: dict[str, gcp.projects.Service]

    def __init__(self, name: str, args: ProjectServicesArgs, opts: pulumi.ResourceOptions | None = None) -> None:
        super().__init__("airflow-platform:gcp:ProjectServices", name, None, opts)
        apis = [*BASE_APIS, *([FILESTORE_API] if args.filestore else []), *([KMS_API] if args.kms else [])]
        self.services = {
            api: gcp.projects.Service(
                f"{name}-{api}",
                project=args.project,
                service=f"{api}.googleapis.com",
                # Other stacks or people may use the same API in this project:
                # destroying this stack must not switch it off under them.
                disable_on_destroy=False,
                opts=pulumi.ResourceOptions(parent=self),
            )
            for api in apis
        }
        self.register_outputs({"services": {api: service.service for api, service in self.services.items()}})
