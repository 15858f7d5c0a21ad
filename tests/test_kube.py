"""Pure helpers shared by every platform's Kubernetes objects."""

from __future__ import annotations

import pytest
from pulumi_kubernetes.core.v1.outputs import LoadBalancerIngress, LoadBalancerStatus, ServiceStatus

from components.kube import load_balancer_address

NLB = "k8s-airflow-0123456789.elb.eu-west-1.amazonaws.com"
IP = "203.0.113.10"


def status(*ingress: LoadBalancerIngress) -> ServiceStatus:
    return ServiceStatus(load_balancer=LoadBalancerStatus(ingress=list(ingress)))


@pytest.mark.parametrize(
    ("ingress", "address"),
    [
        (LoadBalancerIngress(hostname=NLB), NLB),  # an AWS NLB: a DNS name only
        (LoadBalancerIngress(ip=IP), IP),  # a GCP L4 load balancer: an IP only
        # Both: the name, which a Route 53 alias or CNAME needs and which outlives the IPs behind it.
        (LoadBalancerIngress(hostname=NLB, ip=IP), NLB),
    ],
)
def test_address_is_the_hostname_else_the_ip(ingress: LoadBalancerIngress, address: str) -> None:
    assert load_balancer_address(status(ingress)) == address


def test_no_address_until_the_load_balancer_has_one() -> None:
    assert load_balancer_address(None) is None
    assert load_balancer_address(status()) is None
    assert load_balancer_address(ServiceStatus()) is None
