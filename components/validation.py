"""Validation primitives for stack configuration.

Cloud providers only validate arguments during a real `pulumi preview`, which
cannot run without credentials, so every config value is checked here first.
Validators never raise on their own: they record a `ConfigProblem` in a
`Problems` collector so that one `pulumi up` reports every bad key at once,
then `Problems.raise_if_any()` raises a single `ConfigError`.
"""

from __future__ import annotations

import builtins
import ipaddress
import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

from components import config_keys
from components.config_keys import Shape

_DNS1123_LABEL = re.compile(r"^[a-z0-9]([-a-z0-9]*[a-z0-9])?$")
_SEMVER = re.compile(r"^\d+\.\d+\.\d+$")
_CPU_QUANTITY = re.compile(r"^(\d+m|\d+(\.\d+)?)$")
_MEMORY_QUANTITY = re.compile(r"^\d+(\.\d+)?(Ki|Mi|Gi|Ti|Pi|Ei|k|M|G|T|P|E)?$")
_STORAGE_QUANTITY = re.compile(r"^\d+(Mi|Gi|Ti)$")
# What each quantity kind accepts (check_quantity; the stack file's JSON Schema uses the same patterns).
QUANTITY_PATTERNS = {"cpu": _CPU_QUANTITY, "memory": _MEMORY_QUANTITY, "storage": _STORAGE_QUANTITY}
_DURATION = re.compile(r"^\d+(s|m|h)$")
# Kubernetes quantity suffixes (k8s.io/apimachinery resource.Quantity): binary
# SI, decimal SI (m = milli, "" = units), or a decimal exponent such as 1e3.
_QUANTITY = re.compile(r"^(?P<number>[+-]?(\d+(\.\d*)?|\.\d+))(?P<suffix>Ki|Mi|Gi|Ti|Pi|Ei|[mkMGTPE]?|[eE][+-]?\d+)$")
_BINARY_SI = {"Ki": 2**10, "Mi": 2**20, "Gi": 2**30, "Ti": 2**40, "Pi": 2**50, "Ei": 2**60}
# Bytes in a GiB, for sizes `parse_quantity` returns in bytes.
GIB = _BINARY_SI["Gi"]
_DECIMAL_SI = {"m": Decimal("0.001"), "": Decimal(1), "k": Decimal(10) ** 3, "M": Decimal(10) ** 6}
_DECIMAL_SI |= {"G": Decimal(10) ** 9, "T": Decimal(10) ** 12, "P": Decimal(10) ** 15, "E": Decimal(10) ** 18}
# An image name as the Docker reference grammar defines it (distribution/reference,
# reference.go): an optional registry host[:port], then lowercase path components
# joined by '/', each alphanumerics joined by '.', '_', '__' or dashes. No tag or
# digest: the chart appends the Airflow version as the tag.
_REGISTRY = r"(?:[a-zA-Z0-9](?:[a-zA-Z0-9-]*[a-zA-Z0-9])?(?:\.[a-zA-Z0-9](?:[a-zA-Z0-9-]*[a-zA-Z0-9])?)*(?::\d+)?/)"
_PATH_COMPONENT = r"[a-z0-9]+(?:(?:[._]|__|-+)[a-z0-9]+)*"
_IMAGE_NAME = re.compile(rf"^{_REGISTRY}?{_PATH_COMPONENT}(?:/{_PATH_COMPONENT})*$")
# The reference grammar caps a name at 255 characters.
_MAX_IMAGE_NAME = 255
# scheme://userinfo@host: the userinfo may carry a password or token.
_URL_USERINFO = re.compile(r"(?P<scheme>[A-Za-z][A-Za-z0-9+.-]*://)[^/@\s]+@")

# RFC 1123 host name of at least two labels, lowercase, no trailing dot and no
# wildcard (ui.domain, auth.domain, auth.tenant).
FQDN = re.compile(r"^(?=.{4,253}$)([a-z0-9]([-a-z0-9]{0,61}[a-z0-9])?\.)+[a-z]([-a-z0-9]{0,61}[a-z0-9])?$")

# A value whose content must never be echoed back (keys, passwords).
HIDDEN = "<hidden>"


def mask_secrets(value: Any) -> Any:
    """`value` with the userinfo of every URL in it replaced by `***` (a token in a repo URL)."""
    if isinstance(value, str):
        return _URL_USERINFO.sub(r"\g<scheme>***@", value)
    if isinstance(value, list | tuple):
        return [mask_secrets(item) for item in value]
    if isinstance(value, Mapping):
        return {key: mask_secrets(item) for key, item in value.items()}
    return value


