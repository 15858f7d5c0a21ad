"""The README's commands: `make up` must fail fast, naming what is missing."""

from __future__ import annotations

import json
import os
import shlex
import shutil
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
from stack_checks import MISSING_STACK

ROOT = Path(__file__).resolve().parent.parent
# Tools the Makefile and scripts/pulumi.sh use; pulumi is deliberately absent.
TOOLS = ("bash", "make", "sed", "head", "dirname", "python3", "env", "grep", "awk", "mktemp", "rm")


@pytest.fixture
def path_without_pulumi(tmp_path: Path) -> str:
    for tool in TOOLS:
        # The interpreter itself, not a version-manager shim that needs more of PATH.
        found = os.path.realpath(sys.executable) if tool == "python3" else shutil.which(tool)
        assert found, f"{tool} is needed to run this test"
        (tmp_path / tool).symlink_to(found)
    return str(tmp_path)


def make(target: str, path: str, cwd: Path = ROOT, **env: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        ["make", "--no-print-directory", target, *[f"{k}={v}" for k, v in env.items()]],
        cwd=cwd,
        env={"PATH": path, "HOME": os.environ.get("HOME", "/tmp")},
        capture_output=True,
        text=True,
        timeout=60,
    )


@pytest.mark.parametrize("stack", ["local", "dev", "prod"])
def test_make_up_without_the_pulumi_cli_fails_naming_it(path_without_pulumi: str, stack: str) -> None:
    result = make("up", path_without_pulumi, STACK=stack)
    assert result.returncode != 0
    assert "missing: Pulumi CLI (pulumi)" in result.stderr
    assert "install it" in result.stderr


def test_make_up_names_the_missing_cluster_tooling(path_without_pulumi: str) -> None:
    result = make("up", path_without_pulumi, STACK="local")
    assert "missing: kubectl" in result.stderr


def test_make_up_refuses_an_unknown_stack(path_without_pulumi: str) -> None:
    result = make("up", path_without_pulumi, STACK=MISSING_STACK)
    assert result.returncode != 0
    assert f"no Pulumi.{MISSING_STACK}.yaml" in result.stderr


# A stack file shaped like the shipped GCP one, placeholders included (the
# tests' own: the repo's stack files are the user's to edit).
PLACEHOLDER_STACK = """\
config:
  airflow-platform:cloud: gcp
  airflow-platform:gcp:
    project: your-project-id-change-me
    masterAuthorizedNetworks:
      - cidr: 203.0.113.0/24
        name: office
      - cidr: 10.20.0.0/16
  airflow-platform:loadBalancer:
    sourceRanges: [192.0.2.7/32, 198.51.100.0/24]
  airflow-platform:ui:
    domain: airflow.example.com
  airflow-platform:dags:
    source: git
    repo: git@github.com:your-org/airflow-platform.git
  airflow-platform:fernetPreviousKeys:
    secure: v1:AAAAchange-meAAAA
"""
PLACEHOLDER_KEYS = [
    "airflow-platform:gcp.project",
    "airflow-platform:gcp.masterAuthorizedNetworks[0].cidr",
    "airflow-platform:loadBalancer.sourceRanges[0]",
    "airflow-platform:loadBalancer.sourceRanges[1]",
    "airflow-platform:ui.domain",
    "airflow-platform:dags.repo",
]
EDITED = {
    "your-project-id-change-me": "acme-airflow-dev",
    "203.0.113.0/24": "100.64.1.0/24",
    "192.0.2.7/32": "100.64.2.7/32",
    "198.51.100.0/24": "100.64.3.0/24",
    "your-org": "acme",
    "airflow.example.com": "airflow.acme.com",
}


@pytest.fixture
def checkout(tmp_path: Path) -> Path:
    """What `make up` reads, copied: the Makefile, scripts, components, and the shared .venv."""
    repo = tmp_path / "repo"
    repo.mkdir()
    shutil.copy(ROOT / "Makefile", repo)
    for folder in ("scripts", "components"):
        shutil.copytree(ROOT / folder, repo / folder, ignore=shutil.ignore_patterns("__pycache__"))
    (repo / ".venv").symlink_to(ROOT / ".venv")
    return repo


