"""The airflow-platform policy pack (see README, "Policies"); importing it starts nothing."""
