"""airflow-platform: Apache Airflow 3 on Kubernetes, one Pulumi stack per environment."""

from components.config import load_stack_config
from components.stack import create_stack, export_outputs

export_outputs(create_stack(load_stack_config()))
