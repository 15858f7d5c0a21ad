"""The chart values builder: a pure function, tested key path by key path."""

from __future__ import annotations

import copy
import json
from dataclasses import replace
from typing import Any

import pytest
import stack_checks as checks
from chart_reference import Unavailable

from components import platform_variables, versions
from components.airflow.secrets import GIT_CONNECTION_KEY, GIT_KNOWN_HOSTS_FILE, SecretNames
from components.airflow.values import (
    ADMIN_PASSWORD_ENV,
    DAGS_MOUNT_PATH,
    GIT_CONNECTION_ENV,
    GIT_CONNECTION_ID,
    ChartInputs,
    DagConfigMap,
    build_values,
    service_account_values,
)
from components.config import parse_stack_config
from components.platform import LoadBalancer, Placement, RemoteLogging, docker_hub_image, service_account_names

WORKER_TOLERATION = {"key": "airflow-platform/pool", "operator": "Equal", "value": "workers", "effect": "NoSchedule"}


def chart_inputs(dags: dict[str, Any] | None = None, **overrides: Any) -> ChartInputs:
    raw: dict[str, Any] = {"cloud": "local"}
    if dags:
        raw["dags"] = dags
    config = parse_stack_config(raw, stack="test")
    inputs = ChartInputs(
        airflow=config.airflow,
        dags=config.dags,
        secrets=SecretNames.for_release("airflow", with_git_ssh_key=config.dags.uses_ssh),
        secrets_checksum=CHECKSUM,
        namespace="airflow",
        shared_data_claim_name="airflow-shared-data",
        load_balancer=LoadBalancer(source_ranges=["198.51.100.0/24"]),
        worker_placement=Placement(node_selector={"airflow-platform/pool": "workers"}, tolerations=[WORKER_TOLERATION]),
        logs_claim_name="airflow-logs",
    )
    return replace(inputs, **overrides)


CHECKSUM = "c0ffee" * 10 + "beef"


def at(values: dict[str, Any], path: str) -> Any:
    """values['a']['b']['c'] for 'a.b.c', failing with the missing key path."""
    node: Any = values
    for part in path.split("."):
        assert isinstance(node, dict) and part in node, f"chart value {path} is not set (missing {part!r})"
        node = node[part]
    return node


def test_kubernetes_executor_and_pinned_versions() -> None:
    values = build_values(chart_inputs())
    assert values["executor"] == "KubernetesExecutor"
    assert values["airflowVersion"] == versions.AIRFLOW_VERSION
    assert at(values, "images.airflow.tag") == versions.AIRFLOW_VERSION
    assert values["defaultAirflowTag"] == versions.AIRFLOW_VERSION


def test_no_bundled_database_and_no_hooks() -> None:
    values = build_values(chart_inputs())
    assert at(values, "postgresql.enabled") is False
    assert at(values, "migrateDatabaseJob.useHelmHooks") is False
    assert at(values, "createUserJob.useHelmHooks") is False


def test_every_credential_is_a_secret_name() -> None:
    names = SecretNames.for_release("airflow", with_git_ssh_key=False)
    values = build_values(chart_inputs())
    assert at(values, "data.metadataSecretName") == names.metadata_connection
    assert values["fernetKeySecretName"] == names.fernet_key
    assert values["apiSecretKeySecretName"] == names.api_secret_key
    assert values["jwtSecretName"] == names.jwt_secret
    # Our names never collide with the chart's own generated `<release>-fernet-key`.
    assert names.fernet_key != "airflow-fernet-key"


def test_admin_user_is_not_admin_admin_and_reads_its_password_from_the_secret() -> None:
    names = SecretNames.for_release("airflow", with_git_ssh_key=False)
    job = build_values(chart_inputs())["createUserJob"]
    assert job["defaultUser"]["password"] != "admin"
    assert "enabled" not in job["defaultUser"], "not in the chart's schema"
    [password_env] = job["env"]
    assert password_env == {
        "name": ADMIN_PASSWORD_ENV,
        "valueFrom": {"secretKeyRef": {"name": names.admin_user, "key": "password"}},
    }
    script = job["args"][2]
    assert f"${{{ADMIN_PASSWORD_ENV}:?" in script, "the job must fail when the password is missing"
    assert job["args"][job["args"].index("--username") + 1] == "admin"