def describe(value: Any) -> str:
    """How a message shows a value: unset and empty values in words, the rest as written."""
    if value is None:
        return "no value"
    if value == [] or value == ():
        return "an empty list []"
    if isinstance(value, Mapping) and not value:
        return "an empty mapping {}"
    if value == "":
        return "an empty string"
    return repr(value)


@dataclass(frozen=True)
class ConfigProblem:
    """One bad config value: which key, what it was, what is allowed.

    The value is masked on the way in, so no message, repr or log of the
    problem can carry a credential embedded in a URL.
    """

    key: str
    value: Any
    allowed: str

    def __post_init__(self) -> None:
        object.__setattr__(self, "value", mask_secrets(self.value))

    def __str__(self) -> str:
        return f"{self.key}: got {describe(self.value)}; allowed: {self.allowed}"


class ConfigError(ValueError):
    """Raised before any resource is created when the stack config is invalid.

    Pure Python (the DAG test virtualenv has no Pulumi); `__main__.py` re-raises
    it as `components.config.StackConfigError`, which the Pulumi CLI prints cleanly.
    """

    def __init__(self, problems: Sequence[ConfigProblem]) -> None:
        # A problem found twice (the same key, value and rule) is reported once.
        self.problems = tuple({str(problem): problem for problem in problems}.values())
        lines = "\n".join(f"  - {problem}" for problem in self.problems)
        super().__init__(f"invalid stack configuration ({len(self.problems)} problem(s)):\n{lines}")


@dataclass
class Problems:
    """Collects problems across the whole config so they are reported together."""

    items: list[ConfigProblem] = field(default_factory=list)
    # Each key read with a default -> (that default, whether the stack sets the key): when another key
    # moves a default the stack overrides, its change has no effect there (review/effects.py says so).
    defaults: dict[str, tuple[Any, bool]] = field(default_factory=dict)

    def add(self, key: str, value: Any, allowed: str) -> None:
        self.items.append(ConfigProblem(key, value, allowed))

    def raise_if_any(self) -> None:
        if self.items:
            raise ConfigError(self.items)


class _Declared:
    """The sentinel of a Section read whose default, choices or range come from the key's declaration."""

    def __repr__(self) -> builtins.str:
        return "DECLARED"


DECLARED: Any = _Declared()