def test_make_preview_refuses_the_shipped_placeholders_naming_each_key(
    path_without_pulumi: str, checkout: Path
) -> None:
    (checkout / "Pulumi.shipped.yaml").write_text(PLACEHOLDER_STACK)
    result = make("preview", path_without_pulumi, cwd=checkout, STACK="shipped")
    assert result.returncode != 0
    assert "Pulumi.shipped.yaml still carries the shipped placeholders" in result.stderr
    listed = [line.removeprefix("  - ") for line in result.stderr.splitlines() if line.startswith("  - ")]
    assert [line.split(": ")[0] for line in listed] == PLACEHOLDER_KEYS
    assert "missing: Pulumi CLI (pulumi)" in result.stderr, "every problem is reported in one run"


def write_edited_stack(checkout: Path) -> None:
    """Pulumi.edited.yaml: the placeholder stack with every placeholder replaced."""
    edited = PLACEHOLDER_STACK
    for placeholder, value in EDITED.items():
        edited = edited.replace(placeholder, value)
    (checkout / "Pulumi.edited.yaml").write_text(edited)


def test_make_up_accepts_a_stack_whose_placeholders_were_replaced(path_without_pulumi: str, checkout: Path) -> None:
    write_edited_stack(checkout)
    result = make("up", path_without_pulumi, cwd=checkout, STACK="edited")
    assert "placeholders" not in result.stderr
    assert "missing: Pulumi CLI (pulumi)" in result.stderr


def test_make_destroy_needs_kubectl_to_wait_for_the_load_balancer(path_without_pulumi: str, checkout: Path) -> None:
    write_edited_stack(checkout)
    result = make("destroy", path_without_pulumi, cwd=checkout, STACK="edited")
    assert result.returncode != 0
    assert "missing: kubectl" in result.stderr and "load balancer" in result.stderr


def test_make_up_names_a_stack_file_without_a_cloud(path_without_pulumi: str, checkout: Path) -> None:
    (checkout / "Pulumi.nocloud.yaml").write_text("config:\n  airflow-platform:production: false\n")
    result = make("up", path_without_pulumi, cwd=checkout, STACK="nocloud")
    assert result.returncode != 0
    assert "error: Pulumi.nocloud.yaml sets no airflow-platform:cloud (local | gcp | aws)" in result.stderr


@pytest.mark.parametrize(
    ("stack_file", "refusal"),
    [
        ("config:\n  airflow-platform:cloud: local\n", "is a local stack (cloud: local)"),
        (
            "config:\n  airflow-platform:cloud: gcp\n  airflow-platform:production: true\n",
            "is a production stack (production: true), which never sleeps",
        ),
    ],
    ids=["local", "production"],
)
@pytest.mark.parametrize("target", ["sleep", "wake"])
def test_make_sleep_and_wake_refuse_local_and_production_stacks_before_pulumi(
    path_without_pulumi: str, checkout: Path, target: str, stack_file: str, refusal: str
) -> None:
    """`pulumi up --config` would save the refused `sleep` in the stack file: refused before it runs."""
    (checkout / "Pulumi.parked.yaml").write_text(stack_file)
    result = make(target, path_without_pulumi, cwd=checkout, STACK="parked")
    assert result.returncode == 2
    assert f"error: make {target}: parked {refusal}" in result.stderr


