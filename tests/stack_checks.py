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
import re
import textwrap
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
from chart_reference import Unavailable, locate
from cryptography.fernet import Fernet

from components.airflow import pod_template
from components.versions import AIRFLOW_CHART_VERSION
from policy.policies import GENERATED_CREDENTIALS
from review.runner import Registered, Run, run_main

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
# API groups of the custom resources the stacks write (GKE Gateway and its policies,
# GMP's PodMonitoring: its shape is tested in tests/gcp/test_monitoring.py).
CUSTOM_RESOURCE_GROUPS = ("gateway.networking.k8s.io", "networking.gke.io", "monitoring.googleapis.com")
SECRET_TYPE = "kubernetes:core/v1:Secret"


# A stack nobody names a stack file after: the tests' example of a missing stack. README
# "Add an environment" invites any name (`staging`, `qa`), so never one of those.
MISSING_STACK = "no-such-stack"


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
            "natGatewayPerAz": False,
            "systemNodes": {"instanceTypes": ["m6i.large"], "minSize": 2, "maxSize": 6, "desiredSize": 2},
            "workerNodes": {
                "instanceTypes": ["m6i.xlarge", "m6a.xlarge", "m5.xlarge", "m7i.xlarge"],
                "minSize": 0,
                "maxSize": 10,
                "desiredSize": 1,
            },
            "database": {
                "instanceClass": "db.t4g.medium",
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


@functools.cache
def _shape_run(stack: str) -> Run:
    return run_main(stack_config(stack), stack=stack)


def shape_run(stack: str) -> Run:
    """`run_main(stack_config(stack), stack=stack)`, run once per session for every module that asserts on it.

    A dozen modules assert on the same tests' shape (~0.5 CPU-s a run); each caller gets its own
    deep copy (5 ms), so no test can change what another reads. A test about the runs themselves
    (two runs register the same inputs) calls `run_main`.
    """
    return copy.deepcopy(_shape_run(stack))


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


def chart_helper_output(values: dict[str, Any]) -> dict[str, Any]:
    """What the pinned chart's helpers render where the pod template calls them
    (components/airflow/pod_template.py), in the shape chart 1.22.0's `_helpers.yaml`
    gives them for these values: stand-ins, so the rest of the pod can be validated."""
    git_sync = values["dags"]["gitSync"]
    git_mounts = [{"name": pod_template.DAGS_VOLUME, "mountPath": "/git"}]
    if git_sync.get("sshKeySecret"):
        # `git_sync_container` mounts the key and known_hosts only with sshKeySecret.
        git_mounts += [
            {"name": "git-sync-ssh-key", "mountPath": "/etc/git-secret/ssh", "subPath": "gitSshKey"},
            {"name": pod_template.CONFIG_VOLUME, "mountPath": "/etc/git-secret/known_hosts", "subPath": "known_hosts"},
        ]
    return {
        pod_template.GIT_SYNC_INIT_CONTAINER.marker: [
            {
                "name": "git-sync-init",
                "image": "registry.k8s.io/git-sync/git-sync:v4.4.2",
                "env": [{"name": "GITSYNC_REPO", "value": git_sync.get("repo", "")}],
                "volumeMounts": git_mounts,
            }
        ],
        pod_template.CONFIG_MOUNT.marker: [
            {"name": pod_template.CONFIG_VOLUME, "mountPath": "/opt/airflow/airflow.cfg", "subPath": "airflow.cfg"}
        ],
        pod_template.GIT_DAGS_MOUNT.marker: [
            {"name": pod_template.DAGS_VOLUME, "mountPath": "/opt/airflow/dags", "readOnly": True}
        ],
        pod_template.GIT_SSH_KEY_VOLUME.marker: [
            {"name": "git-sync-ssh-key", "secret": {"secretName": git_sync.get("sshKeySecret"), "defaultMode": 288}}
        ],
        pod_template.CONFIG_MAP_NAME.marker: "airflow-config",
        pod_template.IMAGE.marker: f"{values['images']['airflow']['repository']}:{values['images']['airflow']['tag']}",
    }


def render_pod_template(values: dict[str, Any]) -> dict[str, Any]:
    """The `podTemplate` value as the chart would render it, chart_helper_output() for its helpers."""
    text = values["podTemplate"]
    helper_output = chart_helper_output(values)
    for helper in pod_template.CHART_HELPERS:
        output = helper_output[helper.marker]
        if helper.renders_list:
            pattern = re.compile(r"\{\{- " + re.escape(helper.expression) + r" \| nindent (\d+) \}\}")

            def items(match: re.Match[str], output: Any = output) -> str:
                return "\n" + textwrap.indent(yaml.safe_dump(output, sort_keys=False), " " * int(match.group(1)))

            text = pattern.sub(items, text)
        else:
            text = text.replace("{{ " + helper.expression + " }}", output)
    assert "{{" not in text, f"a template call the stand-ins do not cover:\n{text}"
    rendered: dict[str, Any] = yaml.safe_load(text)
    return rendered


def assert_replicated_and_spread_over_zones(values: dict[str, Any], release_name: str = "airflow") -> None:
    """Production HA in the chart's values: two schedulers and two API servers, each pair with a
    PodDisruptionBudget and spread over zones (never two in one zone while another has none)."""
    for key, component in (("scheduler", "scheduler"), ("apiServer", "api-server")):
        section = values[key]
        assert section["replicas"] >= 2, f"{key}: one replica is no HA"
        assert section["podDisruptionBudget"]["enabled"] is True, f"{key}: a drain could stop every replica"
        [spread] = section.get("topologySpreadConstraints") or [{}]
        assert (spread.get("topologyKey"), spread.get("maxSkew"), spread.get("whenUnsatisfiable")) == (
            "topology.kubernetes.io/zone",
            1,
            "DoNotSchedule",
        ), f"{key}: replicas may share a zone"
        assert spread["labelSelector"]["matchLabels"] == {
            "tier": "airflow",
            "component": component,
            "release": release_name,
        }, f"{key}: the spread counts other pods than its own"


def task_pod(run: Run) -> dict[str, Any]:
    """The KubernetesExecutor's pod template the release ships (`podTemplate`), rendered."""
    return render_pod_template(release_values(run))


def task_container(pod: dict[str, Any]) -> dict[str, Any]:
    [container] = [c for c in pod["spec"]["containers"] if c["name"] == pod_template.TASK_CONTAINER]
    return container


def assert_task_pods_hold_no_credentials(run: Run) -> None:
    """Task pods get plain env only: no Secret-backed variable, no envFrom, no generated value."""
    pod = task_pod(run)
    rendered = json.dumps(pod)
    for container in pod["spec"]["containers"] + pod["spec"].get("initContainers", []):
        assert "envFrom" not in container, f"{container['name']}: envFrom could carry a whole Secret"
        for variable in container.get("env", []):
            assert "valueFrom" not in variable, f"task pods must not read {variable['name']} from a Secret"
            assert variable["name"] not in pod_template.WITHHELD_FROM_TASKS, variable["name"]
    for value in generated_secret_values(run):
        assert value not in rendered, "a generated credential appears in the task pods' template"
    kubernetes_validate.validate(pod, KUBERNETES_SCHEMA_VERSION, strict=True)
    declared = {volume["name"] for volume in pod["spec"]["volumes"]}
    for container in pod["spec"]["containers"] + pod["spec"].get("initContainers", []):
        for mount in container.get("volumeMounts", []):
            assert mount["name"] in declared, f"{container['name']} mounts undeclared volume {mount['name']}"


def assert_task_pods_may_launch_pods(run: Run) -> None:
    """The account the pod template names is bound to a Role that runs pods (KubernetesPodOperator)."""
    account = task_pod(run)["spec"]["serviceAccountName"]
    namespace = airflow_release(run).inputs["namespace"]
    bindings = [
        binding
        for binding in run.of_type("kubernetes:rbac.authorization.k8s.io/v1:RoleBinding")
        if {"kind": "ServiceAccount", "name": account, "namespace": namespace} in binding.inputs["subjects"]
    ]
    assert bindings, f"no RoleBinding names the task pods' account {account}"
    roles = {
        role.inputs["metadata"]["name"]: role for role in run.of_type("kubernetes:rbac.authorization.k8s.io/v1:Role")
    }
    granted: set[tuple[str, str]] = set()
    for binding in bindings:
        assert binding.inputs["metadata"]["namespace"] == namespace
        role = roles[binding.inputs["roleRef"]["name"]]
        assert role.inputs["metadata"]["namespace"] == namespace, "the Role must be in the task pods' namespace"
        granted |= {
            (resource, verb)
            for rule in role.inputs["rules"]
            if rule["apiGroups"] == [""]
            for resource in rule["resources"]
            for verb in rule["verbs"]
        }
    needed = {("pods", "create"), ("pods", "watch"), ("pods", "delete"), ("pods", "get"), ("pods/log", "get")}
    assert needed <= granted, f"the task pods' account lacks {sorted(needed - granted)}"


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
def _load_chart_schema(directory: Path) -> ChartSchema:
    schema = json.loads((directory / "values.schema.json").read_text())
    # The draft the chart declares ($schema), as Helm validates with it.
    validator_class = jsonschema.validators.validator_for(schema)
    validator_class.check_schema(schema)
    defaults = yaml.safe_load((directory / "values.yaml").read_text())
    return ChartSchema(validator=validator_class(schema), top_level_keys=frozenset(defaults))


@functools.cache
def chart_files() -> Path | Unavailable:
    """Where the pinned chart's files are (tests/chart_reference.py), looked up once per session."""
    return locate()


def chart_schema() -> ChartSchema:
    """The pinned chart's schema; skips where no copy can be had, fails in CI (CI=true)."""
    found = chart_files()
    if isinstance(found, Unavailable):
        if os.environ.get("CI", "").lower() == "true":
            pytest.fail(f"CI=true and no copy of the chart: {found.message()}")
        pytest.skip(found.message())
    return _load_chart_schema(found)


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
