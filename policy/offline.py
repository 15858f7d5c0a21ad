"""Evaluate the policy pack on a mock run, with no Pulumi CLI and no cloud.

`make plan` calls `evaluate(run, production=...)` with the stack file's own
`airflow-platform:production`. Each recorded resource becomes what the engine
would hand the pack: `ResourceValidationArgs` for resource policies, one
`StackValidationArgs` for stack policies, properties = recorded outputs
overlaid with the inputs, options with `protect`. Resources read with `.get`
are skipped: the engine analyses registrations only.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from inspect import isawaitable
from typing import Literal

from pulumi_policy import (
    EnforcementLevel,
    Policy,
    PolicyCustomTimeouts,
    PolicyProviderResource,
    PolicyResource,
    PolicyResourceOptions,
    ReportViolation,
    ResourceValidationArgs,
    ResourceValidationPolicy,
    StackValidationArgs,
    StackValidationPolicy,
)

from policy.acceptance import Acceptance, load_accepted, reason_accepted
from policy.policies import POLICIES, PRODUCTION_KEY
from review.runner import Registered, Run

Enforcement = Literal["mandatory", "advisory"]


@dataclass(frozen=True)
class Violation:
    policy: str
    enforcement: Enforcement
    urn: str
    message: str
    accepted: str = ""  # the reason from policy/accepted.yaml; "" while the violation stands

    @property
    def blocking(self) -> bool:
        """What fails `make plan` (and a `pulumi preview` with the pack): mandatory and not accepted."""
        return self.enforcement == "mandatory" and not self.accepted


@dataclass(frozen=True)
class PolicyInfo:
    name: str
    description: str
    enforcement: Enforcement
    scope: Literal["resource", "stack"]


README_TABLE_HEADER = ("| Policy | Rule (the checkov / CIS id it mirrors) | Enforcement |", "|---|---|---|")


def readme_table(policies: Sequence[Policy] = POLICIES) -> str:
    """The README's Policies table, one row per policy in pack order (tests/policy checks the README has it)."""
    rows = [f"| `{info.name}` | {info.description} | {info.enforcement} |" for info in catalogue(policies)]
    return "\n".join([*README_TABLE_HEADER, *rows])


def _enforcement(policy: Policy) -> Enforcement:
    return "mandatory" if policy.enforcement_level == EnforcementLevel.MANDATORY else "advisory"


def catalogue(policies: Sequence[Policy] = POLICIES) -> list[PolicyInfo]:
    """Every policy of the pack, for the README and the plan."""
    return [
        PolicyInfo(
            name=policy.name,
            description=policy.description,
            enforcement=_enforcement(policy),
            scope="stack" if isinstance(policy, StackValidationPolicy) else "resource",
        )
        for policy in policies
    ]


def _options(resource: Registered) -> PolicyResourceOptions:
    return PolicyResourceOptions(
        protect=resource.protect,
        ignore_changes=list(resource.ignore_changes),
        delete_before_replace=None,
        aliases=[],
        custom_timeouts=PolicyCustomTimeouts(0, 0, 0),
        additional_secret_outputs=[],
        parent=resource.parent or None,
    )


def _props(resource: Registered) -> dict[str, object]:
    # What a preview shows: the inputs, plus the outputs the provider reports (names, ids, generated values).
    return {**resource.outputs, **resource.inputs}


class _Stack:
    """The run's managed resources, converted once."""

    def __init__(self, run: Run) -> None:
        self.managed = [resource for resource in run.resources if not resource.read]
        by_urn = {resource.urn: resource for resource in self.managed}
        self.providers = {
            f"{resource.urn}::{resource.outputs.get('id', f'{resource.name}-id')}": PolicyProviderResource(
                resource.type, _props(resource), resource.urn, resource.name
            )
            for resource in self.managed
            if resource.type.startswith("pulumi:providers:")
        }
        self.policy_resources = {
            resource.urn: PolicyResource(
                resource.type,
                _props(resource),
                resource.urn,
                resource.name,
                _options(resource),
                self.providers.get(resource.provider),
                None,
                [],
                {},
            )
            for resource in self.managed
        }
        for urn, policy_resource in self.policy_resources.items():
            registered = by_urn[urn]
            policy_resource.parent = self.policy_resources.get(registered.parent)
            policy_resource.dependencies = [
                self.policy_resources[dependency]
                for dependency in registered.dependencies
                if dependency in self.policy_resources
            ]


def _collect(
    policy: Policy, accepted: Sequence[Acceptance], found: list[Violation], default_urn: str
) -> ReportViolation:
    def report(message: str, urn: str | None = None) -> None:
        target = urn or default_urn
        found.append(
            Violation(
                policy=policy.name,
                enforcement=_enforcement(policy),
                urn=target,
                message=message,
                accepted=reason_accepted(accepted, policy.name, target),
            )
        )

    return report


def evaluate(
    run: Run,
    *,
    production: bool,
    policies: Sequence[Policy] = POLICIES,
    accepted: Sequence[Acceptance] | None = None,
) -> list[Violation]:
    """Every violation of `policies` in `run`, accepted ones marked with their reason (`Violation.blocking`)."""
    if accepted is None:
        accepted = load_accepted([policy.name for policy in policies])
    stack = _Stack(run)
    config = {PRODUCTION_KEY: production}
    found: list[Violation] = []
    for policy in policies:
        if isinstance(policy, ResourceValidationPolicy):
            for resource in stack.policy_resources.values():
                args = ResourceValidationArgs(
                    resource.resource_type,
                    resource.props,
                    resource.urn,
                    resource.name,
                    resource.opts,
                    resource.provider,
                    config,
                )
                _settled(policy.validate(args, _collect(policy, accepted, found, resource.urn)))
        elif isinstance(policy, StackValidationPolicy):
            args_stack = StackValidationArgs(list(stack.policy_resources.values()), config)
            _settled(policy.validate(args_stack, _collect(policy, accepted, found, "")))
    return found


def _settled(result: object) -> None:
    # The pack's rules are synchronous; an awaitable would mean a rule nobody evaluated.
    if isawaitable(result):
        raise TypeError("policy validations must be synchronous to run offline")
