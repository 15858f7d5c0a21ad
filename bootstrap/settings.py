"""The bootstrap stack's configuration, validated before anything is created.

Every key is read through components.validation, so a bad value is reported
the way the main stack reports it: one ConfigError listing each key, the value
and what is allowed.
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import pulumi

from components.aws.settings import partition_for
from components.gcp.settings import PROJECT_ID
from components.validation import Problems, Section

PROJECT = "airflow-platform-bootstrap"
# The GitHub environments .github/workflows/deploy.yml deploys through, in order.
DEPLOY_ENVIRONMENTS = ("dev", "prod")
# An environment whose jobs change production waits for one of its reviewers.
REVIEWED_ENVIRONMENTS = ("prod",)
# GitHub's "Create or update an environment": "You can list up to six users or
# teams as reviewers" - six in all, users and teams together.
MAX_REVIEWERS = 6
# Where GitHub Actions' OIDC tokens come from: the `iss` claim, and the prefix
# of the claim keys AWS conditions on (`<host>:sub`, `<host>:aud`).
GITHUB_OIDC_HOST = "token.actions.githubusercontent.com"
GITHUB_OIDC_ISSUER = f"https://{GITHUB_OIDC_HOST}"

_GITHUB_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]{0,99}$")
_REGION = re.compile(r"^[a-z]+(-[a-z]+)+-?\d$")
_BRANCH = re.compile(r"^[A-Za-z0-9._/-]+$")
# IAM names an OIDC provider after its URL without the scheme: one per URL per account.
_GITHUB_OIDC_PROVIDER_ARN = re.compile(
    rf"^arn:(?P<partition>aws|aws-cn|aws-us-gov):iam::\d{{12}}:oidc-provider/{re.escape(GITHUB_OIDC_HOST)}$"
)
GITHUB_OIDC_PROVIDER_KEY = "githubOidcProviderArn"


@dataclass(frozen=True)
class Reviewers:
    users: tuple[int, ...]
    teams: tuple[int, ...]


@dataclass(frozen=True)
class GitHubSettings:
    owner: str
    repository: str
    # `sub` claims start with it: repo:OWNER/REPO, or with immutable subject
    # claims repo:OWNER-OWNER_ID/REPO-REPO_ID (see README "CI/CD").
    subject_prefix: str
    default_branch: str
    reviewers: Mapping[str, Reviewers]
    # The SLEEP_SCHEDULE variable: .github/workflows/sleep.yml parks dev at night (docs/operations/sleep.md).
    sleep_schedule: bool = False

    @property
    def full_name(self) -> str:
        return f"{self.owner}/{self.repository}"

    def environment_subject(self, environment: str) -> str:
        """The `sub` of a job that runs in a GitHub environment (what a deploy identity trusts)."""
        return f"{self.subject_prefix}:environment:{environment}"


@dataclass(frozen=True)
class CloudSettings:
    region: str
    # The GitHub environments whose jobs may act as this cloud's deploy identity.
    deploy_environments: tuple[str, ...]
    # GCP only: the project everything is created in.
    project: str = ""
    # AWS only: the account's existing GitHub OIDC provider, reused instead of created.
    github_oidc_provider_arn: str | None = None


@dataclass(frozen=True)
class BootstrapSettings:
    github: GitHubSettings
    gcp: CloudSettings | None
    aws: CloudSettings | None


def parse_settings(raw: Mapping[str, Any]) -> BootstrapSettings:
    problems = Problems()
    for key in raw:
        if key not in ("github", "gcp", "aws"):
            problems.add(f"{PROJECT}:{key}", raw[key], "one of the known keys ['aws', 'gcp', 'github']")
    github = _parse_github(Section(problems, f"{PROJECT}:github", raw.get("github"), _GITHUB_KEYS), problems)
    gcp = _parse_cloud(problems, "gcp", raw.get("gcp"))
    aws = _parse_cloud(problems, "aws", raw.get("aws"))
    if gcp is None and aws is None:
        problems.add(f"{PROJECT}:gcp", None, "at least one of gcp and aws (the clouds your stacks deploy to)")
    deployed = [env for cloud in (gcp, aws) if cloud for env in cloud.deploy_environments]
    for environment in DEPLOY_ENVIRONMENTS:
        if environment not in deployed:
            problems.add(
                f"{PROJECT}:<gcp|aws>.deployEnvironments",
                sorted(deployed),
                f"a list naming {environment!r}: deploy.yml runs that environment and some cloud must trust it",
            )
    problems.raise_if_any()
    return BootstrapSettings(github=github, gcp=gcp, aws=aws)


_GITHUB_KEYS = ("owner", "repository", "subjectPrefix", "defaultBranch", "reviewers", "sleepSchedule")


def _parse_github(section: Section, problems: Problems) -> GitHubSettings:
    owner = section.str("owner", "")
    repository = section.str("repository", "")
    for key, value in (("owner", owner), ("repository", repository)):
        if value and not _GITHUB_NAME.match(value):
            problems.add(section.key(key), value, "a GitHub owner or repository name (letters, digits, '.', '_', '-')")
    prefix = section.str("subjectPrefix", f"repo:{owner}/{repository}")
    # Both the name form and the immutable form (owner and repository ids appended).
    expected = re.compile(rf"^repo:{re.escape(owner)}(-\d+)?/{re.escape(repository)}(-\d+)?$", re.IGNORECASE)
    if not expected.match(prefix):
        problems.add(
            section.key("subjectPrefix"),
            prefix,
            f"repo:{owner}/{repository}, or with immutable subject claims "
            f"repo:{owner}-<owner id>/{repository}-<repository id> (read `sub` of a run's OIDC token)",
        )
    branch = section.str("defaultBranch", "main")
    if not _BRANCH.match(branch):
        problems.add(section.key("defaultBranch"), branch, "a branch name such as main")
    return GitHubSettings(
        owner=owner,
        repository=repository,
        subject_prefix=prefix,
        default_branch=branch,
        reviewers=_parse_reviewers(section.section("reviewers", DEPLOY_ENVIRONMENTS), problems),
        sleep_schedule=section.bool("sleepSchedule", False),
    )


def _parse_reviewers(section: Section, problems: Problems) -> dict[str, Reviewers]:
    reviewers = {}
    for environment in DEPLOY_ENVIRONMENTS:
        entry = section.section(environment, ("users", "teams"))
        ids = {kind: _ids(entry, kind, problems) for kind in ("users", "teams")}
        reviewers[environment] = Reviewers(users=ids["users"], teams=ids["teams"])
        count = len(ids["users"]) + len(ids["teams"])
        if count > MAX_REVIEWERS:
            problems.add(
                entry.path,
                f"{len(ids['users'])} users + {len(ids['teams'])} teams = {count} reviewers",
                f"at most {MAX_REVIEWERS} reviewers in all: GitHub counts users and teams together",
            )
        if environment in REVIEWED_ENVIRONMENTS and not (ids["users"] or ids["teams"]):
            problems.add(
                entry.path,
                entry.raw or None,
                "at least one reviewer: users and/or teams as numeric GitHub ids "
                "(gh api users/NAME --jq .id, gh api orgs/ORG/teams/SLUG --jq .id)",
            )
    return reviewers


def _ids(section: Section, kind: str, problems: Problems) -> tuple[int, ...]:
    value = section.raw.get(kind, [])
    if not isinstance(value, list) or not all(isinstance(item, int) and not isinstance(item, bool) for item in value):
        problems.add(section.key(kind), value, "a list of numeric GitHub ids (names are not accepted by the API)")
        return ()
    return tuple(value)


def _parse_cloud(problems: Problems, cloud: str, raw: Any) -> CloudSettings | None:
    if raw is None:
        return None
    known = ("project", "region", "deployEnvironments") if cloud == "gcp" else ("region", "deployEnvironments")
    if cloud == "aws":
        known = (*known, GITHUB_OIDC_PROVIDER_KEY)
    section = Section(problems, f"{PROJECT}:{cloud}", raw, known)
    region = section.str("region", "")
    if region and not _REGION.match(region):
        problems.add(section.key("region"), region, "a region such as europe-west1 or eu-west-1")
    project = ""
    if cloud == "gcp":
        project = section.str("project", "")
        if project and not PROJECT_ID.match(project):
            problems.add(section.key("project"), project, "a GCP project id (6-30 of a-z, 0-9, '-')")
    environments = section.str_list("deployEnvironments", [])
    for environment in environments:
        if environment not in DEPLOY_ENVIRONMENTS:
            problems.add(section.key("deployEnvironments"), environments, f"names from {list(DEPLOY_ENVIRONMENTS)}")
            break
    return CloudSettings(
        region=region,
        deploy_environments=tuple(environments),
        project=project,
        github_oidc_provider_arn=_parse_oidc_provider(section, region) if cloud == "aws" else None,
    )


def _parse_oidc_provider(section: Section, region: str) -> str | None:
    """The ARN of GitHub's OIDC provider when the account has one (`aws iam list-open-id-connect-providers`)."""
    arn = section.optional_str(GITHUB_OIDC_PROVIDER_KEY)
    if arn is None:
        return None
    match = _GITHUB_OIDC_PROVIDER_ARN.match(arn)
    partition = partition_for(region) if _REGION.match(region) else None
    if match is None or (partition is not None and match.group("partition") != partition):
        section.problems.add(
            section.key(GITHUB_OIDC_PROVIDER_KEY),
            arn,
            f"the ARN of the account's GitHub OIDC provider, arn:{partition or 'aws'}:iam::<account id>:oidc-provider/"
            f"{GITHUB_OIDC_HOST} (aws iam list-open-id-connect-providers), or unset to create it",
        )
    return arn


def load_settings() -> BootstrapSettings:
    """This stack's `airflow-platform-bootstrap:*` config, validated."""
    prefix = f"{PROJECT}:"
    raw: dict[str, Any] = {}
    for full_key, value in pulumi.runtime.config.CONFIG.get().items():
        if full_key.startswith(prefix):
            try:
                raw[full_key[len(prefix) :]] = json.loads(value)
            except json.JSONDecodeError:
                raw[full_key[len(prefix) :]] = value
    return parse_settings(raw)