class Section:
    """A config object (e.g. `airflow-platform:dags`) read key by key.

    Keeps track of the dotted key path for messages and refuses keys it does
    not know, because a misspelt key would otherwise be silently ignored and
    its default used. Each read takes the key's default (for `shape`),
    choices and range from its declaration (components/config_keys.py); a
    caller passes a default only where the declaration says the code derives
    it from other keys.
    """

    def __init__(
        self,
        problems: Problems,
        path: builtins.str,
        raw: Any,
        known: Iterable[builtins.str] | None = None,
        shape: Shape | None = None,
    ) -> None:
        self.problems = problems
        self.path = path
        self.shape = shape
        self.raw: Mapping[builtins.str, Any] = {}
        if raw is None:
            return
        if not isinstance(raw, Mapping):
            problems.add(path, raw, "an object (YAML mapping)")
            return
        self.raw = raw
        known_keys = sorted(config_keys.children(self._dotted) if known is None else known)
        for key in raw:
            if key not in known_keys:
                problems.add(f"{path}.{key}", raw[key], f"one of the known keys {known_keys}")

    @property
    def _dotted(self) -> builtins.str:
        """The section's path as declared: below `airflow-platform:`."""
        return self.path.removeprefix(f"{config_keys.PROJECT}:")

    def shaped(self, shape: Shape) -> Section:
        """The same section, reading defaults for `shape` (unknown keys are already reported)."""
        section = Section(self.problems, self.path, None, shape=shape)
        section.raw = self.raw
        return section

    def declaration(self, name: builtins.str) -> config_keys.Key:
        return config_keys.key(f"{self._dotted}.{name}")

    def default(self, name: builtins.str) -> Any:
        """The declared default of `name` for this section's shape; a NoDefault when it has none."""
        default = self.declaration(name).default
        if isinstance(default, config_keys.Default):
            if self.shape is None and (default.has_prod or default.has_local):
                raise TypeError(f"{self.key(name)}: its default depends on the shape, and the section has none")
            return default.for_shape(self.shape or config_keys.Shape("local", False))
        return default

    def _resolve(self, name: builtins.str, default: Any) -> Any:
        if default is not DECLARED:
            return default
        value = self.default(name)
        if isinstance(value, config_keys.NoDefault):
            raise TypeError(f"{self.key(name)} has no declared default ({value.text}): pass the derived one")
        return value

    def key(self, name: str) -> str:
        return f"{self.path}.{name}"

    def has(self, name: str) -> bool:
        return name in self.raw

    def _get(self, name: builtins.str, default: Any) -> Any:
        """The key's value, or `default` when unset; records both for Problems.defaults."""
        self.problems.defaults[self.key(name)] = (default, name in self.raw)
        return self.raw.get(name, default)

    def str(self, name: str, default: Any = DECLARED) -> str:
        default = self._resolve(name, default)
        value = self._get(name, default)
        if not isinstance(value, str) or not value.strip():
            self.problems.add(self.key(name), value, "a non-empty string")
            return default
        return value

    def required_str(self, name: builtins.str) -> builtins.str | None:
        """A key with no default: one problem when unset or empty, and None so no later rule re-checks it."""
        value = self.raw.get(name)
        if not isinstance(value, str) or not value.strip():
            self.problems.add(self.key(name), value, self.declaration(name).allowed)
            return None
        return value

    def version(self, name: builtins.str) -> builtins.str:
        """A version field. YAML reads an unquoted `17` as an int and `1.30` as the float 1.3:
        an int, or a float with two or more decimals (1.31), can only have been written one
        way and is accepted as text; a one-decimal float (1.3: 1.3 or 1.30?) must be quoted."""
        default = self._resolve(name, DECLARED)
        value = self._get(name, default)
        if isinstance(value, builtins.int) and not isinstance(value, builtins.bool):
            return builtins.str(value)
        if isinstance(value, float):
            text = repr(value)
            whole, _, decimals = text.partition(".")
            if whole.isdigit() and len(decimals) >= 2 and decimals.isdigit():
                return text
            self.problems.add(
                self.key(name),
                value,
                f'the version quoted, e.g. {name}: "{text}0" or "{text}" - YAML reads an unquoted '
                f"{text}0 as the number {text}, so the two cannot be told apart",
            )
            return default
        return self.str(name, default)

    def quantity(self, name: builtins.str) -> builtins.str:
        """A Kubernetes quantity of the declared kind (cpu, memory or storage); one message for any bad value."""
        declaration = self.declaration(name)
        assert declaration.quantity is not None, f"{self.key(name)} is not declared a quantity"
        default = self._resolve(name, DECLARED)
        value = self._get(name, default)
        check_quantity(self.problems, self.key(name), value, declaration.quantity)
        return value if isinstance(value, str) else default

    def optional_str(self, name: builtins.str) -> builtins.str | None:
        value = self.raw.get(name)
        if value is None:
            return None
        if not isinstance(value, str) or not value.strip():
            self.problems.add(self.key(name), value, "a non-empty string, or leave it unset")
            return None
        return value

    def bool(self, name: builtins.str, default: Any = DECLARED) -> builtins.bool:
        default = self._resolve(name, default)
        value = self._get(name, default)
        if not isinstance(value, bool):
            self.problems.add(self.key(name), value, "true or false")
            return builtins.bool(default)
        return value

    def int(self, name: builtins.str, default: Any = DECLARED) -> builtins.int:
        """A whole number in the declared range."""
        declaration = self.declaration(name)
        default = self._resolve(name, default)
        minimum, maximum = declaration.minimum, declaration.maximum
        value = self._get(name, default)
        in_range = (
            isinstance(value, int)
            and not isinstance(value, bool)
            and (minimum is None or value >= minimum)
            and (maximum is None or value <= maximum)
        )
        if not in_range:
            upper = f" and <= {maximum}" if maximum is not None else ""
            self.problems.add(self.key(name), value, f"a whole number >= {minimum}{upper}")
            return builtins.int(default)
        return int(value)

    def choice(self, name: builtins.str, default: Any = DECLARED) -> builtins.str:
        """One of the declared choices."""
        allowed = self.declaration(name).choices
        default = self._resolve(name, default)
        value = self._get(name, default)
        if value not in allowed:
            self.problems.add(self.key(name), value, f"one of {list(allowed)}")
            return builtins.str(default)
        return str(value)

    def str_list(self, name: builtins.str, default: Any = DECLARED) -> list[builtins.str]:
        default = self._resolve(name, default)
        value = self._get(name, list(default))
        if not isinstance(value, list) or not all(isinstance(item, str) for item in value):
            self.problems.add(self.key(name), value, "a list of strings")
            return list(default)
        return list(value)

    def section(self, name: builtins.str, known: Iterable[builtins.str] | None = None) -> Section:
        """The object under `name`; its known keys are the declared ones unless `known` says (bootstrap/)."""
        return Section(self.problems, self.key(name), self.raw.get(name), known, shape=self.shape)


