"""`cloud: local` - Airflow on an existing cluster (kind, minikube, Docker Desktop)."""
