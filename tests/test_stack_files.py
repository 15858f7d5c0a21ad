"""Every `Pulumi.*.yaml` at the repo root, whatever the user put in it, through the stack checks.

A new stack file is picked up with no code change; a bad one fails naming the
file and the key. The tests that assert a known shape use their own configs
(tests/stack_checks.py STACK_SHAPES), so the README's edits to the stack
files - project id, CIDRs, region and zone or AZs, repo, branch - keep
`make test` green; the copy test below proves it.
"""

from __future__ import annotations

import dataclasses
from pathlib import Path
from typing import Any

import pytest
import stack_checks as checks
import yaml

from components.config import ConfigError, parse_stack_config
from review.runner import ROOT, Run, run_main, stack_file_config


def stack_files(directory: Path) -> list[Path]:
    return sorted(directory.glob("Pulumi.*.yaml"))


def stack_name(path: Path) -> str:
    return path.name.removeprefix("Pulumi.").removesuffix(".yaml")


def readable_config(path: Path) -> dict[str, Any]:
    """The file's config minus encrypted values (`secure:`), which only the stack's secrets provider can read."""
    return {
        key: value
        for key, value in stack_file_config(path).items()
        if not (isinstance(value, dict) and "secure" in value)
    }


def check_stack_file(path: Path) -> Run:
    """Validate the file, run `__main__.py` on it under mocks and apply the shared invariant checks."""
    config = readable_config(path)
    stack = stack_name(path)
    try:
        # Only this project's keys (provider keys such as `gcp:project` are Pulumi's).
        parse_stack_config({key: value for key, value in config.items() if ":" not in key}, stack=stack)
    except ConfigError as error:
        raise AssertionError(f"{path.name}: {error}") from None
    run = run_main(config, stack=stack)
    # The Cluster Autoscaler's chart (AWS) is not Airflow's: the checks look at Airflow's release.
    airflow = dataclasses.replace(run, resources=[r for r in run.resources if "autoscaler" not in r.name])
    checks.assert_secrets_referenced_by_name_exist(airflow)
    checks.assert_no_generated_secret_in_values(airflow)
    checks.assert_fernet_key_is_valid_and_stored(airflow)
    checks.assert_secret_outputs_are_secret(airflow, ("adminPassword", "fernetKey"))
    checks.assert_explicit_kubernetes_provider(airflow)
    checks.assert_release_values_match_chart_schema(airflow)
    checks.assert_long_running_pods_carry_the_secrets_checksum(airflow)
    checks.assert_manifests_validate(airflow)
    checks.assert_task_pods_hold_no_credentials(airflow)
    checks.assert_task_pods_may_launch_pods(airflow)
    return run


@pytest.mark.parametrize("path", stack_files(ROOT), ids=lambda path: path.name)
def test_every_stack_file_passes_the_stack_checks(path: Path) -> None:
    check_stack_file(path)


def test_the_shipped_stack_files_are_found() -> None:
    assert {"Pulumi.local.yaml", "Pulumi.dev.yaml", "Pulumi.prod.yaml"} <= {p.name for p in stack_files(ROOT)}


# --- the README's edits, on a copy ---------------------------------------------

PREFIX = "airflow-platform:"
OFFICE = "100.64.10.0/24"
LAPTOP = "100.64.20.7/32"
FORK = "git@github.com:acme/airflow-platform.git"


def edit(path: Path, changes: dict[str, dict[str, Any]]) -> None:
    """Set keys of `airflow-platform:<section>` as a user would in an editor."""
    document = yaml.safe_load(path.read_text())
    for section, values in changes.items():
        document["config"][f"{PREFIX}{section}"].update(values)
    path.write_text(yaml.safe_dump(document, sort_keys=False))


def apply_readme_edits(directory: Path) -> None:
    dev, prod = directory / "Pulumi.dev.yaml", directory / "Pulumi.prod.yaml"
    gcp = yaml.safe_load(dev.read_text())["config"][f"{PREFIX}gcp"]
    networks = [{**network, "cidr": LAPTOP} for network in gcp["masterAuthorizedNetworks"]]
    edit(
        dev,
        {
            "gcp": {
                "project": "acme-data-platform",
                "region": "us-central1",
                "zone": "us-central1-c",
                "masterAuthorizedNetworks": networks,
            },
            "loadBalancer": {"sourceRanges": [OFFICE, LAPTOP]},
            "dags": {"repo": FORK, "branch": "production"},
        },
    )
    edit(
        prod,
        {
            "aws": {
                "region": "us-east-2",
                "availabilityZones": ["us-east-2a", "us-east-2b", "us-east-2c"],
                "publicAccessCidrs": [OFFICE],
            },
            "loadBalancer": {"sourceRanges": [OFFICE]},
            "dags": {"repo": FORK, "branch": "release"},
        },
    )


@pytest.fixture
def edited_copy(tmp_path: Path) -> Path:
    for path in stack_files(ROOT):
        (tmp_path / path.name).write_text(path.read_text())
    apply_readme_edits(tmp_path)
    return tmp_path


def test_the_readme_edits_and_a_new_staging_stack_pass(edited_copy: Path) -> None:
    (edited_copy / "Pulumi.staging.yaml").write_text((edited_copy / "Pulumi.dev.yaml").read_text())
    checked = stack_files(edited_copy)
    assert "Pulumi.staging.yaml" in {path.name for path in checked}
    for path in checked:
        check_stack_file(path)
    cluster = run_main(readable_config(edited_copy / "Pulumi.staging.yaml"), stack="staging")
    assert cluster.one("gcp:container/cluster:Cluster").inputs["location"] == "us-central1-c", "the edit took effect"


def test_a_staging_stack_with_a_bad_key_fails_naming_the_file_and_the_key(edited_copy: Path) -> None:
    staging = edited_copy / "Pulumi.staging.yaml"
    staging.write_text((edited_copy / "Pulumi.dev.yaml").read_text())
    edit(staging, {"airflow": {"schedulerReplica": 2}})
    with pytest.raises(AssertionError) as failure:
        check_stack_file(staging)
    assert str(failure.value).startswith("Pulumi.staging.yaml: invalid stack configuration (1 problem(s))")
    assert "airflow-platform:airflow.schedulerReplica: got 2" in str(failure.value)
