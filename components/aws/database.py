"""Airflow's metadata database: RDS PostgreSQL in the private subnets."""

from __future__ import annotations

from dataclasses import dataclass

import pulumi
import pulumi_aws as aws
import pulumi_random as random

from components.aws.security import open_to_nodes
from components.aws.settings import DatabaseSettings
from components.platform import MetadataDatabase

POSTGRES_PORT = 5432
DATABASE_NAME = "airflow"
DATABASE_USER = "airflow"


@dataclass(frozen=True)
class MetadataDbArgs:
    identifier: str
    vpc_id: pulumi.Input[str]
    private_subnet_ids: list[pulumi.Output[str]]
    # The EKS cluster security group: the only source allowed to connect.
    client_security_group_id: pulumi.Input[str]
    kms_key_arn: pulumi.Input[str]
    settings: DatabaseSettings
    production: bool


class MetadataDb(pulumi.ComponentResource):
    instance: aws.rds.Instance
    database: MetadataDatabase

    def __init__(self, name: str, args: MetadataDbArgs, opts: pulumi.ResourceOptions | None = None) -> None:
        super().__init__("airflow-platform:aws:MetadataDb", name, None, opts)
        local = pulumi.ResourceOptions(parent=self)
        settings = args.settings

        # Generated once and kept in state (not manage_master_user_password:
        # the chart needs a connection URL in a Kubernetes Secret, which a
        # Secrets Manager-rotated password would silently invalidate).
        # Letters and digits only: it travels inside a URL.
        password = random.RandomPassword(f"{name}-password", length=32, special=False, opts=local)

        subnet_group = aws.rds.SubnetGroup(
            f"{name}-subnets",
            description=f"{args.identifier}: private subnets",
            subnet_ids=args.private_subnet_ids,
            opts=local,
        )
        security_group = open_to_nodes(
            f"{name}-sg",
            f"{name}-from-nodes",
            description=f"Postgres for {args.identifier}, from the EKS nodes only",
            rule_description="Postgres from EKS nodes (cluster security group)",
            tag_name=f"{args.identifier}-db",
            vpc_id=args.vpc_id,
            port=POSTGRES_PORT,
            node_security_group_id=args.client_security_group_id,
            opts=local,
        )

        self.instance = aws.rds.Instance(
            f"{name}-instance",
            identifier=args.identifier,
            engine="postgres",
            # engine_version and the parameter group are modified in place; of
            # what this instance sets, only identifier, engine, kms_key_id,
            # storage_encrypted, db_name and username force a replacement
            # (ForceNew in the provider's aws_db_instance schema) and none of
            # them derives from the version. A major version is the user's
            # explicit choice in aws.database.engineVersion: RDS refuses a
            # major change unless this is set, so it is always on - it permits,
            # it never triggers. Minor versions follow automatically when
            # engineVersion names a major only (settings.auto_minor_version_upgrade).
            # No parameter group is set: on a major upgrade RDS moves an
            # instance on the default group to the new family's default group
            # itself; a custom group would first need a twin for the new family.
            engine_version=settings.engine_version,
            allow_major_version_upgrade=True,
            auto_minor_version_upgrade=settings.auto_minor_version_upgrade,
            instance_class=settings.instance_class,
            allocated_storage=settings.allocated_storage_gb,
            # Storage autoscaling up to 4x: a full disk stops the scheduler.
            max_allocated_storage=settings.allocated_storage_gb * 4,
            storage_type="gp3",
            storage_encrypted=True,
            kms_key_id=args.kms_key_arn,
            db_name=DATABASE_NAME,
            username=DATABASE_USER,
            password=password.result,
            port=POSTGRES_PORT,
            db_subnet_group_name=subnet_group.name,
            vpc_security_group_ids=[security_group.id],
            publicly_accessible=False,
            multi_az=settings.multi_az,
            backup_retention_period=settings.backup_retention_days,
            copy_tags_to_snapshot=True,
            deletion_protection=settings.deletion_protection,
            # A stack that is not production may be torn down without a snapshot;
            # production always leaves one behind.
            skip_final_snapshot=not args.production,
            final_snapshot_identifier=f"{args.identifier}-final" if args.production else None,
            delete_automated_backups=not args.production,
            # 7 days of Performance Insights are free of charge; micro and small
            # classes do not offer it for every engine, so it is off there.
            performance_insights_enabled=settings.performance_insights,
            performance_insights_retention_period=7 if settings.performance_insights else None,
            enabled_cloudwatch_logs_exports=["postgresql"],
            # Changes wait for the maintenance window, never a surprise restart.
            apply_immediately=False,
            opts=pulumi.ResourceOptions(parent=self, protect=args.production),
        )
        self.database = MetadataDatabase(
            host=self.instance.address,
            port=POSTGRES_PORT,
            name=DATABASE_NAME,
            user=DATABASE_USER,
            password=pulumi.Output.secret(password.result),
            # RDS PostgreSQL 15+ enforces TLS (rds.force_ssl=1); `require`
            # encrypts without pinning the RDS CA bundle in the image.
            sslmode="require",
        )
        self.register_outputs({"address": self.instance.address})
