"""HTTPS for the UI on EKS through `__main__.py` under mocks: ACM certificate, 443-only NLB, DNS.

The tests' own configs (never the shipped stack files' values): a production
stack with a Route 53 zone, and a non-production one without a zone.
"""

from __future__ import annotations

import json
from typing import Any
from unittest import mock

import pulumi
import pytest
import stack_checks as checks
from pulumi.runtime import rpc

from components.aws.https import (
    BACKEND_PROTOCOL_ANNOTATION,
    SKIP_AWAIT_ANNOTATION,
    SSL_CERT_ANNOTATION,
    SSL_POLICY_ANNOTATION,
    SSL_PORTS_ANNOTATION,
)
from review.fakes.aws import NLB_HOSTED_ZONE
from review.runner import RecordingMocks, Registered, Run, run_main

from .test_autoscaler import DEV_CONFIG
from .test_stack import airflow_only

DOMAIN = "airflow.acme.example"
ZONE = "Z0ACMEEXAMPLE0ZONE01"
ALLOWLIST = ["198.51.100.0/24", "192.0.2.17/32"]
CERTIFICATE = "aws:acm/certificate:Certificate"
VALIDATION = "aws:acm/certificateValidation:CertificateValidation"
RECORD = "aws:route53/record:Record"
SERVICE = "kubernetes:core/v1:Service"
LB_TYPE = "service.beta.kubernetes.io/aws-load-balancer-type"

WITH_ZONE: dict[str, Any] = {
    **DEV_CONFIG,
    "production": True,
    "loadBalancer": {"sourceRanges": ALLOWLIST},
    "ui": {"domain": DOMAIN, "dnsZone": ZONE},
}
WITHOUT_ZONE: dict[str, Any] = {**DEV_CONFIG, "loadBalancer": {"sourceRanges": ALLOWLIST}, "ui": {"domain": DOMAIN}}


@pytest.fixture(scope="module")
def zoned() -> Run:
    return run_main(WITH_ZONE, stack="aws-https-zone")


@pytest.fixture(scope="module")
def unzoned() -> Run:
    return run_main(WITHOUT_ZONE, stack="aws-https")


@pytest.fixture(params=["zoned", "unzoned"])
def run(request: pytest.FixtureRequest) -> Run:
    return request.getfixturevalue(request.param)


def https_service(run: Run) -> Registered:
    """The platform's own LoadBalancer Service (the chart's is ClusterIP, inside the Release)."""
    [service] = [s for s in run.of_type(SERVICE) if not s.read and s.inputs["spec"]["type"] == "LoadBalancer"]
    return service


def validation_option(run: Run) -> dict[str, str]:
    [option] = run.one(CERTIFICATE).outputs["domainValidationOptions"]
    return option


def test_certificate_is_acm_dns_validated_for_the_domain(run: Run) -> None:
    certificate = run.one(CERTIFICATE).inputs
    assert certificate["domainName"] == DOMAIN
    assert certificate["validationMethod"] == "DNS"


def test_nlb_terminates_tls_on_443_only_with_the_certificate(zoned: Run, unzoned: Run) -> None:
    for run, certificate_arn in (
        (zoned, zoned.one(VALIDATION).inputs["certificateArn"]),
        (unzoned, unzoned.one(CERTIFICATE).outputs["arn"]),
    ):
        service = https_service(run).inputs
        annotations = service["metadata"]["annotations"]
        assert annotations[LB_TYPE] == "nlb"
        assert annotations[SSL_CERT_ANNOTATION] == certificate_arn == run.one(CERTIFICATE).outputs["arn"]
        assert annotations[SSL_PORTS_ANNOTATION] == "443"
        assert annotations[BACKEND_PROTOCOL_ANNOTATION] == "tcp"
        assert annotations[SSL_POLICY_ANNOTATION].startswith("ELBSecurityPolicy-TLS13")
        ports = [(port["port"], port["targetPort"], port["protocol"]) for port in service["spec"]["ports"]]
        assert ports == [(443.0, 8080.0, "TCP")], "plain HTTP must have no listener"


def test_https_service_keeps_the_allowlist_and_selects_the_chart_api_server_pods(run: Run) -> None:
    spec = https_service(run).inputs["spec"]
    assert spec["loadBalancerSourceRanges"] == ALLOWLIST
    # chart/templates/api-server/api-server-service.yaml selects the API server pods by these labels.
    assert spec["selector"] == {"tier": "airflow", "component": "api-server", "release": "airflow"}


def test_chart_service_stays_internal_and_airflow_links_use_https(run: Run) -> None:
    values = checks.release_values(airflow_only(run))
    assert values["apiServer"]["service"] == {"type": "ClusterIP"}
    assert values["config"]["api"]["base_url"] == f"https://{DOMAIN}"
    # Task pods keep calling the API inside the cluster, never through the allowlisted NLB.
    assert values["config"]["core"]["execution_api_server_url"] == "http://airflow-api-server:8080/execution/"
    assert run.exports["airflowUrl"].value == f"https://{DOMAIN}"
    assert "uiPortForward" not in run.exports
    checks.assert_release_values_match_chart_schema(airflow_only(run))
    assert checks.assert_manifests_validate(run) > 0


