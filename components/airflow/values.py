"""Chart values for the official apache-airflow Helm chart, built by a pure function.

`build_values` takes typed settings, the platform's references and the Secret
names and returns the values dict; it creates nothing, so every key is unit
tested without Pulumi. Invariants it keeps (DESIGN.md):
- no credential in values: every secret is a Secret *name*;
- no chart default that breaks or leaks: no admin/admin, no chart-generated
  keys, no bundled postgresql, no Helm hooks (Pulumi waits on resources);
- KubernetesExecutor, task pods on the worker pool, task logs that outlive
  the pod (remote logging or a PVC, never neither);
- task pods hold no credential: their pod template is the stack's own
  (components/airflow/pod_template.py).
Key paths follow the chart's values.schema.json for the pinned chart version.
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import pulumi

from components import platform_variables
from components.airflow.auth import (
    CONFIG_CHECKSUM_ANNOTATION,
    USER_CACHE_TTL_SECONDS,
    api_server_auth_environment,
    api_server_config,
    config_checksum,
)
from components.airflow.pod_template import EXECUTOR, TaskPodSpec, pod_template, with_inputs_resolved
from components.airflow.secrets import (
    ADMIN_PASSWORD_KEY,
    ASYNC_CONNECTION_KEY,
    GIT_CONNECTION_KEY,
    GIT_KNOWN_HOSTS_FILE,
    KNOWN_HOSTS_KEY,
    SecretNames,
)
from components.auth import AuthSettings
from components.config import AirflowSettings, DagSettings
from components.database_pools import component_replicas, database_pools
from components.platform import (
    AIRFLOW_COMPONENTS,
    LoadBalancer,
    Placement,
    RemoteLogging,
    api_server_service_name,
    component_pod_labels,
    docker_hub_image,
    service_account_names,
)
from components.validation import duration_seconds

API_SERVER_PORT = 8080
ZONE_LABEL = "topology.kubernetes.io/zone"
# The chart's replicated components and their pod label `component`: spread over zones.
ZONE_SPREAD_COMPONENTS = {"scheduler": "scheduler", "apiServer": "api-server"}
# Where the chart mounts DAGs in every Airflow container (dags.mountPath).
DAGS_MOUNT_PATH = "/opt/airflow/dags"
DAG_CONFIG_MAP_VOLUME = "dags-configmap"
ADMIN_PASSWORD_ENV = "AIRFLOW_PLATFORM_ADMIN_PASSWORD"
ASYNC_CONNECTION_ENV = "AIRFLOW__DATABASE__SQL_ALCHEMY_CONN_ASYNC"
# uvicorn's list of addresses whose X-Forwarded-* headers it believes.
FORWARDED_ALLOW_IPS_ENV = "FORWARDED_ALLOW_IPS"
# Pod annotation carrying AirflowSecrets.checksum; its change rolls the pods.
SECRETS_CHECKSUM_ANNOTATION = "airflow-platform/secrets-checksum"
# The chart's section of the KubernetesExecutor's task pods (`workers.kubernetes`).
WORKERS = "workers"
# The long-running components: they read the Secrets once, at start. Task
# pods and Job pods start afresh each time and read the current Secrets.
# (Not the chart's `airflowPodAnnotations`: it also annotates the Jobs, whose
# pod template is immutable.)
LONG_RUNNING_COMPONENTS = tuple(component for component in AIRFLOW_COMPONENTS if component != WORKERS)
ADMIN_PASSWORD_HINT = "not-here: run `pulumi stack output adminPassword --show-secrets`"
# Seconds a finished migrate / create-user Job is kept. The chart names both
# Jobs after the release (`<release>-run-airflow-migrations`, no name option in
# 1.22.0) and a Job's pod template is immutable, so an upgrade that changes the
# template (new image, env, DAG ConfigMap items in `volumes`) while the old
# Job still exists fails and the atomic release rolls back. Deleted as soon as
# it finishes, the next upgrade finds no Job and Helm creates a new one from
# the new template (helm's kube client creates what it cannot find).
FINISHED_JOB_TTL_SECONDS = 0
# `dags.source: bundle`: Airflow 3's GitDagBundle (apache-airflow-providers-git,
# in the apache/airflow image), its connection id and the env var that holds it.
GIT_DAG_BUNDLE_CLASS = "airflow.providers.git.bundles.git.GitDagBundle"
GIT_DAG_BUNDLE_NAME = "platform-dags"
GIT_CONNECTION_ID = "platform_dags_git"
GIT_CONNECTION_ENV = f"AIRFLOW_CONN_{GIT_CONNECTION_ID.upper()}"
GIT_KNOWN_HOSTS_VOLUME = "git-known-hosts"
# The official image runs Airflow as uid 50000 with gid 0 (root group) so
# files it writes on shared volumes stay group-writable.
AIRFLOW_UID = 50000
AIRFLOW_GID = 0


@dataclass(frozen=True)
class DagConfigMap:
    """The ConfigMap holding the repo's dags/ folder (`dags.source: configmap`).

    ConfigMap keys cannot contain '/', so nested files are stored under a
    flattened key and `items` maps each key back to its relative path.
    """

    name: pulumi.Input[str]
    items: Mapping[str, str]


@dataclass(frozen=True)
class ChartInputs:
    airflow: AirflowSettings
    dags: DagSettings
    secrets: SecretNames
    # AirflowSecrets.checksum: annotated on the long-running pods.
    secrets_checksum: pulumi.Input[str]
    namespace: pulumi.Input[str]
    shared_data_claim_name: pulumi.Input[str]
    load_balancer: LoadBalancer | None
    worker_placement: Placement
    remote_logging: RemoteLogging | None = None
    logs_claim_name: pulumi.Input[str] | None = None
    service_account_annotations: Mapping[str, Mapping[str, pulumi.Input[str]]] = field(default_factory=dict)
    dag_config_map: DagConfigMap | None = None
    environment: Mapping[str, pulumi.Input[str]] = field(default_factory=dict)
    # PlatformOutputs.database_connections: what each component's pool must fit together.
    database_connections: int | None = None
    # PlatformOutputs.public_url: the HTTPS address people use.
    public_url: pulumi.Input[str] | None = None
    docker_hub_mirror: pulumi.Input[str] | None = None
    # PlatformOutputs.trusted_proxies: who may set X-Forwarded-* for the API server.
    trusted_proxies: Sequence[pulumi.Input[str]] = ()
    # Sign-in through the identity provider when `auth.mode` is oidc.
    auth: AuthSettings | None = None
    # PlatformOutputs.zoned_nodes: spread the replicated components over zones.
    zoned_nodes: bool = False


def build_values(inputs: ChartInputs) -> dict[str, Any]:
    """The complete values dict for `helm.v3.Release`."""
    settings = inputs.airflow
    # The scheduler, API server, migration Job and every task pod (the chart's
    # pod template) run this image: through the stack's registry cache if any.
    airflow_repository = docker_hub_image(settings.image_repository, inputs.docker_hub_mirror)
    values: dict[str, Any] = {
        "executor": EXECUTOR,
        "airflowVersion": settings.airflow_version,
        "defaultAirflowRepository": airflow_repository,
        "defaultAirflowTag": settings.airflow_version,
        "images": {
            "airflow": {
                "repository": airflow_repository,
                "tag": settings.airflow_version,
                "pullPolicy": "IfNotPresent",
            }
        },
        # The bundled bitnami subchart's images were withdrawn; the platform
        # provides the database. Redis only serves the CeleryExecutor.
        "postgresql": {"enabled": False},
        "redis": {"enabled": False},
        "data": {"metadataSecretName": inputs.secrets.metadata_connection},
        "fernetKeySecretName": inputs.secrets.fernet_key,
        "apiSecretKeySecretName": inputs.secrets.api_secret_key,
        "jwtSecretName": inputs.secrets.jwt_secret,
        # Env from Secrets in every Airflow container the chart renders; task pods
        # have their own template without it (podTemplate below).
        "secret": [
            {
                "envName": ASYNC_CONNECTION_ENV,
                "secretName": inputs.secrets.metadata_connection,
                "secretKey": ASYNC_CONNECTION_KEY,
            }
        ],
        # Helm hooks deadlock under tools that wait for resources (Pulumi,
        # Argo CD, Terraform): the pods wait for the migration, the hook waits
        # for the pods. As plain Jobs they run alongside the Deployments.
        "migrateDatabaseJob": {
            "useHelmHooks": False,
            "applyCustomEnv": False,
            "ttlSecondsAfterFinished": FINISHED_JOB_TTL_SECONDS,
        },
        "createUserJob": _create_user_job(inputs),
        "apiServer": _api_server(inputs),
        "scheduler": {
            "replicas": settings.scheduler_replicas,
            "podDisruptionBudget": {"enabled": settings.pod_disruption_budgets},
        },
        # Task logs go to the logs PVC or object storage; the triggerer's own
        # 100Gi volumeClaimTemplate (chart default) would be a second store.
        "triggerer": {"persistence": {"enabled": False}},
        "dagProcessor": {"enabled": True},
        WORKERS: _workers(inputs),
        # The executor's pod template: only what a task needs (components/airflow/pod_template.py).
        "podTemplate": pod_template(task_pod_spec(inputs)),
        "dags": _dags(inputs),
        "env": _environment(inputs),
        # `airflow db clean` on a schedule: the metadata database stays small.
        "databaseCleanup": {"enabled": True, "retentionDays": settings.database_cleanup_retention_days},
        # `airflow kubernetes cleanup-pods`: failed task pods are kept for
        # debugging by the executor; this CronJob removes old ones.
        "cleanup": {"enabled": True},
        # Service links inject an env var per Service into every pod; Airflow
        # uses DNS. (Chart 2.0 turns them off by default.)
        "enableServiceLinks": False,
    }
    values.update(_logging(inputs))
    _set_proxy_trust(values, inputs)
    # A deleted user's token is refused once the auth manager's user cache lets them go (auth.py).
    values.setdefault("config", {}).setdefault("fab", {})["cache_ttl"] = str(USER_CACHE_TTL_SECONDS)
    if inputs.public_url is not None:
        _set_public_url(values, inputs)
    dag_volumes, dag_mounts = _dag_volumes(inputs)
    if dag_volumes:
        values["volumes"], values["volumeMounts"] = dag_volumes, dag_mounts
    if inputs.dags.source == "bundle":
        _set_git_dag_bundle(values, inputs)
    _set_service_accounts(values, inputs)
    _set_database_pools(values, inputs)
    if inputs.zoned_nodes:
        _spread_over_zones(values, inputs.airflow.release_name)
    for component in LONG_RUNNING_COMPONENTS:
        values[component]["podAnnotations"] = {SECRETS_CHECKSUM_ANNOTATION: inputs.secrets_checksum}
    _set_api_server_config(values["apiServer"], inputs.auth, inputs.secrets)
    return values


def _set_database_pools(values: dict[str, Any], inputs: ChartInputs) -> None:
    """Each long-running component's SQLAlchemy pool, in its own `<component>.env`, where the
    database allows fewer connections than Airflow's default pools could open (database_pools.py).

    Per component, not in the top-level `env`: the API server needs most of them (every task's
    and person's request). Each Deployment's container gets its `<component>.env` after the
    shared env (the chart's templates, e.g. scheduler-deployment.yaml: `container_extra_envs
    (list . .Values.scheduler.env)`), and a name in both lists would be a duplicate env entry,
    which server-side apply refuses. The Jobs and task pods keep Airflow's defaults: a Job runs
    one command a connection at a time, and a task pod opens none.
    """
    replicas = component_replicas(inputs.airflow.scheduler_replicas, inputs.airflow.api_server_replicas)
    pools = database_pools(inputs.database_connections, replicas)
    if pools is None:
        return
    for key, pool in pools.pools.items():
        values[key].setdefault("env", []).extend(
            {"name": name, "value": value} for name, value in pool.environment().items()
        )


def _spread_over_zones(values: dict[str, Any], release_name: str) -> None:
    """Replicas of a scheduler or an API server in different zones, never two in one while another has none.

    The PodDisruptionBudgets keep one replica up through a drain; this keeps
    one up through a zone's loss, on two system nodes as on ten. DoNotSchedule
    with maxSkew 1: only zones that hold a node count (a node without the zone
    label is not a candidate, which is why local clusters do not get it), and
    `nodeTaintsPolicy: Honor` leaves the tainted task nodes' zones out. A
    rolling update compares only pods of its own ReplicaSet (`matchLabelKeys:
    pod-template-hash`), so the surge pod is not blocked by the old ones.
    https://kubernetes.io/docs/concepts/scheduling-eviction/topology-spread-constraints/
    """
    for key, component in ZONE_SPREAD_COMPONENTS.items():
        if values[key]["replicas"] < 2:
            continue
        values[key]["topologySpreadConstraints"] = [
            {
                "maxSkew": 1,
                "topologyKey": ZONE_LABEL,
                "whenUnsatisfiable": "DoNotSchedule",
                "nodeTaintsPolicy": "Honor",
                "labelSelector": {"matchLabels": component_pod_labels(release_name, component)},
                "matchLabelKeys": ["pod-template-hash"],
            }
        ]


def _set_api_server_config(api_server: dict[str, Any], auth: AuthSettings | None, secrets: SecretNames) -> None:
    """The API server's webserver_config.py (auth.api_server_config), its digest on the pods so a new
    file rolls them; with `auth.mode: oidc`, sign-in through the identity provider, the client
    secret by Secret reference only."""
    oidc = auth is not None and auth.oidc
    config = api_server_config(oidc)
    api_server["apiServerConfig"] = config
    api_server["podAnnotations"][CONFIG_CHECKSUM_ANNOTATION] = config_checksum(config)
    if auth is None or not oidc:
        return
    if secrets.auth_client is None:
        raise ValueError("auth.mode: oidc needs the client secret's Secret; AirflowSecrets created none")
    api_server.setdefault("env", []).extend(api_server_auth_environment(auth, secrets.auth_client))


def _create_user_job(inputs: ChartInputs) -> dict[str, Any]:
    """Create the admin user with the password from our Secret, never admin/admin.

    The chart's default `args` pass `defaultUser.password` literally. Ours pass
    the user's fields as positional arguments (`"$@"`, never re-parsed by the
    shell) and read the password from an env var filled from the admin Secret;
    `${VAR:?}` fails the job loudly if the variable is missing. The finished
    Job is deleted at once (FINISHED_JOB_TTL_SECONDS) and the next upgrade
    creates it again; that rerun is harmless because the FAB provider's
    `users create` returns 0 when the user already exists.
    """
    settings = inputs.airflow
    return {
        "useHelmHooks": False,
        # Custom env changes would alter the Job spec on every env change.
        "applyCustomEnv": False,
        "ttlSecondsAfterFinished": FINISHED_JOB_TTL_SECONDS,
        "defaultUser": {
            "role": "Admin",
            "username": settings.admin_username,
            "email": settings.admin_email,
            "firstName": "Airflow",
            "lastName": "Admin",
            # Only printed by the chart's NOTES; the real password never enters values.
            "password": ADMIN_PASSWORD_HINT,
        },
        "env": [
            {
                "name": ADMIN_PASSWORD_ENV,
                "valueFrom": {"secretKeyRef": {"name": inputs.secrets.admin_user, "key": ADMIN_PASSWORD_KEY}},
            }
        ],
        "args": [
            "bash",
            "-c",
            f'exec airflow users create "$@" --password "${{{ADMIN_PASSWORD_ENV}:?admin password Secret not mounted}}"',
            "--",
            "--role",
            "Admin",
            "--username",
            settings.admin_username,
            "--email",
            settings.admin_email,
            "--firstname",
            "Airflow",
            "--lastname",
            "Admin",
        ],
    }


def _api_server(inputs: ChartInputs) -> dict[str, Any]:
    load_balancer = inputs.load_balancer
    service: dict[str, Any]
    if load_balancer is None:
        # Reached with `kubectl port-forward`; Helm's wait needs no address.
        service = {"type": "ClusterIP"}
    else:
        service = {
            "type": "LoadBalancer",
            "loadBalancerSourceRanges": list(load_balancer.source_ranges),
            "annotations": dict(load_balancer.annotations),
        }
        if load_balancer.static_ip is not None:
            service["loadBalancerIP"] = load_balancer.static_ip
    return {
        "replicas": inputs.airflow.api_server_replicas,
        "service": service,
        "podDisruptionBudget": {"enabled": inputs.airflow.pod_disruption_budgets},
    }


def _workers(inputs: ChartInputs) -> dict[str, Any]:
    """KubernetesExecutor task pods: the chart creates their ServiceAccount (`_set_service_accounts`).

    Nothing else goes under `workers.kubernetes`: with `podTemplate` set the
    chart no longer renders its own pod template, which is the only reader of
    the other keys there (placement, resources, security contexts, volumes).
    """
    return {"kubernetes": {}}


def task_pod_spec(inputs: ChartInputs) -> TaskPodSpec:
    """Task pods: worker pool, resources, non-root, the shared data volume, only plain env."""
    resources = inputs.airflow.worker_resources
    placement = inputs.worker_placement
    dag_volumes, dag_mounts = _dag_volumes(inputs)
    return TaskPodSpec(
        release_name=inputs.airflow.release_name,
        service_account=service_account_names(inputs.airflow.release_name)[WORKERS],
        environment=[(item["name"], item["value"]) for item in _environment(inputs)],
        node_selector=placement.node_selector,
        tolerations=placement.tolerations,
        resources={
            "requests": {"cpu": resources.cpu_request, "memory": resources.memory_request},
            "limits": {"cpu": resources.cpu_limit, "memory": resources.memory_limit},
        },
        pod_security_context={
            "runAsUser": AIRFLOW_UID,
            "runAsGroup": AIRFLOW_GID,
            "fsGroup": AIRFLOW_GID,
            "runAsNonRoot": True,
        },
        container_security_context={"allowPrivilegeEscalation": False, "capabilities": {"drop": ["ALL"]}},
        shared_data_claim_name=inputs.shared_data_claim_name,
        logs_claim_name=None if inputs.remote_logging is not None else inputs.logs_claim_name,
        git_sync=inputs.dags.source == "git",
        git_ssh_key=inputs.dags.uses_ssh,
        dag_volumes=dag_volumes,
        dag_volume_mounts=dag_mounts,
    )


def _dags(inputs: ChartInputs) -> dict[str, Any]:
    dags = inputs.dags
    if dags.source != "git":
        return {"persistence": {"enabled": False}, "gitSync": {"enabled": False}}
    git_sync: dict[str, Any] = {
        "enabled": True,
        "repo": dags.repo,
        # git-sync v4 (the chart's image) checks out `ref` (GITSYNC_REF). The
        # chart also renders the v3 variables GIT_SYNC_BRANCH / GIT_SYNC_REV
        # from `branch` / `rev`, and v4 overwrites --ref from them when either
        # is non-empty (its back-compat: a branch with rev HEAD, or any rev).
        # Empty, they cannot drive the sync; the chart defaults would
        # (v2-2-stable, HEAD).
        "ref": dags.branch,
        "branch": "",
        "rev": "",
        "subPath": dags.sub_path,
        "depth": 1,
        "period": dags.period,
    }
    if dags.uses_ssh:
        git_sync["sshKeySecret"] = inputs.secrets.git_ssh_key
        git_sync["knownHosts"] = dags.known_hosts
    return {"persistence": {"enabled": False}, "gitSync": git_sync}


def _set_git_dag_bundle(values: dict[str, Any], inputs: ChartInputs) -> None:
    """DAGs from git through Airflow 3's GitDagBundle instead of git-sync (`dags.source: bundle`).

    The chart renders `dagProcessor.dagBundleConfigList` into `[dag_processor]
    dag_bundle_config_list` of airflow.cfg, which every Airflow container reads:
    the DAG processor clones and refreshes the repository every `period`, and
    each task (a KubernetesExecutor pod) checks out the exact commit its DAG
    version was parsed from. No sidecar, no init container, no shared volume.
    Over SSH the bundle authenticates with the same deploy key and pinned host
    keys as git-sync: the connection comes from the git-ssh Secret (an env var
    of the long-running components; a task pod, whose template carries no
    secret, gets it from the API server's execution API like any connection)
    and the Secret's `knownHosts` is mounted where that connection points
    (GIT_KNOWN_HOSTS_FILE) in every pod, task pods included (`_dag_volumes`).
    """
    dags = inputs.dags
    kwargs: dict[str, Any] = {
        "repo_url": dags.repo,
        "tracking_ref": dags.branch,
        "subdir": dags.sub_path,
        "refresh_interval": duration_seconds(dags.period),
    }
    bundle = {"name": GIT_DAG_BUNDLE_NAME, "classpath": GIT_DAG_BUNDLE_CLASS, "kwargs": kwargs}
    values["dagProcessor"]["dagBundleConfigList"] = [bundle]
    if not dags.uses_ssh:
        return
    kwargs["git_conn_id"] = GIT_CONNECTION_ID
    values["secret"].append(
        {"envName": GIT_CONNECTION_ENV, "secretName": inputs.secrets.git_ssh_key, "secretKey": GIT_CONNECTION_KEY}
    )


def _git_known_hosts_volume(inputs: ChartInputs) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
    """The git-ssh Secret's pinned host keys where the bundle's connection points (GIT_KNOWN_HOSTS_FILE)."""
    known_hosts_dir, known_hosts_name = GIT_KNOWN_HOSTS_FILE.rsplit("/", 1)
    volume = {
        "name": GIT_KNOWN_HOSTS_VOLUME,
        "secret": {
            "secretName": inputs.secrets.git_ssh_key,
            "items": [{"key": KNOWN_HOSTS_KEY, "path": known_hosts_name}],
        },
    }
    return [volume], [{"name": GIT_KNOWN_HOSTS_VOLUME, "mountPath": known_hosts_dir, "readOnly": True}]


def _dag_volumes(inputs: ChartInputs) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
    """What every Airflow pod, task pods included, mounts to read DAGs: the DAG ConfigMap
    (`dags.source: configmap`), the bundle's known hosts (`bundle` over SSH), or nothing."""
    if inputs.dag_config_map is not None:
        return _dag_config_map_volume(inputs.dag_config_map)
    if inputs.dags.source == "bundle" and inputs.dags.uses_ssh:
        return _git_known_hosts_volume(inputs)
    return [], []


def _dag_config_map_volume(config_map: DagConfigMap) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
    """Mount the DAG ConfigMap where the chart's DAG folder is, in every Airflow pod."""
    volume = {
        "name": DAG_CONFIG_MAP_VOLUME,
        "configMap": {
            "name": config_map.name,
            "items": [{"key": key, "path": path} for key, path in sorted(config_map.items.items())],
        },
    }
    mount = {"name": DAG_CONFIG_MAP_VOLUME, "mountPath": DAGS_MOUNT_PATH, "readOnly": True}
    return [volume], [mount]


def _logging(inputs: ChartInputs) -> dict[str, Any]:
    """Task logs outlive KubernetesExecutor pods: object storage, else a shared PVC."""
    if inputs.remote_logging is not None:
        return {
            "logs": {"persistence": {"enabled": False}},
            "config": {
                "logging": {
                    "remote_logging": "True",
                    "remote_base_log_folder": inputs.remote_logging.base_log_folder,
                    "remote_log_conn_id": inputs.remote_logging.connection_id,
                }
            },
        }
    if inputs.logs_claim_name is None:
        raise ValueError("task logs need remote logging or a logs PVC; the platform provided neither")
    return {"logs": {"persistence": {"enabled": True, "existingClaim": inputs.logs_claim_name}}}


def _set_public_url(values: dict[str, Any], inputs: ChartInputs) -> None:
    """Airflow's links and e-mails use the HTTPS address; task pods keep the in-cluster API.

    `[api] base_url` (Airflow 3.2 config.yml: "Airflow cannot guess what
    domain or CNAME you are using") makes links absolute https URLs. Its
    documented side effect: `[core] execution_api_server_url` defaults to
    `{base_url}/execution/`, which would send every task pod out through the
    public entry point and its allowlist (the NAT addresses are not on it).
    So the execution API stays pinned to the chart's internal Service.
    """
    config = values.setdefault("config", {})
    config["api"] = {"base_url": inputs.public_url}
    service = api_server_service_name(inputs.airflow.release_name)
    config["core"] = {"execution_api_server_url": f"http://{service}:{API_SERVER_PORT}/execution/"}


def _set_proxy_trust(values: dict[str, Any], inputs: ChartInputs) -> None:
    """Secure cookies behind HTTPS; X-Forwarded-* trusted from the HTTPS entry point's proxies only.

    With the FAB auth manager (chart default; Airflow 3.2.2, FAB provider 3.6.4)
    the UI sets two cookies:
    - `session` (Flask): Secure only from `[fab] cookie_secure`, which becomes
      SESSION_COOKIE_SECURE (fab www/app.py); it never looks at the request.
    - `_token` (the UI's JWT): set by FAB's login redirect (fab www/views.py)
      and refreshed by Airflow's JWTRefreshMiddleware, Secure when the request
      scheme is https (or `[api] ssl_cert` is set, i.e. the API server itself
      serves TLS). Behind a proxy that terminates TLS the scheme is https only
      if uvicorn trusts the proxy's X-Forwarded-Proto: `api-server
      --proxy-headers` and the proxy in FORWARDED_ALLOW_IPS (uvicorn's Config,
      default 127.0.0.1). FAB's Flask app is mounted through starlette's
      WSGIMiddleware (`wsgi.url_scheme` = the ASGI scope's scheme), so it
      sees the scheme and client uvicorn resolved.
    FAB's own ProxyFix (`[fab] enable_proxy_fix`, on in the chart's defaults)
    would take X-Forwarded-For/-Proto/-Host/-Prefix from any client, so it is
    off: trust lives in one place, scoped to addresses.
    On AWS the NLB forwards bare TCP and sends no X-Forwarded-Proto, so no
    proxy is trusted and `_token` stays without Secure (README, "Secure
    cookies", has what the alternatives cost).
    """
    fab = values.setdefault("config", {}).setdefault("fab", {})
    fab["enable_proxy_fix"] = "False"
    if inputs.public_url is None:
        # Plain HTTP (port-forward or an allowlisted LoadBalancer): a browser drops a Secure cookie sent over http.
        return
    fab["cookie_secure"] = "True"
    if inputs.trusted_proxies:
        api_server = values["apiServer"]
        api_server["args"] = ["bash", "-c", "exec airflow api-server --proxy-headers"]
        # uvicorn takes IPs and CIDRs, comma-separated (its _TrustedHosts).
        trusted = with_inputs_resolved(list(inputs.trusted_proxies), ",".join)
        api_server.setdefault("env", []).append({"name": FORWARDED_ALLOW_IPS_ENV, "value": trusted})


def _environment(inputs: ChartInputs) -> list[dict[str, Any]]:
    """Env of every Airflow container, task pods included (the chart's top-level `env`).

    The Airflow Variables the DAGs read (components/platform_variables.py),
    then whatever the platform needs (values only: the chart's `env` takes no
    `valueFrom`, and nothing secret belongs here).
    """
    placement = inputs.worker_placement
    variables: Sequence[tuple[str, pulumi.Input[str]]] = (
        (platform_variables.NAMESPACE, inputs.namespace),
        (platform_variables.SHARED_DATA_PVC, inputs.shared_data_claim_name),
        (platform_variables.SHARED_DATA_MOUNT_PATH, platform_variables.SHARED_DATA_MOUNT_PATH_VALUE),
        (platform_variables.WORKER_NODE_SELECTOR, json.dumps(dict(placement.node_selector), sort_keys=True)),
        (platform_variables.WORKER_TOLERATIONS, json.dumps([dict(t) for t in placement.tolerations], sort_keys=True)),
    )
    env = [{"name": platform_variables.env_var_name(key), "value": value} for key, value in variables]
    env += [{"name": name, "value": value} for name, value in sorted(inputs.environment.items())]
    return env


def service_account_values(values: dict[str, Any], component: str) -> dict[str, Any]:
    """The section of `values` holding `component`'s ServiceAccount settings.

    Task pods take theirs from `workers.kubernetes.serviceAccount` (chart
    1.21+; the root `workers.serviceAccount` is deprecated). With `create` set
    there, the pod template names that account and the chart creates it from
    its own template, so its name must differ from the root worker account
    the chart still creates by default (see components/platform.py).
    """
    section = values[component]["kubernetes"] if component == WORKERS else values[component]
    return section.setdefault("serviceAccount", {})


def _set_service_accounts(values: dict[str, Any], inputs: ChartInputs) -> None:
    """Pin each component's ServiceAccount name and add the platform's identity annotations."""
    names = service_account_names(inputs.airflow.release_name)
    for component in AIRFLOW_COMPONENTS:
        service_account_values(values, component).update(
            {
                "create": True,
                "name": names[component],
                "annotations": dict(inputs.service_account_annotations.get(component, {})),
            }
        )
