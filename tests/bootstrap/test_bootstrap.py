"""bootstrap/ under the project's mock runner: the identities, who may assume them, and what they may do.

The least-privilege rules are asserted on what the program registers, so a
role added to the preview identity that can write, or a deploy trust that
admits a pull request, fails here.
"""

from __future__ import annotations

import copy
import json
import re
import runpy
from functools import cache
from pathlib import Path
from typing import Any

import pytest
import yaml

from bootstrap.gcp import identity_ids
from bootstrap.settings import PROJECT, Reviewers, parse_settings
from components.validation import ConfigError, ConfigProblem
from review.runner import FAKE_CALLS, Registered, Run, run_program

ROOT = Path(__file__).resolve().parents[2]
EXAMPLE = ROOT / "bootstrap" / "Pulumi.example.yaml"

# The tests' own fixture (not the example file a user edits).
OWNER, REPOSITORY = "acme", "airflow-platform"
IMMUTABLE_PREFIX = "repo:acme-1001/airflow-platform-2002"
CONFIG: dict[str, Any] = {
    "github": {
        "owner": OWNER,
        "repository": REPOSITORY,
        "subjectPrefix": IMMUTABLE_PREFIX,
        "defaultBranch": "main",
        "reviewers": {"prod": {"users": [11], "teams": [22]}},
    },
    "gcp": {"project": "acme-airflow-ci", "region": "europe-west1", "deployEnvironments": ["dev"]},
    "aws": {"region": "eu-west-1", "deployEnvironments": ["prod"]},
}

# What a read-only identity may hold. GCP: viewer-type roles, the state bucket's
# object reader, the secrets key's decrypter, Cloud DNS's reader (named: it is
# not a viewer); AWS: ReadOnlyAccess plus Get/List/Decrypt.
GCP_READ_ROLE = re.compile(
    r"^roles/([a-zA-Z]+\.([a-zA-Z]*[vV]iewer|securityReviewer|cryptoKeyDecrypter)|browser|dns\.reader)$"
)
READ_PERMISSION = re.compile(r"^[a-z]+(\.[a-zA-Z]+)+\.(get|list|getIamPolicy)$")
AWS_READ_ACTION = re.compile(r"^[a-z0-9-]+:(Get|List|Describe)[A-Za-z]*$|^kms:Decrypt$")


def run_bootstrap(config: dict[str, Any], stack: str = "org") -> Run:
    return run_program(
        lambda: runpy.run_path(str(ROOT / "bootstrap" / "__main__.py"), run_name="__main__"),
        config={f"{PROJECT}:{key}": value for key, value in config.items()},
        stack=stack,
    )


@cache
def fixture_run() -> Run:
    return run_bootstrap(CONFIG)


def members(run: Run, type_token: str, member: str) -> list[Registered]:
    return [resource for resource in run.of_type(type_token) if resource.inputs.get("member") == member]


def account_member(run: Run, purpose: str) -> str:
    (account,) = [a for a in run.of_type("gcp:serviceaccount/account:Account") if a.name.endswith(purpose)]
    return f"serviceAccount:{account.outputs['email']}"


def test_example_stack_file_is_valid() -> None:
    document = yaml.safe_load(EXAMPLE.read_text())
    config = {key.removeprefix(f"{PROJECT}:"): value for key, value in document["config"].items()}
    run = run_bootstrap(config, stack="example")
    assert run.of_type("github:index/repositoryEnvironment:RepositoryEnvironment")


def test_exactly_two_identities_per_cloud() -> None:
    run = fixture_run()
    assert sorted(a.name for a in run.of_type("gcp:serviceaccount/account:Account")) == [
        "gcp-ci-deploy",
        "gcp-ci-preview",
    ]
    assert sorted(r.name for r in run.of_type("aws:iam/role:Role")) == ["aws-ci-deploy", "aws-ci-preview"]
    assert len(run.of_type("aws:iam/openIdConnectProvider:OpenIdConnectProvider")) == 1
    assert len(run.of_type("gcp:iam/workloadIdentityPoolProvider:WorkloadIdentityPoolProvider")) == 1


