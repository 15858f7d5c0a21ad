"""The dev shape (tests/stack_checks.py) and a production-shaped GCP config through `__main__.py` under mocks.

Asserts on what reaches GCP and what reaches the chart together: the values
the Helm release records must point at what the platform created (the taint,
the static IP, the bucket, the Workload Identity bindings).
"""

from __future__ import annotations

from typing import Any

import pytest
import stack_checks as checks

from components.airflow.auth import CLIENT_SECRET_ENV, SETTINGS_ENV
from components.airflow.values import FORWARDED_ALLOW_IPS_ENV, service_account_values
from components.config import ConfigError
from components.database_pools import ENGINES, MAX_OVERFLOW_ENV, POOL_SIZE_ENV, DatabasePools, Pool
from components.gcp.settings import RESERVED_CONNECTIONS, cloud_sql_max_connections
from review.cost import estimate
from review.fakes import gcp as fakes
from review.runner import Registered, Run, run_main

CLUSTER = "gcp:container/cluster:Cluster"
NODE_POOL = "gcp:container/nodePool:NodePool"
SQL_INSTANCE = "gcp:sql/databaseInstance:DatabaseInstance"
BUCKET = "gcp:storage/bucket:Bucket"
WI_MEMBER = "gcp:serviceaccount/iAMMember:IAMMember"
PVC = "kubernetes:core/v1:PersistentVolumeClaim"
STORAGE_CLASS = "kubernetes:storage.k8s.io/v1:StorageClass"
FIREWALL = "gcp:compute/firewall:Firewall"
PRIVATE_SERVICES = "gcp:compute/globalAddress:GlobalAddress"
# Issue 12: the dev stack idles for at most this, at list price (review/cost.py).
DEV_IDLE_BUDGET_USD = 60
# The chart ServiceAccounts bound to the log writer (components/platform.py suffixes).
WORKLOAD_ACCOUNTS = ("api-server", "dag-processor", "scheduler", "triggerer", "worker-kubernetes")

PRODUCTION_CONFIG: dict[str, Any] = {
    "cloud": "gcp",
    "production": True,
    "gcp": {
        "project": "acme-airflow-prod",
        "region": "europe-west1",
        "masterAuthorizedNetworks": [{"cidr": "198.51.100.0/24", "name": "vpn"}],
    },
    "loadBalancer": {"sourceRanges": ["198.51.100.0/24"]},
    # HTTPS itself is tested in tests/gcp/test_https.py.
    "ui": {"domain": "airflow.acme.example"},
    "dags": {"source": "git", "repo": "git@github.com:acme/airflow-dags.git"},
    "airflow": {"sharedDataSize": "1Ti"},
}


@pytest.fixture(scope="module")
def dev() -> Run:
    return checks.shape_run("dev")


@pytest.fixture(scope="module")
def prod() -> Run:
    return run_main(PRODUCTION_CONFIG, stack="prod-gcp")


@pytest.fixture(params=["dev", "prod"])
def run(request: pytest.FixtureRequest) -> Run:
    return request.getfixturevalue(request.param)


def _values(run: Run) -> dict[str, Any]:
    return checks.release_values(run)


def _workers_pool(run: Run) -> Registered:
    [pool] = [p for p in run.of_type(NODE_POOL) if p.name.endswith("-workers")]
    return pool


def test_nodes_are_private_and_workload_identity_is_on(run: Run) -> None:
    cluster = run.one(CLUSTER).inputs
    assert cluster["privateClusterConfig"]["enablePrivateNodes"] is True
    project = run.one("pulumi:providers:gcp").inputs["project"]
    assert cluster["workloadIdentityConfig"]["workloadPool"] == f"{project}.svc.id.goog"
    for pool in run.of_type(NODE_POOL):
        assert pool.inputs["nodeConfig"]["workloadMetadataConfig"]["mode"] == "GKE_METADATA", pool.name


def test_dev_is_zonal_with_spot_workers_scaling_to_zero(dev: Run) -> None:
    assert dev.one(CLUSTER).inputs["location"] == "europe-west1-b"
    workers = _workers_pool(dev).inputs
    assert workers["nodeConfig"]["spot"] is True
    assert workers["autoscaling"]["totalMinNodeCount"] == 0


