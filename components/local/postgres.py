"""An in-cluster PostgreSQL for the local stack's metadata database.

Clouds use a managed database (Cloud SQL, RDS); on a laptop cluster a
single-replica StatefulSet of the official image is enough. The data lives on
a PVC from the StatefulSet's claim template, so it survives pod restarts.
"""

from __future__ import annotations

from dataclasses import dataclass

import pulumi
import pulumi_kubernetes as k8s
import pulumi_random as random

from components import versions
from components.kube import MANAGED_BY, child_options
from components.platform import MetadataDatabase

POSTGRES_PORT = 5432
DATABASE_NAME = "airflow"
DATABASE_USER = "airflow"
PASSWORD_KEY = "password"
# The official image runs postgres as uid/gid 999.
POSTGRES_UID = 999
DATA_MOUNT = "/var/lib/postgresql/data"


@dataclass(frozen=True)
class LocalPostgresArgs:
    namespace: pulumi.Input[str]
    storage_size: str
    storage_class: str | None
    provider: k8s.Provider


class LocalPostgres(pulumi.ComponentResource):
    """StatefulSet + Service + generated password; exposes a MetadataDatabase."""

    database: MetadataDatabase
    service: k8s.core.v1.Service
    stateful_set: k8s.apps.v1.StatefulSet

    def __init__(self, name: str, args: LocalPostgresArgs, opts: pulumi.ResourceOptions | None = None) -> None:
        super().__init__("airflow-platform:local:Postgres", name, None, opts)
        labels = {"app.kubernetes.io/name": "postgres", "app.kubernetes.io/instance": name}

        password = random.RandomPassword(
            f"{name}-password",
            length=32,
            # Letters and digits only: the password also travels in a URL.
            special=False,
            opts=pulumi.ResourceOptions(parent=self),
        )
        credentials = k8s.core.v1.Secret(
            f"{name}-credentials",
            metadata=k8s.meta.v1.ObjectMetaArgs(name=name, namespace=args.namespace, labels=MANAGED_BY),
            string_data={PASSWORD_KEY: password.result},
            opts=child_options(self, args.provider),
        )
        self.service = k8s.core.v1.Service(
            f"{name}-service",
            metadata=k8s.meta.v1.ObjectMetaArgs(name=name, namespace=args.namespace, labels={**MANAGED_BY, **labels}),
            spec=k8s.core.v1.ServiceSpecArgs(
                selector=labels,
                ports=[k8s.core.v1.ServicePortArgs(name="postgres", port=POSTGRES_PORT, target_port="postgres")],
            ),
            opts=child_options(self, args.provider),
        )
        self.stateful_set = k8s.apps.v1.StatefulSet(
            f"{name}-statefulset",
            metadata=k8s.meta.v1.ObjectMetaArgs(name=name, namespace=args.namespace, labels={**MANAGED_BY, **labels}),
            spec=k8s.apps.v1.StatefulSetSpecArgs(
                service_name=name,
                replicas=1,
                selector=k8s.meta.v1.LabelSelectorArgs(match_labels=labels),
                template=k8s.core.v1.PodTemplateSpecArgs(
                    metadata=k8s.meta.v1.ObjectMetaArgs(labels=labels),
                    spec=k8s.core.v1.PodSpecArgs(
                        security_context=k8s.core.v1.PodSecurityContextArgs(
                            run_as_user=POSTGRES_UID,
                            run_as_group=POSTGRES_UID,
                            fs_group=POSTGRES_UID,
                            run_as_non_root=True,
                        ),
                        containers=[_postgres_container(credentials.metadata.name)],
                    ),
                ),
                volume_claim_templates=[
                    k8s.core.v1.PersistentVolumeClaimArgs(
                        metadata=k8s.meta.v1.ObjectMetaArgs(name="data"),
                        spec=k8s.core.v1.PersistentVolumeClaimSpecArgs(
                            access_modes=["ReadWriteOnce"],
                            storage_class_name=args.storage_class,
                            resources=k8s.core.v1.VolumeResourceRequirementsArgs(
                                requests={"storage": args.storage_size}
                            ),
                        ),
                    )
                ],
            ),
            opts=child_options(self, args.provider),
        )
        self.database = MetadataDatabase(
            host=pulumi.Output.concat(self.service.metadata.name, ".", args.namespace, ".svc.cluster.local"),
            port=POSTGRES_PORT,
            name=DATABASE_NAME,
            user=DATABASE_USER,
            password=pulumi.Output.secret(password.result),
            sslmode="disable",
        )
        self.register_outputs({"host": self.database.host})


def _postgres_container(credentials_secret: pulumi.Input[str]) -> k8s.core.v1.ContainerArgs:
    ready_check = k8s.core.v1.ExecActionArgs(command=["pg_isready", "-U", DATABASE_USER, "-d", DATABASE_NAME])
    return k8s.core.v1.ContainerArgs(
        name="postgres",
        image=versions.POSTGRES_IMAGE,
        ports=[k8s.core.v1.ContainerPortArgs(name="postgres", container_port=POSTGRES_PORT)],
        env=[
            k8s.core.v1.EnvVarArgs(name="POSTGRES_USER", value=DATABASE_USER),
            k8s.core.v1.EnvVarArgs(name="POSTGRES_DB", value=DATABASE_NAME),
            k8s.core.v1.EnvVarArgs(
                name="POSTGRES_PASSWORD",
                value_from=k8s.core.v1.EnvVarSourceArgs(
                    secret_key_ref=k8s.core.v1.SecretKeySelectorArgs(name=credentials_secret, key=PASSWORD_KEY)
                ),
            ),
            # A subdirectory: the volume root may hold lost+found, which initdb refuses.
            k8s.core.v1.EnvVarArgs(name="PGDATA", value=f"{DATA_MOUNT}/pgdata"),
        ],
        volume_mounts=[k8s.core.v1.VolumeMountArgs(name="data", mount_path=DATA_MOUNT)],
        readiness_probe=k8s.core.v1.ProbeArgs(exec_=ready_check, period_seconds=5),
        liveness_probe=k8s.core.v1.ProbeArgs(exec_=ready_check, period_seconds=10, failure_threshold=6),
        resources=k8s.core.v1.ResourceRequirementsArgs(
            requests={"cpu": "100m", "memory": "256Mi"}, limits={"memory": "1Gi"}
        ),
        security_context=k8s.core.v1.SecurityContextArgs(allow_privilege_escalation=False),
    )
