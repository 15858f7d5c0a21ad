"""What `make destroy` (scripts/pulumi.sh) reads from the stack's state: `pulumi stack export` on stdin.

    targets  URNs of step 1: the Airflow release, every LoadBalancer Service the
             stack made, every Gateway (with --target-dependents: its route and policies)
    negs     `<project> <network>` of a GKE stack: where the NEG controller's
             network endpoint groups must be gone before the cluster and VPC go
    ecr      `<region> <prefix>` of each ECR pull-through cache rule: the
             repositories ECR created on first pull, which Pulumi never owned

Read resources (`Service.get`: "external") are never deleted, only forgotten.
Chosen by type and inputs, not by name, so what is added later is covered.
"""

from __future__ import annotations

import json
import sys
from collections.abc import Iterator
from typing import Any

RELEASE = "kubernetes:helm.sh/v3:Release"
SERVICE = "kubernetes:core/v1:Service"
GATEWAY = "kubernetes:gateway.networking.k8s.io/v1:Gateway"
GCP_NETWORK = "gcp:compute/network:Network"
GCP_PROVIDER = "pulumi:providers:gcp"
AWS_PROVIDER = "pulumi:providers:aws"
ECR_RULE = "aws:ecr/pullThroughCacheRule:PullThroughCacheRule"


def _first_step(resource: dict[str, Any]) -> bool:
    inputs = resource.get("inputs") or {}
    if resource.get("external"):
        return False
    if resource["type"] == RELEASE:
        return inputs.get("chart") == "airflow"
    if resource["type"] == SERVICE:
        return (inputs.get("spec") or {}).get("type") == "LoadBalancer"
    return resource["type"] == GATEWAY


def _provider_input(resources: list[dict[str, Any]], resource: dict[str, Any], key: str) -> str | None:
    """`key` of the provider a resource was created with (`<urn>::<id>` in its state)."""
    urn = (resource.get("provider") or "").rsplit("::", 1)[0]
    for candidate in resources:
        if candidate["urn"] == urn:
            return (candidate.get("inputs") or {}).get(key)
    return None


def lines(what: str, resources: list[dict[str, Any]]) -> Iterator[str]:
    for resource in resources:
        outputs = resource.get("outputs") or {}
        if what == "targets" and _first_step(resource):
            yield resource["urn"]
        elif what == "negs" and resource["type"] == GCP_NETWORK:
            project = outputs.get("project") or _provider_input(resources, resource, "project")
            yield f"{project} {outputs['name']}"
        elif what == "ecr" and resource["type"] == ECR_RULE:
            region = outputs.get("region") or _provider_input(resources, resource, "region")
            yield f"{region} {outputs['ecrRepositoryPrefix']}"


def main(argv: list[str]) -> int:
    [what] = argv
    resources = json.load(sys.stdin)["deployment"].get("resources") or []
    print("\n".join(lines(what, resources)))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
