"""The cost estimate (review/cost.py) over real mock runs of the stacks, and the README tables it generates."""

from __future__ import annotations

import dataclasses
import datetime
import json
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import pytest
import stack_checks as checks

from components import kubernetes_support
from review import cost, prices
from review.cost import CostEstimate, Shape
from review.runner import Registered, Run, run_main

HOURS = prices.HOURS_PER_MONTH
PRICED_ON = datetime.date.fromisoformat(prices.CHECKED_ON)


@pytest.fixture(scope="module")
def shapes() -> dict[str, tuple[Shape, Run]]:
    """One mock run per shape the README prices (shipped stack files and the two fixtures)."""
    return {shape.stack: (shape, run_main(shape.config, stack=shape.stack)) for shape in cost.readme_shapes()}


@pytest.fixture(scope="module")
def readme_estimates(shapes: dict[str, tuple[Shape, Run]]) -> list[tuple[Shape, CostEstimate]]:
    return [(shape, cost.shape_estimate(shape, run)) for shape, run in shapes.values()]


@pytest.fixture(scope="module")
def ha_rows(readme_estimates: list[tuple[Shape, CostEstimate]]) -> list[tuple[str, cost.HaChoice, float]]:
    """Each HA choice priced from a second run of its shape without it (four more runs: made once)."""
    return cost.ha_choice_costs(readme_estimates)


@pytest.fixture(scope="module")
def runs(shapes: dict[str, tuple[Shape, Run]]) -> dict[str, Run]:
    """Known shapes for the tests that assert figures: the tests' own stack configs (tests/stack_checks.py)
    and the estimator's two fixture shapes. Never the shipped stack files: a user's README edits (region,
    CIDRs, project, repo) must not move these numbers."""
    own = {stack: checks.shape_run(stack) for stack in ("local", "dev", "prod")}
    return {**own, "prod-gcp": shapes["prod-gcp"][1], "dev-aws": shapes["dev-aws"][1]}


def _estimate(run: Run, **kwargs: Any) -> CostEstimate:
    return cost.estimate(run, on=PRICED_ON, **kwargs)


def _factor(estimate: CostEstimate) -> float:
    return prices.REGION_FACTORS[estimate.region].factor


def _with_inputs(run: Run, type_token: str, change: dict[str, Any]) -> Run:
    """`run` with every resource of `type_token` given `change` merged into its inputs (one level deep)."""

    def changed(resource: Registered) -> Registered:
        if resource.type != type_token:
            return resource
        inputs = dict(resource.inputs)
        for key, value in change.items():
            inputs[key] = {**inputs[key], **value} if isinstance(value, dict) else value
        return dataclasses.replace(resource, inputs=inputs)

    return Run(resources=[changed(resource) for resource in run.resources], exports=run.exports)


def _lines(estimate: CostEstimate, prefix: str) -> list[cost.CostLine]:
    return [line for line in estimate.lines if line.what.startswith(prefix)]


def test_shipped_stacks_and_fixtures_have_nothing_unpriced(shapes: dict[str, tuple[Shape, Run]]) -> None:
    for stack, (_, run) in shapes.items():
        assert _estimate(run).unpriced == [], stack


def test_a_machine_type_change_moves_the_cost_by_the_table_delta(runs: dict[str, Run]) -> None:
    dev_config, dev_run = checks.stack_config("dev"), runs["dev"]
    bigger = run_main({**dev_config, "gcp": {**dev_config["gcp"], "systemMachineType": "e2-standard-4"}}, "dev")
    before, after = _estimate(dev_run), _estimate(bigger)
    system_nodes = 1
    # The dev system node is Spot (gcp.systemSpot).
    delta = (
        (prices.GCE_ON_DEMAND["e2-standard-4"].usd - prices.GCE_ON_DEMAND["e2-standard-2"].usd)
        * prices.GCE_SPOT_FRACTION
        * HOURS
    )
    assert after.monthly_idle_usd - before.monthly_idle_usd == pytest.approx(
        system_nodes * delta * _factor(before), abs=0.02
    )


