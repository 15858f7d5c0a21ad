"""`sleep: true` (docs/operations/sleep.md) under mocks: what changes, what is kept, what is refused.

Each cloud's dev shape runs awake and asleep through `__main__.py`. A sleeping
stack must register the same resources, under the same names, with the same
inputs, except the few that park it - so no `pulumi up` between the two
replaces, regenerates or deletes anything.
"""

from __future__ import annotations

import json
from typing import Any

import pytest
import stack_checks as checks
import yaml
from docs_pages import page

from components.aws.monitoring import MUTED_RECEIVER
from components.aws.sleep import ASLEEP_CADENCE, DATABASE_ASLEEP, DATABASE_AWAKE, DISABLED, ENABLED
from components.config import ConfigError, parse_stack_config
from components.gcp.node_pools import POOL_LABEL, SYSTEM, WORKERS
from review.cost import Shape, readme_estimate, readme_shapes, sleeping_month_usd
from review.runner import Registered, Run, run_main

NODE_POOL = "gcp:container/nodePool:NodePool"
SQL_INSTANCE = "gcp:sql/databaseInstance:DatabaseInstance"
NODE_GROUP = "aws:eks/nodeGroup:NodeGroup"
RDS_INSTANCE = "aws:rds/instance:Instance"
DATABASE_STATE = "aws:rds/instanceDesiredState:InstanceDesiredState"
SCHEDULE = "aws:scheduler/schedule:Schedule"
RELEASE = "kubernetes:helm.sh/v3:Release"
ALERT_POLICY = "gcp:monitoring/alertPolicy:AlertPolicy"
ALERT_MANAGER = "aws:amp/alertManagerDefinition:AlertManagerDefinition"
ALARM = "aws:cloudwatch/metricAlarm:MetricAlarm"
SLEEP_KEY = "airflow-platform:sleep"


# Routed alerts: the rules that watch Airflow are muted while it sleeps.
ALERTS = {"email": ["ops@example.com"]}


def gcp_dev(sleep: bool) -> dict[str, Any]:
    return {**checks.stack_config("dev"), "alerts": ALERTS, "sleep": sleep}


def aws_dev(sleep: bool) -> dict[str, Any]:
    """The tests' EKS shape as a non-production stack."""
    return {**checks.stack_config("prod"), "production": False, "alerts": ALERTS, "sleep": sleep}


@pytest.fixture(scope="module")
def gcp_awake() -> Run:
    return run_main(gcp_dev(False), stack="dev")


@pytest.fixture(scope="module")
def gcp_asleep() -> Run:
    return run_main(gcp_dev(True), stack="dev")


@pytest.fixture(scope="module")
def aws_awake() -> Run:
    return run_main(aws_dev(False), stack="aws-dev")


@pytest.fixture(scope="module")
def aws_asleep() -> Run:
    return run_main(aws_dev(True), stack="aws-dev")


def by_urn(run: Run) -> dict[str, Registered]:
    return {resource.urn: resource for resource in run.resources}


def changed_inputs(awake: Run, asleep: Run) -> dict[str, set[str]]:
    """URN -> the top-level inputs that differ between the awake and the sleeping program."""
    before, after = by_urn(awake), by_urn(asleep)
    assert before.keys() == after.keys(), "sleeping adds or removes resources: " + repr(
        sorted(before.keys() ^ after.keys())
    )
    changed = {}
    for urn, resource in before.items():
        keys = resource.inputs.keys() | after[urn].inputs.keys()
        differing = {key for key in keys if resource.inputs.get(key) != after[urn].inputs.get(key)}
        if differing:
            changed[urn] = differing
    return changed


def of_type(run: Run, type_: str) -> list[Registered]:
    return [resource for resource in run.resources if resource.type == type_]


# --- what is refused ---------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("raw", "allowed"),
    [
        ({**checks.stack_config("prod"), "sleep": True}, "false on a production stack"),
        ({**checks.stack_config("local"), "sleep": True}, "false on cloud: local"),
        ({**checks.stack_config("dev"), "sleep": "yes"}, "true or false"),
    ],
    ids=["production", "local", "not-a-bool"],
)
def test_sleep_is_refused_where_it_cannot_apply(raw: dict[str, Any], allowed: str) -> None:
    with pytest.raises(ConfigError) as error:
        parse_stack_config(raw, stack="test")
    message = str(error.value)
    assert SLEEP_KEY in message and allowed in message, message


