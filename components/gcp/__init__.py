"""Google Cloud platform: GKE, Cloud SQL, GCS logs, Filestore/PD storage."""