def test_load_balancer_with_source_ranges_and_static_ip() -> None:
    balancer = LoadBalancer(source_ranges=["198.51.100.0/24"], static_ip="203.0.113.7", annotations={"a": "b"})
    service = at(build_values(chart_inputs(load_balancer=balancer)), "apiServer.service")
    assert service == {
        "type": "LoadBalancer",
        "loadBalancerSourceRanges": ["198.51.100.0/24"],
        "loadBalancerIP": "203.0.113.7",
        "annotations": {"a": "b"},
    }


def test_no_static_ip_key_when_the_platform_has_none() -> None:
    assert "loadBalancerIP" not in at(build_values(chart_inputs()), "apiServer.service")


def test_dags_read_the_platform_variables_from_env() -> None:
    env = {item["name"]: item["value"] for item in build_values(chart_inputs(namespace="data"))["env"]}
    assert env == {
        "AIRFLOW_VAR_PLATFORM_NAMESPACE": "data",
        "AIRFLOW_VAR_PLATFORM_SHARED_DATA_PVC": "airflow-shared-data",
        "AIRFLOW_VAR_PLATFORM_SHARED_DATA_PATH": platform_variables.SHARED_DATA_MOUNT_PATH_VALUE,
        "AIRFLOW_VAR_PLATFORM_WORKER_NODE_SELECTOR": '{"airflow-platform/pool": "workers"}',
        "AIRFLOW_VAR_PLATFORM_WORKER_TOLERATIONS": json.dumps([WORKER_TOLERATION], sort_keys=True),
    }


def test_dags_get_the_placement_the_task_pods_have() -> None:
    """KubernetesPodOperator pods are not built from the chart's pod template; the DAGs
    place them from these Variables, so they must say what the pod template says."""
    values = build_values(chart_inputs())
    env = {item["name"]: item["value"] for item in values["env"]}
    task_pods = checks.render_pod_template(values)["spec"]
    selector = platform_variables.env_var_name(platform_variables.WORKER_NODE_SELECTOR)
    tolerations = platform_variables.env_var_name(platform_variables.WORKER_TOLERATIONS)
    assert json.loads(env[selector]) == task_pods["nodeSelector"]
    assert json.loads(env[tolerations]) == task_pods["tolerations"]


def test_platform_environment_follows_the_variables() -> None:
    env = build_values(chart_inputs(environment={"AWS_REGION": "eu-west-1"}))["env"]
    assert env[-1] == {"name": "AWS_REGION", "value": "eu-west-1"}
    assert [item["name"] for item in env[:3]] == [
        "AIRFLOW_VAR_PLATFORM_NAMESPACE",
        "AIRFLOW_VAR_PLATFORM_SHARED_DATA_PVC",
        "AIRFLOW_VAR_PLATFORM_SHARED_DATA_PATH",
    ]


def test_logs_on_a_pvc_when_there_is_no_remote_logging() -> None:
    values = build_values(chart_inputs())
    assert at(values, "logs.persistence") == {"enabled": True, "existingClaim": "airflow-logs"}
    assert "config" not in values or "logging" not in values["config"]


def test_remote_logging_when_the_platform_has_a_bucket() -> None:
    remote = RemoteLogging(base_log_folder="gs://logs-bucket/logs", connection_id="google_cloud_default")
    values = build_values(chart_inputs(remote_logging=remote, logs_claim_name=None))
    assert at(values, "config.logging") == {
        "remote_logging": "True",
        "remote_base_log_folder": "gs://logs-bucket/logs",
        "remote_log_conn_id": "google_cloud_default",
    }
    assert at(values, "logs.persistence.enabled") is False