def test_sleep_defaults_to_awake() -> None:
    assert parse_stack_config(checks.stack_config("dev"), stack="dev").sleep is False
    assert parse_stack_config(gcp_dev(True), stack="dev").sleep is True


# --- GKE ---------------------------------------------------------------------------------------------


def test_gke_sleep_changes_only_the_node_pools_the_database_and_the_release_wait(
    gcp_awake: Run, gcp_asleep: Run
) -> None:
    changed = changed_inputs(gcp_awake, gcp_asleep)
    types = {by_urn(gcp_awake)[urn].type for urn in changed}
    assert types == {NODE_POOL, SQL_INSTANCE, RELEASE, ALERT_POLICY}, changed
    for urn, keys in changed.items():
        type_ = by_urn(gcp_awake)[urn].type
        expected = {
            NODE_POOL: {"autoscaling", "nodeCount"},
            SQL_INSTANCE: {"settings"},
            RELEASE: {"atomic", "skipAwait"},
            ALERT_POLICY: {"enabled"},
        }[type_]
        assert keys == expected, (urn, keys)


def test_gke_sleeping_system_pool_is_sized_zero_and_workers_may_scale_to_zero(gcp_awake: Run, gcp_asleep: Run) -> None:
    pools = {pool.inputs["nodeConfig"]["labels"][POOL_LABEL]: pool for pool in of_type(gcp_asleep, NODE_POOL)}
    system, workers = pools[SYSTEM], pools[WORKERS]
    assert system.inputs.get("nodeCount") == 0 and system.inputs.get("autoscaling") is None
    # The node count is the program's while asleep, never a replacement.
    assert system.ignore_changes == ("initialNodeCount",)
    # The workers keep autoscaling (GKE restarts no control plane), down to zero.
    assert workers.inputs["autoscaling"]["totalMinNodeCount"] == 0 and "nodeCount" not in workers.inputs
    for pool in of_type(gcp_awake, NODE_POOL):
        assert "nodeCount" not in pool.inputs and pool.inputs["autoscaling"], pool.name
        assert set(pool.ignore_changes) == {"initialNodeCount", "nodeCount"}, pool.name


def test_gke_sleep_lowers_a_nonzero_worker_minimum() -> None:
    raw = gcp_dev(True)
    run = run_main({**raw, "gcp": {**raw["gcp"], "workerMinNodes": 1}}, stack="dev")
    (workers,) = [p for p in of_type(run, NODE_POOL) if p.inputs["nodeConfig"]["labels"][POOL_LABEL] == WORKERS]
    assert workers.inputs["autoscaling"]["totalMinNodeCount"] == 0


def test_gke_sleep_stops_cloud_sql_and_keeps_everything_else_of_it(gcp_awake: Run, gcp_asleep: Run) -> None:
    (awake,) = of_type(gcp_awake, SQL_INSTANCE)
    (asleep,) = of_type(gcp_asleep, SQL_INSTANCE)
    assert awake.inputs["settings"]["activationPolicy"] == "ALWAYS"
    assert asleep.inputs["settings"]["activationPolicy"] == "NEVER"
    rest = {key: value for key, value in asleep.inputs["settings"].items() if key != "activationPolicy"}
    assert rest == {key: value for key, value in awake.inputs["settings"].items() if key != "activationPolicy"}


# --- EKS ---------------------------------------------------------------------------------------------


def test_eks_sleep_changes_only_the_node_minimums_the_schedules_the_database_state_and_the_release_wait(
    aws_awake: Run, aws_asleep: Run
) -> None:
    changed = changed_inputs(aws_awake, aws_asleep)
    expected = {
        NODE_GROUP: {"scalingConfig"},
        SCHEDULE: {"state"},
        DATABASE_STATE: {"state"},
        RELEASE: {"atomic", "skipAwait"},
        ALERT_MANAGER: {"definition"},
        ALARM: {"actionsEnabled"},
    }
    assert {by_urn(aws_awake)[urn].type: keys for urn, keys in changed.items()} == expected, changed
    # The RDS instance itself is untouched: stopping it is InstanceDesiredState's job.
    assert not [urn for urn in changed if by_urn(aws_awake)[urn].type == RDS_INSTANCE]


