"""Typed, validated `airflow-platform:gcp` settings (pure: no pulumi_gcp import)."""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import ClassVar

from components.validation import Section

_PROJECT_ID = re.compile(r"^[a-z][a-z0-9-]{4,28}[a-z0-9]$")
_REGION = re.compile(r"^[a-z]+-[a-z]+\d+$")


@dataclass(frozen=True)
class GcpSettings:
    KEYS: ClassVar[tuple[str, ...]] = ("project", "region")

    project: str
    region: str


def parse_gcp_settings(section: Section, production: bool) -> GcpSettings:
    problems = section.problems
    project = section.str("project", "")
    if not _PROJECT_ID.match(project):
        problems.add(section.key("project"), project, "a GCP project id: 6-30 lowercase letters, digits, '-'")
    region = section.str("region", "europe-west1")
    if not _REGION.match(region):
        problems.add(section.key("region"), region, "a GCP region such as europe-west1")
    return GcpSettings(project=project, region=region)