def test_task_logs_can_never_be_lost_with_the_pod() -> None:
    with pytest.raises(ValueError, match="remote logging or a logs PVC"):
        build_values(chart_inputs(logs_claim_name=None))


def test_git_sync_over_ssh_uses_the_key_secret_and_known_hosts() -> None:
    inputs = chart_inputs(dags={"source": "git", "repo": "git@github.com:org/dags.git", "branch": "prod"})
    git_sync = at(build_values(inputs), "dags.gitSync")
    assert git_sync["enabled"] is True
    assert git_sync["repo"] == "git@github.com:org/dags.git"
    assert git_sync["ref"] == "prod"
    assert git_sync["subPath"] == "dags"
    assert git_sync["sshKeySecret"] == inputs.secrets.git_ssh_key
    assert git_sync["knownHosts"].startswith("github.com ssh-ed25519")
    assert "sshKey" not in git_sync, "an inline key is not mounted into task pods and would leak"


def test_git_sync_v4_is_driven_by_ref_alone() -> None:
    """git-sync v4 sets --ref from GIT_SYNC_BRANCH (rev empty or HEAD) or GIT_SYNC_REV when
    they are non-empty, and the chart renders both from `branch`/`rev` (defaults v2-2-stable, HEAD)."""
    git_sync = at(
        build_values(chart_inputs(dags={"source": "git", "repo": "https://github.com/o/d.git"})), "dags.gitSync"
    )
    assert git_sync["ref"] == "main"
    assert git_sync["branch"] == "" and git_sync["rev"] == ""


def test_public_https_repo_has_no_ssh_settings() -> None:
    inputs = chart_inputs(dags={"source": "git", "repo": "https://github.com/o/d.git"})
    git_sync = at(build_values(inputs), "dags.gitSync")
    assert "sshKeySecret" not in git_sync and "knownHosts" not in git_sync


def test_a_git_dag_bundle_replaces_git_sync_with_the_same_key_and_host_keys() -> None:
    inputs = chart_inputs(
        dags={"source": "bundle", "repo": "git@github.com:org/dags.git", "branch": "prod", "period": "5m"}
    )
    values = build_values(inputs)
    assert at(values, "dags.gitSync.enabled") is False
    [bundle] = at(values, "dagProcessor.dagBundleConfigList")
    assert bundle["classpath"] == "airflow.providers.git.bundles.git.GitDagBundle"
    assert bundle["kwargs"] == {
        "repo_url": "git@github.com:org/dags.git",
        "tracking_ref": "prod",
        "subdir": "dags",
        "refresh_interval": 300,
        "git_conn_id": GIT_CONNECTION_ID,
    }
    # The connection (deploy key inside) only by Secret reference, in every container.
    connection_env = {"envName": GIT_CONNECTION_ENV, "secretName": inputs.secrets.git_ssh_key}
    assert {**connection_env, "secretKey": GIT_CONNECTION_KEY} in values["secret"]
    # The pinned host keys where the connection's known_hosts_file points.
    [volume] = values["volumes"]
    [mount] = values["volumeMounts"]
    assert volume["secret"] == {
        "secretName": inputs.secrets.git_ssh_key,
        "items": [{"key": "knownHosts", "path": GIT_KNOWN_HOSTS_FILE.rsplit("/", 1)[1]}],
    }
    assert mount["mountPath"] == GIT_KNOWN_HOSTS_FILE.rsplit("/", 1)[0]


def test_a_public_git_dag_bundle_needs_no_connection() -> None:
    values = build_values(chart_inputs(dags={"source": "bundle", "repo": "https://github.com/o/d.git"}))
    [bundle] = at(values, "dagProcessor.dagBundleConfigList")
    assert "git_conn_id" not in bundle["kwargs"]
    assert GIT_CONNECTION_ENV not in {entry["envName"] for entry in values["secret"]}


