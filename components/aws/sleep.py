"""`sleep: true` on EKS: the managed node groups at zero nodes and the RDS instance stopped.

Neither is an argument Pulumi can simply set and unset:

- RDS: `aws.rds.Instance` has no "stopped" argument; `aws.rds.InstanceDesiredState`
  (Terraform's `aws_rds_instance_state`, pulumi-aws 7.51.1) stops and starts an
  instance (`state: stopped | available`), so `sleep: false` starts it again in
  the same `pulumi up`. RDS starts a stopped instance by itself after 7 days
  ("Stopping an Amazon RDS DB instance temporarily", RDS User Guide); a
  schedule re-stops it (below).
- Node groups: the awake program ignores `scalingConfig.desiredSize` (the
  Cluster Autoscaler owns it, nodes.py). Sleeping by writing desiredSize 0 would
  leave 0 as the ignored old input, and waking would then send minSize 1 with
  desiredSize 0, which EKS refuses ("Minimum capacity 1 can't be greater than
  desired size 0", terraform-aws-eks#1568, #3306). So Pulumi only lowers minSize
  to 0 and a schedule sets desiredSize 0 through the EKS API; waking raises
  minSize again with the kept awake desiredSize, a valid update.

The schedules are EventBridge Scheduler universal targets (the AWS SDK call is
the target, no Lambda): every 15 minutes while asleep - the nodes go within a
quarter of an hour of `pulumi up`, and an RDS instance restarted after 7 days
is stopped again. Calls on something already stopped fail harmlessly (no retry).
They exist on every non-production AWS stack, DISABLED while it is awake, so
waking is an in-place update (never a delete, which Pulumi would run last, after
the Airflow release's wait for nodes the schedule could have taken away again).
Costs nothing within the Scheduler's 14 million free invocations a month.
"""

from __future__ import annotations

import functools
import json
from collections.abc import Mapping
from dataclasses import dataclass

import pulumi
import pulumi_aws as aws

SCHEDULER_PRINCIPAL = "scheduler.amazonaws.com"
# Every 15 minutes, on the quarter hour (EventBridge Scheduler cron: minutes hours day-of-month month
# day-of-week year).
ASLEEP_CADENCE = "cron(0/15 * * * ? *)"
ENABLED = "ENABLED"
DISABLED = "DISABLED"
# aws.rds.InstanceDesiredState's states.
DATABASE_AWAKE = "available"
DATABASE_ASLEEP = "stopped"
STOP_DATABASE_ACTION = "rds:StopDBInstance"
SCALE_NODES_ACTION = "eks:UpdateNodegroupConfig"


def sdk_target(partition: str, service: str, api_action: str) -> str:
    """The ARN of an EventBridge Scheduler universal target (`arn:aws:scheduler:::aws-sdk:<service>:<action>`)."""
    return f"arn:{partition}:scheduler:::aws-sdk:{service}:{api_action}"


@dataclass(frozen=True)
class SleepNodeGroup:
    name: pulumi.Input[str]
    arn: pulumi.Input[str]
    # The group's configured maxSize: EKS requires maxSize >= 1 in every update.
    max_size: int


@dataclass(frozen=True)
class SleepArgs:
    asleep: bool
    partition: str
    cluster_name: pulumi.Input[str]
    node_groups: Mapping[str, SleepNodeGroup]
    database_identifier: pulumi.Input[str]
    database_arn: pulumi.Input[str]


