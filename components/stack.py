"""Compose one stack: config -> platform -> Airflow. No resource logic here."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import pulumi

from components.airflow.dag_files import read_dag_files
from components.airflow.release import AirflowRelease, AirflowReleaseArgs
from components.config import (
    StackConfig,
    load_auth_client_secret,
    load_fernet_previous_keys,
    plain_http_warning,
    plaintext_secret_warnings,
    unrouted_alerts_warning,
)
from components.platform import LOGS_CLAIM_NAME, PlatformOutputs

DAGS_FOLDER = Path(__file__).resolve().parent.parent / "dags"


@dataclass(frozen=True)
class Stack:
    config: StackConfig
    platform: PlatformOutputs
    airflow: AirflowRelease


def create_platform(config: StackConfig) -> PlatformOutputs:
    """The cluster and everything stateful around it, for the configured cloud.

    Cloud modules are imported only when chosen: each pulls in a large SDK.
    """
    if config.cloud == "gcp":
        from components.gcp.platform import GcpPlatform

        return GcpPlatform("gcp", config).outputs
    if config.cloud == "aws":
        from components.aws.platform import AwsPlatform

        return AwsPlatform("aws", config).outputs
    from components.local.platform import LocalPlatform, LocalPlatformArgs

    assert config.local is not None
    return LocalPlatform(
        "local",
        LocalPlatformArgs(
            settings=config.local,
            airflow=config.airflow,
            load_balancer=config.load_balancer,
            production=config.production,
        ),
    ).outputs


def create_stack(config: StackConfig) -> Stack:
    for warning in (plain_http_warning(config), unrouted_alerts_warning(config), *plaintext_secret_warnings()):
        if warning is not None:
            # Printed by every `pulumi preview` and `up` until the stack's config changes
            # (a plain-text credential: the CLI encrypts only what `pulumi config set --secret` wrote).
            pulumi.log.warn(warning)
    fernet_previous_keys = load_fernet_previous_keys()
    platform = create_platform(config)
    airflow = AirflowRelease(
        "airflow",
        AirflowReleaseArgs(
            airflow=config.airflow,
            dags=config.dags,
            platform=platform,
            dag_files=read_dag_files(DAGS_FOLDER) if config.dags.source == "configmap" else {},
            fernet_previous_keys=fernet_previous_keys,
            kube_context=config.local.kube_context if config.local else None,
            auth=config.auth,
            auth_client_secret=load_auth_client_secret(),
            asleep=config.sleep,
        ),
    )
    return Stack(config=config, platform=platform, airflow=airflow)


def export_outputs(stack: Stack) -> None:
    """What a user needs after `pulumi up` (`pulumi stack output`)."""
    airflow = stack.airflow
    pulumi.export("airflowUrl", airflow.url)
    if airflow.port_forward_command is not None:
        pulumi.export("uiPortForward", airflow.port_forward_command)
    if stack.platform.manual_dns_records:
        pulumi.export("uiDnsRecords", [record.as_output() for record in stack.platform.manual_dns_records])
    if airflow.auth_redirect_uri is not None:
        pulumi.export("authRedirectUri", airflow.auth_redirect_uri)
    # Whether the stack was last deployed asleep: the nightly drift check compares it as such.
    pulumi.export("asleep", stack.config.sleep)
    pulumi.export("adminUser", stack.config.airflow.admin_username)
    pulumi.export("adminPassword", airflow.secrets.admin_password)
    # Exported (as a secret) so the key is backed up with the stack: losing it
    # makes every stored connection and variable unreadable.
    pulumi.export("fernetKey", airflow.secrets.fernet_key)
    pulumi.export("namespace", stack.platform.namespace)
    remote = stack.platform.remote_logging
    pulumi.export("logLocation", remote.base_log_folder if remote else f"pvc/{LOGS_CLAIM_NAME}")
    if airflow.secrets.deploy_public_key is not None:
        pulumi.export("deployPublicKey", airflow.secrets.deploy_public_key)
        pulumi.export("deployKeyFingerprint", airflow.secrets.deploy_key_fingerprint)
    if stack.platform.cluster_name is not None:
        pulumi.export("clusterName", stack.platform.cluster_name)
    if stack.platform.monitoring:
        pulumi.export("monitoring", dict(stack.platform.monitoring))
    if stack.platform.kubeconfig is not None:
        pulumi.export("kubeconfig", pulumi.Output.secret(stack.platform.kubeconfig))
