"""What a change does to a stack: the plan at a git ref against the working tree's, as data.

The BASE plan is made by BASE's own code: a temporary `git worktree` at BASE
runs `python -m review plan` with this interpreter (the same virtualenv), so
a change to the program is compared with what the program did before it.
A BASE without the stack file or without the plan command (older commits)
has no plan: everything in the working tree is then listed as added.
"""

from __future__ import annotations

import json
import re
import subprocess
import sys
import tempfile
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from review import replacements
from review.effects import ineffective_changes
from review.runner import ROOT

HELM_RELEASE = "kubernetes:helm.sh/v3:Release"
HELM_VALUES = "values"


class BaseRefError(Exception):
    """BASE does not name a commit."""


def _git(*args: str, cwd: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(["git", *args], cwd=cwd, capture_output=True, text=True, check=False)


def plan_at(ref: str, stack: str, root: Path = ROOT) -> tuple[dict[str, Any] | None, str]:
    """The plan BASE's code makes of BASE's stack file, or None and why there is none."""
    commit = _git("rev-parse", "--verify", "--quiet", f"{ref}^{{commit}}", cwd=root)
    if commit.returncode != 0:
        raise BaseRefError(f"BASE={ref!r} is not a commit in {root}")
    with tempfile.TemporaryDirectory(prefix="plan-diff-") as tmp:
        worktree = Path(tmp) / "base"
        added = _git("worktree", "add", "--detach", "--quiet", str(worktree), commit.stdout.strip(), cwd=root)
        if added.returncode != 0:
            raise BaseRefError(f"cannot check out BASE={ref!r}: {added.stderr.strip()}")
        try:
            return _plan_in(worktree, ref, stack, Path(tmp) / "plan.json")
        finally:
            _git("worktree", "remove", "--force", str(worktree), cwd=root)


def _plan_in(worktree: Path, ref: str, stack: str, out: Path) -> tuple[dict[str, Any] | None, str]:
    if not (worktree / f"Pulumi.{stack}.yaml").is_file():
        return None, f"`Pulumi.{stack}.yaml` does not exist at `{ref}`"
    if not (worktree / "review" / "__main__.py").is_file():
        return None, f"`{ref}` predates `make plan`"
    result = subprocess.run(
        [sys.executable, "-m", "review", "plan", "--stack", stack, "--out", str(out)],
        cwd=worktree,
        capture_output=True,
        text=True,
        check=False,
    )
    # A mandatory policy violation at BASE still writes the plan (exit 1).
    if out.is_file():
        return json.loads(out.read_text()), ""
    detail = (result.stderr.strip() or result.stdout.strip()).splitlines()
    return None, f"the plan at `{ref}` failed: {' '.join(detail[-3:]) if detail else f'exit {result.returncode}'}"


def flatten(value: Any, path: str = "") -> Iterator[tuple[str, Any]]:
    """Leaf paths of an input tree: `a.b[0].c`; empty objects and lists are leaves."""
    if isinstance(value, dict) and value:
        for key, item in value.items():
            yield from flatten(item, f"{path}.{key}" if path else key)
    elif isinstance(value, list) and value:
        for index, item in enumerate(value):
            yield from flatten(item, f"{path}[{index}]")
    else:
        yield path, value


def input_changes(before: dict[str, Any], after: dict[str, Any]) -> list[dict[str, Any]]:
    """One entry per changed leaf path; a side without the path has no `before`/`after` key."""
    old, new = dict(flatten(before)), dict(flatten(after))
    changes = []
    for path in sorted(old.keys() | new.keys()):
        if old.get(path, ...) == new.get(path, ...):
            continue
        change: dict[str, Any] = {"path": path}
        if path in old:
            change["before"] = old[path]
        if path in new:
            change["after"] = new[path]
        changes.append(change)
    return changes


def _brief(resource: dict[str, Any]) -> dict[str, Any]:
    return {
        "urn": resource["urn"],
        "name": resource["name"],
        "type": resource["type"],
        "protect": resource["protect"],
        "stateful": replacements.is_stateful(resource["type"]),
    }


def ignored(path: str, ignore_changes: list[str]) -> bool:
    """Whether the engine keeps `path` at its old value: it is at or under one of the
    resource's `ignoreChanges` paths (list indexes aside), so it neither updates nor replaces."""
    bare = re.sub(r"\[\d+\]", "", path)
    return any(bare == kept or bare.startswith(kept + ".") for kept in ignore_changes)


def _changed(old: dict[str, Any], new: dict[str, Any]) -> tuple[dict[str, Any] | None, list[dict[str, Any]]]:
    """The resource's change (None if none) and its Helm values changes, by key path."""
    # The head program's ignoreChanges decide, as in `pulumi up` (a plan before the key has none).
    kept = new.get("ignoreChanges", [])
    changes = [change for change in input_changes(old["inputs"], new["inputs"]) if not ignored(change["path"], kept)]
    prefix = HELM_VALUES + "."
    is_value = [new["type"] == HELM_RELEASE and change["path"].startswith(prefix) for change in changes]
    helm_values = [
        {**change, "release": new["name"], "path": change["path"].removeprefix(prefix)}
        for change, value in zip(changes, is_value, strict=True)
        if value
    ]
    protect_changed = old["protect"] != new["protect"]
    if not changes and not protect_changed:
        return None, helm_values
    forcing = replacements.forcing_paths(new["type"], [change["path"] for change in changes])
    entry = {
        **_brief(new),
        "action": "replace" if forcing else "update",
        "forcing": forcing,
        "source": replacements.source(new["type"]) if forcing else "",
        # Pulumi refuses to delete a protected resource, so its replacement fails `pulumi up`.
        "wasProtected": old["protect"],
        "protectChange": [old["protect"], new["protect"]] if protect_changed else None,
        "changes": [change for change, value in zip(changes, is_value, strict=True) if not value],
        "helmValueChanges": len(helm_values),
    }
    return entry, helm_values


PROVIDER_INPUT = "(provider)"


def _knock_on(
    changed: list[dict[str, Any]], old: dict[str, dict[str, Any]], new: dict[str, dict[str, Any]]
) -> list[dict[str, Any]]:
    """`changed` plus every existing resource a replacement replaces in turn, each saying which and why.

    Follows the working tree's recorded dependencies (input -> the resources it takes outputs
    from) until nothing more is replaced: a new VPC replaces its subnets, which replace the
    node groups and mount targets that take their ids, and so on.
    """
    entries = {entry["urn"]: entry for entry in changed}
    replaced = {urn for urn, entry in entries.items() if entry["action"] == "replace"}
    frontier = set(replaced)
    while frontier:
        found: set[str] = set()
        for urn, resource in new.items():
            if urn in replaced or urn not in old:
                continue
            edges = [(key, cause) for key, causes in resource.get("dependsOn", {}).items() for cause in causes]
            if resource.get("provider"):
                edges.append((PROVIDER_INPUT, resource["provider"]))
            for key, cause in edges:
                if cause not in frontier:
                    continue
                reason = _knock_on_reason(resource, key, new[cause])
                if reason is None:
                    continue
                entry = entries.get(urn) or _unchanged_entry(old[urn], resource)
                entries[urn] = {**entry, "action": "replace", "knockOn": reason}
                found.add(urn)
                break
        replaced |= found
        frontier = found
    return list(entries.values())


def _knock_on_reason(resource: dict[str, Any], key: str, cause: dict[str, Any]) -> dict[str, Any] | None:
    if key == PROVIDER_INPUT:
        provider = replacements.PROVIDER_RULES.get(cause["type"])
        if provider is None:
            return None
        why, source = "its provider points at a new cluster", provider.source
    else:
        rule = replacements.knock_on(resource["type"], key)
        if rule is None or _echoes_inputs(resource["inputs"].get(key), cause["inputs"]):
            return None
        why, source = rule
    return {"cause": cause["name"], "causeUrn": cause["urn"], "input": key, "why": why, "source": source}


def _echoes_inputs(value: Any, cause_inputs: dict[str, Any]) -> bool:
    """Whether `value` only repeats the cause's own inputs (an EKS cluster's `name`, not its `id`).

    A replacement's planned state keeps the values its inputs set: the engine knows them in
    preview, so an input that takes only those sees no change. What the cloud assigns (ids,
    ARNs, endpoints) is unknown until the new resource exists, and that is what replaces.
    """
    leaves = [leaf for _, leaf in flatten(value) if leaf is not None]
    known = {leaf for _, leaf in flatten(cause_inputs)}
    return bool(leaves) and all(leaf in known for leaf in leaves)


def _unchanged_entry(old: dict[str, Any], new: dict[str, Any]) -> dict[str, Any]:
    return {
        **_brief(new),
        "action": "update",
        "forcing": [],
        "source": "",
        "wasProtected": old["protect"],
        "protectChange": None,
        "changes": [],
        "helmValueChanges": 0,
    }


def _monthly_by_resource(cost: dict[str, Any]) -> dict[str, tuple[str, float]]:
    totals: dict[str, tuple[str, float]] = {}
    for line in cost["lines"]:
        _, usd = totals.get(line["urn"], (line["name"], 0.0))
        totals[line["urn"]] = (line["name"], usd + line["monthly_usd"])
    return totals


def cost_delta(base: dict[str, Any] | None, head: dict[str, Any]) -> dict[str, Any]:
    """Idle month and task-node hour before and after, and each resource whose monthly price moved."""
    before = (base or {}).get("cost") or {"monthly_idle_usd": 0.0, "per_task_node_hour_usd": 0.0, "lines": []}
    after = head["cost"]
    old, new = _monthly_by_resource(before), _monthly_by_resource(after)
    resources = []
    for urn in sorted(old.keys() | new.keys()):
        name = (new.get(urn) or old[urn])[0]
        was, now = old.get(urn, (name, 0.0))[1], new.get(urn, (name, 0.0))[1]
        if round(was, 2) != round(now, 2):
            resources.append(
                {
                    "urn": urn,
                    "name": name,
                    "before": round(was, 2),
                    "after": round(now, 2),
                    "verified": all(line["verified"] for line in after["lines"] if line["urn"] == urn),
                }
            )
    return {
        "monthlyIdleUsd": [before["monthly_idle_usd"], after["monthly_idle_usd"]],
        "perTaskNodeHourUsd": [before["per_task_node_hour_usd"], after["per_task_node_hour_usd"]],
        "pricesAsOf": after["prices_as_of"],
        "resources": resources,
        "unpriced": len(after.get("unpriced", [])),
    }


def policy_delta(base: dict[str, Any] | None, head: dict[str, Any]) -> dict[str, Any]:
    """Violations the change introduces and resolves, by (policy, URN); accepted ones say so."""

    def keyed(plan: dict[str, Any] | None) -> dict[tuple[str, str], dict[str, Any]]:
        violations = ((plan or {}).get("policy") or {}).get("violations", [])
        return {(v["policy"], v["urn"]): v for v in violations}

    old, new = keyed(base), keyed(head)
    return {
        "new": [new[key] for key in new if key not in old],
        "resolved": [old[key] for key in old if key not in new],
        "blocking": sum(1 for v in new.values() if v["blocking"]),
        "standing": len(new) - sum(1 for key in new if key not in old),
    }


def diff_plans(base: dict[str, Any] | None, head: dict[str, Any], *, ref: str, base_note: str = "") -> dict[str, Any]:
    """Compare two plans by URN (as the engine does: a new URN is a delete and a create)."""
    old = {r["urn"]: r for r in (base or {}).get("resources", [])}
    new = {r["urn"]: r for r in head["resources"]}
    added = [_brief(new[urn]) for urn in new if urn not in old]
    removed = [_brief(old[urn]) for urn in old if urn not in new]
    changed: list[dict[str, Any]] = []
    helm_values: list[dict[str, Any]] = []
    for urn in new.keys() & old.keys():
        entry, values = _changed(old[urn], new[urn])
        helm_values.extend(values)
        if entry:
            changed.append(entry)
    changed = _knock_on(changed, old, new)
    changed.sort(key=lambda c: (c["action"] != "replace", c["type"], c["name"]))
    dangers = [
        {**c, "action": "replace"} for c in changed if c["action"] == "replace" and (c["stateful"] or c["wasProtected"])
    ] + [{**r, "action": "delete", "forcing": [], "source": ""} for r in removed if r["stateful"] or r["protect"]]
    # Pulumi refuses to delete a protected resource: its replacement or deletion stops `pulumi up`, so it comes first.
    dangers = [{**d, "blocksUpdate": bool(d.get("wasProtected") or d["protect"])} for d in dangers]
    dangers.sort(key=lambda d: not d["blocksUpdate"])
    return {
        "stack": head["stack"],
        "base": ref,
        "basePlan": base is not None,
        "baseNote": base_note,
        "notes": sorted(set((base or {}).get("notes", [])) | set(head.get("notes", []))),
        # What `pulumi preview` would warn about after the change.
        "warnings": head.get("warnings", []),
        # Config keys whose change another key overrides (review/effects.py); none when BASE's plan predates config.
        "ineffective": ineffective_changes((base or {}).get("config"), head.get("config") or {}, head["stack"]),
        "summary": {
            "add": len(added),
            "delete": len(removed),
            "update": sum(1 for c in changed if c["action"] == "update"),
            "replace": sum(1 for c in changed if c["action"] == "replace"),
            "unchanged": len(new) - len(added) - len(changed),
            "knockOn": sum(1 for c in changed if c.get("knockOn")),
            "blocking": sum(1 for d in dangers if d["blocksUpdate"]),
        },
        "dangers": dangers,
        "added": sorted(added, key=lambda r: (r["type"], r["name"])),
        "removed": sorted(removed, key=lambda r: (r["type"], r["name"])),
        "changed": changed,
        "helmValues": sorted(helm_values, key=lambda v: (v["release"], v["path"])),
        "exports": input_changes((base or {}).get("exports", {}), head["exports"]),
        "cost": cost_delta(base, head),
        "policy": policy_delta(base, head),
    }