def test_chart_workers_tolerate_the_worker_taint_and_select_the_pool(run: Run) -> None:
    node_config = _workers_pool(run).inputs["nodeConfig"]
    workers = checks.task_pod(run)["spec"]
    effects = {"NO_SCHEDULE": "NoSchedule"}
    for taint in node_config["taints"]:
        assert {
            "key": taint["key"],
            "operator": "Equal",
            "value": taint["value"],
            "effect": effects[taint["effect"]],
        } in workers["tolerations"], f"task pods do not tolerate {taint}"
    assert workers["nodeSelector"], "task pods must be pinned to the worker pool"
    assert workers["nodeSelector"].items() <= node_config["labels"].items()


def test_node_pools_leave_the_counts_to_the_autoscaler(run: Run) -> None:
    for pool in run.of_type(NODE_POOL):
        assert {"initialNodeCount", "nodeCount"} <= set(pool.ignore_changes), pool.name


def test_cloud_sql_is_private_with_backups(run: Run) -> None:
    instance = run.one(SQL_INSTANCE).inputs
    ip = instance["settings"]["ipConfiguration"]
    assert ip["ipv4Enabled"] is False
    assert ip["privateNetwork"] == run.one("gcp:compute/network:Network").urn.split("::")[-1] + "-id"
    assert instance["settings"]["backupConfiguration"]["enabled"] is True


def test_metadata_connection_uses_the_private_ip_over_tls(run: Run) -> None:
    name = _values(run)["data"]["metadataSecretName"]
    url = checks.secret_named(run, name).inputs["stringData"]["connection"]
    assert f"@{fakes.SQL_PRIVATE_IP}:5432/airflow?sslmode=require" in url


def test_no_cloud_sql_password_in_release_values(run: Run) -> None:
    # The shared check covers every generated password, the Cloud SQL one included.
    sql_password = run.one("gcp:sql/user:User").inputs["password"]
    assert sql_password in checks.generated_secret_values(run)
    checks.assert_no_generated_secret_in_values(run)


def test_log_bucket_is_private_and_is_the_remote_log_folder(run: Run) -> None:
    bucket = run.one(BUCKET)
    assert bucket.inputs["publicAccessPrevention"] == "enforced"
    assert bucket.inputs["uniformBucketLevelAccess"] is True
    logging = _values(run)["config"]["logging"]
    assert logging["remote_logging"] == "True"
    assert logging["remote_base_log_folder"] == f"gs://{bucket.outputs['name']}/logs"
    assert logging["remote_log_conn_id"] == "google_cloud_default"
    assert _values(run)["logs"]["persistence"]["enabled"] is False
    assert run.exports["logLocation"].value == logging["remote_base_log_folder"]


def test_plain_http_static_ip_and_source_ranges_reach_the_api_server_service() -> None:
    plain = run_main({**PRODUCTION_CONFIG, "ui": {"allowPlainHttp": True}}, stack="prod-plain")
    service = _values(plain)["apiServer"]["service"]
    assert service["loadBalancerIP"] == plain.one("gcp:compute/address:Address").outputs["address"] == fakes.UI_ADDRESS
    assert service["loadBalancerSourceRanges"] == PRODUCTION_CONFIG["loadBalancer"]["sourceRanges"]
    assert checks.platform_dependencies_of_release(plain) == RELEASE_NEEDS | {UI_ADDRESS_NEED}


REGISTRY = "gcp:artifactregistry/repository:Repository"
REGISTRY_READER = "gcp:artifactregistry/repositoryIamMember:RepositoryIamMember"


def test_docker_hub_cache_is_a_remote_repository_only_the_nodes_read(run: Run) -> None:
    repository = run.one(REGISTRY).inputs
    assert (repository["mode"], repository["format"]) == ("REMOTE_REPOSITORY", "DOCKER")
    assert repository["remoteRepositoryConfig"]["dockerRepository"]["publicRepository"] == "DOCKER_HUB"
    reader = run.one(REGISTRY_READER)
    node_account = run.one("gcp:serviceaccount/account:Account", "gcp-node-identity-account").outputs["email"]
    assert (reader.inputs["role"], reader.inputs["member"]) == (
        "roles/artifactregistry.reader",
        f"serviceAccount:{node_account}",
    )
    assert run.one(REGISTRY).urn in reader.dependencies, "the binding is on the cache repository"
    project_roles = {member.inputs["role"] for member in run.of_type("gcp:projects/iAMMember:IAMMember")}
    assert not any(role.startswith("roles/artifactregistry") for role in project_roles), "reader on the cache only"


