"""Cookies behind the HTTPS entry points, through `__main__.py` under mocks (README, "Secure cookies").

GKE's Gateway terminates TLS in Google's proxies, which set X-Forwarded-Proto:
the API server believes it from their ranges and the Gateway's address only.
AWS's NLB forwards bare TCP with no such header: nothing to trust.
"""

from __future__ import annotations

import pytest
import stack_checks as checks

from components.gcp.https import GFE_PROXY_RANGES
from review.fakes import gcp as gcp_fakes
from review.runner import Run, run_main

DOMAIN = "airflow.acme.example"


@pytest.fixture(scope="module")
def gcp_run() -> Run:
    return run_main({**checks.stack_config("dev"), "ui": {"domain": DOMAIN}}, stack="gcp-cookies")


@pytest.fixture(scope="module")
def aws_run() -> Run:
    return run_main({**checks.stack_config("prod"), "ui": {"domain": DOMAIN}}, stack="aws-cookies")


def test_gke_api_server_trusts_forwarded_headers_from_the_gateway_only(gcp_run: Run) -> None:
    values = checks.release_values(gcp_run)
    assert {key: values["config"]["fab"][key] for key in ("cookie_secure", "enable_proxy_fix")} == {
        "cookie_secure": "True",
        "enable_proxy_fix": "False",
    }
    assert values["apiServer"]["args"] == ["bash", "-c", "exec airflow api-server --proxy-headers"]
    [trusted] = [item["value"] for item in values["apiServer"]["env"] if item["name"] == "FORWARDED_ALLOW_IPS"]
    assert trusted.split(",") == [*GFE_PROXY_RANGES, gcp_fakes.GATEWAY_ADDRESS]
    checks.assert_release_values_match_chart_schema(gcp_run)


def test_eks_marks_the_session_secure_and_trusts_no_forwarded_header(aws_run: Run) -> None:
    values = checks.release_values(aws_run)
    assert {key: values["config"]["fab"][key] for key in ("cookie_secure", "enable_proxy_fix")} == {
        "cookie_secure": "True",
        "enable_proxy_fix": "False",
    }
    assert "args" not in values["apiServer"], "the NLB sends no X-Forwarded-Proto: --proxy-headers would trust nothing"
    assert "env" not in values["apiServer"]