def test_spot_worker_pools_cost_the_spot_fraction_of_on_demand(runs: dict[str, Run]) -> None:
    # Same e2-standard-4 workers and boot disk: Spot in dev, on-demand in the production shape.
    spot, on_demand = _estimate(runs["dev"]), _estimate(runs["prod-gcp"])
    machine = prices.GCE_ON_DEMAND["e2-standard-4"].usd * _factor(spot)
    assert on_demand.per_task_node_hour_usd - spot.per_task_node_hour_usd == pytest.approx(
        machine * (1 - prices.GCE_SPOT_FRACTION), abs=1e-3
    )
    eks = _estimate(runs["prod"])
    eks_on_demand = _estimate(_with_inputs(runs["prod"], "aws:eks/nodeGroup:NodeGroup", {"capacityType": "ON_DEMAND"}))
    worker = prices.EC2_ON_DEMAND["m6i.xlarge"].usd * _factor(eks)
    assert eks.per_task_node_hour_usd < eks_on_demand.per_task_node_hour_usd
    assert eks_on_demand.per_task_node_hour_usd - eks.per_task_node_hour_usd == pytest.approx(
        worker * (1 - prices.EC2_SPOT_FRACTION), abs=1e-3
    )


def test_multi_az_rds_and_ha_cloud_sql_double_instance_and_storage(runs: dict[str, Run]) -> None:
    multi_az = _estimate(runs["prod"])
    single_az = _estimate(_with_inputs(runs["prod"], "aws:rds/instance:Instance", {"multiAz": False}))
    for prefix in ("RDS PostgreSQL db.t4g.medium", "RDS 50 GiB gp3"):
        [double], [single] = _lines(multi_az, prefix), _lines(single_az, prefix)
        assert double.monthly_usd == pytest.approx(2 * single.monthly_usd, abs=0.02), prefix
    [instance] = _lines(single_az, "RDS PostgreSQL")
    assert instance.monthly_usd == pytest.approx(
        prices.RDS_POSTGRES["db.t4g.medium"].usd * _factor(single_az) * HOURS, abs=0.01
    )

    regional = _estimate(runs["prod-gcp"])
    zonal = _estimate(
        _with_inputs(
            runs["prod-gcp"],
            "gcp:sql/databaseInstance:DatabaseInstance",
            {"settings": {"availabilityType": "ZONAL"}},
        )
    )
    ha_sql = sum(line.monthly_usd for line in _lines(regional, "Cloud SQL db-custom"))
    zonal_sql = sum(line.monthly_usd for line in _lines(zonal, "Cloud SQL db-custom"))
    assert ha_sql == pytest.approx(2 * zonal_sql, abs=0.02)


def test_an_eks_version_past_standard_support_is_priced_at_the_extended_rate(
    runs: dict[str, Run],
) -> None:
    prod = runs["prod"]
    cluster = prod.one("aws:eks/cluster:Cluster").inputs
    assert cluster["upgradePolicy"]["supportType"] == "EXTENDED"
    ends = kubernetes_support.STANDARD_SUPPORT["aws"][cluster["version"]].end_of_standard_support
    standard = cost.estimate(prod, on=ends - datetime.timedelta(days=1))
    extended = cost.estimate(prod, on=ends)
    [line] = _lines(extended, "EKS control plane")
    assert "EXTENDED" in line.what and line.unit_usd == prices.EKS_EXTENDED_SUPPORT.usd
    assert extended.monthly_idle_usd - standard.monthly_idle_usd == pytest.approx(
        (prices.EKS_EXTENDED_SUPPORT.usd - prices.EKS_STANDARD_SUPPORT.usd) * HOURS
    )
    assert any("left standard support" in text for text in extended.assumptions)
    # supportType STANDARD: EKS upgrades the cluster instead of billing extended support.
    auto_upgraded = _with_inputs(prod, "aws:eks/cluster:Cluster", {"upgradePolicy": {"supportType": "STANDARD"}})
    [line] = _lines(cost.estimate(auto_upgraded, on=ends), "EKS control plane")
    assert line.unit_usd == prices.EKS_STANDARD_SUPPORT.usd


def test_unknown_types_and_sizes_are_listed_as_unpriced_not_counted_as_zero(
    runs: dict[str, Run],
) -> None:
    dev = runs["dev"]
    registry = dataclasses.replace(
        dev.one("gcp:storage/bucket:Bucket"),
        urn="urn:pulumi:dev::airflow-platform::gcp:redis/instance:Instance::cache",
        type="gcp:redis/instance:Instance",
        name="cache",
    )
    odd_machine = _with_inputs(dev, "gcp:container/nodePool:NodePool", {"nodeConfig": {"machineType": "n4-standard-2"}})
    result = _estimate(Run(resources=[*odd_machine.resources, registry], exports=dev.exports))
    unpriced = {(item.type, item.reason) for item in result.unpriced}
    assert (
        "gcp:redis/instance:Instance",
        "no price in review/prices.py and not known to be free",
    ) in unpriced
    assert (
        "gcp:container/nodePool:NodePool",
        "machine type 'n4-standard-2' has no price in review/prices.py",
    ) in unpriced
    assert not [line for line in result.lines if "n4-standard-2" in line.what]
    assert result.per_task_node_hour_usd == 0