def test_airflow_image_and_task_pods_pull_through_the_cache(run: Run) -> None:
    repository = run.one(REGISTRY)
    region = repository.inputs["location"]
    project = run.one("pulumi:providers:gcp").inputs["project"]
    mirrored = f"{region}-docker.pkg.dev/{project}/{repository.inputs['repositoryId']}/apache/airflow"
    values = _values(run)
    # The chart renders task pods' image from the same keys (pod template file).
    assert values["defaultAirflowRepository"] == values["images"]["airflow"]["repository"] == mirrored
    for job in run.of_type("kubernetes:batch/v1:Job"):
        assert job.inputs["spec"]["template"]["spec"]["containers"][0]["image"].startswith(f"{mirrored}:")


def test_image_streaming_on_the_worker_pool(run: Run) -> None:
    pools = {pool.name: pool.inputs["nodeConfig"] for pool in run.of_type(NODE_POOL)}
    assert pools["gcp-pools-workers"]["gcfsConfig"] == {"enabled": True}
    assert "gcfsConfig" not in pools["gcp-pools-system"]


def test_dev_idle_cost_is_at_most_60_usd_a_month_by_the_estimator(dev: Run) -> None:
    assert estimate(dev).monthly_idle_usd <= DEV_IDLE_BUDGET_USD


def component_pools(run: Run) -> dict[str, tuple[int, int]]:
    """(pool size, max overflow) each long-running component's own env sets."""
    values = _values(run)
    pools = {}
    for key in ENGINES:
        env = {item["name"]: item["value"] for item in values[key].get("env", [])}
        pools[key] = (int(env[POOL_SIZE_ENV]), int(env[MAX_OVERFLOW_ENV]))
    return pools


@pytest.mark.parametrize("shape", ["dev", "prod"])
def test_each_component_s_pool_fits_the_small_database_tier_together(shape: str, dev: Run, prod: Run) -> None:
    run = {"dev": dev, "prod": prod}[shape]
    values = _values(run)
    assert not {item["name"] for item in values["env"]} & {POOL_SIZE_ENV, MAX_OVERFLOW_ENV}, (
        "pool caps go per component: in the shared env they would duplicate the components' own"
    )
    pools = component_pools(run)
    replicas = {key: values[key].get("replicas", 1) for key in ENGINES}
    most = DatabasePools({key: Pool(*pool) for key, pool in pools.items()}, replicas).most
    tier = run.one(SQL_INSTANCE).inputs["settings"]["tier"]
    limit = cloud_sql_max_connections(tier)
    assert limit is not None and most <= limit - RESERVED_CONNECTIONS
    busiest = max(pools, key=lambda key: sum(pools[key]))
    assert busiest == "apiServer", f"the API server serves every task's request: {pools}"


def test_dev_s_api_server_gets_what_the_others_leave(dev: Run) -> None:
    assert component_pools(dev) == {
        "apiServer": (3, 4),
        "scheduler": (1, 1),
        "dagProcessor": (1, 1),
        "triggerer": (1, 1),
    }


def test_dev_ui_is_reached_by_port_forward_with_no_load_balancer_or_address(dev: Run) -> None:
    assert _values(dev)["apiServer"]["service"] == {"type": "ClusterIP"}
    assert dev.of_type("gcp:compute/address:Address") == []
    assert "port-forward svc/airflow-api-server" in dev.exports["uiPortForward"].value


