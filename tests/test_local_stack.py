"""The local shape (tests/stack_checks.py) through `__main__.py` under mocks: what a laptop user gets."""

from __future__ import annotations

from urllib.parse import unquote, urlsplit

import pytest
import stack_checks as checks
from cryptography.fernet import Fernet

from review.runner import Run, run_main

K8S = "kubernetes:core/v1:"


@pytest.fixture(scope="module")
def local_run() -> Run:
    return checks.shape_run("local")


@pytest.fixture(scope="module")
def production_local_run() -> Run:
    return run_main({**checks.stack_config("local"), "production": True}, stack="local-prod")


def test_registers_namespace_secrets_postgres_pvcs_and_the_release(local_run: Run) -> None:
    assert local_run.one(f"{K8S}Namespace").inputs["metadata"]["name"] == "airflow"
    assert len(local_run.of_type(checks.SECRET_TYPE)) == 6, "fernet, api, jwt, admin, metadata, postgres"
    assert (
        local_run.one("kubernetes:apps/v1:StatefulSet")
        .inputs["spec"]["template"]["spec"]["containers"][0]["image"]
        .startswith("postgres:")
    )
    claims = {pvc.inputs["metadata"]["name"] for pvc in local_run.of_type(f"{K8S}PersistentVolumeClaim")}
    assert claims == {"airflow-shared-data", "airflow-logs"}
    release = local_run.one(checks.RELEASE_TYPE)
    assert release.inputs["chart"] == "airflow"
    assert release.inputs["repositoryOpts"]["repo"] == "https://airflow.apache.org"
    assert release.inputs["version"] == "1.22.0"
    assert release.inputs["namespace"] == "airflow"


def test_release_waits_for_the_database(local_run: Run) -> None:
    release = local_run.one(checks.RELEASE_TYPE)
    # A dependency on a component is recorded as one on each of its children.
    postgres = local_run.one("kubernetes:apps/v1:StatefulSet")
    assert postgres.urn in release.dependencies


def test_secret_names_in_values_point_at_created_secrets(local_run: Run) -> None:
    checks.assert_secrets_referenced_by_name_exist(local_run)


def test_no_generated_secret_in_helm_values(local_run: Run) -> None:
    checks.assert_no_generated_secret_in_values(local_run)


def test_fernet_key_is_valid(local_run: Run) -> None:
    checks.assert_fernet_key_is_valid_and_stored(local_run)


def test_secret_outputs_are_secret(local_run: Run) -> None:
    checks.assert_secret_outputs_are_secret(local_run, ("adminPassword", "fernetKey"))
    assert not local_run.exports["airflowUrl"].secret


def test_outputs_a_user_needs(local_run: Run) -> None:
    exports = local_run.exports
    assert exports["airflowUrl"].value == "http://localhost:8080"
    assert exports["uiPortForward"].value == "kubectl -n airflow port-forward svc/airflow-api-server 8080:8080"
    assert exports["adminUser"].value == "admin"
    assert len(exports["adminPassword"].value) >= 24
    assert exports["namespace"].value == "airflow"
    assert exports["logLocation"].value == "pvc/airflow-logs"
    assert "deployPublicKey" not in exports, "the local stack ships DAGs in a ConfigMap: no deploy key"


def test_admin_password_secret_matches_the_output(local_run: Run) -> None:
    values = checks.release_values(local_run)
    [password_env] = values["createUserJob"]["env"]
    admin_secret = checks.secret_named(local_run, password_env["valueFrom"]["secretKeyRef"]["name"])
    assert admin_secret.inputs["stringData"]["password"] == local_run.exports["adminPassword"].value


def test_metadata_connection_reaches_the_in_cluster_postgres(local_run: Run) -> None:
    values = checks.release_values(local_run)
    connection_secret = checks.secret_named(local_run, values["data"]["metadataSecretName"])
    url = urlsplit(connection_secret.inputs["stringData"]["connection"])
    postgres_password = checks.secret_named(local_run, "local-metadata-db").inputs["stringData"]["password"]
    assert url.scheme == "postgresql"
    assert url.hostname == "local-metadata-db.airflow.svc.cluster.local"
    assert url.port == 5432
    assert unquote(url.password or "") == postgres_password
    assert url.query == "sslmode=disable"


def test_dags_ship_in_a_config_map_with_an_ignore_rule(local_run: Run) -> None:
    config_map = local_run.one(f"{K8S}ConfigMap")
    data = config_map.inputs["data"]
    assert any(key.endswith(".py") for key in data), "the repo's dags/ folder is shipped"
    assert "..*/" in data[".airflowignore"].splitlines()
    [volume] = checks.release_values(local_run)["volumes"]
    assert volume["configMap"]["name"] == config_map.inputs["metadata"]["name"]
    assert {item["key"] for item in volume["configMap"]["items"]} == set(data)


def test_release_values_validate_against_the_chart_schema(local_run: Run) -> None:
    checks.assert_release_values_match_chart_schema(local_run)


def test_every_kubernetes_object_uses_the_explicit_provider(local_run: Run) -> None:
    checks.assert_explicit_kubernetes_provider(local_run)


def test_written_manifests_pass_the_kubernetes_schema_strictly(local_run: Run) -> None:
    assert checks.assert_manifests_validate(local_run) >= 10


def test_nothing_is_protected_off_production(local_run: Run) -> None:
    assert not [r.name for r in local_run.resources if r.protect]