# An AWS stack with ui.domain: its HTTPS LoadBalancer Service is the platform's
# (components/aws/https.py), made before the release and no dependent of it.
AWS_HTTPS_STACK = """\
config:
  airflow-platform:cloud: aws
  airflow-platform:ui:
    domain: airflow.acme.com
"""
PLATFORM = "urn:pulumi:aws-https::airflow-platform::airflow-platform:aws:Platform"
RELEASE_URN = f"{PLATFORM}$airflow-platform:airflow:Release$kubernetes:helm.sh/v3:Release::airflow"
HTTPS_SERVICE_URN = f"{PLATFORM}$airflow-platform:aws:HttpsEntry$kubernetes:core/v1:Service::platform-https-service"
STATE = {
    "deployment": {
        "resources": [
            {"urn": RELEASE_URN, "type": "kubernetes:helm.sh/v3:Release", "inputs": {"chart": "airflow"}},
            {
                "urn": HTTPS_SERVICE_URN,
                "type": "kubernetes:core/v1:Service",
                "inputs": {"spec": {"type": "LoadBalancer"}},
            },
            # The live read of the same Service (no DNS zone): Pulumi never deletes it.
            {
                "urn": f"{HTTPS_SERVICE_URN}-status",
                "type": "kubernetes:core/v1:Service",
                "external": True,
                "inputs": {"spec": {"type": "LoadBalancer"}},
            },
            {
                "urn": f"{PLATFORM}$kubernetes:core/v1:Service::postgres",
                "type": "kubernetes:core/v1:Service",
                "inputs": {"spec": {"type": "ClusterIP"}},
            },
        ]
    }
}
# Stand-ins logging to $FAKES. `pulumi destroy` targeting the HTTPS Service
# deletes it; kubectl then lists it once more (the finalizer holds it until the
# NLB is gone) and never again. A fourth `sleep` ends the run: the real wait
# would last its whole 15 minutes.
FAKE_PULUMI = """
echo "$*" >> "$FAKES/pulumi.log"
case "$1 $2" in
  "stack export") echo "$(<"$FAKES/state.json")" ;;
  "stack output") [ "$3" = namespace ] && echo airflow || echo "apiVersion: v1" ;;
  "destroy --stack") [[ " $* " != *" --target $HTTPS_SERVICE_URN "* ]] || : > "$FAKES/deleted" ;;
esac
"""
FAKE_KUBECTL = """
if [ ! -e "$FAKES/deleted" ]; then echo airflow-api-server-https
elif [ ! -e "$FAKES/finalized" ]; then : > "$FAKES/finalized"; echo airflow-api-server-https
fi
"""
FAKE_SLEEP = """
echo "$*" >> "$FAKES/sleep.log"
count=0; while read -r _; do count=$((count + 1)); done < "$FAKES/sleep.log"
[ "$count" -lt 4 ] || { echo "fake sleep: a LoadBalancer Service never goes" >&2; exit 1; }
"""


def fake(bin_dir: Path, name: str, body: str, **values: str) -> None:
    lines = [f"{key}={shlex.quote(value)}" for key, value in values.items()]
    path = bin_dir / name
    path.write_text("\n".join(["#!/usr/bin/env bash", *lines, body]))
    path.chmod(0o755)


def test_make_destroy_deletes_the_platforms_load_balancer_service_before_waiting(
    path_without_pulumi: str, checkout: Path, tmp_path: Path
) -> None:
    (checkout / "Pulumi.aws-https.yaml").write_text(AWS_HTTPS_STACK)
    fakes = tmp_path / "fakes"
    fakes.mkdir()
    (fakes / "state.json").write_text(json.dumps(STATE))
    bin_dir = Path(path_without_pulumi)
    fake(bin_dir, "pulumi", FAKE_PULUMI, FAKES=str(fakes), HTTPS_SERVICE_URN=HTTPS_SERVICE_URN)
    fake(bin_dir, "kubectl", FAKE_KUBECTL, FAKES=str(fakes))
    fake(bin_dir, "sleep", FAKE_SLEEP, FAKES=str(fakes))
    fake(bin_dir, "aws", "exit 0")

    result = make("destroy", path_without_pulumi, cwd=checkout, STACK="aws-https")

    assert result.returncode == 0, result.stderr
    destroys = [line for line in (fakes / "pulumi.log").read_text().splitlines() if line.startswith("destroy")]
    assert destroys == [
        f"destroy --stack aws-https --target {RELEASE_URN} --target {HTTPS_SERVICE_URN} --target-dependents",
        "destroy --stack aws-https",
    ]
    assert (fakes / "sleep.log").read_text().splitlines() == ["10"], "waits while the finalizer holds the Service"


# Issue 18 item 5 (GKE) and item 7 (ECR). Every stand-in logs to one file, so
# the order of the steps is what the test reads.
ORDERED_PULUMI = """
echo "pulumi $*" >> "$FAKES/steps.log"
case "$1 $2" in
  "stack export") echo "$(<"$FAKES/state.json")" ;;
  "stack output") [ "$3" = namespace ] && echo airflow || echo "apiVersion: v1" ;;
esac
"""
# The NEG controller is still deleting one NEG at the first look, none at the second.
FAKE_GCLOUD = """
echo "gcloud $*" >> "$FAKES/steps.log"
[ "$1" = compute ] || exit 0
if [ ! -e "$FAKES/negs-gone" ]; then : > "$FAKES/negs-gone"; echo k8s1-0a1b2c3d-airflow-airflow-api-server-8080-4e5f; fi
"""
FAKE_AWS = """
echo "aws $*" >> "$FAKES/steps.log"
# `--output text` separates the names with tabs.
cached=docker-hub-aws-cache
[ "$2" = describe-repositories ] && printf '%s\\t%s\\n' "$cached/apache/airflow" "$cached/library/busybox"
exit 0
"""


