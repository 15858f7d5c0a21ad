"""HTTPS for the Airflow UI on EKS: an ACM certificate on the TLS listener of an allowlisted NLB.

Why this mechanism (issue 13 compared the options): the in-tree service
controller that already builds the stack's NLB terminates TLS on it from three
Service annotations, with a certificate ACM issues and renews by itself while
its DNS validation record stays in place. No controller to install, no private
key in the cluster, Helm values or outputs, and the allowlist stays where it
was: `loadBalancerSourceRanges`, enforced in the node security group.
(Kubernetes docs, Service, "TLS support on AWS"; the NLB forwards the
decrypted stream to the pods as TCP, its `backend-protocol` default.)

The chart's own API Service stays ClusterIP on 8080: task pods, probes and
the execution API never leave the cluster. This Service selects the same
pods and opens port 443 only: plain HTTP is closed, not redirected (an NLB
listener cannot redirect).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import pulumi
import pulumi_aws as aws
import pulumi_kubernetes as k8s

from components.airflow.values import API_SERVER_PORT
from components.kube import MANAGED_BY, child_options, load_balancer_address
from components.platform import DnsRecord, LoadBalancer, api_server_pod_labels, api_server_service_name

HTTPS_PORT = 443
SSL_CERT_ANNOTATION = "service.beta.kubernetes.io/aws-load-balancer-ssl-cert"
SSL_PORTS_ANNOTATION = "service.beta.kubernetes.io/aws-load-balancer-ssl-ports"
BACKEND_PROTOCOL_ANNOTATION = "service.beta.kubernetes.io/aws-load-balancer-backend-protocol"
SSL_POLICY_ANNOTATION = "service.beta.kubernetes.io/aws-load-balancer-ssl-negotiation-policy"
# TLS 1.3 and 1.2 with forward-secret ciphers only (ELB "Security policies for
# your Network Load Balancer"); the ELB default still accepts TLS 1.0.
TLS_POLICY = "ELBSecurityPolicy-TLS13-1-2-2021-06"
# pulumi-kubernetes waits for a LoadBalancer Service to get an address. Without
# a hosted zone the certificate stays PENDING_VALIDATION until the user adds
# the record, the NLB cannot take it on a TLS listener before that, and the
# wait would fail `pulumi up` after 10 minutes with half the stack applied. The
# service controller keeps retrying on its own and builds the listener once
# ACM has issued the certificate ("Managing resource readiness", skipAwait).
SKIP_AWAIT_ANNOTATION = "pulumi.com/skipAwait"
VALIDATION_TTL_SECONDS = 300
PENDING = "pending: the load balancer has no address yet; run `pulumi up` again after the certificate is issued"


@dataclass(frozen=True)
class HttpsEntryArgs:
    domain: str
    # Route 53 hosted-zone id holding `domain`; None: records exported for the user.
    dns_zone: str | None
    namespace: pulumi.Input[str]
    release_name: str
    # The allowlist and the NLB's base annotations (type, scheme).
    load_balancer: LoadBalancer
    provider: k8s.Provider


class HttpsEntry(pulumi.ComponentResource):
    """Certificate, validation (with a zone), the 443-only NLB Service and the UI's DNS record.

    AWS resources use the provider the parent passes down (`providers={"aws": ...}`).
    """

    certificate: aws.acm.Certificate
    service: k8s.core.v1.Service
    manual_dns_records: Sequence[DnsRecord]

    def __init__(self, name: str, args: HttpsEntryArgs, opts: pulumi.ResourceOptions | None = None) -> None:
        super().__init__("airflow-platform:aws:HttpsEntry", name, None, opts)
        aws_child = pulumi.ResourceOptions(parent=self)
        # Public ACM certificates are free and renew by themselves for as long
        # as the validation CNAME resolves (ACM "Managed certificate renewal").
        # A changed domain replaces the certificate; Pulumi creates the new one
        # and moves the listener to it before deleting the old one.
        self.certificate = aws.acm.Certificate(
            f"{name}-certificate", domain_name=args.domain, validation_method="DNS", opts=aws_child
        )
        record = self.certificate.domain_validation_options.apply(_validation_record)
        validation_name = record.apply(lambda parts: parts[0])
        validation_type = record.apply(lambda parts: parts[1])
        validation_value = record.apply(lambda parts: parts[2])

        certificate_arn: pulumi.Input[str]
        if args.dns_zone is not None:
            validation_record = aws.route53.Record(
                f"{name}-validation-record",
                zone_id=args.dns_zone,
                name=validation_name,
                type=validation_type,
                records=[validation_value],
                ttl=VALIDATION_TTL_SECONDS,
                # The record is the same for every certificate of this name in
                # the account: a stack re-created after a destroy finds it in
                # place (the pattern the provider's docs show).
                allow_overwrite=True,
                opts=aws_child,
            )
            # Waits until ACM reports ISSUED, so the listener below never sees
            # a pending certificate (usually a few minutes with Route 53).
            validation = aws.acm.CertificateValidation(
                f"{name}-validation",
                certificate_arn=self.certificate.arn,
                validation_record_fqdns=[validation_record.fqdn],
                opts=aws_child,
            )
            certificate_arn = validation.certificate_arn
        else:
            certificate_arn = self.certificate.arn

        annotations: dict[str, pulumi.Input[str]] = {
            **args.load_balancer.annotations,
            SSL_CERT_ANNOTATION: certificate_arn,
            SSL_PORTS_ANNOTATION: str(HTTPS_PORT),
            BACKEND_PROTOCOL_ANNOTATION: "tcp",
            SSL_POLICY_ANNOTATION: TLS_POLICY,
        }
        if args.dns_zone is None:
            annotations[SKIP_AWAIT_ANNOTATION] = "true"
        self.service = k8s.core.v1.Service(
            f"{name}-service",
            metadata=k8s.meta.v1.ObjectMetaArgs(
                name=f"{api_server_service_name(args.release_name)}-https",
                namespace=args.namespace,
                labels=MANAGED_BY,
                annotations=annotations,
            ),
            spec=k8s.core.v1.ServiceSpecArgs(
                type="LoadBalancer",
                selector=api_server_pod_labels(args.release_name),
                # Port 443 only: no listener answers plain HTTP.
                ports=[
                    k8s.core.v1.ServicePortArgs(
                        name="https", port=HTTPS_PORT, target_port=API_SERVER_PORT, protocol="TCP"
                    )
                ],
                load_balancer_source_ranges=list(args.load_balancer.source_ranges),
            ),
            opts=child_options(self, args.provider),
        )

        if args.dns_zone is not None:
            # The Service was awaited, so its status holds the NLB's name. An
            # alias (not a CNAME) also works at the zone apex and costs no
            # queries; NLBs of a region share one canonical hosted zone.
            nlb_zone = aws.lb.get_hosted_zone_id_output(
                load_balancer_type="network", opts=pulumi.InvokeOutputOptions(parent=self)
            )
            aws.route53.Record(
                f"{name}-domain-record",
                zone_id=args.dns_zone,
                name=args.domain,
                type="A",
                aliases=[
                    aws.route53.RecordAliasArgs(
                        name=self.service.status.apply(_address_or_pending),
                        zone_id=nlb_zone.id,
                        evaluate_target_health=True,
                    )
                ],
                opts=aws_child,
            )
            self.manual_dns_records = ()
        else:
            # Not awaited: read the live Service on every `pulumi up` so the
            # exported target appears once the controller has built the NLB.
            # The id is the Service's own (`<namespace>/<name>`, what the
            # provider returns on create), not one built from its metadata:
            # Read steps run during preview too, and only an unknown id skips
            # them (pulumi pkg/resource/deploy/step.go, ReadStep.Apply: "the
            # only time we can't run is if the ID we are given is unknown";
            # pulumi-kubernetes#2358). A Service still to be created (ui.domain
            # added to a live stack, a first `up` that stopped half-way) has
            # no id in preview, so the read waits for `up`, after the create;
            # one that exists is read as before.
            live = k8s.core.v1.Service.get(
                f"{name}-service-status",
                self.service.id,
                opts=child_options(self, args.provider, depends_on=[self.service]),
            )
            self.manual_dns_records = (
                DnsRecord(
                    purpose="certificate validation (keep it: ACM renews with it)",
                    name=validation_name,
                    type="CNAME",
                    value=validation_value,
                ),
                DnsRecord(
                    purpose="the Airflow UI",
                    name=args.domain,
                    type="CNAME",
                    value=live.status.apply(_address_or_pending),
                ),
            )
        self.register_outputs({"certificateArn": self.certificate.arn, "service": self.service.metadata.name})


def _validation_record(options: Sequence[aws.acm.outputs.CertificateDomainValidationOption]) -> tuple[str, str, str]:
    """Name, type and value of the certificate's DNS validation record.

    One domain, so one record: ACM lists one option per distinct name.
    """
    [option] = options
    name, kind, value = option.resource_record_name, option.resource_record_type, option.resource_record_value
    if name is None or kind is None or value is None:
        raise ValueError(f"ACM returned an incomplete validation option for {option.domain_name}")
    return name, kind, value


def _address_or_pending(status: k8s.core.v1.outputs.ServiceStatus | None) -> str:
    return load_balancer_address(status) or PENDING
