"""Each GCP component on its own under mocks: what it registers, with which options."""

from __future__ import annotations

import json
import threading
from typing import Any
from unittest import mock

import pulumi
import pulumi_gcp as gcp
import pulumi_kubernetes as k8s
import pytest

from components.gcp.cluster import GkeCluster, GkeClusterArgs
from components.gcp.database import CloudSql, CloudSqlArgs
from components.gcp.identity import NODE_ROLES, NodeIdentity, NodeIdentityArgs
from components.gcp.kms import SecretsKey, SecretsKeyArgs
from components.gcp.kubeconfig import gke_kubeconfig
from components.gcp.logs import LogStore, LogStoreArgs
from components.gcp.network import Network, NetworkArgs
from components.gcp.node_pools import NodePools, NodePoolsArgs, PoolSpec, worker_placement
from components.gcp.services import ProjectServices, ProjectServicesArgs
from components.gcp.settings import GcpSettings
from components.gcp.storage import NFS_PORTS, FilestoreClass, FilestoreClassArgs
from components.platform import AIRFLOW_COMPONENTS, service_account_names
from review import runner
from review.fakes import gcp as fakes
from review.runner import Run, run_program

from .support import settings

SERVICE = "gcp:projects/service:Service"
CLUSTER = "gcp:container/cluster:Cluster"
NODE_POOL = "gcp:container/nodePool:NodePool"
SQL_INSTANCE = "gcp:sql/databaseInstance:DatabaseInstance"
BUCKET = "gcp:storage/bucket:Bucket"
WI_MEMBER = "gcp:serviceaccount/iAMMember:IAMMember"
KMS_GRANT = "gcp:kms/cryptoKeyIAMMember:CryptoKeyIAMMember"
STORAGE_CLASS = "kubernetes:storage.k8s.io/v1:StorageClass"
FIREWALL = "gcp:compute/firewall:Firewall"


def _apis(filestore: bool = False, kms: bool = False) -> dict[str, gcp.projects.Service]:
    return ProjectServices(
        "t-apis", ProjectServicesArgs(project="acme-airflow-dev", filestore=filestore, kms=kms)
    ).services


def _api_urn(run: Run, api: str) -> str:
    return run.one(SERVICE, f"t-apis-{api}").urn


# --- project services -------------------------------------------------------


def test_services_stay_enabled_on_destroy_and_file_kms_only_when_used() -> None:
    base = run_program(lambda: _apis(), config={})
    assert {s.inputs["service"] for s in base.of_type(SERVICE)} >= {
        f"{api}.googleapis.com" for api in ("container", "compute", "sqladmin", "servicenetworking", "iam", "storage")
    }
    assert not {"file.googleapis.com", "cloudkms.googleapis.com"} & {s.inputs["service"] for s in base.of_type(SERVICE)}
    for service in base.of_type(SERVICE):
        assert service.inputs["disableOnDestroy"] is False, service.name
    full = run_program(lambda: _apis(filestore=True, kms=True), config={})
    assert {"file.googleapis.com", "cloudkms.googleapis.com"} <= {s.inputs["service"] for s in full.of_type(SERVICE)}


# --- network ----------------------------------------------------------------


def _network_program() -> Network:
    apis = _apis()
    return Network(
        "t-net",
        NetworkArgs(settings=settings({"uiAccess": "loadBalancer"}), apis=[apis["compute"], apis["servicenetworking"]]),
    )


@pytest.fixture(scope="module", name="net")
def fixture_net() -> Run:
    return run_program(_network_program, config={})


def test_subnet_has_pod_and_service_ranges_and_private_google_access(net: Run) -> None:
    subnet = net.one("gcp:compute/subnetwork:Subnetwork").inputs
    assert subnet["ipCidrRange"] == "10.0.0.0/20"
    assert subnet["secondaryIpRanges"] == [
        {"rangeName": "pods", "ipCidrRange": "10.4.0.0/14"},
        {"rangeName": "services", "ipCidrRange": "10.8.0.0/20"},
    ]
    assert subnet["privateIpGoogleAccess"] is True
    assert net.one("gcp:compute/network:Network").inputs["autoCreateSubnetworks"] is False


