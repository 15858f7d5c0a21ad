"""Run Pulumi programs under mocks and record what they register.

The one mock runner of the project: the tests, `make plan`, `make plan-diff`,
the policy tests and the cost estimate all run the stack through it.

Avoids the pitfalls in shared/reference/testing-with-mocks.md:
- `preview=False`, and fake outputs for everything the program reads
  (generated secrets, cluster endpoints, Service status), so every `apply`
  runs and nothing stays unknown;
- mocks are installed before any resource is constructed, per run;
- nothing is asserted inside `apply`: a run resolves every exported Output
  (value and secret flag) and returns plain data to assert on afterwards;
- the monitor records each registration request, so resource options the
  `Mocks` API never sees (protect, parent, provider, ignoreChanges,
  dependencies) are assertable too.
Inputs arrive camelCased with numbers as floats; `Registered.inputs` keeps
them exactly as the engine would receive them.
"""

from __future__ import annotations

import asyncio
import base64
import hashlib
import json
import logging
import runpy
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from unittest import mock

import pulumi
import yaml
from pulumi.runtime.mocks import MockMonitor
from pulumi.runtime.proto import source_pb2

PROJECT = "airflow-platform"
ROOT = Path(__file__).resolve().parent.parent

FakeOutputs = Callable[[str, dict[str, Any]], dict[str, Any]]
FakeCall = Callable[[dict[str, Any]], dict[str, Any]]

# Resource type token -> extra outputs a real provider would return.
# Cloud test packages register their own (see `register_fake_outputs`).
FAKE_OUTPUTS: dict[str, FakeOutputs] = {}
FAKE_CALLS: dict[str, FakeCall] = {}


def register_fake_outputs(type_token: str) -> Callable[[FakeOutputs], FakeOutputs]:
    def decorator(fn: FakeOutputs) -> FakeOutputs:
        FAKE_OUTPUTS[type_token] = fn
        return fn

    return decorator


def register_fake_call(token: str) -> Callable[[FakeCall], FakeCall]:
    def decorator(fn: FakeCall) -> FakeCall:
        FAKE_CALLS[token] = fn
        return fn

    return decorator


def fake_bytes(name: str, length: int) -> bytes:
    """Deterministic per resource name, so two runs register identical inputs."""
    digest = b""
    counter = 0
    while len(digest) < length:
        digest += hashlib.sha256(f"{name}:{counter}".encode()).digest()
        counter += 1
    return digest[:length]


def fake_password(name: str, length: int) -> str:
    alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789"
    return "".join(alphabet[byte % len(alphabet)] for byte in fake_bytes(name, length))


def _seed(name: str, inputs: dict[str, Any]) -> str:
    """A changed `keepers` map replaces a random resource, and so gives new bytes."""
    return f"{name}:{json.dumps(inputs.get('keepers') or {}, sort_keys=True)}"


@register_fake_outputs("random:index/randomPassword:RandomPassword")
def _random_password(name: str, inputs: dict[str, Any]) -> dict[str, Any]:
    return {"result": fake_password(_seed(name, inputs), int(inputs["length"]))}


@register_fake_outputs("random:index/randomBytes:RandomBytes")
def _random_bytes(name: str, inputs: dict[str, Any]) -> dict[str, Any]:
    raw = fake_bytes(_seed(name, inputs), int(inputs["length"]))
    return {"base64": base64.b64encode(raw).decode(), "hex": raw.hex()}


@register_fake_outputs("tls:index/privateKey:PrivateKey")
def _private_key(name: str, inputs: dict[str, Any]) -> dict[str, Any]:
    body = base64.b64encode(fake_bytes(name, 32)).decode()
    return {
        "privateKeyOpenssh": f"-----BEGIN OPENSSH PRIVATE KEY-----\n{body}\n-----END OPENSSH PRIVATE KEY-----\n",
        "privateKeyPem": f"-----BEGIN PRIVATE KEY-----\n{body}\n-----END PRIVATE KEY-----\n",
        "publicKeyOpenssh": f"ssh-ed25519 {body}\n",
        "publicKeyFingerprintSha256": f"SHA256:{body[:43]}",
    }


@register_fake_outputs("kubernetes:helm.sh/v3:Release")
def _helm_release(name: str, inputs: dict[str, Any]) -> dict[str, Any]:
    return {"status": {"name": inputs["name"], "namespace": inputs["namespace"], "status": "deployed"}}


@register_fake_outputs("kubernetes:core/v1:Service")
def _service(name: str, inputs: dict[str, Any]) -> dict[str, Any]:
    return {"status": {"loadBalancer": {"ingress": [{"ip": "203.0.113.10"}]}}}


# What registrations carry instead of a source position under the mocks (see run_program).
_NO_STACK_TRACE = source_pb2.StackTrace()

