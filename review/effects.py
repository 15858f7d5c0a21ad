"""Config changes that change nothing: a key whose new value another key overrides.

`production: true` moves a dozen defaults (regional, HA, deletion protection...);
on a stack that pins one of them (`gcp.locationType: zonal`) that part of the
change does nothing, and a reviewer reading only the stack file's diff would
expect otherwise. Each changed config key is reverted alone and the config
parsed again (components/config.py, pure and fast): a key whose revert leaves the
StackConfig unchanged has no effect at all; a key that moves the default of a key
the stack sets explicitly is overridden there.
"""

from __future__ import annotations

import copy
from collections.abc import Iterator, Mapping
from typing import Any

from components.config import PROJECT, SECRET_KEYS, StackConfig, parse_stack_config
from components.validation import HIDDEN, ConfigError, Problems

ABSENT = object()


def _leaves(config: Mapping[str, Any], path: tuple[str, ...] = ()) -> Iterator[tuple[tuple[str, ...], Any]]:
    """Key paths down through objects; a list or a scalar is one value."""
    for key, value in config.items():
        if isinstance(value, Mapping) and value:
            yield from _leaves(value, (*path, key))
        else:
            yield (*path, key), value


def _with(config: Mapping[str, Any], path: tuple[str, ...], value: Any) -> dict[str, Any]:
    changed = copy.deepcopy(dict(config))
    target = changed
    for key in path[:-1]:
        target = target.setdefault(key, {})
    if value is ABSENT:
        target.pop(path[-1], None)
    else:
        target[path[-1]] = value
    return changed


def _parse(config: Mapping[str, Any], stack: str) -> tuple[StackConfig, dict[str, tuple[Any, bool]]] | None:
    """The StackConfig and the defaults read, or None when this config is not valid on its own."""
    problems = Problems()
    # Secret values never reach the plan; only whether they are set matters here, as in load_stack_config.
    raw = {key: HIDDEN if key in SECRET_KEYS else value for key, value in config.items()}
    try:
        return parse_stack_config(raw, stack, problems), problems.defaults
    except ConfigError:
        return None


def _key(path: tuple[str, ...]) -> str:
    return ".".join(path)


def ineffective_changes(base: Mapping[str, Any] | None, head: Mapping[str, Any], stack: str) -> list[dict[str, Any]]:
    """Each changed config key with no effect, or with a default it moves that the stack overrides."""
    parsed = _parse(head, stack) if base is not None else None
    if base is None or parsed is None:
        return []
    head_config, head_defaults = parsed
    old, new = dict(_leaves(base)), dict(_leaves(head))
    findings = []
    for path in sorted(old.keys() | new.keys()):
        before, after = old.get(path, ABSENT), new.get(path, ABSENT)
        if before == after or path[0] in SECRET_KEYS:
            continue
        reverted = _parse(_with(head, path, before), stack)
        if reverted is None:
            continue  # only valid together with another change: nothing to compare alone
        config, defaults = reverted
        finding: dict[str, Any] = {
            "key": _key(path),
            "before": None if before is ABSENT else before,
            "after": None if after is ABSENT else after,
        }
        if config == head_config:
            findings.append({**finding, "overrides": []})
            continue
        overrides = []
        for key, (default, explicit) in sorted(head_defaults.items()):
            if explicit and key in defaults and defaults[key][0] != default:
                name = key.removeprefix(f"{PROJECT}:")
                overrides.append({"key": name, "default": default, "set": new.get(tuple(name.split(".")))})
        if overrides:
            findings.append({**finding, "overrides": overrides})
    return findings