def test_gcp_preview_identity_cannot_write() -> None:
    run = fixture_run()
    preview = account_member(run, "preview")
    custom_roles = {r.outputs["name"]: r for r in run.of_type("gcp:projects/iAMCustomRole:IAMCustomRole")}
    bindings = [
        *members(run, "gcp:projects/iAMMember:IAMMember", preview),
        *members(run, "gcp:storage/bucketIAMMember:BucketIAMMember", preview),
        *members(run, "gcp:kms/cryptoKeyIAMMember:CryptoKeyIAMMember", preview),
    ]
    assert len(bindings) > 3
    for binding in bindings:
        role = binding.inputs["role"]
        if role in custom_roles:
            permissions = custom_roles[role].inputs["permissions"]
            assert all(READ_PERMISSION.match(p) for p in permissions), f"{binding.name}: {permissions}"
        else:
            assert GCP_READ_ROLE.match(role), f"{binding.name}: {role} is not read-only"
    (state,) = members(run, "gcp:storage/bucketIAMMember:BucketIAMMember", preview)
    assert state.inputs["role"] == "roles/storage.objectViewer"
    (key,) = members(run, "gcp:kms/cryptoKeyIAMMember:CryptoKeyIAMMember", preview)
    assert key.inputs["role"] == "roles/cloudkms.cryptoKeyDecrypter"


def workload_identity_members(run: Run, purpose: str) -> list[str]:
    (account,) = [a for a in run.of_type("gcp:serviceaccount/account:Account") if a.name.endswith(purpose)]
    bindings = [
        b
        for b in run.of_type("gcp:serviceaccount/iAMMember:IAMMember")
        if b.inputs["serviceAccountId"] == account.outputs["name"]
    ]
    assert all(b.inputs["role"] == "roles/iam.workloadIdentityUser" for b in bindings)
    return sorted(b.inputs["member"] for b in bindings)


def test_gcp_deploy_identity_trusts_only_its_environments() -> None:
    run = fixture_run()
    (pool,) = run.of_type("gcp:iam/workloadIdentityPool:WorkloadIdentityPool")
    assert workload_identity_members(run, "deploy") == [
        f"principal://iam.googleapis.com/{pool.outputs['name']}/subject/{IMMUTABLE_PREFIX}:environment:dev"
    ]


def test_gcp_preview_identity_is_the_repository_principal_set() -> None:
    run = fixture_run()
    (pool,) = run.of_type("gcp:iam/workloadIdentityPool:WorkloadIdentityPool")
    assert workload_identity_members(run, "preview") == [
        f"principalSet://iam.googleapis.com/{pool.outputs['name']}/attribute.repository/{OWNER}/{REPOSITORY}"
    ]


def test_gcp_pool_accepts_only_this_repository() -> None:
    (provider,) = fixture_run().of_type("gcp:iam/workloadIdentityPoolProvider:WorkloadIdentityPoolProvider")
    condition = provider.inputs["attributeCondition"]
    assert f"assertion.repository == '{OWNER}/{REPOSITORY}'" in condition
    assert f"assertion.sub.startsWith('{IMMUTABLE_PREFIX}:')" in condition
    assert provider.inputs["oidc"]["issuerUri"] == "https://token.actions.githubusercontent.com"


def trust(run: Run, role_name: str) -> dict[str, Any]:
    (statement,) = json.loads(run.one("aws:iam/role:Role", role_name).inputs["assumeRolePolicy"])["Statement"]
    assert statement["Action"] == "sts:AssumeRoleWithWebIdentity"
    assert set(statement["Condition"]) == {"StringEquals"}, "no StringLike: wildcards would widen the subjects"
    equals = statement["Condition"]["StringEquals"]
    assert equals["token.actions.githubusercontent.com:aud"] == "sts.amazonaws.com"
    return equals


def test_aws_deploy_role_trusts_only_its_environments() -> None:
    subjects = trust(fixture_run(), "aws-ci-deploy")["token.actions.githubusercontent.com:sub"]
    assert subjects == [f"{IMMUTABLE_PREFIX}:environment:prod"]


def test_aws_preview_role_trusts_pull_requests_and_the_default_branch() -> None:
    subjects = trust(fixture_run(), "aws-ci-preview")["token.actions.githubusercontent.com:sub"]
    assert subjects == [f"{IMMUTABLE_PREFIX}:pull_request", f"{IMMUTABLE_PREFIX}:ref:refs/heads/main"]


