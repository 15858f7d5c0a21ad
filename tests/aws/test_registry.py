"""The ECR pull-through cache for Docker Hub: a dev-shaped AWS stack with and without Docker Hub credentials."""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

import pytest
import stack_checks as checks
import yaml

from components.aws.platform import ANONYMOUS_PULL_WARNING
from components.aws.registry import IMPORT_ACTIONS, MAX_PREFIX_LENGTH, SECRET_NAME_PREFIX, repository_prefix
from components.validation import ConfigError
from review.fakes.aws import ACCOUNT
from review.plan import build_plan, placeholder
from review.runner import PROJECT, Run, run_main

from .test_autoscaler import DEV_CONFIG

STACK = "aws-dev"
USERNAME = "airflowbot"
TOKEN = "dckr_pat_not-a-real-token-0123456789"
RULE = "aws:ecr/pullThroughCacheRule:PullThroughCacheRule"
SECRET = "aws:secretsmanager/secret:Secret"
SECRET_VERSION = "aws:secretsmanager/secretVersion:SecretVersion"
TEMPLATE = "aws:ecr/repositoryCreationTemplate:RepositoryCreationTemplate"
ROLE_POLICY = "aws:iam/rolePolicy:RolePolicy"
NODE_ROLE = "aws-nodes-role"
USERNAME_KEY = f"{PROJECT}:aws.dockerHubUsername"
TOKEN_KEY = f"{PROJECT}:dockerHubToken"
# CreatePullThroughCacheRule's ecrRepositoryPrefix grammar.
ECR_PREFIX = re.compile(r"^(?:[a-z0-9]+(?:[._-][a-z0-9]+)*/)*[a-z0-9]+(?:[._-][a-z0-9]+)*$")


def with_credentials(username: str | None = USERNAME, token: str | None = TOKEN) -> dict[str, Any]:
    config: dict[str, Any] = {**DEV_CONFIG, "aws": dict(DEV_CONFIG["aws"])}
    if username is not None:
        config["aws"]["dockerHubUsername"] = username
    if token is not None:
        config["dockerHubToken"] = token
    return config


@pytest.fixture(scope="module")
def run() -> Run:
    return run_main(with_credentials(), stack=STACK, secret_keys=("dockerHubToken",))


def mirror(run: Run) -> str:
    region = DEV_CONFIG["aws"]["region"]
    return f"{ACCOUNT}.dkr.ecr.{region}.amazonaws.com/{run.one(RULE).inputs['ecrRepositoryPrefix']}"


def test_rule_caches_docker_hub_with_the_stacks_secret(run: Run) -> None:
    rule = run.one(RULE).inputs
    assert rule["upstreamRegistryUrl"] == "registry-1.docker.io"
    assert rule["ecrRepositoryPrefix"] == repository_prefix(STACK) == "docker-hub-aws-dev"
    secret = run.one(SECRET)
    assert secret.inputs["name"].startswith(SECRET_NAME_PREFIX), "ECR only accepts ecr-pullthroughcache/ secrets"
    assert rule["credentialArn"] == secret.outputs["arn"]
    assert ANONYMOUS_PULL_WARNING not in run.warnings


def test_token_is_sent_as_a_secret_and_nowhere_else(run: Run) -> None:
    version = run.one(SECRET_VERSION)
    assert "secretString" in version.secret_inputs
    assert json.loads(version.inputs["secretString"]) == {"username": USERNAME, "accessToken": TOKEN}
    assert run.one(SECRET).urn in version.dependencies, "the version belongs to the rule's secret"
    elsewhere = [
        resource.name for resource in run.resources if resource is not version and TOKEN in json.dumps(resource.inputs)
    ]
    assert elsewhere == []
    assert TOKEN not in json.dumps(checks.release_values(run))


def test_token_never_reaches_the_plan(tmp_path: Path) -> None:
    config = {f"{PROJECT}:{key}": value for key, value in with_credentials(token=None).items()}
    config[TOKEN_KEY] = {"secure": "v1:AAAAbm90LWEtcmVhbC1jaXBoZXJ0ZXh0"}
    (tmp_path / "Pulumi.ecr.yaml").write_text(yaml.safe_dump({"config": config}))
    plan = json.dumps(build_plan("ecr", root=tmp_path))
    assert any(resource_type == RULE for resource_type in json.loads(plan)["counts"])
    assert placeholder("dockerHubToken") not in plan


