"""Checks every stack test applies: the DESIGN.md invariants on a recorded run.

Shared by the local, GCP and AWS stack tests so each cloud proves the same
promises: credentials only by Secret name, Secrets present with the key the
chart reads, nothing generated leaks into Helm values, secret outputs secret,
a Fernet key Fernet accepts, an explicit provider on every Kubernetes object,
manifests that pass the Kubernetes schema in strict mode, and Helm values
the pinned chart accepts (its values.schema.json, plus key paths the schema
would let through but the chart silently ignores).
"""

from __future__ import annotations

import copy
import functools
import json
import os
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlsplit

import jsonschema
import kubernetes_validate
import kubernetes_validate.utils
import pytest
import yaml
from cryptography.fernet import Fernet

from components.versions import AIRFLOW_CHART_VERSION
from policy.policies import GENERATED_CREDENTIALS
from review.runner import ROOT, Registered, Run

# kubernetes-validate reads and parses its schema files again on every `validate()` call,
# its ~1 MB `_definitions.json` among them: some 300 parses a session, 2 s of it. The files
# do not change while the tests run and the validator only reads the parsed schema.
kubernetes_validate.utils.schema_contents = functools.cache(kubernetes_validate.utils.schema_contents)

SECRETS_CHECKSUM = "airflow-platform/secrets-checksum"
LONG_RUNNING = ("scheduler", "apiServer", "triggerer", "dagProcessor")
# Oldest Kubernetes the chart supports is 1.30; validate against a current one.
KUBERNETES_SCHEMA_VERSION = "1.33.0"
RELEASE_TYPE = "kubernetes:helm.sh/v3:Release"
# Type prefix of the Airflow layer's components (components/airflow/).
AIRFLOW_LAYER = "airflow-platform:airflow:"
# API groups of the custom resources the stacks write (GKE Gateway and its policies).
CUSTOM_RESOURCE_GROUPS = ("gateway.networking.k8s.io", "networking.gke.io")
SECRET_TYPE = "kubernetes:core/v1:Secret"


# values.schema.json and values.yaml of the pinned chart, kept beside the repo
# (shared/reference/, see its README); AIRFLOW_CHART_REFERENCE points elsewhere.
CHART_REFERENCE_DIR = Path(
    os.environ.get(
        "AIRFLOW_CHART_REFERENCE",
        ROOT.parent / "shared" / "reference" / f"airflow-chart-{AIRFLOW_CHART_VERSION}-reconstructed",
    )
)
CHART_REFERENCE_HOWTO = (
    f"copy values.schema.json and values.yaml from tag helm-chart/{AIRFLOW_CHART_VERSION} of apache/airflow "
    f"(path chart/) into {CHART_REFERENCE_DIR}, or point AIRFLOW_CHART_REFERENCE at a folder holding them"
)


# The shapes of the shipped stack files, with the tests' own values: users are
# told to edit the files (project id, CIDRs, region, repo, branch), so tests that
# assert on a known shape never read them. tests/test_stack_files.py runs every
# `Pulumi.*.yaml` itself through the checks below, whatever it holds.
_REPO = "git@github.com:acme/airflow-platform.git"
_OFFICE = "198.51.100.0/24"
STACK_SHAPES: dict[str, dict[str, Any]] = {
    "local": {
        "cloud": "local",
        "local": {"databaseSize": "5Gi"},
        "airflow": {
            "namespace": "airflow",
            "workerResources": {"cpuRequest": "100m", "memoryRequest": "256Mi", "cpuLimit": "1", "memoryLimit": "1Gi"},
        },
    },
    "dev": {
        "cloud": "gcp",
        "production": False,
        "gcp": {
            "project": "acme-airflow-dev",
            "region": "europe-west1",
            "locationType": "zonal",
            "zone": "europe-west1-b",
            "masterAuthorizedNetworks": [{"cidr": _OFFICE, "name": "office"}],
        },
        "loadBalancer": {"sourceRanges": [_OFFICE]},
        "dags": {"source": "git", "repo": _REPO, "branch": "main"},
        "airflow": {
            "namespace": "airflow",
            "schedulerReplicas": 1,
            "apiServerReplicas": 1,
            "workerResources": {"cpuRequest": "250m", "memoryRequest": "512Mi", "cpuLimit": "1", "memoryLimit": "2Gi"},
            "sharedDataSize": "100Gi",
        },
    },
    "prod": {
        "cloud": "aws",
        "production": True,
        "aws": {
            "region": "eu-west-1",
            "availabilityZones": ["eu-west-1a", "eu-west-1b", "eu-west-1c"],
            "vpcCidr": "10.40.0.0/16",
            "kubernetesVersion": "1.36",
            "endpointPublicAccess": True,
            "publicAccessCidrs": [_OFFICE],
            "systemNodes": {"instanceTypes": ["m6i.large"], "minSize": 3, "maxSize": 6, "desiredSize": 3},
            "workerNodes": {
                "instanceTypes": ["m6i.xlarge", "m6a.xlarge", "m5.xlarge", "m7i.xlarge"],
                "minSize": 0,
                "maxSize": 10,
                "desiredSize": 1,
            },
            "database": {
                "instanceClass": "db.t4g.large",
                "engineVersion": "17",
                "allocatedStorageGb": 50,
                "multiAz": True,
                "backupRetentionDays": 7,
                "deletionProtection": True,
            },
            "logRetentionDays": 90,
            "loadBalancerScheme": "internet-facing",
        },
        "loadBalancer": {"sourceRanges": [_OFFICE]},
        "ui": {"domain": "airflow.acme.com"},
        "dags": {"source": "git", "repo": _REPO, "branch": "main", "subPath": "dags"},
        "airflow": {
            "namespace": "airflow",
            "schedulerReplicas": 2,
            "apiServerReplicas": 2,
            "podDisruptionBudgets": True,
            "sharedDataSize": "100Gi",
            "workerResources": {"cpuRequest": "500m", "memoryRequest": "1Gi", "cpuLimit": "2", "memoryLimit": "4Gi"},
        },
    },
}


