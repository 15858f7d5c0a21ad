"""HTTPS for the UI on GKE through `__main__.py` under mocks: Gateway, managed certificate, Cloud Armor, DNS.

The tests' own configs (never the shipped stack files' values): a production
stack with a Cloud DNS zone and eleven allowed ranges (two Cloud Armor rules),
and a non-production one without a zone.
"""

from __future__ import annotations

import json
from typing import Any

import jsonschema
import pytest
import stack_checks as checks

from components.gcp.https import allowlist_rules
from review.fakes import gcp as fakes
from review.runner import Registered, Run, run_main

DOMAIN = "airflow.acme.example"
ZONE = "acme-example"
ALLOWLIST = [f"198.51.100.{index * 16}/28" for index in range(10)] + ["192.0.2.17/32"]
GATEWAY = "kubernetes:gateway.networking.k8s.io/v1:Gateway"
ROUTE = "kubernetes:gateway.networking.k8s.io/v1:HTTPRoute"
HEALTH_CHECK = "kubernetes:networking.gke.io/v1:HealthCheckPolicy"
BACKEND_POLICY = "kubernetes:networking.gke.io/v1:GCPBackendPolicy"
GATEWAY_POLICY = "kubernetes:networking.gke.io/v1:GCPGatewayPolicy"
SSL_POLICY = "gcp:compute/sSLPolicy:SSLPolicy"
CERTIFICATE = "gcp:compute/managedSslCertificate:ManagedSslCertificate"
SECURITY_POLICY = "gcp:compute/securityPolicy:SecurityPolicy"
RECORD_SET = "gcp:dns/recordSet:RecordSet"
CLUSTER = "gcp:container/cluster:Cluster"
API_SERVICE = "airflow-api-server"

BASE: dict[str, Any] = {
    "cloud": "gcp",
    "gcp": {
        "project": "acme-airflow-prod",
        "region": "europe-west1",
        "masterAuthorizedNetworks": [{"cidr": "198.51.100.0/24", "name": "vpn"}],
    },
    "loadBalancer": {"sourceRanges": ALLOWLIST},
    "dags": {"source": "git", "repo": "git@github.com:acme/airflow-dags.git"},
    "airflow": {"sharedDataSize": "1Ti"},
}
WITH_ZONE = {**BASE, "production": True, "ui": {"domain": DOMAIN, "dnsZone": ZONE}}
WITHOUT_ZONE = {**BASE, "ui": {"domain": DOMAIN}}


@pytest.fixture(scope="module")
def zoned() -> Run:
    return run_main(WITH_ZONE, stack="gcp-https-zone")


@pytest.fixture(scope="module")
def unzoned() -> Run:
    return run_main(WITHOUT_ZONE, stack="gcp-https")


@pytest.fixture(params=["zoned", "unzoned"])
def run(request: pytest.FixtureRequest) -> Run:
    return request.getfixturevalue(request.param)


def gateway_address(run: Run) -> Registered:
    [address] = [a for a in run.of_type("gcp:compute/globalAddress:GlobalAddress") if a.inputs.get("purpose") is None]
    return address


def test_cluster_runs_the_gateway_controller_and_no_regional_ui_address_is_reserved(run: Run) -> None:
    assert run.one(CLUSTER).inputs["gatewayApiConfig"] == {"channel": "CHANNEL_STANDARD"}
    assert not run.of_type("gcp:compute/address:Address"), "the plain-HTTP address would cost for nothing"
    address = gateway_address(run).inputs
    assert (address["addressType"], address["ipVersion"]) == ("EXTERNAL", "IPV4")


def test_plain_http_stack_keeps_its_regional_address_and_no_gateway() -> None:
    plain = run_main({**BASE, "gcp": {**BASE["gcp"], "uiAccess": "loadBalancer"}}, stack="gcp-plain")
    assert "gatewayApiConfig" not in plain.one(CLUSTER).inputs
    assert plain.one("gcp:compute/address:Address")
    assert not plain.of_type(GATEWAY) and not plain.of_type(CERTIFICATE) and not plain.of_type(SECURITY_POLICY)


def test_google_managed_certificate_for_the_domain(run: Run) -> None:
    assert run.one(CERTIFICATE).inputs["managed"] == {"domains": [DOMAIN]}


