"""`airflow-platform:gcp` validation, pure: every rule with a good and a bad input."""

from __future__ import annotations

import ipaddress
import re

import pytest

from components.config import ConfigError, parse_stack_config
from components.gcp.names import service_account_id
from components.gcp.settings import RESERVED_CONNECTIONS, cloud_sql_max_connections
from components.gcp.storage import check_shared_volume_size
from components.validation import Problems

from .support import MINIMAL, key, parse, problems_by_key, settings


def test_dev_defaults_are_the_cheap_shape() -> None:
    dev = settings()
    assert (dev.location_type, dev.zone, dev.location) == ("zonal", "europe-west1-b", "europe-west1-b")
    assert dev.worker_spot and dev.worker_min_nodes == 0
    assert (dev.database_tier, dev.database_edition) == ("db-f1-micro", "ENTERPRISE")
    assert dev.system_spot and dev.system_disk_size_gb == 30 and dev.ui_access == "portForward"
    assert dev.database_connections == 22, "db-f1-micro's 25 less the 3 superuser slots"
    assert not (dev.database_high_availability or dev.point_in_time_recovery)
    assert dev.worker_max_nodes > 1 and dev.shared_storage == "filestore"
    assert not (dev.kms_encryption or dev.deletion_protection)
    assert dev.workload_pool == "acme-airflow-dev.svc.id.goog"


def test_spot_system_nodes_are_refused_on_production() -> None:
    problem = problems_by_key({"systemSpot": True}, production=True)[key("systemSpot")]
    assert problem.value is True and "production" in problem.allowed


@pytest.mark.parametrize(
    ("raw", "name"),
    [
        ({"uiAccess": "ingress"}, "uiAccess"),
        ({"systemDiskSizeGb": 10}, "systemDiskSizeGb"),
        ({"systemSpot": "sometimes"}, "systemSpot"),
    ],
)
def test_cost_levers_are_validated(raw: dict[str, object], name: str) -> None:
    assert list(problems_by_key(raw)) == [key(name)]


def test_the_connection_budget_is_the_tier_s_limit_less_the_superuser_slots() -> None:
    assert settings({"databaseTier": "db-f1-micro"}).database_connections == 22
    assert settings({"databaseTier": "db-g1-small"}).database_connections == 47
    assert settings({"databaseTier": "db-custom-1-3840"}).database_connections == 97
    assert settings({"databaseTier": "db-custom-2-7680"}).database_connections == 397


def test_production_flips_the_defaults() -> None:
    prod = settings(production=True)
    assert (prod.location_type, prod.zone, prod.location) == ("regional", None, "europe-west1")
    assert prod.database_high_availability and prod.point_in_time_recovery
    assert prod.kms_encryption and prod.deletion_protection
    assert prod.shared_storage == "filestore"
    assert prod.release_channel == "STABLE"
    assert prod.system_min_nodes >= 3, "one system node per zone of a regional cluster"
    assert not prod.system_spot and prod.system_disk_size_gb == 50 and prod.ui_access == "loadBalancer"
    assert prod.database_tier == "db-custom-1-3840"
    assert cloud_sql_max_connections(prod.database_tier) == 100
    assert prod.database_connections == 100 - RESERVED_CONNECTIONS


def test_individual_keys_override_the_shape() -> None:
    prod = settings({"locationType": "zonal", "zone": "europe-west1-c", "kmsEncryption": False}, production=True)
    assert (prod.location, prod.kms_encryption, prod.deletion_protection) == ("europe-west1-c", False, True)
    dev = settings({"databaseHighAvailability": True, "workerMaxNodes": 1, "workerSpot": False})
    assert dev.database_high_availability and dev.shared_storage == "pd" and not dev.worker_spot


@pytest.mark.parametrize("project", ["acme-airflow-dev", "a12345", "my-project-123456789012345678"])
def test_accepts_project_ids(project: str) -> None:
    assert settings({"project": project}).project == project


@pytest.mark.parametrize(
    "project", ["", "My-Project", "abcde", "1project", "project-", "under_score", "a" * 31, "x" * 5 + " "]
)
def test_rejects_bad_project_ids(project: str) -> None:
    problem = problems_by_key({"project": project})[key("project")]
    assert "project id" in problem.allowed


def test_project_is_required() -> None:
    _, problems = parse({"project": None})
    assert key("project") in {problem.key for problem in problems}


def test_error_message_names_key_value_and_what_is_allowed() -> None:
    raw = {
        "cloud": "gcp",
        "gcp": {**MINIMAL, "zone": "us-central1-a"},
        "loadBalancer": {"sourceRanges": ["198.51.100.0/24"]},
        "dags": {"repo": "git@github.com:acme/airflow.git"},
    }
    with pytest.raises(ConfigError) as error:
        parse_stack_config(raw, stack="dev")
    message = str(error.value)
    assert "airflow-platform:gcp.zone: got 'us-central1-a'" in message
    assert "a zone of region europe-west1" in message


@pytest.mark.parametrize("zone", ["europe-west1-b", "europe-west1-d"])
def test_accepts_a_zone_of_the_region(zone: str) -> None:
    assert settings({"zone": zone}).location == zone