def test_production_protects_the_database_and_volumes(production_local_run: Run) -> None:
    protected = {r.name for r in production_local_run.resources if r.protect}
    assert {"local-airflow-shared-data", "local-airflow-logs", "local-metadata-db-statefulset"} <= protected
    assert "local-metadata-db-password" in protected, "a replaced password would lock Airflow out of its data"


def test_two_runs_register_identical_inputs(local_run: Run) -> None:
    again = run_main(checks.stack_config("local"), stack="local")
    first = {r.urn: r.inputs for r in local_run.resources}
    second = {r.urn: r.inputs for r in again.resources}
    assert first.keys() == second.keys()
    for urn, inputs in first.items():
        assert second[urn] == inputs, f"{urn} changes between two identical runs"


def test_previous_fernet_keys_are_appended_for_rotation() -> None:
    previous = Fernet.generate_key().decode()
    config = {**checks.stack_config("local"), "fernetPreviousKeys": previous}
    run = run_main(config, stack="local", secret_keys=("fernetPreviousKeys",))
    values = checks.release_values(run)
    stored = checks.secret_named(run, values["fernetKeySecretName"]).inputs["stringData"]["fernet-key"]
    assert stored == f"{run.exports['fernetKey'].value},{previous}"
    assert previous not in str(values)


def test_git_source_creates_a_deploy_key_secret_and_exports_its_public_half() -> None:
    config = {**checks.stack_config("local"), "dags": {"source": "git", "repo": "git@github.com:org/dags.git"}}
    run = run_main(config, stack="local-git")
    checks.assert_secrets_referenced_by_name_exist(run)
    checks.assert_no_generated_secret_in_values(run)
    key = run.one("tls:index/privateKey:PrivateKey")
    assert key.inputs["algorithm"] == "ED25519"
    ssh_secret = checks.secret_named(run, checks.release_values(run)["dags"]["gitSync"]["sshKeySecret"])
    assert ssh_secret.inputs["stringData"]["gitSshKey"] == key.outputs["privateKeyOpenssh"]
    assert ssh_secret.inputs["stringData"]["knownHosts"].startswith("github.com ssh-ed25519")
    assert run.exports["deployPublicKey"].value.startswith("ssh-ed25519 ")
    assert not run.exports["deployPublicKey"].secret
    assert not run.of_type("kubernetes:core/v1:ConfigMap"), "git-sync replaces the DAG ConfigMap"


def test_ui_is_a_cluster_ip_service_so_no_cluster_needs_a_load_balancer(local_run: Run) -> None:
    """Plain kind and minikube without a tunnel never give a LoadBalancer an address; Helm
    would wait for one until the release times out and rolls back."""
    service = checks.release_values(local_run)["apiServer"]["service"]
    assert service == {"type": "ClusterIP"}
    assert not [r.name for r in local_run.of_type(f"{K8S}Service") if r.read], "nothing waits for an address"


def test_a_load_balancer_is_opt_in_for_clusters_that_implement_one() -> None:
    config = {
        **checks.stack_config("local"),
        "local": {"uiServiceType": "LoadBalancer", "kubeContext": "docker-desktop"},
    }
    run = run_main(config, stack="local-lb")
    assert checks.release_values(run)["apiServer"]["service"]["type"] == "LoadBalancer"
    assert run.exports["airflowUrl"].value == "http://203.0.113.10:8080"
    assert "uiPortForward" not in run.exports


def test_port_forward_names_the_configured_kube_context() -> None:
    run = run_main({**checks.stack_config("local"), "local": {"kubeContext": "kind-airflow"}}, stack="local-kind")
    assert run.exports["uiPortForward"].value.startswith("kubectl --context kind-airflow -n airflow port-forward ")


def test_async_connection_suits_asyncpg(local_run: Run) -> None:
    checks.assert_async_connection_suits_asyncpg(local_run)
    secret = checks.secret_named(local_run, checks.release_values(local_run)["data"]["metadataSecretName"])
    assert urlsplit(secret.inputs["stringData"]["async-connection"]).query == "ssl=disable"


def test_long_running_pods_roll_when_a_secret_changes(local_run: Run) -> None:
    """A rotated Fernet key must reach the running scheduler before `airflow rotate-fernet-key`."""
    before = checks.assert_long_running_pods_carry_the_secrets_checksum(local_run)
    rotated = run_main({**checks.stack_config("local"), "airflow": {"fernetKeyGeneration": 2}}, stack="local")
    assert checks.assert_long_running_pods_carry_the_secrets_checksum(rotated) != before
    previous = Fernet.generate_key().decode()
    with_previous = run_main(
        {**checks.stack_config("local"), "fernetPreviousKeys": previous},
        stack="local",
        secret_keys=("fernetPreviousKeys",),
    )
    assert checks.assert_long_running_pods_carry_the_secrets_checksum(with_previous) != before
    assert previous not in str(checks.release_values(with_previous))


def test_a_custom_release_name_names_the_service_the_chart_creates() -> None:
    """The chart names its objects `<release>-...` (useStandardNaming off), whatever the name holds."""
    run = run_main({**checks.stack_config("local"), "airflow": {"releaseName": "data"}}, stack="local-data")
    assert run.exports["uiPortForward"].value == "kubectl -n airflow port-forward svc/data-api-server 8080:8080"