def test_configmap_dags_are_mounted_at_the_chart_dag_folder() -> None:
    config_map = DagConfigMap(name="airflow-dags", items={"a.py": "a.py", "lib__util.py": "lib/util.py"})
    values = build_values(chart_inputs(dag_config_map=config_map))
    assert at(values, "dags.gitSync.enabled") is False
    [volume] = values["volumes"]
    [mount] = values["volumeMounts"]
    assert volume["configMap"]["name"] == "airflow-dags"
    assert {"key": "lib__util.py", "path": "lib/util.py"} in volume["configMap"]["items"]
    assert mount == {"name": volume["name"], "mountPath": DAGS_MOUNT_PATH, "readOnly": True}


def test_replicas_and_disruption_budgets_follow_config() -> None:
    production = parse_stack_config({"cloud": "local", "production": True}, stack="prod").airflow
    values = build_values(chart_inputs(airflow=production))
    assert at(values, "scheduler.replicas") == 2
    assert at(values, "apiServer.replicas") == 2
    assert at(values, "scheduler.podDisruptionBudget.enabled") is True
    assert at(values, "apiServer.podDisruptionBudget.enabled") is True


def test_service_accounts_are_pinned_and_annotated() -> None:
    annotations = {"workers": {"iam.gke.io/gcp-service-account": "logs@p.iam.gserviceaccount.com"}}
    values = build_values(chart_inputs(service_account_annotations=annotations))
    names = service_account_names("airflow")
    for component, name in names.items():
        assert service_account_values(values, component)["name"] == name
    assert at(values, "workers.kubernetes.serviceAccount.annotations") == annotations["workers"]
    assert at(values, "scheduler.serviceAccount.annotations") == {}


def test_task_pods_have_their_own_service_account_not_the_deprecated_worker_one() -> None:
    """With `workers.kubernetes.serviceAccount.create` the chart creates the task pods' account
    from its own template while still creating the root `workers.serviceAccount` one
    (`<release>-worker`) by default: one name for both would be two objects of one name."""
    values = build_values(chart_inputs())
    assert "serviceAccount" not in values["workers"]
    account = at(values, "workers.kubernetes.serviceAccount")
    assert account["create"] is True
    assert account["name"] == "airflow-worker-kubernetes"


def test_no_deprecated_worker_keys() -> None:
    deprecated = {"nodeSelector", "tolerations", "resources", "securityContexts", "extraVolumes", "extraVolumeMounts"}
    assert not deprecated & build_values(chart_inputs())["workers"].keys()


@pytest.mark.parametrize("job", ["migrateDatabaseJob", "createUserJob"])
def test_finished_jobs_go_at_once_so_a_changed_job_is_a_new_job(job: str) -> None:
    """The Job's pod template includes the DAG ConfigMap items (`volumes`): adding a DAG file
    changes it. A template is immutable and the chart's Job names are fixed, so the finished
    Job must be gone before the next upgrade, which then creates it anew."""
    before = build_values(chart_inputs(dag_config_map=DagConfigMap(name="dags", items={"a.py": "a.py"})))
    after = build_values(chart_inputs(dag_config_map=DagConfigMap(name="dags", items={"a.py": "a.py", "b.py": "b.py"})))
    assert before["volumes"] != after["volumes"], "a DAG change reaches the Job's pod template"
    assert at(after, f"{job}.ttlSecondsAfterFinished") == 0
    assert at(after, f"{job}.useHelmHooks") is False


def test_no_chart_generated_state_that_changes_on_upgrade() -> None:
    values = build_values(chart_inputs())
    for chart_generated in ("fernetKey", "webserverSecretKey", "apiSecretKey", "jwtSecret"):
        assert chart_generated not in values
    assert at(values, "triggerer.persistence.enabled") is False


