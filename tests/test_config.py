"""Pure tests of StackConfig validation: every rule, good and bad, without Pulumi running."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

import pulumi
import pytest
from cryptography.fernet import Fernet

from components import versions
from components.config import (
    GITHUB_KNOWN_HOSTS,
    ConfigError,
    StackConfigError,
    parse_fernet_previous_keys,
    parse_stack_config,
    plain_http_warning,
)
from components.validation import ConfigProblem, describe, parse_quantity
from review.runner import run_main

LOCAL: dict[str, Any] = {"cloud": "local"}


def problems_of(raw: dict[str, Any]) -> dict[str, str]:
    """The ConfigError's problems as {key: message}; fails if the config is accepted."""
    with pytest.raises(ConfigError) as error:
        parse_stack_config(raw, stack="test")
    return {problem.key: str(problem) for problem in error.value.problems}


def with_section(section: str, **values: Any) -> dict[str, Any]:
    return {**LOCAL, section: values}


def test_minimal_local_config_gets_local_defaults() -> None:
    config = parse_stack_config(LOCAL, stack="local")
    assert config.cloud == "local"
    assert config.production is False
    assert config.airflow.namespace == "airflow"
    assert config.airflow.chart_version == versions.AIRFLOW_CHART_VERSION
    assert config.airflow.airflow_version == versions.AIRFLOW_VERSION
    assert config.airflow.scheduler_replicas == 1
    assert config.dags.source == "configmap", "a laptop needs no git host"
    assert config.local is not None and config.local.kube_context is None
    assert config.gcp is None and config.aws is None


def test_production_defaults_to_ha() -> None:
    config = parse_stack_config({**LOCAL, "production": True}, stack="prod")
    assert config.airflow.scheduler_replicas == 2
    assert config.airflow.api_server_replicas == 2
    assert config.airflow.pod_disruption_budgets is True


def test_cloud_is_required_and_an_enum() -> None:
    assert "one of ['local', 'gcp', 'aws']" in problems_of({})["airflow-platform:cloud"]
    assert "'azure'" in problems_of({"cloud": "azure"})["airflow-platform:cloud"]


def test_unknown_keys_are_refused_not_ignored() -> None:
    problems = problems_of({**LOCAL, "loadbalancer": {}, "airflow": {"schedulerReplica": 2}})
    assert "airflow-platform:loadbalancer" in problems
    assert "airflow-platform:airflow.schedulerReplica" in problems
    assert "schedulerReplicas" in problems["airflow-platform:airflow.schedulerReplica"]


def test_section_of_another_cloud_is_refused() -> None:
    assert "cloud: local" in problems_of({**LOCAL, "gcp": {"project": "my-project-1"}})["airflow-platform:gcp"]


@pytest.mark.parametrize("key", ["namespace", "releaseName"])
@pytest.mark.parametrize("bad", ["Airflow", "-airflow", "air_flow", "a" * 64, ""])
def test_kubernetes_names_are_dns1123_labels(key: str, bad: str) -> None:
    message = problems_of(with_section("airflow", **{key: bad}))[f"airflow-platform:airflow.{key}"]
    assert describe(bad) in message


def test_good_kubernetes_names_pass() -> None:
    config = parse_stack_config(with_section("airflow", namespace="data-airflow", releaseName="af1"), stack="t")
    assert (config.airflow.namespace, config.airflow.release_name) == ("data-airflow", "af1")


@pytest.mark.parametrize("key", ["chartVersion", "airflowVersion"])
@pytest.mark.parametrize("bad", ["latest", "1.22", "v1.22.0", "1.22.0-rc1"])
def test_versions_must_be_pinned(key: str, bad: str) -> None:
    assert "MAJOR.MINOR.PATCH" in problems_of(with_section("airflow", **{key: bad}))[f"airflow-platform:airflow.{key}"]


def test_airflow_2_is_refused() -> None:
    assert (
        "Airflow 3.x"
        in problems_of(with_section("airflow", airflowVersion="2.10.5"))["airflow-platform:airflow.airflowVersion"]
    )


