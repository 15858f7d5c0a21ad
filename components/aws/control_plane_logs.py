"""The EKS control-plane log group, owned by the stack: retention from config, kept in production.

EKS writes the api, audit and authenticator logs (cluster.CONTROL_PLANE_LOG_TYPES)
to `/aws/eks/<cluster>/cluster` and creates that group itself, with no
retention (kept forever, billed per GB stored) and outside the stack (it
outlives `pulumi destroy`), unless it already exists ("Send control plane logs
to CloudWatch Logs", EKS user guide). So the stack creates it first, and the
cluster depends on it.

A group that already exists is one of two kinds, told apart by the `stack` tag
every resource of the stack carries (the AWS provider's default tags):
- the stack's own, kept by a production destroy (`skip_destroy`) and found
  again by a stack re-created under the same name: adopted with `import`, whose
  inputs match it. Once the group is in the state the engine ignores the import
  id (it equals the state's: pulumi pkg/resource/deploy/step_generator.go,
  `isImport`), so a managed group is never imported twice;
- EKS's, on a cluster created before the stack managed the group. An `import`
  in the program would fail on the differing retention ("inputs to import do
  not match the existing resource", ImportStep.Apply), so the program warns and
  names the one-time `pulumi import` (an import deployment copies the live
  settings); the next `pulumi up` then sets the retention and the tags.
The lookups tolerate absence (a list, empty when there is none), in preview too.
"""

from __future__ import annotations

import pulumi
import pulumi_aws as aws

# The tag key the AWS provider puts on every resource of a stack (components/aws/platform.py).
STACK_TAG = "stack"
LOG_GROUP_TYPE = "aws:cloudwatch/logGroup:LogGroup"


def log_group_name(cluster_name: str) -> str:
    """The group EKS writes to; fixed by EKS, unique per stack through the cluster name."""
    return f"/aws/eks/{cluster_name}/cluster"


def control_plane_log_group(
    resource_name: str, *, cluster_name: str, retention_days: int, production: bool, parent: pulumi.Resource
) -> aws.cloudwatch.LogGroup:
    """The cluster's log group: created, or adopted when a production destroy kept it.

    Production keeps it on destroy (`skip_destroy`): the audit trail of who did
    what in the cluster is what an investigation after a teardown needs, and it
    still expires after `retention_days`. Dev stacks delete it with the cluster.
    """
    name = log_group_name(cluster_name)
    invoke = pulumi.InvokeOptions(parent=parent)
    adopt = False
    if name in (aws.cloudwatch.get_log_groups(log_group_name_prefix=name, opts=invoke).log_group_names or []):
        tags = aws.cloudwatch.get_log_group(name=name, opts=invoke).tags or {}
        adopt = tags.get(STACK_TAG) == pulumi.get_stack()
        if not adopt:
            pulumi.log.warn(
                f"{name} exists but is not this stack's: EKS created it before the stack managed it, so "
                f"`pulumi up` cannot create it. Import it once (URNs from `pulumi stack --show-urns`: the "
                f"airflow-platform:aws:Cluster component and the aws provider), then run `pulumi up`, which "
                f"sets its retention: pulumi import {LOG_GROUP_TYPE} {resource_name} {name} "
                f"--parent cluster=<Cluster URN> --provider aws=<aws provider URN>",
                resource=parent,
            )
    return aws.cloudwatch.LogGroup(
        resource_name,
        name=name,
        retention_in_days=retention_days,
        skip_destroy=production,
        opts=pulumi.ResourceOptions(parent=parent, import_=name if adopt else None),
    )