def stack_config(stack: str) -> dict[str, Any]:
    """The tests' own config shaped like the shipped `Pulumi.<stack>.yaml` (STACK_SHAPES), for run_program."""
    return copy.deepcopy(STACK_SHAPES[stack])


def airflow_release(run: Run) -> Registered:
    """The official Airflow chart's release (a platform may install other charts)."""
    releases = [r for r in run.of_type(RELEASE_TYPE) if r.inputs["chart"] == "airflow"]
    assert len(releases) == 1, f"expected one Airflow release, found {len(releases)}"
    return releases[0]


def platform_dependencies_of_release(run: Run) -> set[tuple[str, str]]:
    """(type, name) of what the Airflow release waits for from the platform: all its
    dependencies but the Airflow layer's own (its Secrets and what they are generated from)."""
    release = airflow_release(run)
    by_urn = {resource.urn: resource for resource in run.resources}
    return {
        (by_urn[urn].type, by_urn[urn].name) for urn in release.dependencies if AIRFLOW_LAYER not in urn.split("::")[2]
    }


def release_values(run: Run) -> dict[str, Any]:
    return airflow_release(run).inputs["values"]


def task_pod_values(run: Run) -> dict[str, Any]:
    """What the chart renders into the KubernetesExecutor pod template (`workers.kubernetes`)."""
    return release_values(run)["workers"]["kubernetes"]


def secret_named(run: Run, name: str) -> Registered:
    matches = [s for s in run.of_type(SECRET_TYPE) if s.inputs["metadata"]["name"] == name]
    assert len(matches) == 1, f"expected one Secret named {name!r}, found {len(matches)}"
    return matches[0]


def referenced_secrets(values: dict[str, Any]) -> dict[str, tuple[str, str]]:
    """Every Secret the chart values reference: value path -> (Secret name, key it must hold)."""
    refs = {
        "fernetKeySecretName": (values["fernetKeySecretName"], "fernet-key"),
        "apiSecretKeySecretName": (values["apiSecretKeySecretName"], "api-secret-key"),
        "jwtSecretName": (values["jwtSecretName"], "jwt-secret"),
        "data.metadataSecretName": (values["data"]["metadataSecretName"], "connection"),
    }
    for item in values.get("secret", []):
        refs[f"secret.{item['envName']}"] = (item["secretName"], item["secretKey"])
    for section in ("createUserJob", "apiServer"):
        for item in values[section].get("env", []):
            if "valueFrom" in item:
                ref = item["valueFrom"]["secretKeyRef"]
                refs[f"{section}.env.{item['name']}"] = (ref["name"], ref["key"])
    git_sync = values["dags"]["gitSync"]
    if git_sync.get("sshKeySecret"):
        refs["dags.gitSync.sshKeySecret"] = (git_sync["sshKeySecret"], "gitSshKey")
    return refs


