"""The dated EKS support table and the preview warning built from it."""

from __future__ import annotations

from datetime import date, timedelta
from unittest import mock

import pulumi
import pytest

from components.aws.settings import CLUSTER_AUTOSCALER_IMAGE_TAGS, DEFAULT_KUBERNETES_VERSION
from components.config import parse_stack_config
from components.kubernetes_support import (
    STANDARD_SUPPORT,
    WARNING_DAYS,
    newest_version,
    standard_support_warning,
)
from review.runner import run_main

from .test_autoscaler import DEV_CONFIG

EKS = STANDARD_SUPPORT["aws"]


def test_every_row_is_sourced_and_dated() -> None:
    for version, window in EKS.items():
        assert window.version == version
        assert window.source.startswith("https://"), version
        assert window.end_of_standard_support < window.end_of_extended_support, version
        assert window.read_on <= date.today(), f"{version}: read in the future"


def test_a_supported_version_far_from_its_end_is_quiet() -> None:
    end = EKS["1.36"].end_of_standard_support
    assert standard_support_warning("aws", "1.36", end - timedelta(days=WARNING_DAYS + 1)) is None


def test_warns_within_sixty_days_with_the_date_and_the_version_to_move_to() -> None:
    end = EKS["1.34"].end_of_standard_support
    warning = standard_support_warning("aws", "1.34", end - timedelta(days=WARNING_DAYS))
    assert warning is not None
    assert "2026-12-02" in warning and f"in {WARNING_DAYS} days" in warning
    assert f"upgrade to {newest_version('aws')}" in warning
    assert "+$365/month" in warning


def test_past_the_end_is_reported_as_already_billed() -> None:
    warning = standard_support_warning("aws", "1.31", date(2026, 1, 1))
    assert warning is not None and "left standard support on 2025-11-26" in warning


def test_an_unknown_version_is_reported_never_guessed() -> None:
    warning = standard_support_warning("aws", "1.99", date(2026, 11, 22))
    assert warning is not None and "not in the support table" in warning


def test_clouds_without_a_table_are_not_checked() -> None:
    assert standard_support_warning("gcp", "1.99", date(2026, 11, 22)) is None


def test_defaults_are_the_newest_eks_version_with_an_autoscaler() -> None:
    assert newest_version("aws") == DEFAULT_KUBERNETES_VERSION
    unpinned = {**DEV_CONFIG, "aws": {k: v for k, v in DEV_CONFIG["aws"].items() if k != "kubernetesVersion"}}
    parsed = parse_stack_config(unpinned, "eks-default")
    assert parsed.aws is not None and parsed.aws.kubernetes_version == newest_version("aws")
    assert set(CLUSTER_AUTOSCALER_IMAGE_TAGS) <= set(EKS), "an autoscaler minor without support dates"


# The default's case starts failing 60 days before its end of standard support
# (1.36: 2027-06-03): on purpose, that is when the default must move on.
@pytest.mark.parametrize(("version", "warned"), [("1.30", True), (DEFAULT_KUBERNETES_VERSION, False)])
def test_the_program_warns_at_preview(version: str, warned: bool) -> None:
    config = {**DEV_CONFIG, "aws": {**DEV_CONFIG["aws"], "kubernetesVersion": version}}
    with mock.patch.object(pulumi.log, "warn") as warn:
        run_main(config, stack="aws-support")
    messages = [call.args[0] for call in warn.call_args_list if "aws.kubernetesVersion" in call.args[0]]
    assert bool(messages) == warned, messages
    if warned:
        assert "Kubernetes 1.30 left standard support on 2025-07-23" in messages[0]