def test_cloud_nat_serves_every_range_of_the_private_nodes(net: Run) -> None:
    nat = net.one("gcp:compute/routerNat:RouterNat").inputs
    router = net.one("gcp:compute/router:Router")
    assert nat["router"] == router.outputs["name"]
    assert nat["sourceSubnetworkIpRangesToNat"] == "ALL_SUBNETWORKS_ALL_IP_RANGES"


def test_private_services_access_uses_the_configured_range(net: Run) -> None:
    peering_range = net.one("gcp:compute/globalAddress:GlobalAddress")
    assert peering_range.inputs["purpose"] == "VPC_PEERING"
    assert (peering_range.inputs["address"], peering_range.inputs["prefixLength"]) == ("10.16.0.0", 16.0)
    connection = net.one("gcp:servicenetworking/connection:Connection").inputs
    assert connection["reservedPeeringRanges"] == [peering_range.outputs["name"]]
    assert connection["service"] == "servicenetworking.googleapis.com"


def test_ui_address_is_a_regional_external_ip(net: Run) -> None:
    address = net.one("gcp:compute/address:Address").inputs
    assert (address["addressType"], address["region"]) == ("EXTERNAL", "europe-west1")


def test_no_ui_address_when_the_ui_is_reached_by_port_forward() -> None:
    def program() -> Network:
        services = _apis()
        return Network(
            "t-net",
            NetworkArgs(
                settings=settings({"uiAccess": "portForward"}),
                apis=[services["compute"], services["servicenetworking"]],
            ),
        )

    assert run_program(program, config={}).of_type("gcp:compute/address:Address") == []


def test_network_resources_wait_for_the_compute_api(net: Run) -> None:
    compute = _api_urn(net, "compute")
    for resource in net.resources:
        if resource.type.startswith("gcp:compute/"):
            assert compute in resource.dependencies, f"{resource.name} does not wait for compute.googleapis.com"


# --- cluster ----------------------------------------------------------------


def _cluster_program(gcp_settings: GcpSettings, kms: bool, protect: bool) -> None:
    apis = _apis(kms=kms)
    identity = NodeIdentity("t-nodes", NodeIdentityArgs(project=gcp_settings.project, stack="t", apis=[apis["iam"]]))
    key = None
    if kms:
        provider = gcp.Provider("t-gcp", project=gcp_settings.project)
        key = SecretsKey(
            "t-key",
            SecretsKeyArgs(
                project=gcp_settings.project,
                region=gcp_settings.region,
                production=protect,
                apis=[apis["cloudkms"], apis["container"], apis["cloudresourcemanager"]],
                provider=provider,
            ),
        )
    cluster = GkeCluster(
        "t-gke",
        GkeClusterArgs(
            settings=gcp_settings,
            network="net-id",
            subnet="subnet-id",
            node_service_account=identity.account.email,
            secrets_key=key.crypto_key.id if key else None,
            filestore_csi=gcp_settings.shared_storage == "filestore",
            gateway_api=False,
            protect=protect,
            depends_on=[apis["container"], *identity.role_bindings, *([key.gke_access] if key else [])],
        ),
    )
    pulumi.export("kubeconfig", cluster.kubeconfig)


@pytest.fixture(scope="module")
def dev_cluster() -> Run:
    return run_program(lambda: _cluster_program(settings(), kms=False, protect=False), config={})


@pytest.fixture(scope="module")
def prod_cluster() -> Run:
    return run_program(lambda: _cluster_program(settings(production=True), kms=True, protect=True), config={})


def test_cluster_nodes_are_private_and_the_endpoint_is_allowlisted(dev_cluster: Run) -> None:
    cluster = dev_cluster.one(CLUSTER).inputs
    assert cluster["privateClusterConfig"]["enablePrivateNodes"] is True
    assert cluster["privateClusterConfig"]["masterIpv4CidrBlock"] == "172.16.0.0/28"
    assert cluster["masterAuthorizedNetworksConfig"]["cidrBlocks"] == [
        {"cidrBlock": "198.51.100.0/24", "displayName": "office"}
    ]
    assert cluster["networkingMode"] == "VPC_NATIVE"
    assert cluster["ipAllocationPolicy"] == {
        "clusterSecondaryRangeName": "pods",
        "servicesSecondaryRangeName": "services",
    }