def role_policies(run: Run, role_name: str) -> tuple[list[str], list[dict[str, Any]]]:
    role = run.one("aws:iam/role:Role", role_name).outputs["name"]
    attached = [
        r.inputs["policyArn"]
        for r in run.of_type("aws:iam/rolePolicyAttachment:RolePolicyAttachment")
        if r.inputs["role"] == role
    ]
    statements = [
        statement
        for r in run.of_type("aws:iam/rolePolicy:RolePolicy")
        if r.inputs["role"] == role
        for statement in json.loads(r.inputs["policy"])["Statement"]
    ]
    return attached, statements


def test_aws_preview_role_cannot_write() -> None:
    run = fixture_run()
    attached, statements = role_policies(run, "aws-ci-preview")
    assert attached == ["arn:aws:iam::aws:policy/ReadOnlyAccess"]
    assert statements
    for statement in statements:
        assert statement["Effect"] == "Allow"
        for action in statement["Action"]:
            assert AWS_READ_ACTION.match(action), f"aws-ci-preview may {action}"
    bucket = run.one("aws:s3/bucket:Bucket").outputs["arn"]
    assert any(bucket in statement["Resource"] for statement in statements), "preview must read the state"


def test_aws_preview_role_arn_is_exported_for_the_eks_stacks() -> None:
    """README step: `pulumi -C bootstrap stack output awsPreviewRoleArn` into aws.readOnlyRoleArns."""
    run = fixture_run()
    assert run.exports["awsPreviewRoleArn"].value == run.one("aws:iam/role:Role", "aws-ci-preview").outputs["arn"]


def test_aws_deploy_role_arn_is_exported_for_the_eks_stacks() -> None:
    """README step: `pulumi -C bootstrap stack output awsDeployRoleArn` into aws.deployRoleArns."""
    run = fixture_run()
    assert run.exports["awsDeployRoleArn"].value == run.one("aws:iam/role:Role", "aws-ci-deploy").outputs["arn"]


def test_aws_deploy_role_has_no_managed_admin_policy() -> None:
    attached, statements = role_policies(fixture_run(), "aws-ci-deploy")
    assert attached == []
    assert all(action != "*" for statement in statements for action in statement["Action"])


def test_state_buckets_are_private_versioned_and_protected() -> None:
    run = fixture_run()
    gcs = run.one("gcp:storage/bucket:Bucket")
    assert gcs.inputs["uniformBucketLevelAccess"] is True
    assert gcs.inputs["publicAccessPrevention"] == "enforced"
    assert gcs.inputs["versioning"] == {"enabled": True}
    s3 = run.one("aws:s3/bucket:Bucket")
    (tls_only,) = json.loads(run.one("aws:s3/bucketPolicy:BucketPolicy").inputs["policy"])["Statement"]
    assert tls_only["Effect"] == "Deny" and tls_only["Condition"] == {"Bool": {"aws:SecureTransport": "false"}}
    assert s3.outputs["arn"] in tls_only["Resource"]
    block = run.one("aws:s3/bucketPublicAccessBlock:BucketPublicAccessBlock").inputs
    assert all(
        block[flag] for flag in ("blockPublicAcls", "blockPublicPolicy", "ignorePublicAcls", "restrictPublicBuckets")
    )
    versioning = run.one("aws:s3/bucketVersioning:BucketVersioning").inputs
    assert versioning["versioningConfiguration"]["status"] == "Enabled"
    encryption = run.one("aws:s3/bucketServerSideEncryptionConfiguration:BucketServerSideEncryptionConfiguration")
    (rule,) = encryption.inputs["rules"]
    assert rule["applyServerSideEncryptionByDefault"]["sseAlgorithm"] == "AES256"
    for stateful in (gcs, s3, run.one("gcp:kms/cryptoKey:CryptoKey"), run.one("aws:kms/key:Key")):
        assert stateful.protect, f"{stateful.name} must be protected"


def test_prod_environment_requires_a_reviewer_and_both_deploy_only_from_main() -> None:
    run = fixture_run()
    environments = {
        r.inputs["environment"]: r for r in run.of_type("github:index/repositoryEnvironment:RepositoryEnvironment")
    }
    assert set(environments) == {"dev", "prod"}
    assert environments["prod"].inputs["reviewers"] == [{"users": [11], "teams": [22]}]
    for environment in environments.values():
        assert environment.inputs["deploymentBranchPolicy"] == {
            "customBranchPolicies": True,
            "protectedBranches": False,
        }
    policies = run.of_type("github:index/repositoryEnvironmentDeploymentPolicy:RepositoryEnvironmentDeploymentPolicy")
    assert sorted((p.inputs["environment"], p.inputs["branchPattern"]) for p in policies) == [
        ("dev", "main"),
        ("prod", "main"),
    ]