def assert_secrets_referenced_by_name_exist(run: Run) -> None:
    release = airflow_release(run)
    for path, (secret_name, key) in referenced_secrets(release.inputs["values"]).items():
        secret = secret_named(run, secret_name)
        assert secret.inputs["metadata"]["namespace"] == release.inputs["namespace"], f"{path}: other namespace"
        assert key in secret.inputs["stringData"], f"{path}: Secret {secret_name} lacks key {key!r}"
        assert secret.urn in release.dependencies, f"the Release does not wait for Secret {secret_name}"


def generated_secret_values(run: Run) -> list[str]:
    values = [
        str(resource.outputs[output])
        for resource in run.resources
        for output in GENERATED_CREDENTIALS.get(resource.type, ())
        if output in resource.outputs
    ]
    assert values, "no generated secret was recorded: the check below would be vacuous"
    return values


def assert_no_generated_secret_in_values(run: Run) -> None:
    rendered = json.dumps(release_values(run), default=str)
    for value in generated_secret_values(run):
        for variant in {value, value.replace("+", "-").replace("/", "_"), value.strip()}:
            assert variant not in rendered, "a generated credential appears in the Helm values"


def assert_fernet_key_is_valid_and_stored(run: Run) -> None:
    exported = run.exports["fernetKey"]
    assert exported.secret, "the exported Fernet key must be a secret output"
    Fernet(exported.value.encode())  # raises if Fernet would refuse it
    stored = secret_named(run, release_values(run)["fernetKeySecretName"]).inputs["stringData"]["fernet-key"]
    assert stored.split(",")[0] == exported.value


def assert_secret_outputs_are_secret(run: Run, names: tuple[str, ...]) -> None:
    for name in names:
        assert name in run.exports, f"output {name} is not exported"
        assert run.exports[name].secret, f"output {name} must be secret"


def assert_explicit_kubernetes_provider(run: Run) -> None:
    objects = [r for r in run.resources if r.type.startswith("kubernetes:") and "providers" not in r.type]
    assert objects, "no Kubernetes object recorded"
    for resource in objects:
        assert "pulumi:providers:kubernetes" in resource.provider, f"{resource.name} uses the ambient kube context"


def manifest(resource: Registered) -> dict[str, Any]:
    """The object as Pulumi would send it, with the mock's float numbers back to ints."""
    return _normalise({key: value for key, value in resource.inputs.items() if value is not None})


def _normalise(value: Any) -> Any:
    if isinstance(value, float) and value.is_integer():
        return int(value)
    if isinstance(value, dict):
        return {key: _normalise(item) for key, item in value.items() if item is not None}
    if isinstance(value, list):
        return [_normalise(item) for item in value]
    return value


def is_custom_resource(resource: Registered) -> bool:
    """An object of a CRD (Gateway API, GKE policies): no schema for it in kubernetes-validate."""
    group = resource.type.split(":")[1].split("/")[0]
    return group in CUSTOM_RESOURCE_GROUPS


def assert_manifests_validate(run: Run) -> int:
    """Strict schema validation of every Kubernetes object the project writes itself.

    Custom resources are left out on purpose: kubernetes-validate knows the
    built-in kinds only. Their shape is tested where they are made
    (tests/gcp/test_https.py).
    """
    written = [
        r
        for r in run.resources
        if r.type.startswith("kubernetes:")
        and r.type != RELEASE_TYPE
        and not r.read
        and "providers" not in r.type
        and not is_custom_resource(r)
    ]
    for resource in written:
        kubernetes_validate.validate(manifest(resource), KUBERNETES_SCHEMA_VERSION, strict=True)
    return len(written)


