"""The EKS control-plane log group, owned by the stack: retention from config, kept in production.

EKS writes the api, audit and authenticator logs (cluster.CONTROL_PLANE_LOG_TYPES)
to `/aws/eks/<cluster>/cluster` and creates that group itself, with no
retention (kept forever, billed per GB stored) and outside the stack (it
outlives `pulumi destroy`), unless it already exists ("Send control plane logs
to CloudWatch Logs", EKS user guide). So the stack creates it first, and the
cluster depends on it.

A stack whose cluster was created before this change already has the group
EKS made: the program looks it up (an invoke that returns an empty list when
it is absent, never an error, in preview too) and adopts it with `import`
instead of failing on ResourceAlreadyExistsException. Once the group is in the
state the engine ignores the import id (its id equals the one in the state:
pulumi pkg/resource/deploy/step_generator.go, `isImport`).
"""

from __future__ import annotations

import pulumi
import pulumi_aws as aws


def log_group_name(cluster_name: str) -> str:
    """The group EKS writes to; fixed by EKS, unique per stack through the cluster name."""
    return f"/aws/eks/{cluster_name}/cluster"


def control_plane_log_group(
    resource_name: str, *, cluster_name: str, retention_days: int, production: bool, parent: pulumi.Resource
) -> aws.cloudwatch.LogGroup:
    """The cluster's log group, adopted if EKS already made it.

    Production keeps it on destroy (`skip_destroy`): the audit trail of who did
    what in the cluster is what an investigation after a teardown needs, and it
    still expires after `retention_days`. A production stack re-created under
    the same name adopts it again. Dev stacks delete it with the cluster.
    """
    name = log_group_name(cluster_name)
    existing = aws.cloudwatch.get_log_groups(log_group_name_prefix=name, opts=pulumi.InvokeOptions(parent=parent))
    adopt = name in (existing.log_group_names or [])
    return aws.cloudwatch.LogGroup(
        resource_name,
        name=name,
        retention_in_days=retention_days,
        skip_destroy=production,
        opts=pulumi.ResourceOptions(parent=parent, import_=name if adopt else None),
    )
