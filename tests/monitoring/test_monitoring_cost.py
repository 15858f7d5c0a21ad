"""The estimator prices what monitoring bills: samples, the scraper, alert conditions, alarms."""

from __future__ import annotations

import pytest
import stack_checks as checks

from review.cost import AWS_DEV_SHAPE, GCP_PRODUCTION_SHAPE, CostEstimate, estimate
from review.prices import (
    AMP_COLLECTOR_HOUR,
    AMP_COLLECTOR_SAMPLES,
    AMP_SAMPLES,
    CLOUD_MONITORING_CONDITION,
    CLOUDWATCH_ALARM,
    GMP_SAMPLES,
    is_verified,
)
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
    [collector] = _lines(aws, "AMP managed scraper (collector hours)")
    assert collector == pytest.approx(0.04 * 730)
    [samples] = _lines(aws, "AMP samples ingested, StatsD exporter")
    assert samples == pytest.approx(500 * 730 * 30 / 1e6 * 0.09, abs=0.01), "a dev stack: every two minutes"
    assert len(_lines(aws, "CloudWatch alarm")) == 2
    [kube_state] = _lines(aws, "kube-state-metrics add-on")
    assert kube_state == pytest.approx(10 * 730 * 30 / 1e6 * 0.09, abs=0.01), "the API server alert's series"
    [collected] = _lines(aws, "samples collected")
    assert collected == pytest.approx(510 * 730 * 30 / 1e6 * 0.003, abs=0.01), "the scraper bills what it collects"
    assert not [item for item in aws.unpriced if item.type.startswith(("aws:amp", "aws:sns", "aws:cloudwatch"))]


def test_monitoring_prices_name_the_page_they_were_read_from() -> None:
    monitoring = [GMP_SAMPLES, CLOUD_MONITORING_CONDITION, AMP_SAMPLES, AMP_COLLECTOR_HOUR, AMP_COLLECTOR_SAMPLES]
    for price in [*monitoring, CLOUDWATCH_ALARM]:
        assert is_verified(price.source) and price.source.startswith("https://"), price
        assert price.as_of == "2026-12-06", price


def test_the_dev_stack_with_its_metrics_stays_within_60_usd_in_its_own_region() -> None:
    dev = estimate(checks.shape_run("dev"))
    assert _lines(dev, "GMP samples, StatsD exporter")
    assert dev.monthly_idle_usd <= 60
