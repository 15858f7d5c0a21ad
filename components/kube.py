"""Kubernetes objects every platform creates the same way."""

from __future__ import annotations

import pulumi
import pulumi_kubernetes as k8s

MANAGED_BY = {"app.kubernetes.io/managed-by": "pulumi", "app.kubernetes.io/part-of": "airflow-platform"}


def child_options(parent: pulumi.Resource, provider: k8s.Provider, **extra: object) -> pulumi.ResourceOptions:
    """Options for a Kubernetes child: explicit provider, never the ambient context."""
    return pulumi.ResourceOptions(parent=parent, provider=provider, **extra)  # type: ignore[arg-type]


def namespace(resource_name: str, name: str, provider: k8s.Provider, parent: pulumi.Resource) -> k8s.core.v1.Namespace:
    """The Airflow namespace. Created by the platform because its PVCs live there."""
    return k8s.core.v1.Namespace(
        resource_name,
        metadata=k8s.meta.v1.ObjectMetaArgs(name=name, labels=MANAGED_BY),
        opts=child_options(parent, provider),
    )


def volume_claim(
    resource_name: str,
    *,
    name: str,
    namespace: pulumi.Input[str],
    size: str,
    access_mode: str,
    storage_class: pulumi.Input[str] | None,
    provider: k8s.Provider,
    parent: pulumi.Resource,
    protect: bool,
) -> k8s.core.v1.PersistentVolumeClaim:
    """A PVC holding data users care about: protected on production stacks."""
    return k8s.core.v1.PersistentVolumeClaim(
        resource_name,
        metadata=k8s.meta.v1.ObjectMetaArgs(name=name, namespace=namespace, labels=MANAGED_BY),
        spec=k8s.core.v1.PersistentVolumeClaimSpecArgs(
            access_modes=[access_mode],
            storage_class_name=storage_class,
            resources=k8s.core.v1.VolumeResourceRequirementsArgs(requests={"storage": size}),
        ),
        opts=child_options(parent, provider, protect=protect),
    )


def load_balancer_address(status: k8s.core.v1.outputs.ServiceStatus | None) -> str | None:
    """Where a LoadBalancer Service is reached: its first ingress's hostname, else its IP; None until assigned.

    AWS load balancers report a DNS name only (the NLB's IPs are AWS's to
    change, and a Route 53 alias or CNAME must name it), GCP L4 ones an IP
    only. Where a controller reports both, the name is the one that outlives
    a change of the addresses behind it.
    """
    ingress = status.load_balancer.ingress if status and status.load_balancer else None
    if not ingress:
        return None
    return ingress[0].hostname or ingress[0].ip or None