# The value shapes each platform hands the builder (tests' own fixtures, not stack files).
CLOUD_SHAPES: dict[str, dict[str, Any]] = {
    "local": {"dag_config_map": DagConfigMap(name="airflow-dags", items={"a.py": "a.py"})},
    "gcp": {
        "dags": {"source": "git", "repo": "git@github.com:org/dags.git", "branch": "prod"},
        "remote_logging": RemoteLogging(base_log_folder="gs://logs-bucket/logs", connection_id="google_cloud_default"),
        "logs_claim_name": None,
        "load_balancer": LoadBalancer(source_ranges=["198.51.100.0/24"], static_ip="203.0.113.7"),
        "service_account_annotations": {
            component: {"iam.gke.io/gcp-service-account": "logs@p.iam.gserviceaccount.com"}
            for component in ("scheduler", "apiServer", "workers", "triggerer", "dagProcessor")
        },
    },
    "aws": {
        "dags": {"source": "git", "repo": "https://github.com/org/dags.git"},
        "remote_logging": RemoteLogging(base_log_folder="s3://logs-bucket/logs", connection_id="aws_default"),
        "logs_claim_name": None,
        "load_balancer": LoadBalancer(
            source_ranges=["198.51.100.0/24"],
            annotations={"service.beta.kubernetes.io/aws-load-balancer-type": "external"},
        ),
        "environment": {"AWS_REGION": "eu-west-1"},
    },
}


def shaped_values(shape: str) -> dict[str, Any]:
    overrides = dict(CLOUD_SHAPES[shape])
    return build_values(chart_inputs(overrides.pop("dags", None), **overrides))


@pytest.mark.parametrize("shape", sorted(CLOUD_SHAPES))
def test_values_of_every_cloud_shape_validate_against_the_chart_schema(shape: str) -> None:
    checks.assert_values_match_chart_schema(shaped_values(shape))


@pytest.mark.parametrize(
    ("path", "misspelt"),
    [
        ((), "executer"),  # the schema's root allows unknown keys
        (("workers", "kubernetes"), "serviceAcount"),  # so does workers.kubernetes
        (("dags", "gitSync"), "reff"),  # additionalProperties: false
        (("workers",), "tolerationz"),
    ],
)
def test_the_schema_check_rejects_a_misspelt_key(path: tuple[str, ...], misspelt: str) -> None:
    values = copy.deepcopy(shaped_values("gcp"))
    node = values
    for part in path:
        node = node.setdefault(part, {})
    node[misspelt] = {}
    problems = checks.chart_schema().problems(values)
    parent = ".".join(path) or misspelt
    assert any(problem.startswith(parent) and misspelt in problem for problem in problems), problems


def test_the_schema_check_rejects_a_wrong_type() -> None:
    values = build_values(chart_inputs())
    values["scheduler"]["replicas"] = "two"
    assert any(problem.startswith("scheduler.replicas:") for problem in checks.chart_schema().problems(values))


@pytest.mark.parametrize(("ci", "outcome"), [("true", pytest.fail.Exception), ("", pytest.skip.Exception)])
def test_a_missing_schema_copy_skips_with_directions_but_fails_in_ci(
    monkeypatch: pytest.MonkeyPatch, ci: str, outcome: type[BaseException]
) -> None:
    monkeypatch.setattr(checks, "chart_files", lambda: Unavailable("no copy here"))
    monkeypatch.setenv("CI", ci)
    expected = f"no copy here; .* helm-chart/{versions.AIRFLOW_CHART_VERSION} of apache/airflow"
    with pytest.raises(outcome, match=expected):
        checks.chart_schema()


def test_long_running_pods_carry_the_secrets_checksum_and_jobs_do_not() -> None:
    values = build_values(chart_inputs())
    for component in ("scheduler", "apiServer", "triggerer", "dagProcessor"):
        assert at(values, f"{component}.podAnnotations")["airflow-platform/secrets-checksum"] == CHECKSUM
    # The Jobs' pod templates are immutable: an annotation that changes would fail the upgrade.
    assert "airflowPodAnnotations" not in values
    for job in ("migrateDatabaseJob", "createUserJob"):
        assert "podAnnotations" not in values[job] and "annotations" not in values[job]