def test_cluster_hardening(dev_cluster: Run) -> None:
    cluster = dev_cluster.one(CLUSTER).inputs
    assert cluster["workloadIdentityConfig"]["workloadPool"] == "acme-airflow-dev.svc.id.goog"
    assert cluster["datapathProvider"] == "ADVANCED_DATAPATH"
    assert cluster["enableLegacyAbac"] is False
    assert cluster["masterAuth"]["clientCertificateConfig"]["issueClientCertificate"] is False
    assert cluster["enableShieldedNodes"] is True
    assert cluster["releaseChannel"]["channel"] == "REGULAR"
    assert (cluster["removeDefaultNodePool"], cluster["initialNodeCount"]) == (True, 1.0)
    assert cluster["nodeConfig"]["workloadMetadataConfig"]["mode"] == "GKE_METADATA"
    assert cluster["nodeConfig"]["serviceAccount"].startswith("af-t-nodes@")


def test_dev_cluster_is_zonal_unprotected_without_kms(dev_cluster: Run) -> None:
    cluster = dev_cluster.one(CLUSTER)
    assert cluster.inputs["location"] == "europe-west1-b"
    assert cluster.inputs["deletionProtection"] is False and not cluster.protect
    assert "databaseEncryption" not in cluster.inputs
    # The dev shape's shared volume is Filestore (task pods span the worker nodes).
    assert cluster.inputs["addonsConfig"]["gcpFilestoreCsiDriverConfig"]["enabled"] is True


def test_prod_cluster_is_regional_protected_and_encrypts_secrets_with_kms(prod_cluster: Run) -> None:
    cluster = prod_cluster.one(CLUSTER)
    assert cluster.inputs["location"] == "europe-west1"
    assert cluster.inputs["deletionProtection"] is True and cluster.protect
    key = prod_cluster.one("gcp:kms/cryptoKey:CryptoKey")
    assert cluster.inputs["databaseEncryption"] == {"state": "ENCRYPTED", "keyName": key.urn.split("::")[-1] + "-id"}
    assert key.protect
    assert cluster.inputs["addonsConfig"]["gcpFilestoreCsiDriverConfig"]["enabled"] is True
    grant = prod_cluster.one("gcp:kms/cryptoKeyIAMMember:CryptoKeyIAMMember")
    assert grant.urn in cluster.dependencies, "the cluster must wait for the GKE agent's key grant"
    assert grant.inputs["role"] == "roles/cloudkms.cryptoKeyEncrypterDecrypter"
    assert grant.inputs["member"] == (
        f"serviceAccount:service-{fakes.PROJECT_NUMBER}@container-engine-robot.iam.gserviceaccount.com"
    )


def test_cluster_waits_for_the_api_and_the_node_roles(dev_cluster: Run) -> None:
    cluster = dev_cluster.one(CLUSTER)
    assert _api_urn(dev_cluster, "container") in cluster.dependencies
    for binding in dev_cluster.of_type("gcp:projects/iAMMember:IAMMember"):
        assert binding.urn in cluster.dependencies, binding.name


def test_node_account_has_exactly_the_minimal_roles(dev_cluster: Run) -> None:
    bindings = dev_cluster.of_type("gcp:projects/iAMMember:IAMMember")
    assert sorted(b.inputs["role"] for b in bindings) == sorted(NODE_ROLES)
    assert {b.inputs["member"] for b in bindings} == {
        f"serviceAccount:af-t-nodes@{fakes.FAKE_PROJECT}.iam.gserviceaccount.com"
    }


def test_control_plane_is_reachable_by_iam_from_anywhere_and_by_ip_from_the_authorized_networks(
    dev_cluster: Run,
) -> None:
    """GitHub-hosted runners egress from thousands of ranges: they reach the DNS-based
    endpoint, where IAM decides; the IP endpoint keeps its master authorized networks."""
    cluster = dev_cluster.one(CLUSTER).inputs
    assert cluster["controlPlaneEndpointsConfig"] == {
        "dnsEndpointConfig": {
            "allowExternalTraffic": True,
            # Only Google IAM credentials: no Kubernetes-issued token or client certificate over it.
            "enableK8sTokensViaDns": False,
            "enableK8sCertsViaDns": False,
        }
    }
    assert cluster["masterAuthorizedNetworksConfig"]["cidrBlocks"], "the IP endpoint stays allowlisted"