@pytest.mark.parametrize("bad", [0, -1, 11, "2", 1.5, True])
def test_replica_counts_are_whole_numbers_from_one(bad: Any) -> None:
    problems = problems_of(with_section("airflow", schedulerReplicas=bad, apiServerReplicas=bad))
    assert ">= 1" in problems["airflow-platform:airflow.schedulerReplicas"]
    assert "airflow-platform:airflow.apiServerReplicas" in problems


@pytest.mark.parametrize(
    ("key", "bad"),
    [("cpuRequest", "half"), ("cpuRequest", "250M"), ("memoryRequest", "512MB"), ("memoryLimit", 2), ("cpuLimit", "")],
)
def test_worker_resources_are_kubernetes_quantities(key: str, bad: Any) -> None:
    problems = problems_of(with_section("airflow", workerResources={key: bad}))
    assert "Kubernetes" in problems[f"airflow-platform:airflow.workerResources.{key}"]


def test_good_worker_resources_pass() -> None:
    resources = {"cpuRequest": "500m", "memoryRequest": "1Gi", "cpuLimit": "2", "memoryLimit": "4Gi"}
    config = parse_stack_config(with_section("airflow", workerResources=resources), stack="t")
    assert config.airflow.worker_resources.memory_limit == "4Gi"


@pytest.mark.parametrize("key", ["sharedDataSize", "logsSize"])
def test_volume_sizes_are_storage_quantities(key: str) -> None:
    assert "'10Gi'" in problems_of(with_section("airflow", **{key: "10GB"}))[f"airflow-platform:airflow.{key}"]


@pytest.mark.parametrize(("key", "bad"), [("adminEmail", "not-an-email"), ("adminUsername", "ad min")])
def test_admin_identity_is_validated(key: str, bad: str) -> None:
    assert repr(bad) in problems_of(with_section("airflow", **{key: bad}))[f"airflow-platform:airflow.{key}"]


def test_dag_source_is_an_enum() -> None:
    problems = problems_of(with_section("dags", source="s3"))
    assert "['git', 'bundle', 'configmap']" in problems["airflow-platform:dags.source"]


def test_git_source_needs_a_repo() -> None:
    assert "required" in problems_of(with_section("dags", source="git"))["airflow-platform:dags.repo"]


@pytest.mark.parametrize(
    "bad",
    ["github.com/org/repo", "http://github.com/org/repo.git", "git@github.com", "ftp://host/repo.git", "ssh://host"],
)
def test_git_repo_url_form(bad: str) -> None:
    assert repr(bad) in problems_of(with_section("dags", source="git", repo=bad))["airflow-platform:dags.repo"]


def test_github_ssh_repo_gets_the_shipped_known_hosts() -> None:
    config = parse_stack_config(with_section("dags", source="git", repo="git@github.com:org/dags.git"), stack="t")
    assert config.dags.uses_ssh
    assert config.dags.known_hosts == GITHUB_KNOWN_HOSTS
    assert "github.com ssh-ed25519 " in GITHUB_KNOWN_HOSTS


def test_other_ssh_hosts_require_known_hosts() -> None:
    problems = problems_of(with_section("dags", source="git", repo="git@gitlab.example.com:org/dags.git"))
    assert "gitlab.example.com" in problems["airflow-platform:dags.knownHosts"]
    keys = "gitlab.example.com ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIexample"
    dags = {"source": "git", "repo": "ssh://git@gitlab.example.com/org/dags.git", "knownHosts": keys}
    assert parse_stack_config({**LOCAL, "dags": dags}, stack="t").dags.known_hosts == keys


def test_github_on_a_custom_port_is_not_covered_by_the_shipped_keys() -> None:
    problems = problems_of(with_section("dags", source="git", repo="ssh://git@github.com:2222/org/dags.git"))
    assert "[github.com]:2222" in problems["airflow-platform:dags.knownHosts"]


def test_public_https_repo_needs_no_key() -> None:
    config = parse_stack_config(with_section("dags", source="git", repo="https://github.com/org/dags.git"), stack="t")
    assert not config.dags.uses_ssh