# The signature Pulumi's wire format uses to mark a secret value.
_SECRET_SIGNATURE = pulumi.runtime.rpc._special_secret_sig
_SIG_KEY = pulumi.runtime.rpc._special_sig_key


def unwrap_secrets(value: Any, path: str = "", secret_paths: list[str] | None = None) -> Any:
    """Replace `{sig: secret, value: v}` wrappers by `v`, recording each wrapped path."""
    if isinstance(value, dict):
        if value.get(_SIG_KEY) == _SECRET_SIGNATURE:
            if secret_paths is not None:
                secret_paths.append(path)
            return unwrap_secrets(value.get("value"), path, secret_paths)
        return {
            key: unwrap_secrets(item, f"{path}.{key}" if path else key, secret_paths) for key, item in value.items()
        }
    if isinstance(value, list):
        return [unwrap_secrets(item, f"{path}[{index}]", secret_paths) for index, item in enumerate(value)]
    return value


@dataclass(frozen=True)
class Registered:
    """One resource as the engine would have received it."""

    urn: str
    type: str
    name: str
    inputs: dict[str, Any]
    outputs: dict[str, Any]
    parent: str
    provider: str
    protect: bool
    dependencies: tuple[str, ...]
    ignore_changes: tuple[str, ...]
    read: bool  # `Resource.get` rather than a managed resource
    secret_inputs: tuple[str, ...] = ()  # input paths sent as secrets, e.g. "stringData.password"
    retain_on_delete: bool = False  # left in the cloud when Pulumi deletes it
    # Top-level input -> the URNs whose outputs it takes (the engine's propertyDependencies):
    # what a replacement of one of them makes unknown, and so possibly replaced too.
    input_dependencies: dict[str, tuple[str, ...]] = field(default_factory=dict)


@dataclass(frozen=True)
class Exported:
    value: Any
    secret: bool


@dataclass
class Run:
    resources: list[Registered] = field(default_factory=list)
    exports: dict[str, Exported] = field(default_factory=dict)
    # What the program told the engine at WARNING or above (`pulumi.log.warn`):
    # what `pulumi preview` would print, e.g. a Kubernetes version near the end of its support.
    warnings: list[str] = field(default_factory=list)
    # (token, result) of every invoke the fakes answered: values a real cloud would return (account ids...).
    call_results: list[tuple[str, dict[str, Any]]] = field(default_factory=list)

    def of_type(self, type_token: str) -> list[Registered]:
        return [resource for resource in self.resources if resource.type == type_token]

    def one(self, type_token: str, name: str | None = None) -> Registered:
        matches = [r for r in self.of_type(type_token) if name is None or r.name == name]
        assert len(matches) == 1, (
            f"expected one {type_token} named {name!r}, found {[r.name for r in self.of_type(type_token)]}"
        )
        return matches[0]

    def named(self, name: str) -> Registered:
        matches = [resource for resource in self.resources if resource.name == name]
        assert len(matches) == 1, f"expected one resource named {name!r}, found {len(matches)}"
        return matches[0]


class RecordingMocks(pulumi.runtime.Mocks):
    """What every run answers: inputs echoed plus the registered fake outputs, the id `<name>-id`.

    A test that models another engine answer (a resource still to be created
    in preview has no id) subclasses it and passes an instance to `run_program`.
    """

    def __init__(self) -> None:
        # Every invoke and what it answered; run_program hands its Run this list.
        self.call_results: list[tuple[str, dict[str, Any]]] = []

    def new_resource(self, args: pulumi.runtime.MockResourceArgs) -> tuple[str, dict[str, Any]]:
        fake = FAKE_OUTPUTS.get(args.typ)
        outputs = {**args.inputs, **(fake(args.name, args.inputs) if fake else {})}
        return (args.resource_id or f"{args.name}-id", outputs)

    def call(self, args: pulumi.runtime.MockCallArgs) -> tuple[dict[str, Any], list[tuple[str, str]] | None]:
        fake = FAKE_CALLS.get(args.token)
        result = fake(dict(args.args)) if fake else {}
        self.call_results.append((args.token, result))
        return result, []


class _RecordingMonitor(MockMonitor):
    def __init__(self, mocks: RecordingMocks) -> None:
        super().__init__(mocks)
        self.requests: dict[str, Any] = {}

    def RegisterResource(self, request: Any) -> Any:  # noqa: N802 - gRPC method name
        response = super().RegisterResource(request)
        if request.type != "pulumi:pulumi:Stack":
            self.requests[response.urn] = (request, False)
        return response

    def ReadResource(self, request: Any) -> Any:  # noqa: N802 - gRPC method name
        response = super().ReadResource(request)
        self.requests[response.urn] = (request, True)
        return response


class _Collect(logging.Handler):
    def __init__(self, into: list[str]) -> None:
        super().__init__(level=logging.WARNING)
        self.into = into

    def emit(self, record: logging.LogRecord) -> None:
        self.into.append(record.getMessage())


