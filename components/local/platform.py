"""The local platform: an existing cluster reached through a kube context."""

from __future__ import annotations

from dataclasses import dataclass

import pulumi
import pulumi_kubernetes as k8s

from components import kube
from components.config import AirflowSettings, LoadBalancerSettings, LocalSettings
from components.local.postgres import LocalPostgres, LocalPostgresArgs
from components.platform import (
    LOGS_CLAIM_NAME,
    SHARED_DATA_CLAIM_NAME,
    LoadBalancer,
    Placement,
    PlatformOutputs,
)


@dataclass(frozen=True)
class LocalPlatformArgs:
    settings: LocalSettings
    airflow: AirflowSettings
    load_balancer: LoadBalancerSettings
    production: bool


class LocalPlatform(pulumi.ComponentResource):
    """Namespace, in-cluster Postgres, shared-data and logs PVCs on the default StorageClass.

    There is no log bucket on a laptop, so task logs go to a PVC shared by the
    scheduler, API server and task pods. The UI Service is ClusterIP, reached
    with `kubectl port-forward`, unless `local.uiServiceType: LoadBalancer`
    (Docker Desktop, `minikube tunnel` and cloud-provider-kind implement it;
    plain kind does not, and Helm would wait for an address until it times out).
    """

    outputs: PlatformOutputs

    def __init__(self, name: str, args: LocalPlatformArgs, opts: pulumi.ResourceOptions | None = None) -> None:
        super().__init__("airflow-platform:local:Platform", name, None, opts)
        settings = args.settings
        # context=None means the kubeconfig's current context, as kubectl uses.
        provider = k8s.Provider(f"{name}-k8s", context=settings.kube_context, opts=pulumi.ResourceOptions(parent=self))
        namespace = kube.namespace(f"{name}-namespace", args.airflow.namespace, provider, self)

        metadata_db = LocalPostgres(
            f"{name}-metadata-db",
            LocalPostgresArgs(
                namespace=namespace.metadata.name,
                storage_size=settings.database_size,
                storage_class=settings.storage_class,
                provider=provider,
            ),
            opts=pulumi.ResourceOptions(parent=self, protect=args.production),
        )
        claims = {
            claim_name: kube.volume_claim(
                f"{name}-{claim_name}",
                name=claim_name,
                namespace=namespace.metadata.name,
                size=size,
                access_mode=settings.access_mode,
                storage_class=settings.storage_class,
                provider=provider,
                parent=self,
                protect=args.production,
            )
            for claim_name, size in (
                (SHARED_DATA_CLAIM_NAME, args.airflow.shared_data_size),
                (LOGS_CLAIM_NAME, args.airflow.logs_size),
            )
        }
        self.outputs = PlatformOutputs(
            provider=provider,
            namespace=namespace.metadata.name,
            database=metadata_db.database,
            remote_logging=None,
            logs_claim_name=claims[LOGS_CLAIM_NAME].metadata.name,
            service_account_annotations={},
            load_balancer=LoadBalancer(source_ranges=args.load_balancer.source_ranges)
            if settings.ui_service_type == "LoadBalancer"
            else None,
            worker_placement=Placement(),
            dependencies=[metadata_db],
        )
        self.register_outputs({"namespace": namespace.metadata.name})
