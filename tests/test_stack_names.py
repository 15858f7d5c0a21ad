"""Two stacks of one GCP project (or AWS account) and region: no physical name in common.

Issue 18 item 2. Names a stack fixes itself are the ones that collide (a
second stack got 409 on the Artifact Registry repository `docker-hub`).
Autonamed resources carry no name among their inputs: Pulumi adds a random
suffix to the logical name when it creates them, so they are unique per stack
by construction (the mocks' fixed suffixes would only make them look alike).
The tests' own configs; each stack has its own domain, as two stacks must.
"""

from __future__ import annotations

from collections import Counter
from typing import Any

import pytest
from aws.test_https import WITH_ZONE as AWS_WITH_ZONE
from gcp.test_stack import PRODUCTION_CONFIG as GCP_PRODUCTION

from review.runner import Run, run_main

# Inputs that name the resource they are set on (references to other resources,
# such as clusterName or bucket on a policy, name something else).
NAME_INPUTS = (
    "name",
    "identifier",
    "finalSnapshotIdentifier",
    "repositoryId",
    "accountId",
    "ecrRepositoryPrefix",
    "prefix",
    "nodeGroupName",
    "tagName",
)
# Unique only inside a resource that is itself the stack's own (a database and
# its user inside the stack's Cloud SQL instance).
SCOPED_INSIDE_THE_STACK = {"gcp:sql/database:Database", "gcp:sql/user:User"}
STACKS = ("dev", "staging")

# The production shapes the cloud tests use, with the Docker Hub cache on AWS.
GCP: dict[str, Any] = {**GCP_PRODUCTION, "ui": {}}
AWS: dict[str, Any] = {
    **AWS_WITH_ZONE,
    "aws": {**AWS_WITH_ZONE["aws"], "dockerHubUsername": "acmebot"},
    "dockerHubToken": "dckr_pat_not-a-real-token",
}


def fixed_names(run: Run) -> Counter[tuple[str, str]]:
    """(type, name) of every name the program sets on a GCP or AWS resource itself."""
    names: Counter[tuple[str, str]] = Counter()
    for resource in run.resources:
        if not resource.type.startswith(("gcp:", "aws:")) or resource.type in SCOPED_INSIDE_THE_STACK:
            continue
        for key in NAME_INPUTS:
            value = resource.inputs.get(key)
            if isinstance(value, str):
                names[(resource.type, value)] += 1
    return names


def run_stack(config: dict[str, Any], stack: str) -> Run:
    secret_keys = ("dockerHubToken",) if "dockerHubToken" in config else ()
    ui = {**config["ui"], "domain": f"airflow-{stack}.acme.example"}
    return run_main({**config, "ui": ui}, stack=stack, secret_keys=secret_keys)


@pytest.mark.parametrize("config", [GCP, AWS], ids=["gcp", "aws"])
def test_two_stacks_of_one_project_and_region_share_no_physical_name(config: dict[str, Any]) -> None:
    first, second = (fixed_names(run_stack(config, stack)) for stack in STACKS)
    # Not vacuous: each cloud fixes several names itself (registry, accounts, cluster, database...).
    assert len(first) >= 3, first
    shared = sorted(set(first) & set(second))
    assert not shared, f"both stacks of one project/account and region would create {shared}"