@pytest.mark.parametrize(
    ("prod_reviewers", "prevented"),
    [({"users": [11], "teams": [22]}, True), ({"users": [11, 12]}, True), ({"users": [11]}, False)],
)
def test_self_review_is_prevented_only_where_another_reviewer_can_approve(
    prod_reviewers: dict[str, list[int]], prevented: bool
) -> None:
    """The deploy run of a merge is started by whoever merged: were self-review prevented for a lone
    reviewer, their own merges would wait for an approval nobody can give."""
    config = copy.deepcopy(CONFIG)
    config["github"]["reviewers"] = {"prod": prod_reviewers}
    environments = run_bootstrap(config).of_type("github:index/repositoryEnvironment:RepositoryEnvironment")
    prevent = {
        environment.inputs["environment"]: environment.inputs["preventSelfReview"] for environment in environments
    }
    assert prevent == {"dev": False, "prod": prevented}


def test_actions_variables_are_exactly_what_the_workflows_read() -> None:
    read = set()
    for workflow in (ROOT / ".github" / "workflows").glob("*.yml"):
        read |= set(re.findall(r"vars\.([A-Z0-9_]+)", workflow.read_text()))
    variables = {
        r.inputs["variableName"]: r.inputs["value"]
        for r in fixture_run().of_type("github:index/actionsVariable:ActionsVariable")
    }
    assert set(variables) == read
    assert all(isinstance(value, str) and value for value in variables.values()), variables


def test_the_sleep_schedule_is_off_unless_the_bootstrap_turns_it_on() -> None:
    def sleep_schedule(run: Any) -> str:
        (variable,) = [
            r.inputs["value"]
            for r in run.of_type("github:index/actionsVariable:ActionsVariable")
            if r.inputs["variableName"] == "SLEEP_SCHEDULE"
        ]
        return str(variable)

    assert sleep_schedule(fixture_run()) == "false"
    config = copy.deepcopy(CONFIG)
    config["github"]["sleepSchedule"] = True
    assert sleep_schedule(run_bootstrap(config)) == "true"


def test_one_cloud_only_creates_that_clouds_identities() -> None:
    config = copy.deepcopy(CONFIG)
    del config["aws"]
    config["gcp"]["deployEnvironments"] = ["dev", "prod"]
    run = run_bootstrap(config)
    assert not run.of_type("aws:iam/role:Role")
    variables = {r.inputs["variableName"] for r in run.of_type("github:index/actionsVariable:ActionsVariable")}
    assert not any(name.startswith("AWS_") for name in variables)
    assert len(workload_identity_members(run, "deploy")) == 2


def problems(config: dict[str, Any]) -> list[str]:
    with pytest.raises(ConfigError) as error:
        parse_settings(config)
    return [problem.key for problem in error.value.problems]


def with_change(path: str, value: Any) -> dict[str, Any]:
    config = copy.deepcopy(CONFIG)
    *parents, last = path.split(".")
    target = config
    for part in parents:
        target = target[part]
    target[last] = value
    return config


def test_fixture_config_is_valid() -> None:
    settings = parse_settings(CONFIG)
    assert settings.github.subject_prefix == IMMUTABLE_PREFIX


@pytest.mark.parametrize(
    ("path", "value", "key"),
    [
        ("github.subjectPrefix", "repo:someone-else/airflow-platform", f"{PROJECT}:github.subjectPrefix"),
        ("github.subjectPrefix", "repo:acme/airflow-platform:ref:refs/heads/main", f"{PROJECT}:github.subjectPrefix"),
        ("github.reviewers", {"prod": {}}, f"{PROJECT}:github.reviewers.prod"),
        ("github.reviewers", {"prod": {"users": ["octocat"]}}, f"{PROJECT}:github.reviewers.prod.users"),
        ("github.owner", "acme org", f"{PROJECT}:github.owner"),
        ("gcp.region", "Europe West", f"{PROJECT}:gcp.region"),
        ("gcp.deployEnvironments", ["staging"], f"{PROJECT}:gcp.deployEnvironments"),
        ("aws.deployEnvironments", [], f"{PROJECT}:<gcp|aws>.deployEnvironments"),
        ("aws.bucket", "mine", f"{PROJECT}:aws.bucket"),
    ],
)
def test_bad_config_names_the_key(path: str, value: Any, key: str) -> None:
    assert key in problems(with_change(path, value))


