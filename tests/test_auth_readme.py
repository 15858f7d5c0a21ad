"""The README's team sign-in section: each preset's example is a valid stack config; its redirect URI is named."""

from __future__ import annotations

import re
from typing import Any

import pytest
import yaml
from docs_pages import section
from stack_checks import stack_config

from components.airflow.auth import redirect_path
from components.auth import PROVIDERS
from components.config import AUTH_CLIENT_SECRET_KEY, HIDDEN, parse_stack_config
from review.runner import PROJECT

SECTION = section("operations/access.md", "Team sign-in (single sign-on)")
EXAMPLES = re.findall(r"```yaml\n(.*?)```", SECTION, re.DOTALL)


def example_auth(text: str) -> dict[str, Any]:
    return dict(yaml.safe_load(text)["config"][f"{PROJECT}:auth"])


def test_the_readme_has_an_example_per_preset() -> None:
    assert SECTION, "docs/operations/access.md lost its '## Team sign-in' section"
    presets = {example_auth(text)["provider"] for text in EXAMPLES}
    assert presets == set(PROVIDERS) - {"oidc"}, f"presets with an example: {sorted(presets)}"


@pytest.mark.parametrize("text", EXAMPLES, ids=lambda text: example_auth(text)["provider"])
def test_each_example_is_accepted_on_a_production_stack(text: str) -> None:
    raw = {**stack_config("prod"), "auth": example_auth(text), AUTH_CLIENT_SECRET_KEY: HIDDEN}
    auth = parse_stack_config(raw, stack="prod").auth
    assert auth.oidc
    domain = raw["ui"]["domain"]
    uri = f"https://{domain}{redirect_path(auth)}"
    assert uri.replace(domain, "<ui.domain>") in SECTION, f"the README never names {uri}"