def test_idle_prices_pools_at_their_minimum_and_a_task_node_hour_prices_one_more_worker(
    runs: dict[str, Run],
) -> None:
    dev = _estimate(runs["dev"])
    assert [line.quantity for line in _lines(dev, "0 x e2-standard-4 Spot node")] == [0]
    assert [line.quantity for line in _lines(dev, "1 x e2-standard-2 Spot node")] == [1]
    factor = _factor(dev)
    expected = (
        prices.GCE_ON_DEMAND["e2-standard-4"].usd * prices.GCE_SPOT_FRACTION * factor
        + 50 * prices.GCE_DISK["pd-balanced"].usd * factor / HOURS
        + prices.CLOUD_NAT_VM_HOUR.usd * factor
    )
    assert dev.per_task_node_hour_usd == pytest.approx(expected, abs=1e-4)
    # Without the Cluster Autoscaler nothing scales the workers down: they cost their desired size.
    prod = runs["prod"]
    no_autoscaler = Run(
        resources=[r for r in prod.resources if r.inputs.get("chart") != "cluster-autoscaler"], exports=prod.exports
    )
    assert [line.quantity for line in _lines(_estimate(prod), "0 x m6i.xlarge Spot node")] == [0]
    assert [line.quantity for line in _lines(_estimate(no_autoscaler), "1 x m6i.xlarge Spot node")] == [1]


def test_local_costs_nothing_and_the_estimate_is_json(runs: dict[str, Run]) -> None:
    local = _estimate(runs["local"])
    assert (local.monthly_idle_usd, local.per_task_node_hour_usd, local.lines, local.unpriced) == (0, 0, [], [])
    prod = _estimate(runs["prod"])
    data = json.loads(json.dumps(prod.to_dict()))
    assert {"monthly_idle_usd", "per_task_node_hour_usd", "lines", "assumptions", "unpriced"} <= set(data)
    assert data["monthly_idle_usd"] == pytest.approx(sum(line["monthly_usd"] for line in data["lines"]), abs=0.01)
    assert all(line["source"] and line["as_of"] for line in data["lines"])


def test_readme_cost_tables_are_what_the_estimator_renders(
    readme_estimates: list[tuple[Shape, CostEstimate]], ha_rows: list[tuple[str, cost.HaChoice, float]]
) -> None:
    blocks = cost.render_blocks(readme_estimates, ha_rows) | {cost.SUMMARY: cost.render_summary(readme_estimates)}
    costs_page = cost.COSTS_PAGE.read_text()
    assert set(blocks) == {"gcp", "aws", "local", cost.SUMMARY}
    for cloud, block in blocks.items():
        assert cost.readme_block(costs_page, cloud) == block, (
            f"docs/costs.md's {cloud} cost table is stale: run `{cost.REGENERATE}` and commit docs/costs.md"
        )


def test_readme_cost_headline_is_current(readme_estimates: list[tuple[Shape, CostEstimate]]) -> None:
    """The README's first screen says what each shipped stack costs, from the same estimates."""
    headline = cost.readme_block(cost.README.read_text(), cost.HEADLINE)
    assert headline == cost.render_headline(readme_estimates), (
        f"README.md's cost headline is stale: run `{cost.REGENERATE}` and commit README.md"
    )
    assert [line.split("**")[1] for line in headline.splitlines()[1:]] == list(cost.README_STACKS)