def check_dns_label(problems: Problems, key: str, value: str) -> None:
    """Kubernetes namespace / release names are DNS-1123 labels."""
    if len(value) > 63 or not _DNS1123_LABEL.match(value):
        problems.add(
            key,
            value,
            "a DNS-1123 label: lowercase letters, digits and '-', "
            "starting and ending with a letter or digit, at most 63 characters",
        )


def check_semver(problems: Problems, key: str, value: str) -> bool:
    if not _SEMVER.match(value):
        problems.add(key, value, "an exact version MAJOR.MINOR.PATCH such as 1.22.0 (pin it)")
        return False
    return True


def check_quantity(problems: Problems, key: str, value: Any, kind: str) -> None:
    """CPU ('500m', '2') or memory ('512Mi', '2Gi') Kubernetes quantities."""
    pattern = QUANTITY_PATTERNS[kind]
    examples = {"cpu": "'250m' or '2'", "memory": "'512Mi' or '2Gi'", "storage": "'10Gi'"}[kind]
    if not isinstance(value, str) or not pattern.match(value):
        problems.add(key, value, f"a Kubernetes {kind} quantity such as {examples}")


def parse_quantity(value: str) -> Decimal | None:
    """A Kubernetes quantity as a number ('250m' -> 0.25, '2Gi' -> 2147483648); None if not one."""
    match = _QUANTITY.match(value)
    if match is None:
        return None
    number, suffix = Decimal(match.group("number")), match.group("suffix")
    if suffix in _BINARY_SI:
        return number * _BINARY_SI[suffix]
    if suffix in _DECIMAL_SI:
        return number * _DECIMAL_SI[suffix]
    return number.scaleb(int(suffix[1:]))


def check_image_repository(problems: Problems, key: str, value: str) -> None:
    """An image name (registry/path) with no tag or digest."""
    if len(value) <= _MAX_IMAGE_NAME and _IMAGE_NAME.match(value):
        return
    pinned = re.search(r"@|:[\w][\w.-]*$", value.rsplit("/", 1)[-1])
    reason = " with no tag or digest (the tag is airflow.airflowVersion)" if pinned else ""
    problems.add(
        key,
        value,
        f"an image name{reason}: [registry[:port]/]path in lowercase, "
        "e.g. apache/airflow or europe-docker.pkg.dev/my-project/images/airflow",
    )


def check_duration(problems: Problems, key: str, value: str) -> None:
    if not _DURATION.match(value):
        problems.add(key, value, "a duration such as '60s', '5m' or '1h'")


def duration_seconds(value: str) -> int:
    """Seconds in a duration `check_duration` accepted ('60s', '5m', '1h')."""
    return int(value[:-1]) * {"s": 1, "m": 60, "h": 3600}[value[-1]]


def parse_cidr(problems: Problems, key: str, value: Any) -> ipaddress.IPv4Network | None:
    """An IPv4 network in CIDR form with no host bits set (10.0.0.0/16)."""
    try:
        network = ipaddress.ip_network(value, strict=True) if isinstance(value, str) else None
    except ValueError:
        network = None
    if not isinstance(network, ipaddress.IPv4Network) or "/" not in str(value):
        problems.add(key, value, "an IPv4 CIDR block with no host bits set, such as 10.0.0.0/16")
        return None
    return network


def check_disjoint_cidrs(problems: Problems, named: Mapping[str, ipaddress.IPv4Network | None]) -> None:
    """Networks that must not overlap (VPC vs pods vs services vs control plane)."""
    present = [(key, net) for key, net in named.items() if net is not None]
    for index, (key_a, net_a) in enumerate(present):
        for key_b, net_b in present[index + 1 :]:
            if net_a.overlaps(net_b):
                problems.add(key_b, str(net_b), f"a CIDR that does not overlap {key_a} ({net_a})")