def test_no_cloud_is_refused() -> None:
    assert f"{PROJECT}:gcp" in problems({"github": CONFIG["github"]})


def test_name_form_subject_prefix_is_accepted() -> None:
    settings = parse_settings(with_change("github.subjectPrefix", f"repo:{OWNER}/{REPOSITORY}"))
    assert settings.github.subject_prefix == f"repo:{OWNER}/{REPOSITORY}"


def test_gcp_preview_can_refresh_the_image_cache_repository() -> None:
    """No viewer role covers Artifact Registry's repositories.get; its IAM policy comes with
    roles/iam.securityReviewer (test_read_grants.py checks every read)."""
    run = run_bootstrap(CONFIG)
    [role] = run.of_type("gcp:projects/iAMCustomRole:IAMCustomRole")
    assert "artifactregistry.repositories.get" in role.inputs["permissions"]


def reviewer_problems(users: int, teams: int) -> list[ConfigProblem]:
    reviewers = {"prod": {"users": list(range(1, users + 1)), "teams": list(range(101, teams + 101))}}
    with pytest.raises(ConfigError) as error:
        parse_settings(with_change("github.reviewers", reviewers))
    return error.value.problems


@pytest.mark.parametrize(("users", "teams"), [(4, 3), (7, 0), (0, 7)])
def test_more_than_six_reviewers_in_all_is_one_problem_with_the_count(users: int, teams: int) -> None:
    """GitHub takes up to six users or teams per environment: the limit is on both together."""
    [problem] = reviewer_problems(users, teams)
    assert problem.key == f"{PROJECT}:github.reviewers.prod"
    assert f"{users + teams} reviewers" in str(problem.value)
    assert "at most 6" in problem.allowed


def test_six_reviewers_in_all_are_accepted() -> None:
    settings = parse_settings(with_change("github.reviewers", {"prod": {"users": [1, 2, 3], "teams": [4, 5, 6]}}))
    assert settings.github.reviewers["prod"] == Reviewers(users=(1, 2, 3), teams=(4, 5, 6))


# --- a bootstrap that runs in a real account, twice ---------------------------

EXISTING_PROVIDER = "arn:aws:iam::123456789012:oidc-provider/token.actions.githubusercontent.com"
OIDC_LOOKUP = "aws:iam/getOpenIdConnectProvider:getOpenIdConnectProvider"


def test_an_existing_github_oidc_provider_is_reused_not_created() -> None:
    """IAM holds one provider per URL per account: a second one fails with EntityAlreadyExists."""
    run = run_bootstrap(with_change("aws.githubOidcProviderArn", EXISTING_PROVIDER))
    assert not run.of_type("aws:iam/openIdConnectProvider:OpenIdConnectProvider")
    for role in ("aws-ci-preview", "aws-ci-deploy"):
        (statement,) = json.loads(run.one("aws:iam/role:Role", role).inputs["assumeRolePolicy"])["Statement"]
        assert statement["Principal"] == {"Federated": EXISTING_PROVIDER}, role


def test_a_created_github_oidc_provider_stays_in_the_account_when_the_stack_lets_go() -> None:
    """Other roles of the account may trust it by then: destroy (or the key set later) leaves it."""
    provider = fixture_run().one("aws:iam/openIdConnectProvider:OpenIdConnectProvider")
    assert provider.retain_on_delete
    assert provider.inputs["clientIdLists"] == ["sts.amazonaws.com"]


@pytest.mark.parametrize(
    "arn",
    [
        "arn:aws:iam::123456789012:oidc-provider/gitlab.com",
        "arn:aws:iam::123456789012:role/github",
        "arn:aws-cn:iam::123456789012:oidc-provider/token.actions.githubusercontent.com",  # not eu-west-1's partition
        "token.actions.githubusercontent.com",
    ],
)
def test_a_wrong_github_oidc_provider_arn_names_the_key_and_the_value(arn: str) -> None:
    with pytest.raises(ConfigError) as error:
        parse_settings(with_change("aws.githubOidcProviderArn", arn))
    [problem] = error.value.problems
    assert problem.key == f"{PROJECT}:aws.githubOidcProviderArn"
    assert problem.value == arn
    assert "oidc-provider/token.actions.githubusercontent.com" in problem.allowed


