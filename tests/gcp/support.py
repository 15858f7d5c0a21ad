"""Shared helpers for the GCP tests: settings from a raw config section, problem lookup."""

from __future__ import annotations

from typing import Any

from components.gcp.settings import GcpSettings, parse_gcp_settings
from components.validation import ConfigProblem, Problems, Section

SECTION = "airflow-platform:gcp"
# The smallest valid section: everything else has a default.
MINIMAL = {
    "project": "acme-airflow-dev",
    "masterAuthorizedNetworks": [{"cidr": "198.51.100.0/24", "name": "office"}],
}


def parse(raw: dict[str, Any] | None = None, *, production: bool = False) -> tuple[GcpSettings, list[ConfigProblem]]:
    problems = Problems()
    settings = parse_gcp_settings(Section(problems, SECTION, {**MINIMAL, **(raw or {})}, GcpSettings.KEYS), production)
    return settings, problems.items


def settings(raw: dict[str, Any] | None = None, *, production: bool = False) -> GcpSettings:
    """Valid settings; fails the test if the raw section has a problem."""
    parsed, problems = parse(raw, production=production)
    assert not problems, [str(problem) for problem in problems]
    return parsed


def problems_by_key(raw: dict[str, Any], *, production: bool = False) -> dict[str, ConfigProblem]:
    _, problems = parse(raw, production=production)
    return {problem.key: problem for problem in problems}


def key(name: str) -> str:
    return f"{SECTION}.{name}"
