"""The offline plan of a stack: what `Pulumi.<stack>.yaml` creates, as JSON-able data.

The stack program runs under the mock runner (no Pulumi CLI, no cloud, no
credentials); the plan records every registered resource with its inputs,
the component tree, what is protected, the exports, the policy pack's
verdict (policy/offline.py) and the cost estimate (review/cost.py). Secret values never
enter the plan: secret input paths, secret exports and any input string that
contains a generated secret become "[secret]". The Markdown in review/render.py
is made from this data only.
"""

from __future__ import annotations

import base64
import functools
import re
from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from components.config import masked_config
from policy.acceptance import load_accepted
from policy.offline import evaluate
from policy.policies import GENERATED_CREDENTIALS, POLICIES
from review.cost import estimate
from review.runner import PROJECT, ROOT, Registered, Run, fake_bytes, run_main, stack_file_config

SECRET = "[secret]"
# What a value the mocks invented shows as: `[placeholder: Bucket.bucket]`.
PLACEHOLDER = "[placeholder: {}]"
PLACEHOLDER_NOTE = (
    "Values the cloud assigns at `pulumi up` (generated names, ids, account numbers, addresses, keys) "
    "show as `[placeholder: <Type>.<output>]`: the mocks invent them, so they are not real; "
    "after `pulumi up`, `pulumi stack output` has the real ones."
)
PLAN_VERSION = 1

# Shorter strings (a port, "true") would redact innocent values by coincidence.
MIN_SECRET_LENGTH = 8


class StackFileError(Exception):
    """No stack file for the requested stack, or a policy/accepted.yaml entry the pack refuses."""


@dataclass(frozen=True)
class StackInput:
    config: dict[str, Any]
    secret_keys: tuple[str, ...]
    notes: tuple[str, ...]


def stack_path(stack: str, root: Path = ROOT) -> Path:
    path = root / f"Pulumi.{stack}.yaml"
    if not path.is_file():
        shipped = sorted(p.name.removeprefix("Pulumi.").removesuffix(".yaml") for p in root.glob("Pulumi.*.yaml"))
        raise StackFileError(f"no Pulumi.{stack}.yaml in {root} (stacks: {', '.join(shipped)})")
    return path


# Encrypted values the program validates by their form (components/config.py) get a placeholder of that form.
PLACEHOLDER_FORMS = {"alerts.webhook": "https://placeholder.invalid/{}"}


def placeholder(key: str) -> str:
    """An opaque stand-in for an encrypted config value: 32 bytes, url-safe base64.

    Deterministic per key so two commits plan the same; shaped like a Fernet
    key (`fernetPreviousKeys`), or as PLACEHOLDER_FORMS says for `key`.
    """
    opaque = base64.urlsafe_b64encode(fake_bytes(f"secure-config:{key}", 32)).decode()
    return PLACEHOLDER_FORMS.get(key, "{}").format(opaque)


def _replace_secure(value: Any, key: str) -> tuple[Any, bool]:
    """`{secure: v1:...}` (encrypted by `pulumi config set --secret`) -> a placeholder."""
    if isinstance(value, dict):
        if set(value) == {"secure"}:
            return placeholder(key), True
        found = False
        replaced = {}
        for name, item in value.items():
            replaced[name], inner = _replace_secure(item, f"{key}.{name}")
            found = found or inner
        return replaced, found
    if isinstance(value, list):
        items = [_replace_secure(item, f"{key}[{index}]") for index, item in enumerate(value)]
        return [item for item, _ in items], any(inner for _, inner in items)
    return value, False


def read_stack(stack: str, root: Path = ROOT) -> StackInput:
    """The stack file's config, with encrypted values replaced by placeholders (and said so)."""
    config: dict[str, Any] = {}
    secret_keys: list[str] = []
    for key, value in stack_file_config(stack_path(stack, root)).items():
        config[key], encrypted = _replace_secure(value, key)
        if encrypted:
            secret_keys.append(key)
    notes = tuple(
        f"`{PROJECT}:{key}` is encrypted in the stack file; the plan uses an opaque placeholder "
        "for it (the mocks cannot decrypt), so it checks the shape of the stack, not that value."
        for key in secret_keys
    )
    return StackInput(config, tuple(secret_keys), notes)


