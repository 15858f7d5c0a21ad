"""Violations a reviewer accepted on purpose: `policy/accepted.yaml`.

Online, an accepted violation is not reported (it no longer blocks
`pulumi preview --policy-pack policy`); offline, `make plan` lists it as
accepted with its reason. Entries live in the repository, so accepting one is
a reviewed change like any other.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml
from pulumi_policy import (
    Policy,
    ReportViolation,
    ResourceValidationArgs,
    ResourceValidationPolicy,
    StackValidationArgs,
    StackValidationPolicy,
)

ACCEPTED_FILE = Path(__file__).resolve().parent / "accepted.yaml"
_URN_PREFIX = "urn:pulumi:"


@dataclass(frozen=True)
class Acceptance:
    policy: str
    urn: str
    reason: str


def resource_key(urn: str) -> tuple[str, str, str, str]:
    """(stack, project, type, name) of a URN.

    A URN's type carries its parents' types (`A$B$type`); only the last one is
    kept, so an entry copied from `make plan` also matches the engine's URN."""
    stack, project, qualified_type, name = urn.removeprefix(_URN_PREFIX).split("::", 3)
    return stack, project, qualified_type.split("$")[-1], name


def parse_accepted(document: Any, policy_names: Sequence[str]) -> list[Acceptance]:
    """The `accepted` list, or ValueError naming every bad entry and what is allowed."""
    entries = (document or {}).get("accepted") or [] if isinstance(document, Mapping | None) else None
    if not isinstance(entries, list):
        raise ValueError(f"{ACCEPTED_FILE.name}: 'accepted' must be a list of {{policy, urn, reason}} entries")
    problems: list[str] = []
    accepted: list[Acceptance] = []
    for index, entry in enumerate(entries):
        where = f"{ACCEPTED_FILE.name}: accepted[{index}]"
        if not isinstance(entry, Mapping):
            problems.append(f"{where}: got {entry!r}; allowed: a mapping with policy, urn and reason")
            continue
        policy, urn, reason = (str(entry.get(key) or "").strip() for key in ("policy", "urn", "reason"))
        if policy not in policy_names:
            problems.append(f"{where}.policy: got {policy!r}; allowed: one of {', '.join(policy_names)}")
        if not urn.startswith(_URN_PREFIX) or urn.count("::") != 3:
            problems.append(f"{where}.urn: got {urn!r}; allowed: a resource URN as `make plan` prints it")
        if not reason:
            problems.append(f"{where}.reason: missing; allowed: why this violation is acceptable")
        accepted.append(Acceptance(policy=policy, urn=urn, reason=reason))
    if problems:
        raise ValueError("\n".join(problems))
    return accepted


def load_accepted(policy_names: Sequence[str], path: Path = ACCEPTED_FILE) -> list[Acceptance]:
    return parse_accepted(yaml.safe_load(path.read_text()), policy_names)


def reason_accepted(accepted: Sequence[Acceptance], policy: str, urn: str) -> str:
    """The reason `policy`'s violation on `urn` was accepted, "" if it was not."""
    if not urn.startswith(_URN_PREFIX):
        return ""
    key = resource_key(urn)
    return next((entry.reason for entry in accepted if entry.policy == policy and resource_key(entry.urn) == key), "")


def _filtered(report: ReportViolation, accepted: Sequence[Acceptance], policy: str, urn: str) -> ReportViolation:
    def report_unless_accepted(message: str, violating_urn: str | None = None) -> None:
        if not reason_accepted(accepted, policy, violating_urn or urn):
            report(message, violating_urn)

    return report_unless_accepted


def _metadata(policy: Policy) -> dict[str, Any]:
    return {
        "name": policy.name,
        "description": policy.description,
        "enforcement_level": policy.enforcement_level,
        "config_schema": policy.config_schema,
    }


def honouring(policies: Sequence[Policy], accepted: Sequence[Acceptance]) -> list[Policy]:
    """`policies` as the pack serves them: the same rules, silent on accepted violations."""
    served: list[Policy] = []
    for policy in policies:
        if isinstance(policy, ResourceValidationPolicy):

            def validate_resource(
                args: ResourceValidationArgs, report: ReportViolation, policy: ResourceValidationPolicy = policy
            ) -> Any:
                return policy.validate(args, _filtered(report, accepted, policy.name, args.urn))

            served.append(ResourceValidationPolicy(validate=validate_resource, **_metadata(policy)))
        elif isinstance(policy, StackValidationPolicy):

            def validate_stack(
                args: StackValidationArgs, report: ReportViolation, policy: StackValidationPolicy = policy
            ) -> Any:
                return policy.validate(args, _filtered(report, accepted, policy.name, ""))

            served.append(StackValidationPolicy(validate=validate_stack, **_metadata(policy)))
    return served