def test_kubeconfig_is_secret_and_uses_the_auth_plugin_on_the_dns_endpoint(dev_cluster: Run) -> None:
    exported = dev_cluster.exports["kubeconfig"]
    assert exported.secret
    config = json.loads(exported.value)
    dns_endpoint = dev_cluster.one(CLUSTER).outputs["controlPlaneEndpointsConfig"]["dnsEndpointConfig"]["endpoint"]
    assert dns_endpoint.endswith(".gke.goog")
    # A publicly trusted certificate: pinning the cluster CA would fail verification.
    assert config["clusters"][0]["cluster"] == {"server": f"https://{dns_endpoint}"}
    plugin = config["users"][0]["user"]["exec"]
    assert plugin["command"] == "gke-gcloud-auth-plugin"
    assert plugin["apiVersion"] == "client.authentication.k8s.io/v1beta1"
    assert plugin["provideClusterInfo"] is True
    # What CI and the prerequisites check have: application-default credentials.
    assert plugin["args"] == ["--use_application_default_credentials"]
    assert config["current-context"] == config["contexts"][0]["name"]


def test_kms_grant_goes_to_an_explicitly_created_gke_service_agent(prod_cluster: Run) -> None:
    agent = prod_cluster.one("gcp:projects/serviceIdentity:ServiceIdentity")
    assert agent.inputs == {"project": "acme-airflow-dev", "service": "container.googleapis.com"}
    grant = prod_cluster.one(KMS_GRANT)
    assert agent.urn in grant.dependencies, "the grant must wait until the service agent exists"
    assert grant.inputs["member"] == (
        f"serviceAccount:service-{fakes.PROJECT_NUMBER}@container-engine-robot.iam.gserviceaccount.com"
    )
    assert _api_urn(prod_cluster, "container") in agent.dependencies


def test_project_number_lookup_waits_for_the_resource_manager_api() -> None:
    """Each API takes a while to switch on; the lookup must not start before its API is on.

    The mock monitor serves registrations and invokes on worker threads: the resource manager API's
    registration holds until the lookup has been made, or 0.5 s. Without the dependency the lookup
    runs in that window and is recorded first; with it, the lookup can only follow the API.
    """
    events: list[str] = []
    looked_up = threading.Event()

    def slow_service(name: str, inputs: dict[str, Any]) -> dict[str, Any]:
        if inputs["service"] == "cloudresourcemanager.googleapis.com":
            looked_up.wait(timeout=0.5)
        events.append(inputs["service"])
        return {}

    def project_lookup(args: dict[str, Any]) -> dict[str, Any]:
        events.append("getProject")
        looked_up.set()
        return {"number": fakes.PROJECT_NUMBER}

    with (
        mock.patch.dict(runner.FAKE_OUTPUTS, {"gcp:projects/service:Service": slow_service}),
        mock.patch.dict(runner.FAKE_CALLS, {"gcp:organizations/getProject:getProject": project_lookup}),
    ):
        run_program(lambda: _cluster_program(settings(production=True), kms=True, protect=True), config={})
    assert "getProject" in events
    assert events.index("cloudresourcemanager.googleapis.com") < events.index("getProject"), events


def test_kubeconfig_embeds_no_credential() -> None:
    user = json.loads(gke_kubeconfig("c", "gke-0a1b.europe-west1.gke.goog"))["users"][0]["user"]
    assert set(user) == {"exec"}, "no token, password or client certificate in the kubeconfig"


# --- node pools ---------------------------------------------------------------


def _pools_program(spot: bool) -> NodePools:
    return NodePools(
        "t-pools",
        NodePoolsArgs(
            cluster="cluster-id",
            location="europe-west1-b",
            service_account="nodes@acme.iam.gserviceaccount.com",
            system=PoolSpec(machine_type="e2-standard-2", min_nodes=1, max_nodes=3, spot=False, disk_size_gb=30),
            workers=PoolSpec(machine_type="e2-standard-4", min_nodes=0, max_nodes=5, spot=spot, disk_size_gb=50),
            depends_on=[],
        ),
    )