@pytest.mark.parametrize("zone", ["europe-west4-b", "us-central1-a", "europe-west1", "europe-west1-bb", "b"])
def test_rejects_a_zone_outside_the_region(zone: str) -> None:
    assert "europe-west1" in problems_by_key({"zone": zone})[key("zone")].allowed


def test_rejects_a_zone_on_a_regional_cluster() -> None:
    problem = problems_by_key({"locationType": "regional", "zone": "europe-west1-b"})[key("zone")]
    assert "regional" in problem.allowed
    assert key("zone") in problems_by_key({"zone": "europe-west1-b"}, production=True)


@pytest.mark.parametrize(
    ("name", "value"),
    [
        ("region", "Europe-West1"),
        ("locationType", "multi-zonal"),
        ("releaseChannel", "regular"),
        ("databaseVersion", "POSTGRES_12"),
        ("sharedStorage", "nfs"),
        ("workerSpot", "yes"),
        ("kmsEncryption", 1),
        ("logRetentionDays", 0),
        ("databaseDiskSizeGb", 5),
        ("deletionProtection", "true"),
    ],
)
def test_rejects_values_outside_the_allowed_set(name: str, value: object) -> None:
    assert key(name) in problems_by_key({name: value})


def test_rejects_unknown_keys() -> None:
    assert key("machineType") in problems_by_key({"machineType": "e2-standard-4"})


@pytest.mark.parametrize(
    "machine_type",
    ["e2-standard-4", "n2-highmem-8", "c3-standard-4-lssd", "e2-medium", "custom-4-16384", "n2-custom-2-8192-ext"],
)
def test_accepts_machine_types(machine_type: str) -> None:
    assert settings({"workerMachineType": machine_type}).worker_machine_type == machine_type


@pytest.mark.parametrize(
    "machine_type", ["e2-standard", "standard-4", "E2-STANDARD-4", "n2-huge-8", "custom-4", "db-g1-small"]
)
def test_rejects_unknown_machine_type_formats(machine_type: str) -> None:
    for name in ("systemMachineType", "workerMachineType"):
        problem = problems_by_key({name: machine_type})[key(name)]
        assert problem.value == machine_type and "e2-standard-4" in problem.allowed


@pytest.mark.parametrize(
    ("name", "cidr"),
    [
        ("podsCidr", "10.0.8.0/21"),  # inside the subnet 10.0.0.0/20
        ("servicesCidr", "10.4.0.0/20"),  # inside the pods range 10.4.0.0/14
        ("masterCidr", "10.8.0.0/28"),  # inside the services range
        ("privateServicesCidr", "10.0.0.0/16"),  # contains the subnet
    ],
)
def test_rejects_overlapping_cidrs(name: str, cidr: str) -> None:
    problem = problems_by_key({name: cidr})[key(name)]
    assert "does not overlap" in problem.allowed


def test_default_ranges_are_disjoint() -> None:
    dev = settings()
    networks = [
        ipaddress.ip_network(cidr)
        for cidr in (dev.subnet_cidr, dev.pods_cidr, dev.services_cidr, dev.master_cidr, dev.private_services_cidr)
    ]
    assert not any(a.overlaps(b) for i, a in enumerate(networks) for b in networks[i + 1 :])


@pytest.mark.parametrize("cidr", ["10.0.0.1/20", "10.0.0.0", "300.0.0.0/8", "fd00::/64"])
def test_rejects_malformed_cidrs(cidr: str) -> None:
    assert key("subnetCidr") in problems_by_key({"subnetCidr": cidr})


def test_master_range_must_be_a_28() -> None:
    assert "/28" in problems_by_key({"masterCidr": "172.16.0.0/27"})[key("masterCidr")].allowed
    assert settings({"masterCidr": "172.16.0.16/28"}).master_cidr == "172.16.0.16/28"


def test_private_services_range_must_be_a_24_or_larger() -> None:
    assert "/24" in problems_by_key({"privateServicesCidr": "10.16.0.0/25"})[key("privateServicesCidr")].allowed
    assert settings({"privateServicesCidr": "10.16.0.0/24"}).private_services_cidr == "10.16.0.0/24"


def test_pod_range_must_fit_a_24_per_node() -> None:
    # A /22 holds four nodes' /24s; 3 system + 5 workers need eight.
    problem = problems_by_key({"podsCidr": "10.4.0.0/22"})[key("podsCidr")]
    assert "/21" in problem.allowed
    assert settings({"podsCidr": "10.4.0.0/21"}).pods_cidr == "10.4.0.0/21"


def test_master_authorized_networks_are_required() -> None:
    for value in (None, []):
        assert key("masterAuthorizedNetworks") in problems_by_key({"masterAuthorizedNetworks": value})


def test_master_authorized_networks_parse_cidr_and_name() -> None:
    parsed = settings({"masterAuthorizedNetworks": [{"cidr": "198.51.100.7/32", "name": "me"}, {"cidr": "10.0.0.0/8"}]})
    assert [(n.cidr, n.name) for n in parsed.master_authorized_networks] == [
        ("198.51.100.7/32", "me"),
        ("10.0.0.0/8", "network-1"),
    ]