def _strings(value: Any) -> Iterable[str]:
    if isinstance(value, str):
        yield value
    elif isinstance(value, dict):
        for item in value.values():
            yield from _strings(item)
    elif isinstance(value, list):
        for item in value:
            yield from _strings(item)


def _get(value: Any, path: str) -> Any:
    for part in _split(path):
        value = value[part]
    return value


def _split(path: str) -> list[str | int]:
    """ "a.b[0].c" -> ["a", "b", 0, "c"] (the runner's secret path notation)."""
    parts: list[str | int] = []
    for segment in path.split("."):
        name, *indexes = segment.split("[")
        if name:
            parts.append(name)
        parts.extend(int(index.rstrip("]")) for index in indexes)
    return parts


def _set(value: Any, path: str, new: Any) -> Any:
    parts = _split(path)
    if not parts:
        return new
    target = value
    for part in parts[:-1]:
        target = target[part]
    target[parts[-1]] = new
    return value


def secret_strings(run: Run, extra: Iterable[str] = ()) -> set[str]:
    """Every secret value the run holds: secret inputs, secret exports, generated secrets."""
    found: set[str] = set(extra)
    for resource in run.resources:
        for path in resource.secret_inputs:
            found.update(_strings(_get(resource.inputs, path)))
        for key in GENERATED_CREDENTIALS.get(resource.type, ()):
            found.update(_strings(resource.outputs.get(key)))
    for exported in run.exports.values():
        if exported.secret:
            found.update(_strings(exported.value))
    return {value for value in found if len(value) >= MIN_SECRET_LENGTH}


def redact(value: Any, secrets: set[str]) -> Any:
    """Any string containing a secret becomes "[secret]" (a connection URL embeds a password)."""
    if isinstance(value, str):
        return SECRET if any(secret in value for secret in secrets) else value
    if isinstance(value, dict):
        return {key: redact(item, secrets) for key, item in value.items()}
    if isinstance(value, list):
        return [redact(item, secrets) for item in value]
    return value


def invented_values(run: Run) -> dict[str, str]:
    """Each string the mocks made up (review/fakes, the runner's defaults) -> what real output it stands for.

    An output string the program did not send as an input was invented: a real provider would return
    its own. Words (`deployed`) and short strings are left alone: they could match innocent text.
    """
    invented: dict[str, str] = {}

    def add(text: str, what: str) -> None:
        if len(text) >= MIN_SECRET_LENGTH and not text.isalpha():
            invented.setdefault(text, what)

    for resource in run.resources:
        given = set(_strings(resource.inputs))
        for key, value in resource.outputs.items():
            for text in _strings(value):
                if text not in given:
                    add(text, f"{resource.type.rsplit(':', 1)[-1]}.{key}")
    for token, result in run.call_results:
        for key, value in result.items():
            for text in _strings(value):
                add(text, f"{token.rsplit(':', 1)[-1]}.{key}")
    return invented


@dataclass(frozen=True)
class Labeller:
    """Replaces every invented string inside a value (an ARN embeds an account id) by its placeholder label."""

    invented: dict[str, str]

    @functools.cached_property
    def _pattern(self) -> re.Pattern[str]:
        # Longest first, so an ARN is labelled whole rather than around the account id inside it.
        texts = sorted(self.invented, key=len, reverse=True)
        return re.compile("|".join(rf"(?<![\w-]){re.escape(text)}(?![\w-])" for text in texts))

    def __call__(self, value: Any) -> Any:
        if not self.invented:
            return value
        if isinstance(value, str):
            return self._pattern.sub(lambda match: PLACEHOLDER.format(self.invented[match.group(0)]), value)
        if isinstance(value, dict):
            return {key: self(item) for key, item in value.items()}
        if isinstance(value, list):
            return [self(item) for item in value]
        return value


def number(value: Any) -> Any:
    """The engine sends every number as a float; 3.0 reads better as 3."""
    if isinstance(value, float) and value.is_integer():
        return int(value)
    if isinstance(value, dict):
        return {key: number(item) for key, item in value.items()}
    if isinstance(value, list):
        return [number(item) for item in value]
    return value


def is_component(resource: Registered) -> bool:
    return resource.type.split(":", 1)[0] == PROJECT


