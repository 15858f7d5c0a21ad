"""HTTPS for the Airflow UI on GKE: a Gateway with a Google-managed certificate, allowlisted by Cloud Armor.

Why this mechanism (issue 13 compared the options): GKE's own Gateway
controller builds a global external Application Load Balancer from a few
Kubernetes objects, and Google issues and renews the certificate once the
domain resolves to the load balancer's address: no controller to install, no
private key in the cluster, Helm values or outputs. An L7 load balancer does
not read `loadBalancerSourceRanges`, so the allowlist moves to a Cloud Armor
policy attached to the backend (GKE docs, "Configure Gateway resources using
Policies": GCPBackendPolicy and HealthCheckPolicy target the Service).

The chart's own API Service stays ClusterIP on 8080 (task pods, probes and the
execution API never leave the cluster); the HTTPRoute sends the Gateway's
traffic to it. The Gateway has an HTTPS listener only: plain HTTP is closed.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import pulumi
import pulumi_gcp as gcp
import pulumi_kubernetes as k8s

from components.airflow.values import API_SERVER_PORT
from components.kube import MANAGED_BY, child_options
from components.platform import DnsRecord, api_server_service_name

HTTPS_PORT = 443
# The global external Application Load Balancer (GKE "GatewayClass capabilities").
GATEWAY_CLASS = "gke-l7-global-external-managed"
GATEWAY_GROUP = "gateway.networking.k8s.io"
GATEWAY_API = f"{GATEWAY_GROUP}/v1"
GKE_POLICY_API = "networking.gke.io/v1"
# A Compute Engine SSL certificate (Google-managed) the listener presents by name.
PRE_SHARED_CERTS = "networking.gke.io/pre-shared-certs"
# Airflow 3's unauthenticated health endpoint (airflow/api_fastapi/core_api/routes/public/monitor.py).
HEALTH_PATH = "/api/v2/monitor/health"
# Cloud Armor: at most 10 source ranges per basic-match rule (SecurityPolicyRuleMatchConfig.src_ip_ranges).
RANGES_PER_RULE = 10
FIRST_ALLOW_PRIORITY = 1000
# The mandatory default rule sits at the lowest priority and denies everyone else.
DEFAULT_RULE_PRIORITY = 2147483647
DNS_TTL_SECONDS = 300
# Without a policy the load balancer uses Google's default SSL policy: TLS 1.0
# and the COMPATIBLE profile. MODERN with TLS 1.2 as the floor keeps TLS 1.2
# with forward-secret AEAD ciphers and TLS 1.3 (Cloud Load Balancing, "SSL
# policies overview": pre-defined profiles), as the AWS NLB pins TLS 1.2/1.3.
TLS_PROFILE = "MODERN"
MIN_TLS_VERSION = "TLS_1_2"
# Where the global external Application Load Balancer's proxies (GFEs) reach
# zonal NEG backends - the pods - from, IPv4: the same ranges as its health
# checks (Cloud Load Balancing docs, "Firewall rules", global external ALB).
# They terminate TLS and set X-Forwarded-Proto; X-Forwarded-For ends with the
# load balancer's own address.
GFE_PROXY_RANGES = ("35.191.0.0/16", "130.211.0.0/22")


@dataclass(frozen=True)
class HttpsEntryArgs:
    domain: str
    # Cloud DNS managed-zone name holding `domain`; None: the record is exported for the user.
    dns_zone: str | None
    namespace: pulumi.Input[str]
    release_name: str
    source_ranges: Sequence[str]
    provider: k8s.Provider
    # The compute API (addresses, certificates, Cloud Armor).
    apis: Sequence[pulumi.Resource]


class HttpsEntry(pulumi.ComponentResource):
    """Global address, managed certificate, Cloud Armor allowlist, Gateway + route + policies, DNS.

    GCP resources use the provider the parent passes down (`providers=[...]`).
    """

    address: gcp.compute.GlobalAddress
    certificate: gcp.compute.ManagedSslCertificate
    security_policy: gcp.compute.SecurityPolicy
    ssl_policy: gcp.compute.SSLPolicy
    gateway: k8s.apiextensions.CustomResource
    manual_dns_records: Sequence[DnsRecord]

    def __init__(self, name: str, args: HttpsEntryArgs, opts: pulumi.ResourceOptions | None = None) -> None:
        super().__init__("airflow-platform:gcp:HttpsEntry", name, None, opts)
        gcp_child = pulumi.ResourceOptions(parent=self, depends_on=list(args.apis))
        service = api_server_service_name(args.release_name)

        # Reserved, so the DNS record stays valid when the Gateway is re-created.
        self.address = gcp.compute.GlobalAddress(
            f"{name}-address", address_type="EXTERNAL", ip_version="IPV4", opts=gcp_child
        )
        # Free; Google provisions it once the domain resolves to the address
        # (up to about an hour) and renews it while it does. A changed domain
        # replaces it (autonamed, so the new one exists before the old goes).
        self.certificate = gcp.compute.ManagedSslCertificate(
            f"{name}-certificate",
            managed=gcp.compute.ManagedSslCertificateManagedArgs(domains=[args.domain]),
            opts=gcp_child,
        )
        self.security_policy = gcp.compute.SecurityPolicy(
            f"{name}-allowlist",
            description="Airflow UI: only loadBalancer.sourceRanges; everyone else gets 403",
            type="CLOUD_ARMOR",
            rules=allowlist_rules(args.source_ranges),
            opts=gcp_child,
        )

        self.ssl_policy = gcp.compute.SSLPolicy(
            f"{name}-tls",
            description="Airflow UI: TLS 1.2 or newer, MODERN ciphers",
            profile=TLS_PROFILE,
            min_tls_version=MIN_TLS_VERSION,
            opts=gcp_child,
        )

        k8s_child = child_options(self, args.provider)
        gateway_name = f"{service}-https"
        self.gateway = k8s.apiextensions.CustomResource(
            f"{name}-gateway",
            api_version=GATEWAY_API,
            kind="Gateway",
            metadata=_metadata(gateway_name, args.namespace),
            spec={
                "gatewayClassName": GATEWAY_CLASS,
                "listeners": [
                    {
                        "name": "https",
                        "protocol": "HTTPS",
                        "port": HTTPS_PORT,
                        "tls": {"mode": "Terminate", "options": {PRE_SHARED_CERTS: self.certificate.name}},
                    }
                ],
                "addresses": [{"type": "NamedAddress", "value": self.address.name}],
            },
            # The Gateway controller attaches the certificate, the SSL policy
            # and (through the backend policy) the Cloud Armor policy to the
            # load balancer it builds, and detaches them only when it tears
            # the load balancer down, on the Gateway's deletion (its
            # finalizer; Pulumi waits for the object to go). Depending on all
            # three makes `pulumi destroy` delete the Gateway first, so GCP
            # never refuses a policy or certificate "in use" by a proxy or a
            # backend service the controller has not let go of yet.
            opts=child_options(
                self, args.provider, depends_on=[self.certificate, self.ssl_policy, self.security_policy]
            ),
        )
        k8s.apiextensions.CustomResource(
            f"{name}-route",
            api_version=GATEWAY_API,
            kind="HTTPRoute",
            metadata=_metadata(service, args.namespace),
            spec={
                "parentRefs": [{"name": gateway_name}],
                "hostnames": [args.domain],
                "rules": [{"backendRefs": [{"name": service, "port": API_SERVER_PORT}]}],
            },
            opts=child_options(self, args.provider, depends_on=[self.gateway]),
        )
        target = {"group": "", "kind": "Service", "name": service}
        # The load balancer's default check asks `/` on the serving port; the
        # API server answers it with a redirect, so ask the health endpoint.
        _gke_policy(
            f"{name}-health-check",
            "HealthCheckPolicy",
            _metadata(service, args.namespace),
            {
                "default": {
                    "config": {
                        "type": "HTTP",
                        "httpHealthCheck": {"portSpecification": "USE_SERVING_PORT", "requestPath": HEALTH_PATH},
                    }
                },
                "targetRef": target,
            },
            k8s_child,
        )
        _gke_policy(
            f"{name}-backend-policy",
            "GCPBackendPolicy",
            _metadata(service, args.namespace),
            {"default": {"securityPolicy": self.security_policy.name}, "targetRef": target},
            k8s_child,
        )

        # GKE docs, "Configure Gateway resources using Policies" (SSL policies
        # to secure client-to-load-balancer traffic): a GCPGatewayPolicy
        # attaches to a gateway.networking.k8s.io Gateway in its own namespace.
        _gke_policy(
            f"{name}-gateway-policy",
            "GCPGatewayPolicy",
            _metadata(gateway_name, args.namespace),
            {
                "default": {"sslPolicy": self.ssl_policy.name},
                "targetRef": {"group": GATEWAY_GROUP, "kind": "Gateway", "name": gateway_name},
            },
            child_options(self, args.provider, depends_on=[self.gateway]),
        )

        if args.dns_zone is not None:
            gcp.dns.RecordSet(
                f"{name}-domain-record",
                managed_zone=args.dns_zone,
                name=f"{args.domain}.",
                type="A",
                ttl=DNS_TTL_SECONDS,
                rrdatas=[self.address.address],
                opts=pulumi.ResourceOptions(parent=self),
            )
            self.manual_dns_records = ()
        else:
            # The certificate provisions only once this record resolves.
            self.manual_dns_records = (
                DnsRecord(purpose="the Airflow UI", name=args.domain, type="A", value=self.address.address),
            )
        self.register_outputs({"address": self.address.address, "certificate": self.certificate.name})


def allowlist_rules(source_ranges: Sequence[str]) -> list[gcp.compute.SecurityPolicyRuleArgs]:
    """Allow the ranges (10 per rule, Cloud Armor's limit), deny everyone else with 403.

    An empty list means what it means for `loadBalancerSourceRanges`: anyone
    (config allows it only with loadBalancer.allowPublicAccess).
    """
    allowed = list(source_ranges) or ["*"]
    chunks = [allowed[start : start + RANGES_PER_RULE] for start in range(0, len(allowed), RANGES_PER_RULE)]
    rules = [
        _ip_rule("allow", FIRST_ALLOW_PRIORITY + index, list(chunk), f"loadBalancer.sourceRanges, part {index + 1}")
        for index, chunk in enumerate(chunks)
    ]
    rules.append(_ip_rule("deny(403)", DEFAULT_RULE_PRIORITY, ["*"], "default: everyone not allowed above"))
    return rules


def _ip_rule(action: str, priority: int, ranges: list[str], description: str) -> gcp.compute.SecurityPolicyRuleArgs:
    return gcp.compute.SecurityPolicyRuleArgs(
        action=action,
        priority=priority,
        description=description,
        match=gcp.compute.SecurityPolicyRuleMatchArgs(
            versioned_expr="SRC_IPS_V1",
            config=gcp.compute.SecurityPolicyRuleMatchConfigArgs(src_ip_ranges=ranges),
        ),
    )


def _gke_policy(
    resource_name: str, kind: str, metadata: dict[str, Any], spec: dict[str, Any], opts: pulumi.ResourceOptions
) -> k8s.apiextensions.CustomResource:
    """A GKE Gateway policy object (networking.gke.io/v1) that configures the load balancer GKE builds."""
    return k8s.apiextensions.CustomResource(
        resource_name, api_version=GKE_POLICY_API, kind=kind, metadata=metadata, spec=spec, opts=opts
    )


def _metadata(name: str, namespace: pulumi.Input[str]) -> dict[str, Any]:
    return {"name": name, "namespace": namespace, "labels": MANAGED_BY}
