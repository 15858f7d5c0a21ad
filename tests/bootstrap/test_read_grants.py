"""The preview identities can read everything the main stack registers, so `preview --refresh` never gets 403.

The main program runs for the shapes tests/bootstrap/test_deploy_grants.py uses
(together they register every kind of resource); each type must have its read
permissions in the bootstrap's table (bootstrap/gcp.py and bootstrap/aws.py
PREVIEW_READS), and the preview identity the bootstrap program creates must
hold every permission the table names: through a predefined role whose
permissions were checked in iann0036/iam-dataset (PREVIEW_ROLE_READS,
READ_ONLY_ACCESS_ACTIONS), or the role's own grants.
"""

from __future__ import annotations

from fnmatch import fnmatchcase
from functools import cache

import stack_checks as checks
from test_bootstrap import account_member, fixture_run, members, role_policies
from test_deploy_grants import shape_runs

from bootstrap import aws as aws_ci
from bootstrap import gcp as gcp_ci
from review.runner import Run

# State-only providers: their Read calls no cloud API.
LOCAL_PROVIDERS = ("random:", "tls:")
# Read through the cluster's DNS endpoint on GKE (container.* permissions);
# on EKS through the preview role's access entry (aws.readOnlyRoleArns, tests/aws).
KUBERNETES = "kubernetes:"


# The shipped stacks' shapes (tests/stack_checks.py), besides the shapes that add every kind.
SHIPPED = {"gcp": "dev", "aws": "prod"}


@cache
def shipped_run(cloud: str) -> Run:
    return checks.shape_run(SHIPPED[cloud])


def registered_types(cloud: str) -> set[str]:
    """Every type a preview refreshes: created and read resources alike, except state-only ones."""
    types = {r.type for run in (*shape_runs(cloud), shipped_run(cloud)) for r in run.resources}
    refreshed = (f"{cloud}:", KUBERNETES) if cloud == "gcp" else (f"{cloud}:",)
    return {t for t in types if t.startswith(refreshed)}


def test_every_registered_type_has_its_read_permissions() -> None:
    for cloud, table in (("gcp", gcp_ci.PREVIEW_READS), ("aws", aws_ci.PREVIEW_READS)):
        missing = sorted(registered_types(cloud) - set(table))
        assert not missing, f"add what refreshing {missing} calls to bootstrap/{cloud}.py PREVIEW_READS"
        stale = sorted(set(table) - registered_types(cloud))
        assert not stale, f"no shape registers {stale}: remove them from bootstrap/{cloud}.py PREVIEW_READS"


def gcp_preview_permissions() -> set[str]:
    """What the GCP preview account holds on the project: its predefined roles' checked reads and its custom role."""
    run = fixture_run()
    custom = {
        r.outputs["name"]: set(r.inputs["permissions"]) for r in run.of_type("gcp:projects/iAMCustomRole:IAMCustomRole")
    }
    held: set[str] = set()
    for binding in members(run, "gcp:projects/iAMMember:IAMMember", account_member(run, "preview")):
        role = binding.inputs["role"]
        held |= custom.get(role, set()) | gcp_ci.PREVIEW_ROLE_READS.get(role, frozenset())
    return held


def test_gcp_preview_holds_every_read_the_table_names() -> None:
    held = gcp_preview_permissions()
    missing = {t: sorted(set(reads) - held) for t, reads in sorted(gcp_ci.PREVIEW_READS.items()) if set(reads) - held}
    assert not missing, f"gcp-ci-preview cannot refresh {missing}"


def test_gcp_preview_refreshes_the_private_services_connection() -> None:
    """The 403 every GCP preview and drift run hit: roles/compute.viewer lacks servicenetworking.services.get."""
    assert "servicenetworking.services.get" not in gcp_ci.PREVIEW_ROLE_READS["roles/compute.viewer"]
    assert gcp_ci.PREVIEW_READS["gcp:servicenetworking/connection:Connection"] == ("servicenetworking.services.get",)
    assert "servicenetworking.services.get" in gcp_preview_permissions()


def test_both_gcp_ci_identities_may_use_the_dns_control_plane_endpoint() -> None:
    """GKE's DNS-based endpoint admits only principals with container.clusters.connect."""
    assert gcp_ci.DNS_ENDPOINT_CONNECT == "container.clusters.connect"
    assert gcp_ci.DNS_ENDPOINT_CONNECT in gcp_preview_permissions()
    run = fixture_run()
    deploy_roles = {
        b.inputs["role"] for b in members(run, "gcp:projects/iAMMember:IAMMember", account_member(run, "deploy"))
    }
    held = {p for role in deploy_roles for p in gcp_ci.DEPLOY_ROLE_READS.get(role, frozenset())}
    assert gcp_ci.DNS_ENDPOINT_CONNECT in held, f"gcp-ci-deploy ({sorted(deploy_roles)}) cannot connect"


def test_gcp_preview_custom_role_holds_only_what_no_viewer_role_grants() -> None:
    """Derived, not remembered: the custom role is the table minus the predefined roles' reads."""
    [role] = fixture_run().of_type("gcp:projects/iAMCustomRole:IAMCustomRole")
    granted_by_roles = set().union(*gcp_ci.PREVIEW_ROLE_READS.values())
    assert set(role.inputs["permissions"]) == set().union(*gcp_ci.PREVIEW_READS.values()) - granted_by_roles
    assert {"container.secrets.get", "container.secrets.list"} <= set(role.inputs["permissions"])


def test_aws_preview_holds_every_read_the_table_names() -> None:
    attached, statements = role_policies(fixture_run(), "aws-ci-preview")
    assert attached == [aws_ci.READ_ONLY_POLICY]
    own = [action for statement in statements for action in statement["Action"]]
    # IAM matches actions case-insensitively, `*` as any characters.
    patterns = [pattern.lower() for pattern in (*aws_ci.READ_ONLY_ACCESS_ACTIONS, *own)]
    missing = {
        t: [a for a in actions if not any(fnmatchcase(a.lower(), p) for p in patterns)]
        for t, actions in sorted(aws_ci.PREVIEW_READS.items())
    }
    missing = {t: actions for t, actions in missing.items() if actions}
    assert not missing, f"aws-ci-preview cannot refresh {missing}"