def test_https_repo_with_embedded_credentials_is_refused() -> None:
    bad = "https://user:token@github.com/org/dags.git"
    assert "airflow-platform:dags.repo" in problems_of(with_section("dags", source="git", repo=bad))


@pytest.mark.parametrize("bad", ["", "feature branch", "a..b", "-rf"])
def test_branch_is_a_branch_name(bad: str) -> None:
    problems = problems_of(with_section("dags", source="git", repo="git@github.com:o/r.git", branch=bad))
    assert "airflow-platform:dags.branch" in problems


@pytest.mark.parametrize(("key", "bad"), [("period", "60"), ("subPath", "/abs"), ("subPath", "../up")])
def test_git_sync_period_and_sub_path(key: str, bad: str) -> None:
    problems = problems_of(with_section("dags", source="git", repo="git@github.com:o/r.git", **{key: bad}))
    assert f"airflow-platform:dags.{key}" in problems


@pytest.mark.parametrize(
    ("dags", "key"),
    [
        ({}, "repo"),
        ({"repo": "github.com/org/repo"}, "repo"),
        ({"repo": "https://user:token@github.com/org/dags.git"}, "repo"),
        ({"repo": "git@gitlab.example.com:org/dags.git"}, "knownHosts"),
        ({"repo": "git@github.com:o/r.git", "branch": "a..b"}, "branch"),
        ({"repo": "git@github.com:o/r.git", "period": "60"}, "period"),
        ({"repo": "git@github.com:o/r.git", "subPath": "../up"}, "subPath"),
    ],
)
def test_a_git_dag_bundle_is_validated_like_git_sync(dags: dict[str, str], key: str) -> None:
    assert f"airflow-platform:dags.{key}" in problems_of(with_section("dags", source="bundle", **dags))


def test_a_git_dag_bundle_over_ssh_uses_the_deploy_key_and_the_shipped_known_hosts() -> None:
    config = parse_stack_config(with_section("dags", source="bundle", repo="git@github.com:org/dags.git"), stack="t")
    assert config.dags.uses_ssh
    assert config.dags.known_hosts == GITHUB_KNOWN_HOSTS


def test_configmap_source_refuses_a_repo() -> None:
    problems = problems_of(with_section("dags", source="configmap", repo="git@github.com:o/r.git"))
    assert "airflow-platform:dags.repo" in problems


@pytest.mark.parametrize("bad", ["10.0.0.0", "10.0.0.1/24", "300.0.0.0/8", "::/0", "office"])
def test_source_ranges_are_ipv4_cidrs(bad: str) -> None:
    problems = problems_of(with_section("loadBalancer", sourceRanges=[bad]))
    assert "CIDR" in problems["airflow-platform:loadBalancer.sourceRanges[0]"]


def test_world_open_ui_is_refused_on_production() -> None:
    raw = {**LOCAL, "production": True, "loadBalancer": {"sourceRanges": ["0.0.0.0/0"]}}
    assert "allowPublicAccess" in problems_of(raw)["airflow-platform:loadBalancer.sourceRanges"]
    raw["loadBalancer"] = {"sourceRanges": ["0.0.0.0/0"], "allowPublicAccess": True}
    assert parse_stack_config(raw, stack="prod").load_balancer.source_ranges == ("0.0.0.0/0",)


def test_world_open_ui_is_allowed_off_production() -> None:
    config = parse_stack_config(with_section("loadBalancer", sourceRanges=["0.0.0.0/0"]), stack="t")
    assert config.load_balancer.source_ranges == ("0.0.0.0/0",)


def test_local_settings_are_validated() -> None:
    problems = problems_of(with_section("local", storageClass="Fast SSD", accessMode="RWX", databaseSize="5G"))
    assert {"airflow-platform:local.storageClass", "airflow-platform:local.accessMode"} <= problems.keys()
    assert "airflow-platform:local.databaseSize" in problems


