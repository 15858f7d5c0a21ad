"""GitHub side of CI: the deploy environments and the Actions variables the workflows read."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

import pulumi
import pulumi_github as github

from bootstrap.settings import GitHubSettings

# Reviewers (users and teams) an environment needs before self-review is prevented.
SELF_REVIEW_NEEDS = 2


@dataclass(frozen=True)
class GitHubDeliveryArgs:
    settings: GitHubSettings
    environments: tuple[str, ...]
    # Actions variable name -> value (identities, backend URLs); none of them is a secret.
    variables: Mapping[str, pulumi.Input[str]]


class GitHubDelivery(pulumi.ComponentResource):
    environments: dict[str, github.RepositoryEnvironment]
    variables: dict[str, github.ActionsVariable]

    def __init__(self, name: str, args: GitHubDeliveryArgs, opts: pulumi.ResourceOptions | None = None) -> None:
        super().__init__("airflow-platform:bootstrap:GitHubDelivery", name, None, opts)
        settings = args.settings
        provider = github.Provider(f"{name}-provider", owner=settings.owner, opts=pulumi.ResourceOptions(parent=self))
        local = pulumi.ResourceOptions(parent=self, provider=provider)

        self.environments = {}
        for environment in args.environments:
            reviewers = settings.reviewers[environment]
            self.environments[environment] = github.RepositoryEnvironment(
                f"{name}-{environment}",
                repository=settings.repository,
                environment=environment,
                reviewers=[
                    github.RepositoryEnvironmentReviewerArgs(users=list(reviewers.users), teams=list(reviewers.teams))
                ]
                if reviewers.users or reviewers.teams
                else None,
                # With two or more reviewers, none approves a deploy they started (merged)
                # themselves. A lone reviewer may: otherwise their own merges could never
                # reach the environment (README "CI/CD", the prod approval rule).
                prevent_self_review=len(reviewers.users) + len(reviewers.teams) >= SELF_REVIEW_NEEDS,
                can_admins_bypass=False,
                # Only the default branch may deploy: the deploy identity trusts the
                # environment's `sub`, so a workflow on any other branch naming the
                # environment would otherwise get it.
                deployment_branch_policy=github.RepositoryEnvironmentDeploymentBranchPolicyArgs(
                    protected_branches=False, custom_branch_policies=True
                ),
                opts=local,
            )
            github.RepositoryEnvironmentDeploymentPolicy(
                f"{name}-{environment}-branch",
                repository=settings.repository,
                environment=self.environments[environment].environment,
                branch_pattern=settings.default_branch,
                opts=local,
            )

        self.variables = {
            variable: github.ActionsVariable(
                f"{name}-{variable.lower().replace('_', '-')}",
                repository=settings.repository,
                variable_name=variable,
                value=value,
                opts=local,
            )
            for variable, value in args.variables.items()
        }
        self.register_outputs({"variables": sorted(args.variables)})
