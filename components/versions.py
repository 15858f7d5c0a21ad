"""Pinned versions: the single source of truth for what the stack deploys.

The chart and the Airflow image are pinned as a pair: chart 1.22.0 ships
Airflow 3.2.2 as its default and renders 3.3.2, the newest Airflow on PyPI,
with every value this stack sets; tests/runtime runs the stack's configuration
on 3.3.2 for real, and the upgrade from 3.2.2 (the previous pin, in
`requirements-airflow-previous.txt`). The DAG test virtualenv
(`requirements-dags.txt`) pins the same Airflow version and a test fails if
the two drift apart. This module imports nothing so that the DAG
tests, which run in their own virtualenv without Pulumi, can read it.
"""

AIRFLOW_CHART_VERSION = "1.22.0"
AIRFLOW_CHART_REPOSITORY = "https://airflow.apache.org"
AIRFLOW_VERSION = "3.3.2"
AIRFLOW_IMAGE_REPOSITORY = "apache/airflow"

# Official postgres image for the in-cluster metadata database on `local`.
POSTGRES_IMAGE = "postgres:17.6"