@pytest.mark.parametrize(
    ("entry", "bad_key"),
    [
        ("198.51.100.0/24", "masterAuthorizedNetworks[0]"),
        ({"name": "office"}, "masterAuthorizedNetworks[0]"),
        ({"cidr": "198.51.100.0/24", "display": "x"}, "masterAuthorizedNetworks[0]"),
        ({"cidr": "198.51.100.1/24"}, "masterAuthorizedNetworks[0].cidr"),
        ({"cidr": "198.51.100.0/24", "name": ""}, "masterAuthorizedNetworks[0].name"),
    ],
)
def test_rejects_malformed_master_authorized_networks(entry: object, bad_key: str) -> None:
    assert key(bad_key) in problems_by_key({"masterAuthorizedNetworks": [entry]})


def test_world_open_control_plane_is_refused_on_production_only() -> None:
    world = {"masterAuthorizedNetworks": [{"cidr": "0.0.0.0/0", "name": "anyone"}]}
    assert key("masterAuthorizedNetworks[0].cidr") in problems_by_key(world, production=True)
    assert settings(world).master_authorized_networks[0].cidr == "0.0.0.0/0"


def test_node_counts() -> None:
    assert settings({"workerMinNodes": 0, "workerMaxNodes": 1}).worker_max_nodes == 1
    assert key("systemMinNodes") in problems_by_key({"systemMinNodes": 0})
    problem = problems_by_key({"workerMinNodes": 4, "workerMaxNodes": 2})[key("workerMaxNodes")]
    assert "workerMinNodes" in problem.allowed
    assert key("systemMaxNodes") in problems_by_key({"systemMinNodes": 3, "systemMaxNodes": 2})
    assert key("workerMinNodes") in problems_by_key({"workerMinNodes": -1})


@pytest.mark.parametrize(
    ("tier", "edition"),
    [
        ("db-f1-micro", "ENTERPRISE"),
        ("db-g1-small", "ENTERPRISE"),
        ("db-custom-1-3840", "ENTERPRISE"),
        ("db-custom-2-7680", "ENTERPRISE"),
        ("db-custom-4-26624", "ENTERPRISE"),
        ("db-perf-optimized-N-2", "ENTERPRISE_PLUS"),
    ],
)
def test_accepts_database_tiers_with_their_edition(tier: str, edition: str) -> None:
    parsed = settings({"databaseTier": tier})
    assert (parsed.database_tier, parsed.database_edition) == (tier, edition)


@pytest.mark.parametrize(
    "tier",
    ["db-n1-standard-1", "db-custom-3-7680", "db-custom-2-7000", "db-custom-1-1024", "db-custom-2-30720", "f1-micro"],
)
def test_rejects_database_tiers(tier: str) -> None:
    problem = problems_by_key({"databaseTier": tier})[key("databaseTier")]
    assert problem.value == tier and "db-custom" in problem.allowed


@pytest.mark.parametrize("size", ["99Gi", "102399Mi", "64Ti", "100G"])
def test_filestore_size_outside_the_basic_hdd_range_on_gke_is_refused(size: str) -> None:
    problems = Problems()
    check_shared_volume_size(problems, "airflow-platform:airflow.sharedDataSize", "filestore", size)
    [problem] = problems.items
    assert (problem.key, problem.value) == ("airflow-platform:airflow.sharedDataSize", size)
    assert "100Gi to 63.9Ti" in problem.allowed


@pytest.mark.parametrize(
    ("storage", "size"), [("filestore", "100Gi"), ("filestore", "102400Mi"), ("filestore", "63Ti"), ("pd", "10Gi")]
)
def test_filestore_accepts_100_gibibytes_and_pd_any_size(storage: str, size: str) -> None:
    problems = Problems()
    check_shared_volume_size(problems, "k", storage, size)
    assert not problems.items, (storage, size)


def test_a_persistent_disk_is_refused_when_task_pods_span_nodes() -> None:
    problem = problems_by_key({"sharedStorage": "pd", "workerMaxNodes": 2})[key("sharedStorage")]
    assert problem.value == "pd" and "workerMaxNodes is 2" in problem.allowed
    assert settings({"sharedStorage": "pd", "workerMaxNodes": 1}).shared_storage == "pd"
    assert settings({"sharedStorage": "filestore", "workerMaxNodes": 1}).shared_storage == "filestore"


@pytest.mark.parametrize("stack", ["dev", "Prod_EU", "a-very-long-stack-name-for-a-feature-branch", "x"])
def test_service_account_ids_are_valid_and_distinct(stack: str) -> None:
    ids = {service_account_id(stack, purpose) for purpose in ("nodes", "logs")}
    assert len(ids) == 2
    for account_id in ids:
        assert re.fullmatch(r"[a-z][a-z0-9-]{4,28}[a-z0-9]", account_id), account_id
    long_a = service_account_id("a-very-long-stack-name-for-a-feature-branch-1", "nodes")
    long_b = service_account_id("a-very-long-stack-name-for-a-feature-branch-2", "nodes")
    assert long_a != long_b
