"""Airflow's metadata database: Cloud SQL for PostgreSQL on a private IP only."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import pulumi
import pulumi_gcp as gcp
import pulumi_random as random

from components.gcp.settings import GcpSettings
from components.platform import MetadataDatabase

DATABASE_NAME = "airflow"
DATABASE_USER = "airflow"
POSTGRES_PORT = 5432
BACKUP_START_TIME = "02:00"  # UTC, before the maintenance window
BACKUPS_KEPT = 7
TRANSACTION_LOG_DAYS = 7
# Cloud SQL's activation policies: running, and stopped (`sleep: true`).
ACTIVATION_AWAKE = "ALWAYS"
ACTIVATION_ASLEEP = "NEVER"
# Input path of settings.disk_size, as the engine names it.
DISK_SIZE_PATH = "settings.diskSize"


@dataclass(frozen=True)
class CloudSqlArgs:
    settings: GcpSettings
    network: pulumi.Input[str]
    private_services_range: pulumi.Input[str]
    protect: bool
    # The sqladmin API and the private services connection.
    depends_on: Sequence[pulumi.Resource]
    # `sleep: true`: the instance is stopped (disk, data, IP and backups kept).
    asleep: bool = False


class CloudSql(pulumi.ComponentResource):
    instance: gcp.sql.DatabaseInstance
    database_resource: gcp.sql.Database
    user: gcp.sql.User
    database: MetadataDatabase

    def __init__(self, name: str, args: CloudSqlArgs, opts: pulumi.ResourceOptions | None = None) -> None:
        super().__init__("airflow-platform:gcp:CloudSql", name, None, opts)
        settings = args.settings
        self.instance = gcp.sql.DatabaseInstance(
            f"{name}-instance",
            region=settings.region,
            # Pinned: a major upgrade is an explicit config change.
            database_version=settings.database_version,
            # Both switches: `deletion_protection` stops Pulumi, the
            # settings flag stops the API (console, gcloud) as well.
            deletion_protection=settings.deletion_protection,
            settings=gcp.sql.DatabaseInstanceSettingsArgs(
                # NEVER stops the instance in place: no CPU or memory billed, the
                # disk, its data, the private IP and the retained backups stay;
                # ALWAYS starts it again. Always set (not left to the default): an
                # unset policy would leave a stopped instance stopped. Source:
                # https://cloud.google.com/sql/docs/postgres/start-stop-restart-instance
                activation_policy=ACTIVATION_ASLEEP if args.asleep else ACTIVATION_AWAKE,
                tier=settings.database_tier,
                edition=settings.database_edition,
                # REGIONAL = a standby in a second zone with synchronous
                # replication and automatic failover (twice the price).
                availability_type="REGIONAL" if settings.database_high_availability else "ZONAL",
                location_preference=gcp.sql.DatabaseInstanceSettingsLocationPreferenceArgs(zone=settings.zone)
                if settings.zone is not None
                else None,
                disk_type="PD_SSD",
                # The size at creation only (see ignore_changes below).
                disk_size=settings.database_disk_size_gb,
                disk_autoresize=True,
                deletion_protection_enabled=settings.deletion_protection,
                backup_configuration=gcp.sql.DatabaseInstanceSettingsBackupConfigurationArgs(
                    enabled=True,
                    start_time=BACKUP_START_TIME,
                    point_in_time_recovery_enabled=settings.point_in_time_recovery,
                    # The write-ahead log kept for point-in-time recovery.
                    transaction_log_retention_days=TRANSACTION_LOG_DAYS if settings.point_in_time_recovery else None,
                    backup_retention_settings=gcp.sql.DatabaseInstanceSettingsBackupConfigurationBackupRetentionSettingsArgs(
                        retained_backups=BACKUPS_KEPT, retention_unit="COUNT"
                    ),
                ),
                ip_configuration=gcp.sql.DatabaseInstanceSettingsIpConfigurationArgs(
                    ipv4_enabled=False,
                    private_network=args.network,
                    allocated_ip_range=args.private_services_range,
                    # TLS required, no client certificates: Airflow connects
                    # with sslmode=require and the generated password.
                    ssl_mode="ENCRYPTED_ONLY",
                ),
                maintenance_window=gcp.sql.DatabaseInstanceSettingsMaintenanceWindowArgs(
                    day=7, hour=3, update_track="stable"
                ),
                insights_config=gcp.sql.DatabaseInstanceSettingsInsightsConfigArgs(query_insights_enabled=True),
            ),
            opts=pulumi.ResourceOptions(
                parent=self,
                protect=args.protect,
                depends_on=list(args.depends_on),
                # disk_size is only the starting size: disk_autoresize grows
                # the disk, and a refresh then reads the grown size back, so
                # the configured one would diff as a shrink (which Cloud SQL
                # cannot do: the provider plans a replacement of the metadata
                # database). The provider docs for `disk_size` and
                # `disk_autoresize` (pulumi_gcp sql DatabaseInstanceSettings)
                # ask for exactly this ignore_changes.
                ignore_changes=[DISK_SIZE_PATH],
            ),
        )
        self.database_resource = gcp.sql.Database(
            f"{name}-database",
            instance=self.instance.name,
            name=DATABASE_NAME,
            # PostgreSQL refuses to drop a database Airflow is connected to;
            # it goes away with the instance.
            deletion_policy="ABANDON",
            opts=pulumi.ResourceOptions(parent=self),
        )
        # Alphanumeric: the password travels inside a connection URL.
        password = random.RandomPassword(
            f"{name}-password", length=32, special=False, opts=pulumi.ResourceOptions(parent=self)
        )
        self.user = gcp.sql.User(
            f"{name}-user",
            instance=self.instance.name,
            name=DATABASE_USER,
            password=password.result,
            # A PostgreSQL role that owns objects cannot be dropped through
            # the API; it goes away with the instance.
            deletion_policy="ABANDON",
            opts=pulumi.ResourceOptions(parent=self),
        )
        self.database = MetadataDatabase(
            host=self.instance.private_ip_address,
            port=POSTGRES_PORT,
            name=DATABASE_NAME,
            user=DATABASE_USER,
            password=pulumi.Output.secret(password.result),
            sslmode="require",
        )
        self.register_outputs(
            {"connectionName": self.instance.connection_name, "privateIp": self.instance.private_ip_address}
        )
