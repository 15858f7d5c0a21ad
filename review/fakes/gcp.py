"""Outputs a real Google provider would return, for every attribute the GCP platform reads.

Without them the mocks echo inputs only, and reads such as the cluster's
endpoint, the Cloud SQL private IP or an autonamed resource's `name` resolve
to None: the kubeconfig, the connection URL, the log folder and the IAM
members would be built from nothing and their tests would pass vacuously.
"""

from __future__ import annotations

from typing import Any

from review.runner import fake_bytes, register_fake_call, register_fake_outputs

PROJECT_NUMBER = "123456789012"
# The project of the fake service accounts: the provider, not the resource, holds it.
FAKE_PROJECT = "fake-project-0000"
CLUSTER_ENDPOINT = "34.76.0.10"
CLUSTER_CA = "LS0tLS1CRUdJTiBDRVJUSUZJQ0FURS0tLS0tCmZha2UKLS0tLS1FTkQgQ0VSVElGSUNBVEUtLS0tLQo="
UI_ADDRESS = "34.76.0.99"
GATEWAY_ADDRESS = "34.120.0.80"
SQL_PRIVATE_IP = "10.16.0.3"


def autonamed(name: str) -> str:
    """What Pulumi's autonaming would call the resource: the logical name plus a suffix."""
    return f"{name}-5f3c2a1"


@register_fake_outputs("gcp:container/cluster:Cluster")
def _cluster(name: str, inputs: dict[str, Any]) -> dict[str, Any]:
    location = inputs.get("location", "europe-west1")
    return {
        "name": autonamed(name),
        "endpoint": CLUSTER_ENDPOINT,
        "masterAuth": {**inputs.get("masterAuth", {}), "clusterCaCertificate": CLUSTER_CA},
        # GKE names it gke-<hex id>-<project number>.<location>.gke.goog.
        "controlPlaneEndpointsConfig": {
            **inputs.get("controlPlaneEndpointsConfig", {}),
            "dnsEndpointConfig": {
                **inputs.get("controlPlaneEndpointsConfig", {}).get("dnsEndpointConfig", {}),
                "endpoint": f"gke-{fake_bytes(name, 16).hex()}-{PROJECT_NUMBER}.{location}.gke.goog",
            },
        },
    }


@register_fake_outputs("gcp:container/nodePool:NodePool")
def _node_pool(name: str, inputs: dict[str, Any]) -> dict[str, Any]:
    return {"name": autonamed(name)}


@register_fake_outputs("gcp:compute/network:Network")
def _network(name: str, inputs: dict[str, Any]) -> dict[str, Any]:
    return {"name": autonamed(name), "selfLink": f"https://compute.googleapis.com/v1/{autonamed(name)}"}


@register_fake_outputs("gcp:compute/router:Router")
def _router(name: str, inputs: dict[str, Any]) -> dict[str, Any]:
    return {"name": autonamed(name)}


@register_fake_outputs("gcp:compute/globalAddress:GlobalAddress")
def _global_address(name: str, inputs: dict[str, Any]) -> dict[str, Any]:
    # A reserved range keeps the address it asked for; an external one is allocated.
    return {"name": autonamed(name), "address": inputs.get("address") or GATEWAY_ADDRESS}


@register_fake_outputs("gcp:compute/managedSslCertificate:ManagedSslCertificate")
def _managed_certificate(name: str, inputs: dict[str, Any]) -> dict[str, Any]:
    return {"name": autonamed(name), "certificateId": 1234567890}


@register_fake_outputs("gcp:compute/securityPolicy:SecurityPolicy")
def _security_policy(name: str, inputs: dict[str, Any]) -> dict[str, Any]:
    return {"name": autonamed(name)}


@register_fake_outputs("gcp:compute/sSLPolicy:SSLPolicy")
def _ssl_policy(name: str, inputs: dict[str, Any]) -> dict[str, Any]:
    return {"name": autonamed(name)}


@register_fake_outputs("gcp:compute/address:Address")
def _address(name: str, inputs: dict[str, Any]) -> dict[str, Any]:
    return {"name": autonamed(name), "address": UI_ADDRESS}


@register_fake_outputs("gcp:sql/databaseInstance:DatabaseInstance")
def _sql_instance(name: str, inputs: dict[str, Any]) -> dict[str, Any]:
    return {
        "name": autonamed(name),
        "privateIpAddress": SQL_PRIVATE_IP,
        "connectionName": f"{FAKE_PROJECT}:{inputs['region']}:{autonamed(name)}",
    }


@register_fake_outputs("gcp:storage/bucket:Bucket")
def _bucket(name: str, inputs: dict[str, Any]) -> dict[str, Any]:
    return {"name": autonamed(name), "url": f"gs://{autonamed(name)}"}


@register_fake_outputs("gcp:serviceaccount/account:Account")
def _service_account(name: str, inputs: dict[str, Any]) -> dict[str, Any]:
    email = f"{inputs['accountId']}@{FAKE_PROJECT}.iam.gserviceaccount.com"
    return {
        "email": email,
        "name": f"projects/{FAKE_PROJECT}/serviceAccounts/{email}",
        "member": f"serviceAccount:{email}",
    }


@register_fake_outputs("gcp:kms/keyRing:KeyRing")
def _key_ring(name: str, inputs: dict[str, Any]) -> dict[str, Any]:
    return {"name": autonamed(name)}


@register_fake_outputs("gcp:kms/cryptoKey:CryptoKey")
def _crypto_key(name: str, inputs: dict[str, Any]) -> dict[str, Any]:
    return {"name": autonamed(name)}


@register_fake_call("gcp:organizations/getProject:getProject")
def _get_project(args: dict[str, Any]) -> dict[str, Any]:
    return {"number": PROJECT_NUMBER, "projectId": args.get("projectId", FAKE_PROJECT)}