def test_eks_sleeping_node_groups_drop_their_minimum_and_keep_the_awake_desired_size(
    aws_awake: Run, aws_asleep: Run
) -> None:
    awake = {group.name: group.inputs["scalingConfig"] for group in of_type(aws_awake, NODE_GROUP)}
    for group in of_type(aws_asleep, NODE_GROUP):
        scaling = group.inputs["scalingConfig"]
        assert scaling["minSize"] == 0, group.name
        # Waking raises minSize again next to this desiredSize: EKS accepts it only if desired >= min.
        assert scaling["desiredSize"] == awake[group.name]["desiredSize"] >= awake[group.name]["minSize"], group.name
        assert scaling["maxSize"] == awake[group.name]["maxSize"], group.name
        assert "scalingConfig.desiredSize" in group.ignore_changes, group.name


def test_eks_sleep_enables_the_schedules_that_keep_nodes_at_zero_and_rds_stopped(
    aws_awake: Run, aws_asleep: Run
) -> None:
    for run, state, database_state in ((aws_asleep, ENABLED, DATABASE_ASLEEP), (aws_awake, DISABLED, DATABASE_AWAKE)):
        schedules = of_type(run, SCHEDULE)
        targets = sorted(
            schedule.inputs["target"]["arn"].rsplit(":", 2)[-2]
            + ":"
            + schedule.inputs["target"]["arn"].rsplit(":", 1)[-1]
            for schedule in schedules
        )
        assert targets == ["eks:updateNodegroupConfig", "eks:updateNodegroupConfig", "rds:stopDBInstance"]
        assert {schedule.inputs["state"] for schedule in schedules} == {state}
        assert {schedule.inputs["scheduleExpression"] for schedule in schedules} == {ASLEEP_CADENCE}
        (desired,) = of_type(run, DATABASE_STATE)
        assert desired.inputs["state"] == database_state


def test_eks_waking_disables_the_database_schedule_before_starting_the_database(aws_awake: Run) -> None:
    (desired,) = of_type(aws_awake, DATABASE_STATE)
    stop = next(s for s in of_type(aws_awake, SCHEDULE) if s.inputs["target"]["arn"].endswith("stopDBInstance"))
    assert stop.urn in desired.dependencies


def test_production_stacks_have_no_sleep_machinery() -> None:
    run = checks.shape_run("prod")
    assert not of_type(run, SCHEDULE) and not of_type(run, DATABASE_STATE)


# --- both clouds -------------------------------------------------------------------------------------


@pytest.mark.parametrize("cloud", ["gcp", "aws"])
def test_sleep_keeps_every_secret_and_stateful_resource(cloud: str, request: pytest.FixtureRequest) -> None:
    awake: Run = request.getfixturevalue(f"{cloud}_awake")
    asleep: Run = request.getfixturevalue(f"{cloud}_asleep")
    kept_types = (
        "random:index/randomPassword:RandomPassword",
        "random:index/randomBytes:RandomBytes",
        "tls:index/privateKey:PrivateKey",
        "kubernetes:core/v1:Secret",
        "kubernetes:core/v1:PersistentVolumeClaim",
        "gcp:storage/bucket:Bucket",
        "gcp:filestore/instance:Instance",
        "gcp:sql/user:User",
        "gcp:sql/database:Database",
        "aws:s3/bucketV2:BucketV2",
        "aws:s3/bucket:Bucket",
        "aws:efs/fileSystem:FileSystem",
        RDS_INSTANCE,
    )
    before = by_urn(awake)
    kept = [urn for urn, resource in before.items() if resource.type in kept_types]
    assert any(before[urn].type == "kubernetes:core/v1:Secret" for urn in kept)
    for urn in kept:
        assert by_urn(asleep)[urn].inputs == before[urn].inputs, urn
        assert by_urn(asleep)[urn].protect == before[urn].protect, urn


# --- the sleeping month (review/cost.py) ------------------------------------------------------------


def test_the_sleeping_gke_month_bills_storage_but_no_node_and_no_database_instance(gcp_asleep: Run) -> None:
    cost = readme_estimate(gcp_asleep)
    billed = {line.what: line.monthly_usd for line in cost.lines if line.monthly_usd}
    assert not [what for what in billed if " node " in what or what.startswith("Cloud SQL db-")], billed
    assert any(what.startswith("Cloud SQL") and "GiB" in what for what in billed), "the stopped disk is billed"
    assert any(what.startswith("PVC") for what in billed), "the shared volume is kept, and billed"


