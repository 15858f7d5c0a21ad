"""Violating and complying resources built from recorded runs, and one policy evaluated on them.

No `__init__.py` in tests/policy: as a package it would be named `policy`
and shadow the policy pack itself.
"""

from __future__ import annotations

import copy
import dataclasses
from collections.abc import Mapping
from functools import cache
from pathlib import Path
from typing import Any

from policy.offline import Violation, evaluate
from policy.policies import POLICIES
from review.cost import GCP_PRODUCTION_SHAPE
from review.runner import ROOT, Registered, Run, run_main, stack_file_config

STACK_FILES = sorted(ROOT.glob("Pulumi.*.yaml"))
DELETE = object()  # as a value in `changed`: remove the property


def stack_name(path: Path) -> str:
    return path.name.removeprefix("Pulumi.").removesuffix(".yaml")


@cache
def shipped(stack: str) -> Run:
    """The shipped `Pulumi.<stack>.yaml` under the mock runner, once per session."""
    return run_main(stack_file_config(ROOT / f"Pulumi.{stack}.yaml"), stack=stack)


def gke() -> Run:
    """The shipped GKE stack."""
    return shipped("dev")


def eks() -> Run:
    """The shipped EKS stack."""
    return shipped("prod")


@cache
def gke_production() -> Run:
    """A production GKE stack: the cost estimate's `prod-gcp` fixture shape (KMS, deletion protection)."""
    return run_main(GCP_PRODUCTION_SHAPE, stack="prod-gcp")


def _set(document: dict[str, Any], path: str, value: Any) -> None:
    *parents, last = path.split(".")
    for key in parents:
        document = document.setdefault(key, {})
    if value is DELETE:
        document.pop(last, None)
    else:
        document[last] = value


def changed(resource: Registered, changes: Mapping[str, Any]) -> Registered:
    """`resource` with dotted input paths set (or DELETEd); the mocks echo inputs into outputs, so both change."""
    inputs, outputs = copy.deepcopy(resource.inputs), copy.deepcopy(resource.outputs)
    for path, value in changes.items():
        _set(inputs, path, value)
        _set(outputs, path, value)
    return dataclasses.replace(resource, inputs=inputs, outputs=outputs)


def replaced(run: Run, *resources: Registered) -> Run:
    """`run` with each resource of the same URN swapped for the given one."""
    by_urn = {resource.urn: resource for resource in resources}
    return Run(resources=[by_urn.get(r.urn, r) for r in run.resources], exports=run.exports)


def without(run: Run, type_token: str) -> Run:
    return Run(resources=[r for r in run.resources if r.type != type_token], exports=run.exports)


def violations(run: Run, policy_name: str, *, production: bool = False) -> list[Violation]:
    """`policy_name`'s violations in `run`, none accepted."""
    policies = [policy for policy in POLICIES if policy.name == policy_name]
    assert len(policies) == 1, f"no policy {policy_name!r}"
    return evaluate(run, production=production, policies=policies, accepted=[])
