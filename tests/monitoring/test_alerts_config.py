"""`alerts`: who is told when an alert fires; every bad value refused before any resource, no secret echoed."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
import yaml

from components.config import PROJECT, ConfigError, parse_stack_config
from review.plan import build_plan

# The tests' own GKE stack (never a user's stack file).
GCP: dict[str, Any] = {
    "cloud": "gcp",
    "gcp": {"project": "acme-airflow-test", "masterAuthorizedNetworks": [{"cidr": "198.51.100.0/24", "name": "vpn"}]},
    "loadBalancer": {"sourceRanges": ["198.51.100.0/24"]},
    "dags": {"source": "git", "repo": "git@github.com:acme/dags.git"},
}
TOKEN = "T0KEN-s3cr3t-9f8e7d"
KEY = "airflow-platform:alerts"


def problems(alerts: Any, base: dict[str, Any] = GCP) -> dict[str, str]:
    with pytest.raises(ConfigError) as error:
        parse_stack_config({**base, "alerts": alerts}, stack="test")
    assert TOKEN not in str(error.value), "a webhook URL (its token) must never be echoed"
    return {problem.key: str(problem) for problem in error.value.problems}


def test_addresses_and_a_webhook_are_accepted() -> None:
    alerts = parse_stack_config(
        {**GCP, "alerts": {"email": ["ops@acme.example"], "webhook": f"https://hooks.acme.example/{TOKEN}"}}, "t"
    ).alerts
    assert alerts.emails == ("ops@acme.example",)
    assert alerts.webhook is True and alerts.routed
    assert TOKEN not in repr(alerts), "the webhook URL stays out of the StackConfig"


def test_no_alerts_section_routes_nowhere() -> None:
    assert not parse_stack_config(GCP, "t").alerts.routed


def test_an_email_that_is_not_an_address_is_refused_by_key() -> None:
    found = problems({"email": ["ops@acme.example", "ops at acme"]})
    assert "'ops at acme'" in found[f"{KEY}.email[1]"]
    assert "an e-mail address" in found[f"{KEY}.email[1]"]


def test_email_must_be_a_list() -> None:
    assert "a list of strings" in problems({"email": "ops@acme.example"})[f"{KEY}.email"]


@pytest.mark.parametrize(
    "url",
    [f"http://hooks.acme.example/{TOKEN}", f"hooks.acme.example/{TOKEN}", f"ftp://hooks.acme.example/{TOKEN}"],
)
def test_a_webhook_that_is_not_https_is_refused_without_echoing_it(url: str) -> None:
    message = problems({"webhook": url})[f"{KEY}.webhook"]
    assert "https://" in message and "<hidden>" in message


def test_a_webhook_with_credentials_in_it_is_refused_without_echoing_them() -> None:
    message = problems({"webhook": f"https://alerts:{TOKEN}@hooks.acme.example/notify"})[f"{KEY}.webhook"]
    assert "user:password@" in message and "<hidden>" in message


def test_a_misspelt_key_does_not_echo_its_value() -> None:
    assert "one of the known keys" in problems({"webhok": f"https://hooks.acme.example/{TOKEN}"})[f"{KEY}.webhok"]


def test_alerts_on_a_local_stack_are_refused_by_key() -> None:
    found = problems(
        {"email": ["ops@acme.example"], "webhook": f"https://hooks.acme.example/{TOKEN}"}, {"cloud": "local"}
    )
    assert "unset on cloud: local" in found[KEY]


def plan_of(tmp_path: Path, alerts: dict[str, Any]) -> dict[str, Any]:
    """`make plan` of the tests' own GKE stack file with this `alerts` section."""
    stack = {**GCP, "airflow": {"sharedDataSize": "1Ti"}, "alerts": alerts}  # Filestore's minimum
    config = {f"{PROJECT}:{key}": value for key, value in stack.items()}
    (tmp_path / "Pulumi.alerts.yaml").write_text(yaml.safe_dump({"config": config}))
    return build_plan("alerts", root=tmp_path)


def test_a_webhook_set_in_plain_text_is_a_preview_warning_and_never_in_the_plan(tmp_path: Path) -> None:
    plan = plan_of(tmp_path, {"email": ["ops@acme.example"], "webhook": f"https://hooks.acme.example/{TOKEN}"})
    (warning,) = [warning for warning in plan["warnings"] if "alerts.webhook" in warning]
    assert "plain text" in warning and "pulumi config set --secret --path alerts.webhook" in warning
    assert TOKEN not in json.dumps(plan)


def test_an_encrypted_webhook_is_no_warning(tmp_path: Path) -> None:
    plan = plan_of(tmp_path, {"email": ["ops@acme.example"], "webhook": {"secure": "v1:AAAAbm90LWEtcmVhbC1jaXBoZXJ0"}})
    assert not [warning for warning in plan["warnings"] if "alerts.webhook" in warning]
