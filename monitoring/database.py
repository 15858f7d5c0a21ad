"""The metadata database's alerts, on the cloud's own database metrics (no Prometheus series has them).

Their thresholds depend on the instance the stack chose (its connection
limit, its disk), so each cloud builds them from these definitions:
GKE as Cloud Monitoring PromQL alert policies on Cloud SQL's metrics,
EKS as CloudWatch alarms on RDS's. docs/operations/monitoring.md's runbook repeats each.
"""

from __future__ import annotations

from dataclasses import dataclass

# Alert at 80% of max_connections: Airflow's pools grow under load, and at the
# limit new connections fail (the scheduler and API server crash-loop).
CONNECTIONS_FRACTION = 0.8
# Alert when 85% of the disk is used (15% free): time to grow it before writes fail.
STORAGE_FRACTION = 0.85


@dataclass(frozen=True)
class DatabaseAlert:
    name: str
    summary: str
    runbook: str


CONNECTIONS = DatabaseAlert(
    "AirflowDatabaseConnectionsNearLimit",
    f"The metadata database uses more than {CONNECTIONS_FRACTION:.0%} of its max_connections.",
    "Lower Airflow's pools (AIRFLOW__DATABASE__SQL_ALCHEMY_POOL_SIZE / MAX_OVERFLOW), fewer API server or "
    "scheduler replicas, or a larger instance (gcp.databaseTier, aws.database.instanceClass) - its limit "
    "grows with its memory.",
)
STORAGE = DatabaseAlert(
    "AirflowDatabaseStorageLow",
    f"The metadata database has used {STORAGE_FRACTION:.0%} of its disk.",
    "Grow the disk (gcp.databaseDiskSizeGb / aws.database.allocatedStorageGb, an in-place change) and check "
    "airflow.databaseCleanupRetentionDays: the cleanup job trims old task instances, logs and XComs.",
)
DATABASE_ALERTS = (CONNECTIONS, STORAGE)
