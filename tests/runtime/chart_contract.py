"""What the pinned apache-airflow chart (1.22.0) puts into every Airflow container, from its values.

Read from the chart's templates (apache/airflow, tag helm-chart/1.22.0, `chart/`):
- `templates/_helpers.yaml`, `standard_airflow_environment`: AIRFLOW__CORE__FERNET_KEY
  from `fernetKeySecretName` (key `fernet-key`); AIRFLOW__DATABASE__SQL_ALCHEMY_CONN and
  AIRFLOW_CONN_AIRFLOW_DB from `data.metadataSecretName` (key `connection`);
- the api-server, scheduler, dag-processor and triggerer Deployments:
  AIRFLOW__API__SECRET_KEY from `apiSecretKeySecretName` (key `api-secret-key`) and
  AIRFLOW__API_AUTH__JWT_SECRET from `jwtSecretName` (key `jwt-secret`);
- `custom_airflow_environment`: every `env` entry as a plain variable, every `secret`
  entry (`envName` from `secretName`/`secretKey`) from its Secret;
- `container_extra_envs`: each component's own `<component>.env` (`apiServer.env`,
  `scheduler.env`, `dagProcessor.env`, `triggerer.env`) after those, in its container only;
- `templates/configmaps/configmap.yaml` renders `config:` (the chart's defaults in
  values.yaml merged with the release's) into airflow.cfg; `CHART_DEFAULT_CONFIG` is
  that default with its templates resolved for the values this stack sets.

Pure functions over plain data (the mock runner's recorded Secrets and values), so the
runtime suite configures Airflow from exactly what `pulumi up` would hand the chart.
"""

from __future__ import annotations

import copy
import json
from collections.abc import Mapping
from typing import Any

# (env var, values key naming the Secret, key inside the Secret)
SECRET_ENVIRONMENT = (
    ("AIRFLOW__CORE__FERNET_KEY", ("fernetKeySecretName",), "fernet-key"),
    ("AIRFLOW__DATABASE__SQL_ALCHEMY_CONN", ("data", "metadataSecretName"), "connection"),
    ("AIRFLOW_CONN_AIRFLOW_DB", ("data", "metadataSecretName"), "connection"),
    ("AIRFLOW__API__SECRET_KEY", ("apiSecretKeySecretName",), "api-secret-key"),
    ("AIRFLOW__API_AUTH__JWT_SECRET", ("jwtSecretName",), "jwt-secret"),
)

# The chart's default `dagProcessor.dagBundleConfigList` (values.yaml).
DEFAULT_DAG_BUNDLES = [
    {"name": "dags-folder", "classpath": "airflow.dag_processing.bundles.local.LocalDagBundle", "kwargs": {}}
]

# values.yaml `config:` of chart 1.22.0, the entries Airflow 3 reads, templates resolved
# (`statsd.enabled` defaults to true; no elasticsearch/opensearch).
CHART_DEFAULT_CONFIG: dict[str, dict[str, str]] = {
    "core": {
        "load_examples": "False",
        "auth_manager": "airflow.providers.fab.auth_manager.fab_auth_manager.FabAuthManager",
    },
    "logging": {"remote_logging": "False", "colored_console_log": "False"},
    "metrics": {"statsd_on": "True", "statsd_port": "9125", "statsd_prefix": "airflow"},
    "fab": {"enable_proxy_fix": "True"},
    "scheduler": {"standalone_dag_processor": "True"},
}


class ContractError(ValueError):
    """The values name a Secret or key the stack did not create: the chart's pods would not start."""


def _lookup(values: Mapping[str, Any], path: tuple[str, ...]) -> Any:
    node: Any = values
    for key in path:
        node = node.get(key) if isinstance(node, Mapping) else None
    return node


def secret_value(secrets: Mapping[str, Mapping[str, str]], secret_name: str, key: str) -> str:
    try:
        return secrets[secret_name][key]
    except KeyError:
        raise ContractError(
            f"the values reference Secret {secret_name!r} key {key!r}, which the stack does not create"
        ) from None


def airflow_environment(values: Mapping[str, Any], secrets: Mapping[str, Mapping[str, str]]) -> dict[str, str]:
    """The env of the scheduler, API server, DAG processor and triggerer containers."""
    environment: dict[str, str] = {}
    for env_name, values_path, secret_key in SECRET_ENVIRONMENT:
        secret_name = _lookup(values, values_path)
        if secret_name is None:
            raise ContractError(f"values have no {'.'.join(values_path)}: the chart would generate its own Secret")
        environment[env_name] = secret_value(secrets, secret_name, secret_key)
    for entry in values.get("env") or []:
        environment[entry["name"]] = str(entry["value"])
    for entry in values.get("secret") or []:
        environment[entry["envName"]] = secret_value(secrets, entry["secretName"], entry.get("secretKey", "value"))
    return environment


# The process (`airflow <component>`) -> the values key of its Deployment's own `env`.
COMPONENT_VALUES_KEYS = {
    "api-server": "apiServer",
    "scheduler": "scheduler",
    "dag-processor": "dagProcessor",
    "triggerer": "triggerer",
}


def component_environment(
    values: Mapping[str, Any], secrets: Mapping[str, Mapping[str, str]], component: str
) -> dict[str, str]:
    """What `<component>.env` adds to that component's container alone (plain values and
    `secretKeyRef`s, resolved from the stack's Secrets)."""
    environment = {}
    for entry in _lookup(values, (COMPONENT_VALUES_KEYS[component], "env")) or []:
        if "valueFrom" in entry:
            reference = entry["valueFrom"]["secretKeyRef"]
            environment[entry["name"]] = secret_value(secrets, reference["name"], reference["key"])
        else:
            environment[entry["name"]] = str(entry["value"])
    return environment


def airflow_config(values: Mapping[str, Any]) -> dict[str, dict[str, str]]:
    """airflow.cfg as the chart renders it: its default `config:` merged with the release's."""
    config = copy.deepcopy(CHART_DEFAULT_CONFIG)
    config["core"]["executor"] = str(values.get("executor", "CeleryExecutor"))
    bundles = _lookup(values, ("dagProcessor", "dagBundleConfigList")) or DEFAULT_DAG_BUNDLES
    config["dag_processor"] = {"dag_bundle_config_list": json.dumps(bundles)}
    for section, entries in (values.get("config") or {}).items():
        config.setdefault(section, {}).update({key: str(value) for key, value in entries.items()})
    return config


def create_user_command(
    values: Mapping[str, Any], secrets: Mapping[str, Mapping[str, str]]
) -> tuple[list[str], dict[str, str]]:
    """The create-user Job's container args and the env it reads from Secrets (`createUserJob`)."""
    job = values["createUserJob"]
    environment = {}
    for entry in job.get("env") or []:
        reference = entry["valueFrom"]["secretKeyRef"]
        environment[entry["name"]] = secret_value(secrets, reference["name"], reference["key"])
    return list(job["args"]), environment
