"""The values the shipped stack files carry until a user replaces them.

They pass validation on purpose - `make test` runs every stack file as shipped
- so deploying is what must refuse them: `make up` / `make preview`
(scripts/pulumi.sh) run `python -m components.placeholders Pulumi.<stack>.yaml`
before Pulumi and stop, naming each key to change. The tests never call it on
a stack file, so editing them never breaks `make test`.
"""

from __future__ import annotations

import ipaddress
import re
import sys
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

# RFC 5737 documentation ranges: routed nowhere, so an allowlist made of them
# admits nobody (and a UI "restricted" to them is unreachable).
DOCUMENTATION_NETWORKS = tuple(
    ipaddress.IPv4Network(cidr) for cidr in ("192.0.2.0/24", "198.51.100.0/24", "203.0.113.0/24")
)


@dataclass(frozen=True)
class Placeholder:
    pattern: re.Pattern[str]
    replace_with: str


# The one list of placeholder patterns (case-insensitive, matched anywhere in a value).
PLACEHOLDERS = (
    Placeholder(re.compile(r"change-?me", re.IGNORECASE), "your own value (the shipped one is a placeholder)"),
    Placeholder(
        re.compile(r"\byour-org\b", re.IGNORECASE),
        "your fork of this repo, e.g. git@github.com:acme/airflow-platform.git",
    ),
    # RFC 2606 reserves example.com/.net/.org and the .example TLD: no
    # certificate authority issues for them, so ui.domain must be the user's.
    Placeholder(
        re.compile(r"^([a-z0-9-]+\.)*example(\.(com|net|org))?$", re.IGNORECASE),
        "a DNS name you control, e.g. airflow.acme.com (RFC 2606 example domains get no certificate)",
    ),
)
DOCUMENTATION_CIDR = (
    "your own CIDRs (office, VPN or `curl -s ifconfig.me`/32); RFC 5737 documentation ranges reach nobody"
)


@dataclass(frozen=True)
class Found:
    key: str
    value: str
    replace_with: str

    def __str__(self) -> str:
        return f"{self.key}: {self.value} -> {self.replace_with}"


def find_placeholders(path: Path) -> list[Found]:
    """Every value in the stack file's `config:` that is still a shipped placeholder."""
    document = yaml.safe_load(path.read_text()) or {}
    return [
        found
        for key, value in (document.get("config") or {}).items()
        for leaf_key, leaf in _leaves(str(key), value)
        for found in _check(leaf_key, leaf)
    ]


def _leaves(key: str, value: Any) -> Iterator[tuple[str, str]]:
    if isinstance(value, dict):
        if "secure" in value:  # an encrypted secret: nothing readable to check
            return
        for name, item in value.items():
            yield from _leaves(f"{key}.{name}", item)
    elif isinstance(value, list):
        for index, item in enumerate(value):
            yield from _leaves(f"{key}[{index}]", item)
    elif value is not None:
        yield key, str(value)


def _check(key: str, value: str) -> Iterator[Found]:
    for placeholder in PLACEHOLDERS:
        if placeholder.pattern.search(value):
            yield Found(key, value, placeholder.replace_with)
            return
    if _is_documentation_network(value):
        yield Found(key, value, DOCUMENTATION_CIDR)


def _is_documentation_network(value: str) -> bool:
    try:
        network = ipaddress.ip_network(value, strict=False)
    except ValueError:
        return False
    return isinstance(network, ipaddress.IPv4Network) and any(map(network.subnet_of, DOCUMENTATION_NETWORKS))


def main(argv: list[str]) -> int:
    if len(argv) != 1:
        print("usage: python -m components.placeholders Pulumi.<stack>.yaml", file=sys.stderr)
        return 2
    path = Path(argv[0])
    found = find_placeholders(path)
    if not found:
        return 0
    print(f"{path.name} still carries the shipped placeholders; change each key before deploying:", file=sys.stderr)
    for item in found:
        print(f"  - {item}", file=sys.stderr)
    return 1


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