def test_a_stack_file_a_team_adds_leaves_the_readme_tables_as_they_are(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    """README "Add an environment": `cp Pulumi.dev.yaml Pulumi.staging.yaml` keeps `make test` green."""
    for path in cost.ROOT.glob("Pulumi.*.yaml"):
        (tmp_path / path.name).write_text(path.read_text())
    (tmp_path / "Pulumi.staging.yaml").write_text((tmp_path / "Pulumi.dev.yaml").read_text())
    monkeypatch.setattr(cost, "ROOT", tmp_path)
    assert [shape.stack for shape in cost.readme_shapes()] == ["dev", "local", "prod", "prod-gcp", "dev-aws"]


def test_readme_prices_do_not_move_with_the_stack_files_region(runs: dict[str, Run]) -> None:
    dev = runs["dev"]
    moved = _with_inputs(dev, "pulumi:providers:gcp", {"region": "europe-west4"})
    assert cost.readme_estimate(moved) == cost.readme_estimate(dev)
    assert cost.estimate(moved).region == "europe-west4"


def test_storage_quantities_convert_to_gib() -> None:
    assert [cost.gib(q) for q in ("10Gi", "1Ti", "512Mi")] == [10, 1024, 0.5]
    with pytest.raises(ValueError, match="not a Kubernetes storage quantity"):
        cost.gib("ten")


@pytest.mark.parametrize(("quantity", "gib"), [("500G", 500e9 / 2**30), ("1k", 1e3 / 2**30), ("1e9", 1e9 / 2**30)])
def test_storage_quantities_take_every_kubernetes_suffix(quantity: str, gib: float) -> None:
    assert cost.gib(quantity) == pytest.approx(gib)


@pytest.mark.parametrize("quantity", ["1K", "-1Gi", "10GB"])
def test_storage_quantities_refuse_what_kubernetes_refuses(quantity: str) -> None:
    with pytest.raises(ValueError, match="not a Kubernetes storage quantity"):
        cost.gib(quantity)


def test_each_ha_choice_is_priced_as_what_dropping_it_saves(
    readme_estimates: list[tuple[Shape, CostEstimate]], ha_rows: list[tuple[str, cost.HaChoice, float]]
) -> None:
    usd = {_dotted(choice.without): value for _, choice, value in ha_rows}
    nat, multi_az = usd["aws.natGatewayPerAz"], usd["aws.database.multiAz"]
    # Two NAT gateways fewer (their hours, addresses and a share of data); one RDS instance and its storage fewer.
    assert nat > 2 * prices.NAT_GATEWAY_HOUR.usd * HOURS * 0.99
    [prod] = [estimate for shape, estimate in readme_estimates if shape.stack == "prod"]
    rds = _lines(prod, "RDS PostgreSQL")[0]
    assert multi_az >= rds.monthly_usd / 2


def _dotted(without: Mapping[str, Any]) -> str:
    """The one config key an HA choice's override sets: `aws.database.multiAz`."""
    [(key, value)] = without.items()
    return f"{key}.{_dotted(value)}" if isinstance(value, Mapping) else key


# Issue 23: what a team comparing with the managed offerings must see.
PRODUCTION_IDLE_BUDGET_USD = 450


def test_each_production_shape_idles_within_the_budget(readme_estimates: list[tuple[Shape, CostEstimate]]) -> None:
    idle = {shape.stack: estimate.monthly_idle_usd for shape, estimate in readme_estimates}
    assert idle["prod"] <= PRODUCTION_IDLE_BUDGET_USD, f"EKS production idles at ${idle['prod']}"
    assert idle["prod-gcp"] <= PRODUCTION_IDLE_BUDGET_USD, f"GKE production idles at ${idle['prod-gcp']}"


def test_the_summary_prices_the_busy_month_and_leaves_the_sleeping_month_to_the_estimate(
    readme_estimates: list[tuple[Shape, CostEstimate]],
) -> None:
    [(_, prod)] = [(shape, estimate) for shape, estimate in readme_estimates if shape.stack == "prod"]
    assert prod.busy_month_usd == pytest.approx(
        prod.monthly_idle_usd + cost.TASK_NODE_HOURS * prod.per_task_node_hour_usd, abs=0.01
    )
    [row] = [line for line in cost.render_summary([(Shape("prod", "", {}), prod)]).splitlines() if "| prod |" in line]
    assert row == f"| prod | aws | ${prod.monthly_idle_usd:,.0f} | ${prod.busy_month_usd:,.0f} | - |"
    asleep = dataclasses.replace(prod, sleeping_month_usd=12.0)
    assert cost.render_summary([(Shape("prod", "", {}), asleep)]).count("| $12 |") == 1
    summary = cost.render_summary(readme_estimates)
    for offering in prices.MANAGED_OFFERINGS:
        assert f"| {offering.name} |" in summary and offering.source in summary and offering.as_of in summary