def test_an_existing_provider_without_the_sts_audience_fails_before_anything_is_created(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    def without_sts(args: dict[str, Any]) -> dict[str, Any]:
        return {"arn": args["arn"], "url": "token.actions.githubusercontent.com", "clientIdLists": ["my-app"]}

    monkeypatch.setitem(FAKE_CALLS, OIDC_LOOKUP, without_sts)
    with pytest.raises(ConfigError) as error:
        run_bootstrap(with_change("aws.githubOidcProviderArn", EXISTING_PROVIDER))
    [problem] = error.value.problems
    assert problem.key == f"{PROJECT}:aws.githubOidcProviderArn"
    assert "add-client-id-to-open-id-connect-provider" in problem.allowed


@pytest.mark.parametrize("stack", ["org", "Org_Prod.2", "platform-team-" + "x" * 90, "a"])
def test_gcp_ids_fit_the_apis_patterns_whatever_the_stack_name(stack: str) -> None:
    ids = identity_ids(stack, "0a1b2c")
    assert re.fullmatch(r"(?!gcp-)[a-z0-9-]{4,32}", ids.pool), ids.pool
    assert re.fullmatch(r"[a-zA-Z0-9_.]{3,64}", ids.preview_role), ids.preview_role
    assert ids.pool.endswith("-0a1b2c") and ids.preview_role.endswith("_0a1b2c")


def test_gcp_ids_are_new_after_a_destroy_and_differ_between_stacks() -> None:
    """Pools and providers stay soft-deleted 30 days, custom roles 37: a fixed id could not be
    created again after `pulumi destroy`. The suffix is a RandomId of the stack, deleted with it."""
    assert identity_ids("org", "0a1b2c") != identity_ids("org", "d3e4f5")
    assert identity_ids("org", "0a1b2c").pool != identity_ids("org-test", "0a1b2c").pool
    run = fixture_run()
    suffix = run.one("random:index/randomId:RandomId")
    assert not suffix.protect and "keepers" not in suffix.inputs
    expected = identity_ids("org", suffix.outputs["hex"])
    assert (
        run.one("gcp:iam/workloadIdentityPool:WorkloadIdentityPool").inputs["workloadIdentityPoolId"] == expected.pool
    )
    assert run.one("gcp:projects/iAMCustomRole:IAMCustomRole").inputs["roleId"] == expected.preview_role


def aws_sessions() -> list[tuple[str, int, int]]:
    """(workflow:job, timeout in seconds, AWS session seconds) of every job that assumes an AWS role."""
    setup = yaml.safe_load((ROOT / ".github" / "actions" / "setup" / "action.yml").read_text())
    default = int(setup["inputs"]["aws-role-duration-seconds"]["default"])
    sessions = []
    for path in sorted((ROOT / ".github" / "workflows").glob("*.yml")):
        for name, job in yaml.safe_load(path.read_text())["jobs"].items():
            for step in job.get("steps", []):
                if step.get("uses") == "./.github/actions/setup" and "aws-role-arn" in step.get("with", {}):
                    seconds = int(step["with"].get("aws-role-duration-seconds", default))
                    sessions.append((f"{path.name}:{name}", job["timeout-minutes"] * 60, seconds))
    return sessions


def test_every_aws_session_outlasts_its_job_and_fits_the_role() -> None:
    """A session that ends before the job fails `pulumi up` midway (pending operations, a locked stack);
    STS refuses a duration above the role's MaxSessionDuration. The preview role keeps IAM's default hour."""
    deploy_maximum = fixture_run().one("aws:iam/role:Role", "aws-ci-deploy").inputs["maxSessionDuration"]
    sessions = aws_sessions()
    assert sorted(job for job, _, _ in sessions) == [
        "deploy.yml:dev",
        "deploy.yml:prod",
        "drift.yml:drift",
        "pull-request.yml:preview",
        "sleep.yml:dev",
    ]
    for job, timeout, seconds in sessions:
        assert seconds > timeout, f"{job}: the {seconds} s session ends before the job's {timeout} s timeout"
        # The sleep schedule runs `pulumi up` as the deploy identity too.
        maximum = deploy_maximum if job.startswith(("deploy.yml:", "sleep.yml:")) else 3600
        assert seconds <= maximum, f"{job}: {seconds} s is more than the role allows ({maximum} s)"