def _warnings_logger(into: list[str]) -> logging.Logger:
    """A logger of its own per run (never the root logger): the mock engine's Log calls land in `into`."""
    logger = logging.Logger(f"{PROJECT}.mock-engine")
    logger.addHandler(_Collect(into))
    return logger


def config_values(config: Mapping[str, Any], project: str = PROJECT) -> dict[str, str]:
    """Stack-file style config (`{"cloud": "local", "dags": {...}}`) as the engine passes it."""
    return {
        (key if ":" in key else f"{project}:{key}"): value if isinstance(value, str) else json.dumps(value)
        for key, value in config.items()
    }


def run_program(
    program: Callable[[], Any],
    *,
    config: Mapping[str, Any],
    stack: str = "test",
    secret_keys: tuple[str, ...] = (),
    preview: bool = False,
    mocks: RecordingMocks | None = None,
) -> Run:
    """Run `program` under fresh mocks with `config` and return what it registered.

    `preview=True` only where a test is about preview semantics (unknown ids
    and outputs, Read steps): `apply` callbacks on unknowns never run there.
    """
    import review.fakes  # noqa: F401 - registers every cloud's fake outputs (imports this module)

    run = Run()
    values = config_values(config)
    pulumi.runtime.set_all_config(values, [k if ":" in k else f"{PROJECT}:{k}" for k in secret_keys])
    mocks = mocks or RecordingMocks()
    mocks.call_results = run.call_results
    monitor = _RecordingMonitor(mocks)
    pulumi.runtime.set_mocks(
        mocks, project=PROJECT, stack=stack, preview=preview, monitor=monitor, logger=_warnings_logger(run.warnings)
    )
    exported: dict[str, Any] = {}

    async def resolve_exports() -> None:
        for export_name, value in exported.items():
            output = pulumi.Output.from_input(value)
            run.exports[export_name] = Exported(value=await output.future(), secret=await output.is_secret())

    @pulumi.runtime.test
    def execute() -> Any:
        program()
        return pulumi.Output.from_input(asyncio.ensure_future(resolve_exports()))

    with (
        mock.patch.object(pulumi, "export", side_effect=lambda name, value: exported.__setitem__(name, value)),
        # Every registration walks the whole Python stack (pytest's too) to attach a source
        # position for the engine's diagnostics; the mock monitor ignores it, and it was a fifth
        # of a run's time. pulumi/runtime/resource.py: `_get_stack_trace` in register/read_resource.
        mock.patch.object(pulumi.runtime.resource, "_get_stack_trace", new=lambda: _NO_STACK_TRACE),
    ):
        execute()

    for urn, (request, is_read) in monitor.requests.items():
        registration = monitor.resources[urn]
        secret_paths: list[str] = []
        # Secretness is pushed up to the enclosing map/list ("stringData").
        raw_inputs = pulumi.runtime.rpc.deserialize_properties(request.properties if is_read else request.object)
        run.resources.append(
            Registered(
                urn=urn,
                type=request.type,
                name=request.name,
                inputs=unwrap_secrets(raw_inputs, secret_paths=secret_paths),
                secret_inputs=tuple(secret_paths),
                outputs=unwrap_secrets(dict(registration.state)),
                parent=request.parent,
                provider=request.provider,
                protect=bool(getattr(request, "protect", False)),
                dependencies=tuple(request.dependencies),
                ignore_changes=tuple(getattr(request, "ignoreChanges", ())),
                read=is_read,
                retain_on_delete=bool(getattr(request, "retainOnDelete", False)),
                input_dependencies=_input_dependencies(request, is_read),
            )
        )
    return run


def _input_dependencies(request: Any, is_read: bool) -> dict[str, tuple[str, ...]]:
    # A read (`Resource.get`) carries no per-input dependencies: nothing it reads is replaced with it.
    if is_read:
        return {}
    return {key: tuple(deps.urns) for key, deps in sorted(request.propertyDependencies.items()) if deps.urns}


def stack_file_config(path: Path) -> dict[str, Any]:
    """A `Pulumi.<stack>.yaml` file's config without the project prefix, as `run_program` takes it."""
    document = yaml.safe_load(path.read_text()) or {}
    prefix = f"{PROJECT}:"
    return {key.removeprefix(prefix): value for key, value in (document.get("config") or {}).items()}


def run_main(
    config: Mapping[str, Any],
    stack: str,
    secret_keys: tuple[str, ...] = (),
    *,
    preview: bool = False,
    mocks: RecordingMocks | None = None,
) -> Run:
    """Run the real `__main__.py` under mocks with `config`."""
    return run_program(
        lambda: runpy.run_path(str(ROOT / "__main__.py"), run_name="__main__"),
        config=config,
        stack=stack,
        secret_keys=secret_keys,
        preview=preview,
        mocks=mocks,
    )