def test_every_workload_identity_binding_matches_a_service_account_the_chart_creates(run: Run) -> None:
    values = _values(run)
    namespace = run.one(checks.RELEASE_TYPE).inputs["namespace"]
    project = run.one("pulumi:providers:gcp").inputs["project"]
    log_account = next(a for a in run.of_type("gcp:serviceaccount/account:Account") if "-logs" in a.name)
    chart_accounts = {
        f"serviceAccount:{project}.svc.id.goog[{namespace}/{service_account_values(values, c)['name']}]": c
        for c in ("scheduler", "apiServer", "workers", "triggerer", "dagProcessor")
    }
    members = {binding.inputs["member"] for binding in run.of_type(WI_MEMBER)}
    assert members == set(chart_accounts), "bindings and chart ServiceAccounts differ"
    for component in chart_accounts.values():
        annotations = service_account_values(values, component)["annotations"]
        assert annotations == {"iam.gke.io/gcp-service-account": log_account.outputs["email"]}, component


# What the chart's pods need and nothing else (issue: deploy critical path). The
# identities, bucket and address are inputs of the values; the worker pool, the
# Filestore class and the shared-data claim are for task pods only.
RELEASE_NEEDS = {
    ("gcp:container/nodePool:NodePool", "gcp-pools-system"),
    ("gcp:sql/databaseInstance:DatabaseInstance", "gcp-metadata-db-instance"),
    ("gcp:sql/database:Database", "gcp-metadata-db-database"),
    ("gcp:sql/user:User", "gcp-metadata-db-user"),
    ("random:index/randomPassword:RandomPassword", "gcp-metadata-db-password"),
    ("gcp:serviceaccount/account:Account", "gcp-logs-account"),
    *((WI_MEMBER, f"gcp-logs-wi-airflow-{account}") for account in WORKLOAD_ACCOUNTS),
    (BUCKET, "gcp-logs-bucket"),
    ("gcp:storage/bucketIAMMember:BucketIAMMember", "gcp-logs-bucket-access"),
    ("kubernetes:core/v1:Namespace", "gcp-namespace"),
    # The Docker Hub cache the nodes pull the Airflow image through, and their access to it.
    ("gcp:artifactregistry/repository:Repository", "gcp-docker-hub-repository"),
    ("gcp:artifactregistry/repositoryIamMember:RepositoryIamMember", "gcp-docker-hub-node-reader"),
}
# The UI's static address, with gcp.uiAccess: loadBalancer (the production default).
UI_ADDRESS_NEED = ("gcp:compute/address:Address", "gcp-network-ui")


def test_release_waits_only_for_what_the_chart_needs(dev: Run, prod: Run) -> None:
    assert checks.platform_dependencies_of_release(dev) == RELEASE_NEEDS
    # With ui.domain the Gateway holds the (global) address; the release reads
    # it only as a trusted proxy (FORWARDED_ALLOW_IPS: X-Forwarded-For ends with it).
    gateway_address = ("gcp:compute/globalAddress:GlobalAddress", "gcp-https-address")
    assert checks.platform_dependencies_of_release(prod) == RELEASE_NEEDS | {gateway_address}


def test_every_gcp_resource_uses_the_stack_provider(run: Run) -> None:
    for resource in run.resources:
        if resource.type.startswith("gcp:"):
            assert resource.provider.split("::")[-2] == "gcp-gcp", f"{resource.name} uses the ambient gcloud project"


def test_shared_checks(run: Run) -> None:
    checks.assert_secrets_referenced_by_name_exist(run)
    checks.assert_fernet_key_is_valid_and_stored(run)
    checks.assert_secret_outputs_are_secret(run, ("adminPassword", "fernetKey", "kubeconfig"))
    checks.assert_explicit_kubernetes_provider(run)
    assert checks.assert_manifests_validate(run) >= 2, "namespace and shared-data claim at least"


def test_release_values_validate_against_the_chart_schema(run: Run) -> None:
    checks.assert_release_values_match_chart_schema(run)


def test_exported_kubeconfig_is_secret_and_names_the_cluster(run: Run) -> None:
    exported = run.exports["kubeconfig"]
    assert exported.secret
    assert run.exports["clusterName"].value in exported.value
    assert "gke-gcloud-auth-plugin" in exported.value


