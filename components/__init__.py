"""airflow-platform: Pulumi components that run Apache Airflow 3 on Kubernetes."""
