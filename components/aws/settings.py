"""Typed, validated `airflow-platform:aws` settings (pure: no pulumi_aws import)."""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import ClassVar

from components.validation import Section

_REGION = re.compile(r"^[a-z]{2}(-gov)?-[a-z]+-\d$")


@dataclass(frozen=True)
class AwsSettings:
    KEYS: ClassVar[tuple[str, ...]] = ("region",)

    region: str


def parse_aws_settings(section: Section, production: bool) -> AwsSettings:
    region = section.str("region", "eu-west-1")
    if not _REGION.match(region):
        section.problems.add(section.key("region"), region, "an AWS region such as eu-west-1")
    return AwsSettings(region=region)