def test_gateway_has_one_https_listener_on_the_global_address_with_the_certificate(run: Run) -> None:
    gateway = run.one(GATEWAY).inputs
    spec = gateway["spec"]
    assert spec["gatewayClassName"] == "gke-l7-global-external-managed"
    [listener] = spec["listeners"]
    assert (listener["protocol"], listener["port"]) == ("HTTPS", 443.0), "plain HTTP must have no listener"
    assert listener["tls"] == {
        "mode": "Terminate",
        "options": {"networking.gke.io/pre-shared-certs": run.one(CERTIFICATE).outputs["name"]},
    }
    assert spec["addresses"] == [{"type": "NamedAddress", "value": gateway_address(run).outputs["name"]}]
    assert gateway["metadata"]["namespace"] == "airflow"


def test_route_sends_the_domain_to_the_chart_api_service(run: Run) -> None:
    route = run.one(ROUTE)
    spec = route.inputs["spec"]
    assert spec["parentRefs"] == [{"name": run.one(GATEWAY).inputs["metadata"]["name"]}]
    assert spec["hostnames"] == [DOMAIN]
    assert spec["rules"] == [{"backendRefs": [{"name": API_SERVICE, "port": 8080.0}]}]


def test_health_check_asks_airflows_health_endpoint(run: Run) -> None:
    spec = run.one(HEALTH_CHECK).inputs["spec"]
    assert spec["targetRef"] == {"group": "", "kind": "Service", "name": API_SERVICE}
    check = spec["default"]["config"]
    assert check["type"] == "HTTP"
    assert check["httpHealthCheck"]["requestPath"] == "/api/v2/monitor/health"


def test_cloud_armor_allows_the_source_ranges_only(run: Run) -> None:
    policy = run.one(SECURITY_POLICY)
    rules = sorted(policy.inputs["rules"], key=lambda rule: rule["priority"])
    allowed = [cidr for rule in rules if rule["action"] == "allow" for cidr in rule["match"]["config"]["srcIpRanges"]]
    assert allowed == ALLOWLIST
    assert all(len(rule["match"]["config"]["srcIpRanges"]) <= 10 for rule in rules), "Cloud Armor's limit"
    default = rules[-1]
    assert (default["priority"], default["action"]) == (2147483647.0, "deny(403)")
    assert default["match"] == {"versionedExpr": "SRC_IPS_V1", "config": {"srcIpRanges": ["*"]}}
    backend = run.one(BACKEND_POLICY).inputs["spec"]
    assert backend == {
        "default": {"securityPolicy": policy.outputs["name"]},
        "targetRef": {"group": "", "kind": "Service", "name": API_SERVICE},
    }


def test_an_empty_allowlist_means_anyone_as_for_a_load_balancer_service() -> None:
    [allow, deny] = allowlist_rules([])
    assert (allow.action, allow.match.config.src_ip_ranges) == ("allow", ["*"])  # type: ignore[union-attr]
    assert deny.action == "deny(403)"


def test_every_policy_lives_beside_the_service_it_targets(run: Run) -> None:
    for kind in (GATEWAY, ROUTE, HEALTH_CHECK, BACKEND_POLICY, GATEWAY_POLICY):
        resource = run.one(kind)
        assert resource.inputs["metadata"]["namespace"] == "airflow", kind
        assert "pulumi:providers:kubernetes" in resource.provider, f"{kind} uses the ambient kube context"


def test_chart_service_stays_internal_and_airflow_links_use_https(run: Run) -> None:
    values = checks.release_values(run)
    assert values["apiServer"]["service"] == {"type": "ClusterIP"}
    assert values["config"]["api"]["base_url"] == f"https://{DOMAIN}"
    assert values["config"]["core"]["execution_api_server_url"] == "http://airflow-api-server:8080/execution/"
    assert run.exports["airflowUrl"].value == f"https://{DOMAIN}"
    checks.assert_release_values_match_chart_schema(run)
    # Built-in kinds validate strictly; the custom resources are checked above instead.
    assert checks.assert_manifests_validate(run) > 0
    assert all(checks.is_custom_resource(run.one(kind)) for kind in (GATEWAY, ROUTE, HEALTH_CHECK, BACKEND_POLICY))


