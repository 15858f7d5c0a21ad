"""airflow-platform: Apache Airflow 3 on Kubernetes, one Pulumi stack per environment."""

from components.config import ConfigError, StackConfigError, load_stack_config
from components.stack import create_stack, export_outputs

try:
    export_outputs(create_stack(load_stack_config()))
except ConfigError as error:
    # The user sees the problems, not a traceback through this program.
    raise StackConfigError(error.problems) from None