@pytest.fixture(scope="module")
def pools() -> Run:
    return run_program(lambda: _pools_program(spot=True), config={})


def test_worker_pool_is_spot_scales_to_zero_and_is_tainted(pools: Run) -> None:
    workers = pools.one(NODE_POOL, "t-pools-workers").inputs
    assert workers["nodeConfig"]["spot"] is True
    assert workers["autoscaling"]["totalMinNodeCount"] == 0 and workers["autoscaling"]["totalMaxNodeCount"] == 5
    assert workers["initialNodeCount"] == 0
    assert workers["nodeConfig"]["taints"] == [
        {"key": "airflow-platform/pool", "value": "workers", "effect": "NO_SCHEDULE"}
    ]
    assert workers["nodeConfig"]["labels"] == {"airflow-platform/pool": "workers"}
    assert workers["nodeConfig"]["machineType"] == "e2-standard-4"


def test_system_pool_is_on_demand_and_untainted(pools: Run) -> None:
    system = pools.one(NODE_POOL, "t-pools-system").inputs
    assert system["nodeConfig"]["spot"] is False
    assert not system["nodeConfig"].get("taints")
    assert system["autoscaling"]["totalMinNodeCount"] == 1


def test_every_pool_is_hardened_and_ignores_autoscaler_counts(pools: Run) -> None:
    for pool in pools.of_type(NODE_POOL):
        node = pool.inputs["nodeConfig"]
        assert node["workloadMetadataConfig"]["mode"] == "GKE_METADATA", pool.name
        assert node["shieldedInstanceConfig"] == {"enableSecureBoot": True, "enableIntegrityMonitoring": True}
        assert node["serviceAccount"] == "nodes@acme.iam.gserviceaccount.com"
        assert pool.inputs["management"] == {"autoRepair": True, "autoUpgrade": True}
        assert {"initialNodeCount", "nodeCount"} <= set(pool.ignore_changes), pool.name


def test_placement_tolerates_the_worker_taint_and_selects_the_worker_label(pools: Run) -> None:
    placement = worker_placement()
    workers = pools.one(NODE_POOL, "t-pools-workers").inputs["nodeConfig"]
    [taint] = workers["taints"]
    [toleration] = placement.tolerations
    assert (toleration["key"], toleration["value"], toleration["operator"]) == (taint["key"], taint["value"], "Equal")
    assert toleration["effect"] == "NoSchedule" and taint["effect"] == "NO_SCHEDULE"
    assert dict(placement.node_selector).items() <= workers["labels"].items()


# --- database -----------------------------------------------------------------


def _database_program(gcp_settings: GcpSettings, protect: bool) -> None:
    apis = _apis()
    database = CloudSql(
        "t-db",
        CloudSqlArgs(
            settings=gcp_settings,
            network="net-id",
            private_services_range="peering-range",
            protect=protect,
            depends_on=[apis["sqladmin"]],
        ),
    )
    pulumi.export("url", database.database.connection_url())
    pulumi.export("password", database.database.password)


@pytest.fixture(scope="module")
def dev_db() -> Run:
    return run_program(lambda: _database_program(settings(), protect=False), config={})


@pytest.fixture(scope="module")
def prod_db() -> Run:
    return run_program(lambda: _database_program(settings(production=True), protect=True), config={})


@pytest.fixture(params=["dev_db", "prod_db"])
def run_db(request: pytest.FixtureRequest) -> Run:
    return request.getfixturevalue(request.param)


def test_cloud_sql_has_no_public_ip_requires_tls_and_backs_up(dev_db: Run) -> None:
    instance = dev_db.one(SQL_INSTANCE).inputs
    ip = instance["settings"]["ipConfiguration"]
    assert ip["ipv4Enabled"] is False
    assert (ip["privateNetwork"], ip["allocatedIpRange"]) == ("net-id", "peering-range")
    assert ip["sslMode"] == "ENCRYPTED_ONLY"
    assert instance["settings"]["backupConfiguration"]["enabled"] is True