def test_the_sleeping_eks_month_bills_no_node_and_no_database_instance(aws_asleep: Run) -> None:
    billed = {line.what for line in readme_estimate(aws_asleep).lines if line.monthly_usd}
    assert not [what for what in billed if " node " in what or what.startswith("RDS PostgreSQL")], billed
    assert any(what.startswith("RDS") and "GiB" in what for what in billed)


def test_sleeping_month_is_priced_only_where_sleep_is_allowed() -> None:
    dev = Shape("dev", "the tests' dev shape", checks.stack_config("dev"))
    awake = readme_estimate(checks.shape_run("dev")).monthly_idle_usd
    sleeping = sleeping_month_usd(dev)
    assert sleeping is not None and 0 < sleeping < awake, (sleeping, awake)
    for stack in ("prod", "local"):
        assert sleeping_month_usd(Shape(stack, "the tests' shape", checks.stack_config(stack))) is None


def test_alerts_that_watch_airflow_are_muted_while_asleep(
    gcp_awake: Run, gcp_asleep: Run, aws_awake: Run, aws_asleep: Run
) -> None:
    """No scheduler heartbeat and no API server are expected at night: nobody is paged for them."""
    assert {policy.inputs["enabled"] for policy in of_type(gcp_awake, ALERT_POLICY)} == {True}
    assert {policy.inputs["enabled"] for policy in of_type(gcp_asleep, ALERT_POLICY)} == {False}
    for run, receiver in ((aws_awake, "sns"), (aws_asleep, MUTED_RECEIVER)):
        (definition,) = of_type(run, ALERT_MANAGER)
        config = yaml.safe_load(yaml.safe_load(definition.inputs["definition"])["alertmanager_config"])
        assert config["route"]["receiver"] == receiver
    assert {alarm.inputs["actionsEnabled"] for alarm in of_type(aws_asleep, ALARM)} == {False}


def test_the_stack_says_whether_it_was_deployed_asleep(gcp_awake: Run, gcp_asleep: Run) -> None:
    """scripts/ci-drift.sh previews a parked stack asleep, from this output."""
    assert gcp_awake.exports["asleep"].value is False
    assert gcp_asleep.exports["asleep"].value is True


def test_eks_schedules_call_the_apis_with_what_they_need(aws_asleep: Run) -> None:
    inputs = {
        schedule.inputs["target"]["arn"].rsplit(":", 1)[-1]: json.loads(schedule.inputs["target"]["input"])
        for schedule in of_type(aws_asleep, SCHEDULE)
        if schedule.inputs["target"]["arn"].endswith("stopDBInstance")
    }
    (rds,) = of_type(aws_asleep, RDS_INSTANCE)
    assert inputs["stopDBInstance"] == {"DbInstanceIdentifier": rds.inputs["identifier"]}
    scale = [
        json.loads(schedule.inputs["target"]["input"])
        for schedule in of_type(aws_asleep, SCHEDULE)
        if schedule.inputs["target"]["arn"].endswith("updateNodegroupConfig")
    ]
    maxima = sorted(group.inputs["scalingConfig"]["maxSize"] for group in of_type(aws_asleep, NODE_GROUP))
    assert sorted(call["ScalingConfig"]["MaxSize"] for call in scale) == maxima
    assert all(call["ScalingConfig"]["MinSize"] == call["ScalingConfig"]["DesiredSize"] == 0 for call in scale)
    assert all(
        schedule.inputs["target"]["retryPolicy"]["maximumRetryAttempts"] == 0
        for schedule in of_type(aws_asleep, SCHEDULE)
    )


def test_the_sleep_page_quotes_the_estimators_sleeping_months() -> None:
    """docs/operations/sleep.md's figures are review.cost's, for the shapes docs/costs.md prices."""
    text = page("operations/sleep.md")
    shapes = {shape.stack: shape for shape in readme_shapes()}
    for stack in ("dev", "dev-aws"):
        sleeping = sleeping_month_usd(shapes[stack])
        assert sleeping is not None and f"**${sleeping:,.2f}**" in text, (stack, sleeping)


def test_only_this_accounts_schedules_may_assume_the_sleep_role(aws_asleep: Run) -> None:
    (role,) = [
        r
        for r in of_type(aws_asleep, "aws:iam/role:Role")
        if r.parent.endswith("airflow-platform:aws:Sleep::aws-sleep")
    ]
    (statement,) = json.loads(role.inputs["assumeRolePolicy"])["Statement"]
    assert statement["Principal"] == {"Service": "scheduler.amazonaws.com"}
    assert statement["Condition"]["StringEquals"]["aws:SourceAccount"]