def test_shared_volume_is_filestore_on_the_stack_network(run: Run) -> None:
    """Task pods on every worker node mount it: ReadWriteMany, on the VPC the nodes are on."""
    claim = run.one(PVC)
    storage_class = run.one(STORAGE_CLASS)
    assert claim.inputs["spec"]["storageClassName"] == storage_class.outputs["metadata"]["name"]
    assert claim.inputs["spec"]["accessModes"] == ["ReadWriteMany"]
    assert claim.inputs["metadata"]["name"] == "airflow-shared-data"
    project = run.one("pulumi:providers:gcp").inputs["project"]
    vpc = run.one("gcp:compute/network:Network").outputs["name"]
    private_services = run.one(PRIVATE_SERVICES, "gcp-network-private-services")
    parameters = storage_class.inputs["parameters"]
    assert parameters["network"] == f"projects/{project}/global/networks/{vpc}"
    assert parameters["reserved-ip-range"] == private_services.outputs["name"]
    firewall = run.one(FIREWALL).inputs
    assert firewall["sourceRanges"] == [
        f"{private_services.inputs['address']}/{int(private_services.inputs['prefixLength'])}"
    ]
    nodes_account = run.one("gcp:serviceaccount/account:Account", "gcp-node-identity-account").outputs["email"]
    assert firewall["targetServiceAccounts"] == [nodes_account]
    assert run.one(CLUSTER).inputs["addonsConfig"]["gcpFilestoreCsiDriverConfig"]["enabled"] is True
    assert "file.googleapis.com" in {s.inputs["service"] for s in run.of_type("gcp:projects/service:Service")}


def test_a_job_gives_the_filestore_share_to_airflows_uid_before_tasks_write(run: Run) -> None:
    """kubelet applies no fsGroup to NFS: a new share's root stays root:root 0755 until chowned."""
    job = run.one("kubernetes:batch/v1:Job").inputs
    pod = job["spec"]["template"]["spec"]
    [container] = pod["containers"]
    assert container["command"][-1] == "chown 50000:0 /share && chmod 2775 /share"
    assert container["securityContext"]["runAsUser"] == 0
    values = _values(run)
    assert container["image"] == f"{values['images']['airflow']['repository']}:{values['images']['airflow']['tag']}"
    [volume] = pod["volumes"]
    assert volume["persistentVolumeClaim"]["claimName"] == run.one(PVC).inputs["metadata"]["name"]
    assert "tolerations" not in pod, "runs on the system pool, not a task node brought up for it"


def test_dev_filestore_is_deleted_with_its_claim_production_keeps_it(dev: Run, prod: Run) -> None:
    assert dev.one(STORAGE_CLASS).inputs["reclaimPolicy"] == "Delete" and not dev.one(PVC).protect
    assert prod.one(STORAGE_CLASS).inputs["reclaimPolicy"] == "Retain" and prod.one(PVC).protect


def test_a_single_worker_node_keeps_the_cheaper_persistent_disk() -> None:
    config = checks.stack_config("dev")
    single = run_main({**config, "gcp": {**config["gcp"], "workerMaxNodes": 1}}, stack="dev-single-worker")
    spec = single.one(PVC).inputs["spec"]
    assert (spec["storageClassName"], spec["accessModes"]) == ("standard-rwo", ["ReadWriteOnce"])
    assert not single.of_type(STORAGE_CLASS) and not single.of_type(FIREWALL)
    assert not single.of_type("kubernetes:batch/v1:Job"), "a persistent disk takes fsGroup: no chown Job"
    assert single.one(CLUSTER).inputs["addonsConfig"]["gcpFilestoreCsiDriverConfig"]["enabled"] is False


def test_prod_shape_protects_state_and_turns_on_deletion_protection(prod: Run) -> None:
    cluster = prod.one(CLUSTER)
    instance = prod.one(SQL_INSTANCE)
    for resource in (cluster, instance, prod.one(BUCKET), prod.one(PVC), prod.one("gcp:kms/cryptoKey:CryptoKey")):
        assert resource.protect, f"{resource.name} must be protect=True on production"
    assert cluster.inputs["deletionProtection"] is True
    assert instance.inputs["deletionProtection"] is True
    assert instance.inputs["settings"]["deletionProtectionEnabled"] is True
    assert prod.one(BUCKET).inputs["forceDestroy"] is False