def test_dev_cloud_sql_is_the_small_zonal_shape(dev_db: Run) -> None:
    instance = dev_db.one(SQL_INSTANCE)
    settings_ = instance.inputs["settings"]
    assert (settings_["tier"], settings_["edition"]) == ("db-f1-micro", "ENTERPRISE")
    assert settings_["availabilityType"] == "ZONAL"
    assert settings_["locationPreference"]["zone"] == "europe-west1-b"
    assert instance.inputs["databaseVersion"] == "POSTGRES_16"
    assert instance.inputs["deletionProtection"] is False and not instance.protect


def test_prod_cloud_sql_is_ha_with_pitr_and_protected_twice(prod_db: Run) -> None:
    instance = prod_db.one(SQL_INSTANCE)
    settings_ = instance.inputs["settings"]
    assert settings_["availabilityType"] == "REGIONAL"
    assert settings_["backupConfiguration"]["pointInTimeRecoveryEnabled"] is True
    assert instance.inputs["deletionProtection"] is True
    assert settings_["deletionProtectionEnabled"] is True
    assert instance.protect


def test_connection_url_points_at_the_private_ip_with_tls(dev_db: Run) -> None:
    url = dev_db.exports["url"]
    assert url.secret and dev_db.exports["password"].secret
    password = dev_db.one("random:index/randomPassword:RandomPassword").outputs["result"]
    assert url.value == f"postgresql://airflow:{password}@{fakes.SQL_PRIVATE_IP}:5432/airflow?sslmode=require"
    user = dev_db.one("gcp:sql/user:User").inputs
    assert user["password"] == password and user["name"] == "airflow"
    assert dev_db.one("random:index/randomPassword:RandomPassword").inputs["special"] is False


def test_cloud_sql_disk_grows_by_itself_and_a_refresh_never_shrinks_it(run_db: Run) -> None:
    instance = run_db.one(SQL_INSTANCE)
    assert instance.inputs["settings"]["diskAutoresize"] is True
    assert "settings.diskSize" in instance.ignore_changes, "a refresh would read the grown disk as a shrink"


def test_cloud_sql_waits_for_its_api(dev_db: Run) -> None:
    assert _api_urn(dev_db, "sqladmin") in dev_db.one(SQL_INSTANCE).dependencies


# --- logs -----------------------------------------------------------------------


def _logs_program(gcp_settings: GcpSettings, protect: bool) -> None:
    apis = _apis()
    cluster = gcp.container.Cluster("t-cluster")
    logs = LogStore(
        "t-logs",
        LogStoreArgs(
            settings=gcp_settings,
            stack="dev",
            namespace="airflow",
            release_name="airflow",
            protect=protect,
            apis=[apis["storage"], apis["iam"]],
            cluster=cluster,
        ),
    )
    pulumi.export("folder", logs.remote_logging.base_log_folder)
    pulumi.export("annotations", logs.service_account_annotations)


@pytest.fixture(scope="module")
def dev_logs() -> Run:
    return run_program(lambda: _logs_program(settings(), protect=False), config={})


def test_log_bucket_is_private_uniform_and_expires_logs(dev_logs: Run) -> None:
    bucket = dev_logs.one(BUCKET)
    assert bucket.inputs["publicAccessPrevention"] == "enforced"
    assert bucket.inputs["uniformBucketLevelAccess"] is True
    assert bucket.inputs["lifecycleRules"] == [{"action": {"type": "Delete"}, "condition": {"age": 30.0}}]
    assert bucket.inputs["versioning"] == {"enabled": False}
    assert bucket.inputs["location"] == "EUROPE-WEST1"
    assert not bucket.protect and bucket.inputs["forceDestroy"] is True


def test_versioned_bucket_expires_old_versions_too() -> None:
    run = run_program(lambda: _logs_program(settings({"logVersioning": True}), protect=True), config={})
    bucket = run.one(BUCKET)
    assert bucket.protect and bucket.inputs["forceDestroy"] is False
    conditions = [rule["condition"] for rule in bucket.inputs["lifecycleRules"]]
    assert {"daysSinceNoncurrentTime": 7.0} in conditions


def test_log_account_may_only_touch_objects_in_its_bucket(dev_logs: Run) -> None:
    access = dev_logs.one("gcp:storage/bucketIAMMember:BucketIAMMember").inputs
    assert access["role"] == "roles/storage.objectAdmin"
    assert access["bucket"] == dev_logs.one(BUCKET).outputs["name"]
    assert access["member"] == f"serviceAccount:af-dev-logs@{fakes.FAKE_PROJECT}.iam.gserviceaccount.com"
    assert not dev_logs.of_type("gcp:projects/iAMMember:IAMMember"), "no project-wide role for the log account"


