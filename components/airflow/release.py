"""The official apache-airflow chart as a `helm.v3.Release`, with its Secrets."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

import pulumi
import pulumi_kubernetes as k8s

from components.airflow.auth import redirect_path
from components.airflow.dag_files import config_map_key
from components.airflow.rbac import task_pod_launcher
from components.airflow.secrets import AirflowSecrets, AirflowSecretsArgs
from components.airflow.values import API_SERVER_PORT, WORKERS, ChartInputs, DagConfigMap, build_values
from components.auth import AuthSettings
from components.config import AirflowSettings, DagSettings
from components.kube import MANAGED_BY, child_options, load_balancer_address
from components.platform import (
    SHARED_DATA_CLAIM_NAME,
    PlatformOutputs,
    api_server_service_name,
    service_account_names,
)
from components.versions import AIRFLOW_CHART_REPOSITORY

# First installs pull images and run the schema migration before the
# scheduler and API server turn ready; Helm's 5-minute default is too short.
RELEASE_TIMEOUT_SECONDS = 20 * 60


@dataclass(frozen=True)
class AirflowReleaseArgs:
    airflow: AirflowSettings
    dags: DagSettings
    platform: PlatformOutputs
    # Relative path -> content, for `dags.source: configmap`.
    dag_files: Mapping[str, str]
    fernet_previous_keys: pulumi.Output[str] | None = None
    # The kubeconfig context the cluster is reached through (local.kubeContext);
    # None: kubectl's current context. Named in the port-forward command.
    kube_context: str | None = None
    auth: AuthSettings | None = None
    # `authClientSecret`, with auth.mode: oidc.
    auth_client_secret: pulumi.Output[str] | None = None
    # `sleep: true`: no node runs the chart's pods (see `timeout` below).
    asleep: bool = False


class AirflowRelease(pulumi.ComponentResource):
    secrets: AirflowSecrets
    # The RoleBinding that lets task pods run pods (KubernetesPodOperator).
    task_pod_launcher: k8s.rbac.v1.RoleBinding
    release: k8s.helm.v3.Release
    url: pulumi.Output[str]
    # Without a LoadBalancer or HTTPS entry point: the command that makes `url` reachable.
    port_forward_command: pulumi.Output[str] | None
    # With auth.mode: oidc, the redirect URI to register at the identity provider.
    auth_redirect_uri: pulumi.Output[str] | None

    def __init__(self, name: str, args: AirflowReleaseArgs, opts: pulumi.ResourceOptions | None = None) -> None:
        super().__init__("airflow-platform:airflow:Release", name, None, opts)
        platform = args.platform
        provider = platform.provider
        self.secrets = AirflowSecrets(
            f"{name}-secrets",
            AirflowSecretsArgs(
                namespace=platform.namespace,
                release_name=args.airflow.release_name,
                admin_username=args.airflow.admin_username,
                database=platform.database,
                dags=args.dags,
                provider=provider,
                fernet_key_generation=args.airflow.fernet_key_generation,
                fernet_previous_keys=args.fernet_previous_keys,
                auth_client_secret=args.auth_client_secret if args.auth is not None and args.auth.oidc else None,
            ),
            opts=pulumi.ResourceOptions(parent=self),
        )

        # KubernetesPodOperator: task pods may run pods of their own in the namespace.
        self.task_pod_launcher = task_pod_launcher(
            f"{name}-task-pod-launcher",
            namespace=platform.namespace,
            release_name=args.airflow.release_name,
            service_account=service_account_names(args.airflow.release_name)[WORKERS],
            provider=provider,
            parent=self,
        )

        dag_config_map = None
        depends_on: list[pulumi.Resource] = [*self.secrets.secrets.values(), *platform.dependencies]
        if args.dags.source == "configmap":
            config_map = k8s.core.v1.ConfigMap(
                f"{name}-dags",
                metadata=k8s.meta.v1.ObjectMetaArgs(
                    name=f"{args.airflow.release_name}-dags", namespace=platform.namespace, labels=MANAGED_BY
                ),
                data={config_map_key(path): content for path, content in args.dag_files.items()},
                opts=child_options(self, provider),
            )
            dag_config_map = DagConfigMap(
                name=config_map.metadata.name, items={config_map_key(path): path for path in args.dag_files}
            )
            depends_on.append(config_map)

        values = build_values(
            ChartInputs(
                airflow=args.airflow,
                dags=args.dags,
                secrets=self.secrets.names,
                secrets_checksum=self.secrets.checksum,
                namespace=platform.namespace,
                # The name, not the claim's Output: only task pods mount it, so the
                # release must not wait for the claim (and, through it, the file system).
                shared_data_claim_name=SHARED_DATA_CLAIM_NAME,
                load_balancer=platform.load_balancer,
                worker_placement=platform.worker_placement,
                remote_logging=platform.remote_logging,
                logs_claim_name=platform.logs_claim_name,
                service_account_annotations=platform.service_account_annotations,
                dag_config_map=dag_config_map,
                environment=platform.environment,
                database_connections=platform.database_connections,
                public_url=platform.public_url,
                docker_hub_mirror=platform.docker_hub_mirror,
                trusted_proxies=platform.trusted_proxies,
                auth=args.auth,
                zoned_nodes=platform.zoned_nodes,
            )
        )
        self.release = k8s.helm.v3.Release(
            f"{name}-chart",
            k8s.helm.v3.ReleaseArgs(
                # A fixed release name keeps chart object names predictable
                # (`<release>-api-server`); Pulumi would add a random suffix.
                name=args.airflow.release_name,
                chart="airflow",
                version=args.airflow.chart_version,
                repository_opts=k8s.helm.v3.RepositoryOptsArgs(repo=AIRFLOW_CHART_REPOSITORY),
                namespace=platform.namespace,
                values=values,
                timeout=RELEASE_TIMEOUT_SECONDS,
                # Roll back a failed upgrade instead of leaving a half-applied release.
                # Asleep, no pod can be scheduled: waiting for ready pods would hold
                # `pulumi up` for the whole timeout and then roll back. So the release
                # is applied without waiting (atomic implies the wait and disables
                # skip_await - the provider's `atomic` doc), and waking waits again
                # for every pod, on the nodes the platform brings back first
                # (platform.dependencies).
                atomic=not args.asleep,
                skip_await=args.asleep,
                cleanup_on_fail=True,
                max_history=10,
            ),
            opts=child_options(self, provider, depends_on=depends_on),
        )

        self.port_forward_command = None
        api_service_name = api_server_service_name(args.airflow.release_name)
        if platform.public_url is not None:
            # The platform's HTTPS entry point; the chart's Service stays internal.
            self.url = pulumi.Output.from_input(platform.public_url)
        elif platform.load_balancer is None:
            self.url = pulumi.Output.from_input(f"http://localhost:{API_SERVER_PORT}")
            context = f"--context {args.kube_context} " if args.kube_context else ""
            self.port_forward_command = pulumi.Output.concat(
                f"kubectl {context}-n ",
                self.release.status.namespace,
                f" port-forward svc/{api_service_name} {API_SERVER_PORT}:{API_SERVER_PORT}",
            )
        else:
            api_service = k8s.core.v1.Service.get(
                f"{name}-api-server",
                pulumi.Output.concat(self.release.status.namespace, f"/{api_service_name}"),
                opts=child_options(self, provider, depends_on=[self.release]),
            )
            self.url = api_service.status.apply(_service_url)
        self.auth_redirect_uri = None
        if args.auth is not None and args.auth.oidc:
            self.auth_redirect_uri = pulumi.Output.concat(self.url, redirect_path(args.auth))
        self.register_outputs({"url": self.url})


def _service_url(status: k8s.core.v1.outputs.ServiceStatus | None) -> str:
    address = load_balancer_address(status)
    if address is None:
        return "pending: the LoadBalancer has no address yet (see README, Troubleshooting)"
    return f"http://{address}:{API_SERVER_PORT}"