def test_with_a_zone_the_domain_points_at_the_global_address(zoned: Run) -> None:
    record = zoned.one(RECORD_SET).inputs
    assert (record["managedZone"], record["name"], record["type"]) == (ZONE, f"{DOMAIN}.", "A")
    assert record["rrdatas"] == [fakes.GATEWAY_ADDRESS] == [gateway_address(zoned).outputs["address"]]
    assert "uiDnsRecords" not in zoned.exports


def test_without_a_zone_the_record_to_create_is_exported(unzoned: Run) -> None:
    assert not unzoned.of_type(RECORD_SET)
    [record] = unzoned.exports["uiDnsRecords"].value
    assert (record["name"], record["type"], record["value"]) == (DOMAIN, "A", fakes.GATEWAY_ADDRESS)


def test_no_private_key_in_values_or_outputs(run: Run) -> None:
    rendered = json.dumps(checks.release_values(run), default=str) + json.dumps(
        {name: exported.value for name, exported in run.exports.items()}, default=str
    )
    assert "PRIVATE KEY" not in rendered


# The GCPGatewayPolicy object as GKE documents it ("Configure Gateway resources
# using Policies": spec.default.sslPolicy, a targetRef to a Gateway of
# gateway.networking.k8s.io in the policy's namespace), closed to anything else:
# a misspelt key would be ignored by the controller and the default policy stay.
_NAME = {"type": "string", "pattern": "^[a-z0-9]([-a-z0-9]*[a-z0-9])?$", "maxLength": 63}
GATEWAY_POLICY_SCHEMA = {
    "type": "object",
    "additionalProperties": False,
    "required": ["apiVersion", "kind", "metadata", "spec"],
    "properties": {
        "apiVersion": {"const": "networking.gke.io/v1"},
        "kind": {"const": "GCPGatewayPolicy"},
        "metadata": {
            "type": "object",
            "required": ["name", "namespace"],
            "properties": {"name": _NAME, "namespace": _NAME, "labels": {"type": "object"}},
            "additionalProperties": False,
        },
        "spec": {
            "type": "object",
            "additionalProperties": False,
            "required": ["default", "targetRef"],
            "properties": {
                "default": {
                    "type": "object",
                    "additionalProperties": False,
                    "required": ["sslPolicy"],
                    "properties": {"sslPolicy": _NAME},
                },
                "targetRef": {
                    "type": "object",
                    "additionalProperties": False,
                    "required": ["group", "kind", "name"],
                    "properties": {
                        "group": {"const": "gateway.networking.k8s.io"},
                        "kind": {"const": "Gateway"},
                        "name": _NAME,
                    },
                },
            },
        },
    },
}


def test_the_load_balancer_accepts_tls_1_2_and_newer_with_modern_ciphers_only(run: Run) -> None:
    """Issue 18 item 3: without a policy GKE's load balancer takes TLS 1.0 (Google's default)."""
    ssl_policy = run.one(SSL_POLICY)
    assert (ssl_policy.inputs["minTlsVersion"], ssl_policy.inputs["profile"]) == ("TLS_1_2", "MODERN")
    policy = run.one(GATEWAY_POLICY)
    manifest = {
        "apiVersion": policy.inputs["apiVersion"],
        "kind": policy.inputs["kind"],
        "metadata": policy.inputs["metadata"],
        "spec": policy.inputs["spec"],
    }
    jsonschema.validate(manifest, GATEWAY_POLICY_SCHEMA)
    gateway = run.one(GATEWAY).inputs["metadata"]
    assert policy.inputs["spec"]["targetRef"]["name"] == gateway["name"]
    assert policy.inputs["metadata"]["namespace"] == gateway["namespace"], "a policy only targets its own namespace"
    assert policy.inputs["spec"]["default"]["sslPolicy"] == ssl_policy.outputs["name"]


def test_destroy_deletes_the_gateway_before_what_its_load_balancer_uses(run: Run) -> None:
    """Issue 18 item 5: Pulumi deletes dependents first, and waits for the Gateway's finalizer,
    which holds it until the controller has torn down the proxy and backend service."""
    gateway = run.one(GATEWAY)
    for held in (CERTIFICATE, SSL_POLICY, SECURITY_POLICY):
        assert run.one(held).urn in gateway.dependencies, f"{held} could be deleted while the load balancer uses it"