def test_every_bad_key_is_reported_in_one_error() -> None:
    raw = {
        **LOCAL,
        "airflow": {"namespace": "Bad_NS", "schedulerReplicas": 0},
        "dags": {"source": "git"},
        "loadBalancer": {"sourceRanges": ["nope"]},
    }
    with pytest.raises(ConfigError) as error:
        parse_stack_config(raw, stack="t")
    message = str(error.value)
    assert "4 problem(s)" in message
    for key in ("airflow.namespace", "airflow.schedulerReplicas", "dags.repo", "loadBalancer.sourceRanges[0]"):
        assert f"airflow-platform:{key}" in message


def test_fernet_previous_keys_must_be_valid_and_are_never_echoed() -> None:
    good = Fernet.generate_key().decode()
    assert parse_fernet_previous_keys(f"{good}, {good}") == [good, good]
    assert parse_fernet_previous_keys(None) == []
    with pytest.raises(ConfigError) as error:
        parse_fernet_previous_keys(f"{good},not-a-key-but-secret")
    assert "fernetPreviousKeys[1]" in str(error.value)
    assert "not-a-key-but-secret" not in str(error.value)


@pytest.mark.parametrize("cloud", ["local", "gcp"])
def test_docker_hub_token_is_refused_off_aws_and_never_echoed(cloud: str) -> None:
    """Only the EKS pull-through cache reads it: elsewhere it would be silently ignored."""
    token = "dckr_pat_not-a-real-token-0123456789"
    config = {**(GCP if cloud == "gcp" else LOCAL), "dockerHubToken": token}
    with pytest.raises(ConfigError) as error:
        run_main(config, stack=f"{cloud}-token", secret_keys=("dockerHubToken",))
    (problem,) = error.value.problems
    assert problem.key == "airflow-platform:dockerHubToken"
    assert f"cloud: {cloud}" in problem.allowed and "cloud: aws" in problem.allowed
    assert token not in str(error.value)


# --- errors that teach --------------------------------------------------------

# A cloud stack with everything required set; the tests' own values, not a stack file's.
GCP: dict[str, Any] = {
    "cloud": "gcp",
    "gcp": {"project": "acme-airflow-dev", "masterAuthorizedNetworks": [{"cidr": "198.51.100.0/24"}]},
    "loadBalancer": {"sourceRanges": ["198.51.100.0/24"]},
    "dags": {"source": "git", "repo": "git@github.com:acme/dags.git"},
}


def gcp_with(production: bool = False, **load_balancer: Any) -> dict[str, Any]:
    return {**GCP, "production": production, "loadBalancer": load_balancer}


def test_empty_source_ranges_on_a_cloud_stack_need_the_public_opt_in() -> None:
    message = problems_of(gcp_with(sourceRanges=[]))["airflow-platform:loadBalancer.sourceRanges"]
    assert "got an empty list []" in message and "allowPublicAccess: true" in message
    opted_in = parse_stack_config(gcp_with(sourceRanges=[], allowPublicAccess=True), stack="t")
    assert opted_in.load_balancer.source_ranges == ()


def test_empty_source_ranges_are_refused_on_production_even_with_the_opt_in() -> None:
    raw = gcp_with(production=True, sourceRanges=[], allowPublicAccess=True)
    message = problems_of(raw)["airflow-platform:loadBalancer.sourceRanges"]
    assert "empty list opens the UI to the internet" in message


def test_empty_source_ranges_stay_allowed_on_local() -> None:
    config = parse_stack_config(with_section("loadBalancer", sourceRanges=[]), stack="t")
    assert config.load_balancer.source_ranges == ()


@pytest.mark.parametrize(
    "repo",
    [
        "https://user:ghp_SECRETtoken@github.com/org/dags.git",
        "https://ghp_SECRETtoken@github.com/org/dags.git",
        "ssh://git:SECRETpassword@gitlab.example.com/org/dags.git",
    ],
)
def test_credentials_in_a_repo_url_are_refused_and_never_echoed(repo: str) -> None:
    with pytest.raises(ConfigError) as error:
        parse_stack_config(with_section("dags", source="git", repo=repo), stack="t")
    shown = [str(error.value), repr(error.value.problems)]
    assert all("SECRET" not in text for text in shown), shown
    [problem] = error.value.problems
    assert problem.key == "airflow-platform:dags.repo"
    assert "://***@" in str(problem) and "without credentials" in problem.allowed