def test_workload_identity_binds_every_airflow_service_account(dev_logs: Run) -> None:
    account = dev_logs.one("gcp:serviceaccount/account:Account")
    cluster = dev_logs.one(CLUSTER)
    bindings = dev_logs.of_type(WI_MEMBER)
    expected = {
        f"serviceAccount:acme-airflow-dev.svc.id.goog[airflow/{ksa}]"
        for ksa in service_account_names("airflow").values()
    }
    assert {b.inputs["member"] for b in bindings} == expected
    for binding in bindings:
        assert binding.inputs["role"] == "roles/iam.workloadIdentityUser"
        assert binding.inputs["serviceAccountId"] == account.outputs["name"]
        assert cluster.urn in binding.dependencies, "the identity pool exists only once the cluster does"


def test_annotations_and_log_folder(dev_logs: Run) -> None:
    email = f"af-dev-logs@{fakes.FAKE_PROJECT}.iam.gserviceaccount.com"
    assert dev_logs.exports["annotations"].value == {
        component: {"iam.gke.io/gcp-service-account": email} for component in AIRFLOW_COMPONENTS
    }
    assert dev_logs.exports["folder"].value == f"gs://{dev_logs.one(BUCKET).outputs['name']}/logs"


# --- shared data: Filestore -----------------------------------------------------


def _filestore_program(retain: bool) -> None:
    apis = _apis(filestore=True)
    FilestoreClass(
        "t-fs",
        FilestoreClassArgs(
            project="acme-airflow-dev",
            network_name="t-vpc",
            network_id="projects/acme-airflow-dev/global/networks/t-vpc",
            private_services_range="t-private-services",
            private_services_cidr="10.16.0.0/16",
            node_service_account="nodes@acme-airflow-dev.iam.gserviceaccount.com",
            provider=k8s.Provider("t-k8s", kubeconfig="{}"),
            retain=retain,
            depends_on=[apis["file"]],
        ),
    )


@pytest.fixture(scope="module")
def filestore() -> Run:
    return run_program(lambda: _filestore_program(retain=False), config={})


def test_filestore_class_provisions_basic_hdd_on_the_stack_network(filestore: Run) -> None:
    storage_class = filestore.one(STORAGE_CLASS).inputs
    assert storage_class["provisioner"] == "filestore.csi.storage.gke.io"
    assert storage_class["parameters"] == {
        "tier": "standard",
        "network": "projects/acme-airflow-dev/global/networks/t-vpc",
        "connect-mode": "PRIVATE_SERVICE_ACCESS",
        "reserved-ip-range": "t-private-services",
    }
    assert storage_class["volumeBindingMode"] == "WaitForFirstConsumer"
    assert storage_class["allowVolumeExpansion"] is True
    assert storage_class["reclaimPolicy"] == "Delete"


def test_nodes_admit_nfs_callbacks_from_the_filestore_range_only(filestore: Run) -> None:
    firewall = filestore.one(FIREWALL).inputs
    assert firewall["direction"] == "INGRESS"
    assert firewall["network"] == "projects/acme-airflow-dev/global/networks/t-vpc"
    assert firewall["sourceRanges"] == ["10.16.0.0/16"]
    assert firewall["targetServiceAccounts"] == ["nodes@acme-airflow-dev.iam.gserviceaccount.com"]
    assert firewall["allows"] == [{"protocol": protocol, "ports": NFS_PORTS} for protocol in ("tcp", "udp")]


def test_filestore_class_waits_for_the_file_api_and_the_firewall(filestore: Run) -> None:
    dependencies = filestore.one(STORAGE_CLASS).dependencies
    assert _api_urn(filestore, "file") in dependencies
    assert filestore.one(FIREWALL).urn in dependencies


def test_production_filestore_outlives_its_claim() -> None:
    retained = run_program(lambda: _filestore_program(retain=True), config={})
    assert retained.one(STORAGE_CLASS).inputs["reclaimPolicy"] == "Retain"
