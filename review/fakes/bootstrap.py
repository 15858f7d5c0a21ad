"""Outputs a real provider would return for what the bootstrap project (bootstrap/) reads.

The identities' members and the Actions variables are built from these; echoed
inputs alone would leave them None and the trust tests would check nothing.
"""

from __future__ import annotations

from typing import Any

from review.fakes.aws import ACCOUNT
from review.fakes.gcp import PROJECT_NUMBER
from review.runner import register_fake_outputs

POOLS = f"projects/{PROJECT_NUMBER}/locations/global/workloadIdentityPools"


@register_fake_outputs("gcp:iam/workloadIdentityPool:WorkloadIdentityPool")
def _pool(name: str, inputs: dict[str, Any]) -> dict[str, Any]:
    return {"name": f"{POOLS}/{inputs['workloadIdentityPoolId']}"}


@register_fake_outputs("gcp:iam/workloadIdentityPoolProvider:WorkloadIdentityPoolProvider")
def _pool_provider(name: str, inputs: dict[str, Any]) -> dict[str, Any]:
    pool = inputs["workloadIdentityPoolId"]
    return {"name": f"{POOLS}/{pool}/providers/{inputs['workloadIdentityPoolProviderId']}"}


@register_fake_outputs("gcp:projects/iAMCustomRole:IAMCustomRole")
def _custom_role(name: str, inputs: dict[str, Any]) -> dict[str, Any]:
    return {"name": f"projects/{inputs['project']}/roles/{inputs['roleId']}"}


@register_fake_outputs("aws:iam/openIdConnectProvider:OpenIdConnectProvider")
def _oidc_provider(name: str, inputs: dict[str, Any]) -> dict[str, Any]:
    host = inputs["url"].removeprefix("https://")
    return {"arn": f"arn:aws:iam::{ACCOUNT}:oidc-provider/{host}"}
