"""The estimator prices what monitoring bills: samples, the scraper, alert conditions, alarms."""

from __future__ import annotations

import copy

import pytest
import stack_checks as checks

from review.cost import AWS_DEV_SHAPE, GCP_PRODUCTION_SHAPE, CostEstimate, estimate
from review.runner import run_main


def _lines(cost: CostEstimate, text: str) -> list[float]:
    return [line.monthly_usd for line in cost.lines if text in line.what]


@pytest.fixture(scope="module")
def gcp() -> CostEstimate:
    return estimate(run_main(GCP_PRODUCTION_SHAPE, stack="prod-gcp"))


@pytest.fixture(scope="module")
def aws() -> CostEstimate:
    return estimate(run_main(AWS_DEV_SHAPE, stack="dev-aws"))


def test_gke_prices_the_samples_and_every_alert_condition(gcp: CostEstimate) -> None:
    [exporter] = _lines(gcp, "GMP samples, StatsD exporter")
    assert exporter == pytest.approx(500 * 730 * 60 / 1e6 * 0.06, abs=0.01), "500 series once a minute"
    assert _lines(gcp, "managed kube-state-metrics"), "the Deployment metrics bill as GMP samples"
    assert len(_lines(gcp, "Cloud Monitoring alert condition")) == 8
    assert not [item for item in gcp.unpriced if "monitoring" in item.type]


def test_eks_prices_the_scraper_the_samples_and_the_alarms(aws: CostEstimate) -> None:
    [collector] = _lines(aws, "AMP managed scraper")
    assert collector == pytest.approx(0.04 * 730)
    [samples] = _lines(aws, "AMP samples ingested, StatsD exporter")
    assert samples == pytest.approx(500 * 730 * 30 / 1e6 * 0.09, abs=0.01), "a dev stack: every two minutes"
    assert len(_lines(aws, "CloudWatch alarm")) == 2
    [kube_state] = _lines(aws, "kube-state-metrics add-on")
    assert kube_state == pytest.approx(10 * 730 * 30 / 1e6 * 0.09, abs=0.01), "the API server alert's series"
    assert not [item for item in aws.unpriced if item.type.startswith(("aws:amp", "aws:sns", "aws:cloudwatch"))]


def test_the_dev_stack_with_its_metrics_stays_within_60_usd_in_its_own_region() -> None:
    dev = estimate(run_main(copy.deepcopy(checks.stack_config("dev")), stack="dev"))
    assert _lines(dev, "GMP samples, StatsD exporter")
    assert dev.monthly_idle_usd <= 60
