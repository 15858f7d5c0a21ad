"""The cloud-agnostic Airflow layer: secrets, chart values, the Helm release."""