@dataclass(frozen=True)
class ChartSchema:
    """The pinned chart's values contract: its JSON schema and its default values' top-level keys."""

    validator: jsonschema.protocols.Validator
    top_level_keys: frozenset[str]

    def problems(self, values: dict[str, Any]) -> list[str]:
        """Every way the chart would refuse or silently ignore `values`; empty when it takes them."""
        found = [
            f"{'.'.join(str(part) for part in error.absolute_path) or '<root>'}: {error.message}"
            for error in self.validator.iter_errors(values)
        ]
        found += [f"{key}: not a key of the chart's values.yaml" for key in sorted(values.keys() - self.top_level_keys)]
        found += [f"{path}: {problem}" for path, problem in self._key_path_problems(values)]
        return found

    def _key_path_problems(
        self, value: Any, schema: dict[str, Any] | None = None, path: str = ""
    ) -> Iterator[tuple[str, str]]:
        """Key paths the chart ignores or has deprecated, walking the values with the schema.

        The schema's root and many nested sections (e.g. `workers.kubernetes`)
        leave `additionalProperties` open, so JSON-schema validation alone
        passes a misspelt key there and the chart then never reads it. A key
        whose description says "(deprecated" is one the chart's NOTES warn on.
        """
        schema = self._resolve(self.validator.schema if schema is None else schema)
        if isinstance(value, dict) and "properties" in schema:
            open_object = schema.get("additionalProperties", True) is True and "patternProperties" not in schema
            for key, item in value.items():
                child = f"{path}.{key}" if path else key
                if key not in schema["properties"]:
                    if open_object:
                        yield child, "not in the chart's schema (the chart would ignore it)"
                    continue
                description = self._resolve(schema["properties"][key]).get("description", "")
                if "(deprecated" in description:
                    yield child, "deprecated by the chart: " + description[description.index("(deprecated") :]
                else:
                    yield from self._key_path_problems(item, schema["properties"][key], child)
        elif isinstance(value, list) and isinstance(schema.get("items"), dict):
            for index, item in enumerate(value):
                yield from self._key_path_problems(item, schema["items"], f"{path}[{index}]")

    def _resolve(self, schema: dict[str, Any]) -> dict[str, Any]:
        while "$ref" in schema:
            schema = self.validator.schema["definitions"][schema["$ref"].removeprefix("#/definitions/")]
        return schema


@functools.cache
def _load_chart_schema(directory: Path) -> ChartSchema | None:
    schema_file, values_file = directory / "values.schema.json", directory / "values.yaml"
    if not (schema_file.is_file() and values_file.is_file()):
        return None
    schema = json.loads(schema_file.read_text())
    # The draft the chart declares ($schema), as Helm validates with it.
    validator_class = jsonschema.validators.validator_for(schema)
    validator_class.check_schema(schema)
    defaults = yaml.safe_load(values_file.read_text())
    return ChartSchema(validator=validator_class(schema), top_level_keys=frozenset(defaults))


def chart_schema() -> ChartSchema:
    """The pinned chart's schema; skips where the reference copy is absent, fails in CI (CI=true)."""
    loaded = _load_chart_schema(CHART_REFERENCE_DIR)
    if loaded is None:
        message = f"chart {AIRFLOW_CHART_VERSION} schema not found in {CHART_REFERENCE_DIR}: {CHART_REFERENCE_HOWTO}"
        if os.environ.get("CI", "").lower() == "true":
            pytest.fail(message)
        pytest.skip(message)
    return loaded


def assert_values_match_chart_schema(values: dict[str, Any]) -> None:
    problems = chart_schema().problems(_normalise(values))
    assert not problems, "the chart would refuse or ignore these values:\n" + "\n".join(problems)


def assert_release_values_match_chart_schema(run: Run) -> None:
    release = airflow_release(run)
    assert release.inputs["version"] == AIRFLOW_CHART_VERSION, "the schema copy is for another chart version"
    assert_values_match_chart_schema(release.inputs["values"])


def assert_async_connection_suits_asyncpg(run: Run) -> None:
    """Airflow's async engine gets its own URL: asyncpg driver, `ssl=` not libpq's `sslmode=`."""
    values = release_values(run)
    [entry] = [item for item in values["secret"] if item["envName"] == "AIRFLOW__DATABASE__SQL_ALCHEMY_CONN_ASYNC"]
    data = secret_named(run, entry["secretName"]).inputs["stringData"]
    sync_url, async_url = urlsplit(data["connection"]), urlsplit(data[entry["secretKey"]])
    assert async_url.scheme == "postgresql+asyncpg"
    assert parse_qs(async_url.query) == {"ssl": parse_qs(sync_url.query)["sslmode"]}
    assert async_url.netloc == sync_url.netloc and async_url.path == sync_url.path, "both reach the same database"


def assert_long_running_pods_carry_the_secrets_checksum(run: Run) -> str:
    """Scheduler, API server, triggerer and DAG processor roll when a Secret they read changes."""
    values = release_values(run)
    checksums = {values[component]["podAnnotations"][SECRETS_CHECKSUM] for component in LONG_RUNNING}
    assert len(checksums) == 1, f"the components disagree: {checksums}"
    [checksum] = checksums
    assert len(checksum) == 64 and int(checksum, 16) >= 0, "a SHA-256 hex digest"
    assert not [path for path in airflow_release(run).secret_inputs if path.startswith("values")], (
        "a secret inside the Helm values hides the whole values diff in `pulumi preview`"
    )
    return checksum