class Sleep(pulumi.ComponentResource):
    database_state: aws.rds.InstanceDesiredState
    schedules: dict[str, aws.scheduler.Schedule]
    role: aws.iam.Role

    def __init__(self, name: str, args: SleepArgs, opts: pulumi.ResourceOptions | None = None) -> None:
        super().__init__("airflow-platform:aws:Sleep", name, None, opts)
        local = pulumi.ResourceOptions(parent=self)
        account_id = aws.get_caller_identity(opts=pulumi.InvokeOptions(parent=self)).account_id
        self.role = aws.iam.Role(
            f"{name}-role",
            assume_role_policy=_scheduler_trust_policy(account_id),
            description="EventBridge Scheduler: keeps a sleeping stack's nodes at zero and its database stopped",
            opts=local,
        )
        policy = aws.iam.RolePolicy(
            f"{name}-policy",
            role=self.role.id,
            policy=pulumi.Output.all(
                database=args.database_arn, groups=[group.arn for group in args.node_groups.values()]
            ).apply(lambda arns: _policy(arns["database"], arns["groups"])),
            opts=local,
        )
        state = ENABLED if args.asleep else DISABLED
        schedule_options = pulumi.ResourceOptions(parent=self, depends_on=[policy])
        self.schedules = {
            "database": _schedule(
                f"{name}-stop-database",
                args,
                state,
                "Re-stops the sleeping stack's RDS instance (RDS starts it after 7 days)",
                sdk_target(args.partition, "rds", "stopDBInstance"),
                pulumi.Output.from_input(args.database_identifier).apply(
                    lambda identifier: json.dumps({"DbInstanceIdentifier": identifier})
                ),
                self.role,
                schedule_options,
            )
        }
        for pool, group in args.node_groups.items():
            self.schedules[pool] = _schedule(
                f"{name}-{pool}-to-zero",
                args,
                state,
                f"Keeps the sleeping stack's {pool} node group at zero nodes",
                sdk_target(args.partition, "eks", "updateNodegroupConfig"),
                pulumi.Output.all(args.cluster_name, group.name).apply(
                    functools.partial(_scale_to_zero_input, max_size=group.max_size)
                ),
                self.role,
                schedule_options,
            )
        self.database_state = aws.rds.InstanceDesiredState(
            f"{name}-database-state",
            identifier=args.database_identifier,
            state=DATABASE_ASLEEP if args.asleep else DATABASE_AWAKE,
            # Waking disables the re-stop schedule before it starts the instance.
            opts=pulumi.ResourceOptions(parent=self, depends_on=[self.schedules["database"]]),
        )
        self.register_outputs({"asleep": args.asleep})


def _schedule(
    resource_name: str,
    args: SleepArgs,
    state: str,
    description: str,
    target_arn: str,
    target_input: pulumi.Input[str],
    role: aws.iam.Role,
    opts: pulumi.ResourceOptions,
) -> aws.scheduler.Schedule:
    return aws.scheduler.Schedule(
        resource_name,
        description=description,
        schedule_expression=ASLEEP_CADENCE,
        state=state,
        flexible_time_window=aws.scheduler.ScheduleFlexibleTimeWindowArgs(mode="OFF"),
        target=aws.scheduler.ScheduleTargetArgs(
            arn=target_arn,
            role_arn=role.arn,
            input=target_input,
            # The next quarter hour tries again; a failure on a stopped instance is expected.
            retry_policy=aws.scheduler.ScheduleTargetRetryPolicyArgs(maximum_retry_attempts=0),
        ),
        opts=opts,
    )


def _scale_to_zero_input(names: list[str], *, max_size: int) -> str:
    """EKS UpdateNodegroupConfig's request for [cluster name, node group name], in the SDK's member
    names as universal targets take them."""
    cluster_name, node_group_name = names
    return json.dumps(
        {
            "ClusterName": cluster_name,
            "NodegroupName": node_group_name,
            "ScalingConfig": {"MinSize": 0, "MaxSize": max_size, "DesiredSize": 0},
        }
    )


def _scheduler_trust_policy(account_id: str) -> str:
    """EventBridge Scheduler may assume the role for this account's schedules only: the
    confused-deputy condition the Scheduler user guide recommends for execution roles."""
    return json.dumps(
        {
            "Version": "2012-10-17",
            "Statement": [
                {
                    "Effect": "Allow",
                    "Principal": {"Service": SCHEDULER_PRINCIPAL},
                    "Action": "sts:AssumeRole",
                    "Condition": {"StringEquals": {"aws:SourceAccount": account_id}},
                }
            ],
        }
    )


def _policy(database_arn: str, node_group_arns: list[str]) -> str:
    return json.dumps(
        {
            "Version": "2012-10-17",
            "Statement": [
                {"Effect": "Allow", "Action": [STOP_DATABASE_ACTION], "Resource": [database_arn]},
                {"Effect": "Allow", "Action": [SCALE_NODES_ACTION], "Resource": node_group_arns},
            ],
        }
    )