def test_with_a_zone_the_stack_validates_the_certificate_and_points_the_domain_at_the_nlb(zoned: Run) -> None:
    option = validation_option(zoned)
    records = {record.name: record for record in zoned.of_type(RECORD)}
    validation_record = records["aws-https-validation-record"].inputs
    assert validation_record["zoneId"] == ZONE
    assert (validation_record["name"], validation_record["type"], validation_record["records"]) == (
        option["resourceRecordName"],
        option["resourceRecordType"],
        [option["resourceRecordValue"]],
    )
    validation = zoned.one(VALIDATION)
    assert validation.inputs["validationRecordFqdns"] == [records["aws-https-validation-record"].outputs["fqdn"]]
    service = https_service(zoned)
    assert validation.urn in service.dependencies, "the listener must wait for an issued certificate"
    assert SKIP_AWAIT_ANNOTATION not in service.inputs["metadata"]["annotations"]

    domain_record = records["aws-https-domain-record"].inputs
    assert (domain_record["zoneId"], domain_record["name"], domain_record["type"]) == (ZONE, DOMAIN, "A")
    [alias] = domain_record["aliases"]
    hostname = service.outputs["status"]["loadBalancer"]["ingress"][0]["hostname"]
    assert alias["name"] == hostname and hostname.endswith(".elb.eu-west-1.amazonaws.com")
    assert alias["zoneId"] == NLB_HOSTED_ZONE
    assert "uiDnsRecords" not in zoned.exports


def test_without_a_zone_the_records_to_create_are_exported(unzoned: Run) -> None:
    assert not unzoned.of_type(RECORD) and not unzoned.of_type(VALIDATION)
    service = https_service(unzoned)
    # The certificate waits for the user's record: `pulumi up` must not wait for the NLB.
    assert service.inputs["metadata"]["annotations"][SKIP_AWAIT_ANNOTATION] == "true"
    [live] = [s for s in unzoned.of_type(SERVICE) if s.read]
    address = live.outputs["status"]["loadBalancer"]["ingress"][0]
    option = validation_option(unzoned)
    validation, domain = unzoned.exports["uiDnsRecords"].value
    assert (validation["name"], validation["type"], validation["value"]) == (
        option["resourceRecordName"],
        "CNAME",
        option["resourceRecordValue"],
    )
    assert (domain["name"], domain["type"]) == (DOMAIN, "CNAME")
    assert domain["value"] == (address.get("hostname") or address.get("ip"))


def test_no_private_key_in_values_or_outputs(run: Run) -> None:
    rendered = json.dumps(checks.release_values(airflow_only(run)), default=str) + json.dumps(
        {name: exported.value for name, exported in run.exports.items()}, default=str
    )
    assert "PRIVATE KEY" not in rendered


def test_internal_scheme_reaches_the_https_load_balancer() -> None:
    config = {**WITHOUT_ZONE, "aws": {**WITHOUT_ZONE["aws"], "loadBalancerScheme": "internal"}}
    annotations = https_service(run_main(config, stack="aws-https-internal")).inputs["metadata"]["annotations"]
    assert annotations["service.beta.kubernetes.io/aws-load-balancer-internal"] == "true"


@pytest.mark.parametrize(("config", "warned"), [(DEV_CONFIG, True), (WITHOUT_ZONE, False)])
def test_preview_warns_about_plain_http_only_without_a_domain(config: dict[str, Any], warned: bool) -> None:
    with mock.patch.object(pulumi.log, "warn") as warn:
        run_main(config, stack="aws-warn")
    messages = [str(call.args[0]) for call in warn.call_args_list]
    assert any("ui.domain is unset" in message for message in messages) is warned, messages


def test_a_custom_release_name_reaches_the_service_the_chart_names() -> None:
    """The chart names its Service `<release>-api-server` whatever the release name holds
    (useStandardNaming off): the execution API URL and the HTTPS Service must follow it."""
    run = run_main({**WITHOUT_ZONE, "airflow": {"releaseName": "data"}}, stack="aws-https-data")
    values = checks.release_values(airflow_only(run))
    assert values["config"]["core"]["execution_api_server_url"] == "http://data-api-server:8080/execution/"
    https = [s for s in run.of_type("kubernetes:core/v1:Service") if not s.read]
    assert [s.inputs["metadata"]["name"] for s in https] == ["data-api-server-https"]


class PreviewOfALiveStack(RecordingMocks):
    """The engine's answers in `pulumi preview` of a stack whose cluster exists: every resource
    is known (as in the other runs) but the HTTPS Service, which is still to be created when
    `creating` holds: it gets no id and no status (a Create in preview returns its inputs
    only). Records the id of every read the program sends."""

    def __init__(self, creating: bool) -> None:
        self.creating = creating
        self.reads: list[tuple[str, str]] = []

    def new_resource(self, args: pulumi.runtime.MockResourceArgs) -> tuple[str, dict[str, Any]]:
        if args.resource_id:  # a read (`Resource.get`) carries the id to read
            self.reads.append((args.typ, args.resource_id))
        elif args.typ == SERVICE and args.name == "aws-https-service":
            if self.creating:
                return "", dict(args.inputs)
            # pulumi-kubernetes identifies a namespaced object as `<namespace>/<name>`.
            metadata = args.inputs["metadata"]
            return f"{metadata['namespace']}/{metadata['name']}", super().new_resource(args)[1]
        return super().new_resource(args)


@pytest.mark.parametrize("creating", [True, False], ids=["service-to-create", "service-exists"])
def test_preview_reads_the_live_service_only_once_it_exists(creating: bool) -> None:
    """Issue 18 item 1: the engine runs Read steps in preview and fails on a 404 unless the id
    is unknown, so adding ui.domain to a live stack must not read a Service not yet created."""
    mocks = PreviewOfALiveStack(creating)
    run_main(WITHOUT_ZONE, stack="aws-https-preview", preview=True, mocks=mocks)
    [read_id] = [resource_id for typ, resource_id in mocks.reads if typ == SERVICE]
    if creating:
        assert read_id == rpc.UNKNOWN, f"the preview reads Service {read_id!r}, which does not exist yet"
    else:
        assert read_id == "airflow/airflow-api-server-https", "an existing Service is read as before"