def test_a_token_set_in_plain_text_is_a_preview_warning_and_in_the_plan(tmp_path: Path, run: Run) -> None:
    assert not [warning for warning in run.warnings if TOKEN_KEY in warning], "an encrypted token is no warning"
    (tmp_path / "Pulumi.ecr.yaml").write_text(
        yaml.safe_dump({"config": {f"{PROJECT}:{key}": value for key, value in with_credentials().items()}})
    )
    plan = build_plan("ecr", root=tmp_path)
    (warning,) = [warning for warning in plan["warnings"] if TOKEN_KEY in warning]
    assert "plain text" in warning
    assert "pulumi config set --secret dockerHubToken" in warning
    assert TOKEN not in json.dumps(plan)


def test_airflow_image_and_task_pods_pull_through_the_cache(run: Run) -> None:
    values = checks.release_values(run)
    # The chart renders task pods' image from the same keys (pod template file).
    expected = f"{mirror(run)}/apache/airflow"
    assert values["defaultAirflowRepository"] == values["images"]["airflow"]["repository"] == expected
    checks.assert_release_values_match_chart_schema(run)


def test_node_role_may_import_only_under_the_rules_prefix(run: Run) -> None:
    (policy,) = [
        p
        for p in run.of_type(ROLE_POLICY)
        if p.inputs["role"] == run.one("aws:iam/role:Role", NODE_ROLE).outputs["name"]
    ]
    (statement,) = json.loads(policy.inputs["policy"])["Statement"]
    region = DEV_CONFIG["aws"]["region"]
    prefix = run.one(RULE).inputs["ecrRepositoryPrefix"]
    assert statement["Action"] == list(IMPORT_ACTIONS)
    assert statement["Resource"] == f"arn:aws:ecr:{region}:{ACCOUNT}:repository/{prefix}/*"


def test_release_waits_for_the_rule_and_the_node_policy(run: Run) -> None:
    needs = checks.platform_dependencies_of_release(run)
    assert {
        (RULE, "aws-docker-hub-rule"),
        (TEMPLATE, "aws-docker-hub-template"),
        (ROLE_POLICY, "aws-docker-hub-node-import"),
    } <= needs


def test_cached_repositories_expire_old_images(run: Run) -> None:
    template = run.one(TEMPLATE).inputs
    assert (template["prefix"], template["appliedFors"]) == (
        run.one(RULE).inputs["ecrRepositoryPrefix"],
        ["PULL_THROUGH_CACHE"],
    )
    (rule,) = json.loads(template["lifecyclePolicy"])["rules"]
    assert rule["selection"] == {
        "tagStatus": "any",
        "countType": "sinceImagePushed",
        "countUnit": "days",
        "countNumber": 30,
    }
    assert rule["action"] == {"type": "expire"}


def test_prefix_fits_ecr_for_any_stack_name() -> None:
    for stack in ("dev", "Prod_EU.West", "a-very-long-stack-name-for-the-eu-west-region-"):
        prefix = repository_prefix(stack)
        assert 2 <= len(prefix) <= MAX_PREFIX_LENGTH
        assert ECR_PREFIX.match(prefix), prefix


@pytest.mark.parametrize(("username", "token", "missing"), [(USERNAME, None, TOKEN_KEY), (None, TOKEN, USERNAME_KEY)])
def test_one_credential_without_the_other_names_both_keys(
    username: str | None, token: str | None, missing: str
) -> None:
    secret_keys = ("dockerHubToken",) if token is not None else ()
    with pytest.raises(ConfigError) as caught:
        run_main(with_credentials(username, token), stack=STACK, secret_keys=secret_keys)
    (problem,) = caught.value.problems
    assert problem.key == missing
    assert USERNAME_KEY in problem.allowed and TOKEN_KEY in problem.allowed
    assert TOKEN not in str(caught.value)


def test_bad_username_is_refused() -> None:
    with pytest.raises(ConfigError) as caught:
        run_main(with_credentials(username="Not A User!"), stack=STACK, secret_keys=("dockerHubToken",))
    (problem,) = caught.value.problems
    assert (problem.key, problem.value) == (USERNAME_KEY, "Not A User!")


def test_without_credentials_images_come_from_docker_hub_with_a_warning() -> None:
    run = run_main(DEV_CONFIG, stack=STACK)
    assert run.of_type(RULE) == run.of_type(SECRET) == []
    assert checks.release_values(run)["images"]["airflow"]["repository"] == "apache/airflow"
    assert ANONYMOUS_PULL_WARNING in run.warnings
