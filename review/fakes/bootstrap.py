"""Outputs a real provider would return for what the bootstrap project (bootstrap/) reads.

The identities' members and the Actions variables are built from these; echoed
inputs alone would leave them None and the trust tests would check nothing.
"""

from __future__ import annotations

from typing import Any

from review.fakes.aws import ACCOUNT
from review.fakes.gcp import PROJECT_NUMBER
from review.runner import fake_bytes, register_fake_call, register_fake_outputs

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


@register_fake_call("aws:iam/getOpenIdConnectProvider:getOpenIdConnectProvider")
def _existing_oidc_provider(args: dict[str, Any]) -> dict[str, Any]:
    """GitHub's provider as an account that already has one holds it: the STS audience only."""
    host = args["arn"].split(":oidc-provider/", 1)[1]
    return {
        "arn": args["arn"],
        "url": host,
        "clientIdLists": ["sts.amazonaws.com"],
        "thumbprintLists": [],
        "id": args["arn"],
    }


@register_fake_outputs("random:index/randomId:RandomId")
def _random_id(name: str, inputs: dict[str, Any]) -> dict[str, Any]:
    data = fake_bytes(name, int(inputs["byteLength"]))
    return {"hex": data.hex(), "dec": str(int.from_bytes(data, "big"))}