def test_every_problem_masks_url_credentials_whatever_the_key() -> None:
    problem = ConfigProblem("k", ["https://u:tok@h/p", {"x": "http://tok@h"}], "a")
    assert "tok" not in str(problem) and "https://***@h/p" in str(problem)


@pytest.mark.parametrize(
    "good",
    [
        "apache/airflow",
        "airflow",
        "europe-docker.pkg.dev/my-project/images/airflow",
        "123456789012.dkr.ecr.eu-west-1.amazonaws.com/team/airflow",
        "localhost:5000/air-flow__x/a.b",
    ],
)
def test_image_repository_accepts_image_names(good: str) -> None:
    assert parse_stack_config(with_section("airflow", imageRepository=good), stack="t").airflow.image_repository == good


@pytest.mark.parametrize(
    ("bad", "says"),
    [
        ("apache/airflow:3.2.2", "no tag or digest"),
        ("apache/airflow@sha256:" + "a" * 64, "no tag or digest"),
        ("Apache/Airflow", "lowercase"),
        ("apache//airflow", "lowercase"),
        ("https://registry.example.com/airflow", "lowercase"),
        ("apache/airflow-", "lowercase"),
        ("a" * 256, "lowercase"),
    ],
)
def test_image_repository_is_an_image_name_without_tag(bad: str, says: str) -> None:
    message = problems_of(with_section("airflow", imageRepository=bad))["airflow-platform:airflow.imageRepository"]
    assert says in message


@pytest.mark.parametrize(
    ("text", "value"),
    [("250m", "0.25"), ("2", "2"), ("1.5", "1.5"), ("512Mi", str(512 * 2**20)), ("1G", "1e9"), ("1e3", "1000")],
)
def test_kubernetes_quantities_parse_to_numbers(text: str, value: str) -> None:
    assert parse_quantity(text) == Decimal(value)


@pytest.mark.parametrize(
    ("request_key", "limit_key", "asked", "limit"),
    [("cpuRequest", "cpuLimit", "1500m", "1"), ("memoryRequest", "memoryLimit", "3Gi", "2G")],
)
def test_worker_request_above_its_limit_is_refused(request_key: str, limit_key: str, asked: str, limit: str) -> None:
    problems = problems_of(with_section("airflow", workerResources={request_key: asked, limit_key: limit}))
    message = problems[f"airflow-platform:airflow.workerResources.{request_key}"]
    assert f"at most airflow-platform:airflow.workerResources.{limit_key} ({limit})" in message


def test_worker_request_equal_to_its_limit_in_other_units_passes() -> None:
    resources = {"cpuRequest": "1", "cpuLimit": "1000m", "memoryRequest": "1Gi", "memoryLimit": "1024Mi"}
    assert parse_stack_config(with_section("airflow", workerResources=resources), stack="t")


AWS: dict[str, Any] = {
    "cloud": "aws",
    "aws": {"publicAccessCidrs": ["198.51.100.0/24"]},
    "loadBalancer": {"sourceRanges": ["198.51.100.0/24"]},
    "dags": {"source": "git", "repo": "git@github.com:acme/dags.git"},
}


def aws_with(**settings: Any) -> dict[str, Any]:
    return {**AWS, "aws": {**AWS["aws"], **settings}}


@pytest.mark.parametrize(
    ("key", "number", "text", "field"),
    [("kubernetesVersion", 1.31, "1.31", "kubernetes_version"), ("engineVersion", 17, "17", "engine_version")],
)
def test_unambiguous_yaml_numbers_are_accepted_as_versions(key: str, number: Any, text: str, field: str) -> None:
    raw = aws_with(**{key: number}) if key == "kubernetesVersion" else aws_with(database={key: number})
    settings = parse_stack_config(raw, stack="t").aws
    assert settings is not None
    holder = settings if key == "kubernetesVersion" else settings.database
    assert getattr(holder, field) == text