def test_prod_shape_is_regional_ha_and_encrypted(prod: Run) -> None:
    assert prod.one(CLUSTER).inputs["location"] == "europe-west1"
    assert prod.one(CLUSTER).inputs["databaseEncryption"]["state"] == "ENCRYPTED"
    settings = prod.one(SQL_INSTANCE).inputs["settings"]
    assert settings["availabilityType"] == "REGIONAL"
    assert settings["backupConfiguration"]["pointInTimeRecoveryEnabled"] is True
    apis = {s.inputs["service"] for s in prod.of_type("gcp:projects/service:Service")}
    assert "cloudkms.googleapis.com" in apis


def test_filestore_below_its_minimum_fails_before_any_resource() -> None:
    config = {**PRODUCTION_CONFIG, "airflow": {"sharedDataSize": "99Gi"}}
    with pytest.raises(ConfigError, match=r"airflow-platform:airflow.sharedDataSize: got '99Gi'.*100Gi to 63.9Ti"):
        run_main(config, stack="prod-small")


def test_async_engine_reaches_cloud_sql_over_tls_with_asyncpg(run: Run) -> None:
    checks.assert_async_connection_suits_asyncpg(run)
    checks.assert_long_running_pods_carry_the_secrets_checksum(run)


def test_production_defaults_keep_every_ha_invariant(prod: Run) -> None:
    """Issue 23's cheaper production shape keeps what production means: schedulers and API servers
    spread over zones with PDBs, system nodes in every zone of a regional cluster, HA Cloud SQL with
    point-in-time recovery, private nodes, HTTPS, task nodes from zero."""
    checks.assert_replicated_and_spread_over_zones(_values(prod))
    cluster = prod.one(CLUSTER).inputs
    assert cluster["privateClusterConfig"]["enablePrivateNodes"] is True
    system = prod.one(NODE_POOL, "gcp-pools-system").inputs
    # A regional pool without nodeLocations spans the region's zones; BALANCED keeps them even.
    assert system["location"] == cluster["location"] == "europe-west1" and not system.get("nodeLocations")
    assert system["autoscaling"]["totalMinNodeCount"] >= 2
    assert system["autoscaling"]["locationPolicy"] == "BALANCED"
    settings = prod.one(SQL_INSTANCE).inputs["settings"]
    assert settings["availabilityType"] == "REGIONAL"
    assert settings["backupConfiguration"]["pointInTimeRecoveryEnabled"] is True
    assert _workers_pool(prod).inputs["autoscaling"]["totalMinNodeCount"] == 0
    assert prod.exports["airflowUrl"].value.startswith("https://")


def test_zonal_clusters_get_no_zone_spread() -> None:
    """A zonal cluster's nodes share one zone: a spread constraint there would only mislead."""
    config = checks.stack_config("dev")
    config["airflow"].update(schedulerReplicas=2, apiServerReplicas=2)
    config["gcp"]["databaseTier"] = "db-g1-small"  # db-f1-micro's connections hold one API server
    chart = _values(run_main(config, stack="dev"))
    assert chart["scheduler"]["replicas"] == chart["apiServer"]["replicas"] == 2
    assert "topologySpreadConstraints" not in chart["scheduler"]
    assert "topologySpreadConstraints" not in chart["apiServer"]


def test_oidc_sign_in_settings_join_what_the_api_server_already_had() -> None:
    """Behind the HTTPS Gateway: its proxy trust and the database pool stay beside the sign-in's env
    (the sign-in's replaced them once)."""
    auth = {"mode": "oidc", "clientId": "airflow", "issuer": "https://login.acme.example", "roles": {"Admin": ["ops"]}}
    config = {**PRODUCTION_CONFIG, "auth": auth, "authClientSecret": "client-secret-of-the-test"}
    values = _values(run_main(config, stack="prod-gcp", secret_keys=("authClientSecret",)))
    env = {item["name"] for item in values["apiServer"]["env"]}
    assert {SETTINGS_ENV, CLIENT_SECRET_ENV, FORWARDED_ALLOW_IPS_ENV, POOL_SIZE_ENV} <= env