def _resource(resource: Registered, secrets: set[str], label: Labeller) -> dict[str, Any]:
    inputs = label(redact(number(resource.inputs), secrets))
    for path in resource.secret_inputs:
        inputs = _set(inputs, path, SECRET)
    return {
        "urn": resource.urn,
        "type": resource.type,
        "name": resource.name,
        "parent": resource.parent,
        "protect": resource.protect,
        "read": resource.read,
        "component": is_component(resource),
        "inputs": inputs,
        # Input paths the engine keeps at their old value on update (the diff honours them).
        "ignoreChanges": list(resource.ignore_changes),
        # What a replacement propagates along (review/diff.py): per input, the resources it takes outputs
        # from, and the provider (a Kubernetes provider follows its cluster).
        "dependsOn": {key: list(urns) for key, urns in resource.input_dependencies.items()},
        "provider": resource.provider.rsplit("::", 1)[0] if resource.provider else "",
    }


def component_tree(resources: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Components nested by parent, each with the count of its direct resources by type."""
    components = {r["urn"]: r for r in resources if r["component"]}
    children: dict[str, list[dict[str, Any]]] = {}
    counts: dict[str, Counter[str]] = {urn: Counter() for urn in components}
    for resource in resources:
        if resource["component"]:
            children.setdefault(resource["parent"], []).append(resource)
        elif resource["parent"] in counts:
            counts[resource["parent"]][resource["type"]] += 1

    def node(component: dict[str, Any]) -> dict[str, Any]:
        return {
            "name": component["name"],
            "type": component["type"],
            "resources": dict(sorted(counts[component["urn"]].items())),
            "children": [node(child) for child in children.get(component["urn"], [])],
        }

    return [node(r) for r in resources if r["component"] and r["parent"] not in components]


def build_plan(stack: str, root: Path = ROOT) -> dict[str, Any]:
    """Run `Pulumi.<stack>.yaml` under mocks and describe what it would create.

    Raises StackFileError without a stack file and the program's ConfigError on invalid config.
    """
    stack_input = read_stack(stack, root)
    try:
        accepted = load_accepted([policy.name for policy in POLICIES])
    except ValueError as error:
        raise StackFileError(str(error)) from None
    run = run_main(stack_input.config, stack, secret_keys=stack_input.secret_keys)
    placeholders = _strings([stack_input.config[key] for key in stack_input.secret_keys])
    secrets = secret_strings(run, placeholders)
    # Registration order varies between runs (async); URN order does not.
    invented = invented_values(run)
    label = Labeller(invented)
    resources = sorted((_resource(resource, secrets, label) for resource in run.resources), key=lambda r: r["urn"])
    return {
        "version": PLAN_VERSION,
        "stack": stack,
        "stackFile": f"Pulumi.{stack}.yaml",
        "cloud": stack_input.config.get("cloud"),
        "production": stack_input.config.get("production") is True,
        # The stack file's config, credentials masked: what review/effects.py compares between two plans.
        "config": masked_config(stack_input.config, SECRET),
        "notes": [*stack_input.notes, PLACEHOLDER_NOTE] if invented else list(stack_input.notes),
        # The program's own preview warnings (a Kubernetes version near the end
        # of standard support, plain HTTP on a cloud stack, ...).
        "warnings": sorted(set(run.warnings)),
        "resourceCount": len(resources),
        "counts": dict(sorted(Counter(r["type"] for r in resources).items())),
        "tree": component_tree(resources),
        "protected": [r["urn"] for r in resources if r["protect"]],
        "exports": {
            name: SECRET if exported.secret else label(redact(number(exported.value), secrets))
            for name, exported in sorted(run.exports.items())
        },
        "resources": resources,
        "policy": {
            "violations": [
                {
                    "policy": v.policy,
                    "enforcement": v.enforcement,
                    "urn": v.urn,
                    "message": v.message,
                    "accepted": v.accepted,
                    "blocking": v.blocking,
                }
                for v in sorted(
                    evaluate(run, production=stack_input.config.get("production") is True, accepted=accepted),
                    key=lambda v: (not v.blocking, v.policy, v.urn),
                )
            ]
        },
        "cost": estimate(run).to_dict(),
    }