@pytest.mark.parametrize(
    ("raw", "key", "hint"),
    [
        (aws_with(kubernetesVersion=1.3), "aws.kubernetesVersion", 'kubernetesVersion: "1.30"'),
        (aws_with(database={"engineVersion": 17.1}), "aws.database.engineVersion", 'engineVersion: "17.10"'),
    ],
)
def test_ambiguous_yaml_floats_must_be_quoted(raw: dict[str, Any], key: str, hint: str) -> None:
    problems = problems_of(raw)
    assert hint in problems[f"airflow-platform:{key}"]
    assert len(problems) == 1, "the autoscaler check must not repeat the version problem"


def test_a_missing_required_key_is_reported_once() -> None:
    with pytest.raises(ConfigError) as error:
        parse_stack_config({**GCP, "gcp": {"masterAuthorizedNetworks": [{"cidr": "198.51.100.0/24"}]}}, stack="t")
    keys = [problem.key for problem in error.value.problems]
    assert keys == ["airflow-platform:gcp.project"]
    assert "got no value; allowed: a GCP project id" in str(error.value)


def test_the_same_problem_found_twice_is_reported_once() -> None:
    problem = ConfigProblem("k", ["x"], "y")
    assert ConfigError([problem, ConfigProblem("k", ["x"], "y")]).problems == (problem,)


@pytest.mark.parametrize(
    ("raw", "key"),
    [
        (aws_with(publicAccessCidrs=[]), "aws.publicAccessCidrs"),
        ({**GCP, "gcp": {**GCP["gcp"], "masterAuthorizedNetworks": []}}, "gcp.masterAuthorizedNetworks"),
    ],
)
def test_an_empty_list_is_reported_as_an_empty_list(raw: dict[str, Any], key: str) -> None:
    assert "got an empty list []" in problems_of(raw)[f"airflow-platform:{key}"]


def test_config_error_is_a_run_error_so_the_cli_prints_only_the_problems() -> None:
    # pulumi-language-python-exec logs str(e) for a RunError, a traceback for anything else.
    with pytest.raises(pulumi.RunError) as error:
        run_main({"cloud": "local", "airflow": {"namespace": "Bad_NS"}}, stack="t")
    assert isinstance(error.value, StackConfigError) and isinstance(error.value, ConfigError)
    assert str(error.value).splitlines() == [
        "invalid stack configuration (1 problem(s)):",
        "  - airflow-platform:airflow.namespace: got 'Bad_NS'; allowed: a DNS-1123 label: lowercase letters, "
        "digits and '-', starting and ending with a letter or digit, at most 63 characters",
    ]


# --- ui: HTTPS on cloud stacks ---------------------------------------------------

ALLOWLIST = ["198.51.100.0/24"]
CLOUD_STACKS: dict[str, dict[str, Any]] = {
    "gcp": {
        "cloud": "gcp",
        "gcp": {
            "project": "acme-airflow-dev",
            "masterAuthorizedNetworks": [{"cidr": ALLOWLIST[0], "name": "vpn"}],
            "uiAccess": "loadBalancer",
        },
        "loadBalancer": {"sourceRanges": ALLOWLIST},
        "dags": {"repo": "git@github.com:acme/airflow-dags.git"},
    },
    "aws": {
        "cloud": "aws",
        "aws": {"publicAccessCidrs": ALLOWLIST},
        "loadBalancer": {"sourceRanges": ALLOWLIST},
        "dags": {"repo": "git@github.com:acme/airflow-dags.git"},
    },
}
GOOD_ZONES = {"gcp": "acme-example", "aws": "Z0ACMEEXAMPLE0ZONE01"}
UI = "airflow-platform:ui"


def cloud_stack(cloud: str, production: bool = False, **ui: Any) -> dict[str, Any]:
    return {**CLOUD_STACKS[cloud], "production": production, **({"ui": ui} if ui else {})}


