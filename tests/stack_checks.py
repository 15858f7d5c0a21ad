"""Checks every stack test applies: the DESIGN.md invariants on a recorded run.

Shared by the local, GCP and AWS stack tests so each cloud proves the same
promises: credentials only by Secret name, Secrets present with the key the
chart reads, nothing generated leaks into Helm values, secret outputs secret,
a Fernet key Fernet accepts, an explicit provider on every Kubernetes object,
and manifests that pass the Kubernetes schema in strict mode.
"""

from __future__ import annotations

import json
from typing import Any

import kubernetes_validate
from cryptography.fernet import Fernet

from review.runner import ROOT, Registered, Run, stack_file_config

# Oldest Kubernetes the chart supports is 1.30; validate against a current one.
KUBERNETES_SCHEMA_VERSION = "1.33.0"
RELEASE_TYPE = "kubernetes:helm.sh/v3:Release"
SECRET_TYPE = "kubernetes:core/v1:Secret"
# Generated values the mocks hand out; none may appear in chart values.
GENERATED_SECRET_OUTPUTS = {
    "random:index/randomPassword:RandomPassword": ("result",),
    "random:index/randomBytes:RandomBytes": ("base64", "hex"),
    "tls:index/privateKey:PrivateKey": ("privateKeyOpenssh", "privateKeyPem"),
}


def stack_config(stack: str) -> dict[str, Any]:
    """`Pulumi.<stack>.yaml` config without the project prefix, as run_program takes it."""
    return stack_file_config(ROOT / f"Pulumi.{stack}.yaml")


def airflow_release(run: Run) -> Registered:
    """The official Airflow chart's release (a platform may install other charts)."""
    releases = [r for r in run.of_type(RELEASE_TYPE) if r.inputs["chart"] == "airflow"]
    assert len(releases) == 1, f"expected one Airflow release, found {len(releases)}"
    return releases[0]


def release_values(run: Run) -> dict[str, Any]:
    return airflow_release(run).inputs["values"]


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
    for item in values["createUserJob"]["env"]:
        ref = item["valueFrom"]["secretKeyRef"]
        refs[f"createUserJob.env.{item['name']}"] = (ref["name"], ref["key"])
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
        for output in GENERATED_SECRET_OUTPUTS.get(resource.type, ())
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


def assert_manifests_validate(run: Run) -> int:
    """Strict schema validation of every Kubernetes object the project writes itself."""
    written = [
        r
        for r in run.resources
        if r.type.startswith("kubernetes:") and r.type != RELEASE_TYPE and not r.read and "providers" not in r.type
    ]
    for resource in written:
        kubernetes_validate.validate(manifest(resource), KUBERNETES_SCHEMA_VERSION, strict=True)
    return len(written)