def test_async_engine_url_comes_from_the_metadata_secret() -> None:
    inputs = chart_inputs()
    assert build_values(inputs)["secret"] == [
        {
            "envName": "AIRFLOW__DATABASE__SQL_ALCHEMY_CONN_ASYNC",
            "secretName": inputs.secrets.metadata_connection,
            "secretKey": "async-connection",
        }
    ]


def test_no_load_balancer_means_a_cluster_ip_service() -> None:
    assert at(build_values(chart_inputs(load_balancer=None)), "apiServer.service") == {"type": "ClusterIP"}


def test_the_schema_check_flags_a_deprecated_key() -> None:
    values = build_values(chart_inputs())
    values["workers"]["tolerations"] = [WORKER_TOLERATION]
    assert any(
        problem.startswith("workers.tolerations: deprecated") for problem in checks.chart_schema().problems(values)
    )


@pytest.mark.parametrize(
    ("repository", "expected"),
    [
        ("apache/airflow", "mirror.example/cache/apache/airflow"),
        ("python", "mirror.example/cache/library/python"),
        ("ghcr.io/acme/airflow", "ghcr.io/acme/airflow"),
        ("localhost:5000/airflow", "localhost:5000/airflow"),
        ("europe-docker.pkg.dev/p/images/airflow", "europe-docker.pkg.dev/p/images/airflow"),
    ],
)
def test_only_docker_hub_images_go_through_the_mirror(repository: str, expected: str) -> None:
    assert docker_hub_image(repository, "mirror.example/cache") == expected
    assert docker_hub_image(repository, None) == repository


# --- cookies behind HTTPS (README, "Secure cookies") ---------------------------

GATEWAY = ("35.191.0.0/16", "130.211.0.0/22", "203.0.113.9")


def test_behind_a_trusted_https_proxy_the_api_server_believes_it_and_only_it() -> None:
    values = build_values(
        chart_inputs(load_balancer=None, public_url="https://airflow.example.com", trusted_proxies=GATEWAY)
    )
    assert at(values, "config.fab.cookie_secure") == "True", "Flask's session cookie is Secure only from config"
    assert at(values, "config.fab.enable_proxy_fix") == "False", "FAB's ProxyFix trusts any client"
    assert "--proxy-headers" in at(values, "apiServer.args")[-1]
    assert at(values, "apiServer.env") == [{"name": "FORWARDED_ALLOW_IPS", "value": ",".join(GATEWAY)}]


def test_https_without_a_proxy_header_trusts_no_one_but_still_marks_the_session_secure() -> None:
    """AWS: the NLB forwards bare TCP, nothing sends X-Forwarded-Proto to trust."""
    values = build_values(chart_inputs(load_balancer=None, public_url="https://airflow.example.com"))
    assert at(values, "config.fab.cookie_secure") == "True"
    assert at(values, "config.fab.enable_proxy_fix") == "False"
    assert "args" not in values["apiServer"] and "env" not in values["apiServer"]


def test_a_deleted_user_is_forgotten_by_the_auth_manager_within_ten_seconds() -> None:
    """docs/operations/access.md, "Remove someone": FAB's user cache (30 s by default) bounds how
    long a deleted user's token still works; tests/runtime/test_auth_signin.py sees it happen."""
    assert at(build_values(chart_inputs()), "config.fab.cache_ttl") == "10"


def test_plain_http_sets_no_secure_cookie_and_trusts_no_proxy() -> None:
    """A browser drops a Secure cookie set over http: login would loop."""
    values = build_values(chart_inputs())
    assert "cookie_secure" not in at(values, "config.fab")
    assert at(values, "config.fab.enable_proxy_fix") == "False"
    assert "args" not in values["apiServer"]