@pytest.mark.parametrize("cloud", ["gcp", "aws"])
def test_production_cloud_stack_needs_a_domain_or_an_explicit_plain_http_choice(cloud: str) -> None:
    problem = problems_of(cloud_stack(cloud, production=True))[f"{UI}.domain"]
    assert "ui.allowPlainHttp: true" in problem
    chosen = parse_stack_config(cloud_stack(cloud, production=True, allowPlainHttp=True), stack="prod")
    assert chosen.ui.allow_plain_http is True and chosen.ui.public_url is None
    assert plain_http_warning(chosen) is not None, "plain HTTP on purpose is still said at every preview"


@pytest.mark.parametrize("cloud", ["gcp", "aws"])
def test_non_production_cloud_stack_without_domain_works_with_a_warning(cloud: str) -> None:
    config = parse_stack_config(cloud_stack(cloud), stack="dev")
    assert config.ui.domain is None
    warning = plain_http_warning(config)
    assert warning is not None and "ui.domain" in warning and "clear text" in warning


@pytest.mark.parametrize("cloud", ["gcp", "aws"])
def test_domain_and_zone_give_an_https_url_and_no_warning(cloud: str) -> None:
    config = parse_stack_config(
        cloud_stack(cloud, production=True, domain="airflow.acme.example", dnsZone=GOOD_ZONES[cloud]), stack="prod"
    )
    assert (config.ui.domain, config.ui.dns_zone) == ("airflow.acme.example", GOOD_ZONES[cloud])
    assert config.ui.public_url == "https://airflow.acme.example"
    assert plain_http_warning(config) is None


@pytest.mark.parametrize("production", [False, True])
def test_gke_ui_through_port_forward_only_is_no_plain_http_exposure(production: bool) -> None:
    raw = cloud_stack("gcp", production=production)
    raw["gcp"] = {**raw["gcp"], "uiAccess": "portForward"}
    assert plain_http_warning(parse_stack_config(raw, stack="gke")) is None


def test_local_stays_plain_http_and_refuses_a_domain() -> None:
    assert plain_http_warning(parse_stack_config(LOCAL, stack="local")) is None
    problems = problems_of(with_section("ui", domain="airflow.acme.example", dnsZone="acme-example"))
    assert "port-forward" in problems[f"{UI}.domain"] and f"{UI}.dnsZone" in problems


@pytest.mark.parametrize(
    "bad",
    [
        "Airflow.acme.example",
        "*.acme.example",
        "airflow",
        "airflow.acme.example.",
        "-airflow.acme.example",
        "airflow..acme.example",
        "https://airflow.acme.example",
        "airflow.acme.example/ui",
        "airflow.acme.123",
        "a" * 64 + ".acme.example",
    ],
)
def test_domain_is_a_lowercase_fqdn(bad: str) -> None:
    message = problems_of(cloud_stack("aws", domain=bad))[f"{UI}.domain"]
    assert repr(bad) in message and "airflow.example.com" in message


@pytest.mark.parametrize(
    ("cloud", "bad"), [("gcp", "Z0ACMEEXAMPLE0ZONE01"), ("gcp", "acme.example"), ("aws", "acme-example")]
)
def test_dns_zone_has_the_clouds_form(cloud: str, bad: str) -> None:
    message = problems_of(cloud_stack(cloud, domain="airflow.acme.example", dnsZone=bad))[f"{UI}.dnsZone"]
    assert repr(bad) in message and ("managed-zone" if cloud == "gcp" else "hosted-zone") in message


def test_dns_zone_needs_a_domain_and_a_domain_excludes_plain_http() -> None:
    assert "ui.domain" in problems_of(cloud_stack("aws", dnsZone=GOOD_ZONES["aws"]))[f"{UI}.dnsZone"]
    conflict = problems_of(cloud_stack("gcp", domain="airflow.acme.example", allowPlainHttp=True))
    assert "HTTPS only" in conflict[f"{UI}.allowPlainHttp"]
    assert "true or false" in problems_of(cloud_stack("gcp", allowPlainHttp="yes"))[f"{UI}.allowPlainHttp"]