def state_with(provider_type: str, provider_inputs: dict[str, str], *resources: dict[str, Any]) -> dict[str, Any]:
    """A stack export: a cloud provider and resources created through it (`provider` is `<urn>::<id>`)."""
    provider = f"urn:pulumi:test::airflow-platform::{provider_type}::default"
    return {
        "deployment": {
            "resources": [
                {"urn": provider, "type": provider_type, "inputs": provider_inputs},
                *({**resource, "provider": f"{provider}::0d1e2f"} for resource in resources),
            ]
        }
    }


GATEWAY_TYPE = "kubernetes:gateway.networking.k8s.io/v1:Gateway"
GATEWAY_URN = f"urn:pulumi:gcp-https::airflow-platform::{GATEWAY_TYPE}::gcp-https-gateway"
GCP_STATE = state_with(
    "pulumi:providers:gcp",
    {"project": "acme-airflow"},
    {"urn": "network", "type": "gcp:compute/network:Network", "outputs": {"name": "gcp-network-vpc-9c8b7a6"}},
    {"urn": GATEWAY_URN, "type": GATEWAY_TYPE, "inputs": {}},
)
AWS_STATE = state_with(
    "pulumi:providers:aws",
    {"region": "eu-west-1"},
    {
        "urn": "rule",
        "type": "aws:ecr/pullThroughCacheRule:PullThroughCacheRule",
        "outputs": {"ecrRepositoryPrefix": "docker-hub-aws-cache"},
    },
)


def run_destroy(checkout: Path, tmp_path: Path, path: str, stack: str, cloud: str, state: dict[str, Any]) -> list[str]:
    (checkout / f"Pulumi.{stack}.yaml").write_text(f"config:\n  airflow-platform:cloud: {cloud}\n")
    fakes = tmp_path / "fakes"
    fakes.mkdir()
    (fakes / "state.json").write_text(json.dumps(state))
    bin_dir = Path(path)
    fake(bin_dir, "pulumi", ORDERED_PULUMI, FAKES=str(fakes))
    fake(bin_dir, "kubectl", "exit 0")
    fake(bin_dir, "sleep", 'echo "sleep $*" >> "$FAKES/steps.log"', FAKES=str(fakes))
    fake(bin_dir, "gcloud", FAKE_GCLOUD, FAKES=str(fakes))
    fake(bin_dir, "gke-gcloud-auth-plugin", "exit 0")
    fake(bin_dir, "aws", FAKE_AWS, FAKES=str(fakes))
    result = make("destroy", path, cwd=checkout, STACK=stack)
    assert result.returncode == 0, result.stderr
    return [
        line
        for line in (fakes / "steps.log").read_text().splitlines()
        if not line.startswith(("pulumi stack", "pulumi whoami", "pulumi login", "gcloud auth", "aws sts"))
    ]


def test_make_destroy_on_gke_deletes_the_gateway_first_and_waits_for_the_negs(
    path_without_pulumi: str, checkout: Path, tmp_path: Path
) -> None:
    steps = run_destroy(checkout, tmp_path, path_without_pulumi, "gcp-https", "gcp", GCP_STATE)
    neg_list = (
        "gcloud compute network-endpoint-groups list --project acme-airflow "
        "--filter=network~/gcp-network-vpc-9c8b7a6$ --format=value(name)"
    )
    assert steps == [
        f"pulumi destroy --stack gcp-https --target {GATEWAY_URN} --target-dependents",
        neg_list,
        "sleep 10",
        neg_list,
        "pulumi destroy --stack gcp-https",
    ]


def test_make_destroy_on_eks_deletes_the_repositories_the_cache_created(
    path_without_pulumi: str, checkout: Path, tmp_path: Path
) -> None:
    steps = run_destroy(checkout, tmp_path, path_without_pulumi, "aws-cache", "aws", AWS_STATE)
    assert steps == [
        "pulumi destroy --stack aws-cache",
        "aws ecr describe-repositories --region eu-west-1 --output text "
        "--query repositories[?starts_with(repositoryName, 'docker-hub-aws-cache/')].repositoryName",
        "aws ecr delete-repository --region eu-west-1 --repository-name docker-hub-aws-cache/apache/airflow --force",
        "aws ecr delete-repository --region eu-west-1 --repository-name docker-hub-aws-cache/library/busybox --force",
    ]
