"""The pack as shipped: stacks that pass it, how it starts, where production comes from, accepted violations."""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

import pulumi
import pytest
import yaml
from docs_pages import page
from policy_support import STACK_FILES, changed, eks, replaced, shipped, stack_name, violations

from policy import policies as p
from policy.acceptance import Acceptance, honouring, parse_accepted
from policy.offline import catalogue, evaluate, readme_table
from review.runner import ROOT, stack_file_config

POLICY_DIR = ROOT / "policy"
NAMES = [info.name for info in catalogue()]


@pytest.mark.parametrize("stack_file", STACK_FILES, ids=stack_name)
def test_shipped_stack_has_no_mandatory_violation(stack_file: Path) -> None:
    production = bool(stack_file_config(stack_file).get("production", False))
    found = evaluate(shipped(stack_name(stack_file)), production=production)
    assert [v for v in found if v.enforcement == "mandatory"] == []


def test_policies_import_without_starting_the_pack() -> None:
    # PolicyPack(...) serves gRPC forever: an import that built it would never return.
    subprocess.run(
        [sys.executable, "-c", "import policy.policies, policy.offline, policy.acceptance"],
        cwd=ROOT,
        check=True,
        timeout=60,
    )
    builders = [path.name for path in POLICY_DIR.glob("*.py") if "PolicyPack(" in path.read_text()]
    assert builders == ["__main__.py"]


def test_pack_entry_point_starts_and_serves() -> None:
    # What `pulumi preview --policy-pack policy` runs: the analyzer prints its port, then serves until stopped.
    pack = subprocess.Popen([sys.executable, str(POLICY_DIR / "__main__.py")], cwd=POLICY_DIR, stdout=subprocess.PIPE)
    try:
        assert pack.stdout is not None
        assert pack.stdout.readline().strip().isdigit()
    finally:
        pack.kill()
        pack.wait(timeout=30)


def test_pack_pins_match_the_project() -> None:
    pins = {}
    for requirements in ("requirements.txt", "requirements-dev.txt"):
        pins.update(re.findall(r"^([A-Za-z0-9_.-]+)==(\S+)", (ROOT / requirements).read_text(), re.MULTILINE))
    pack_pins = re.findall(r"^([A-Za-z0-9_.-]+)==(\S+)", (POLICY_DIR / "requirements.txt").read_text(), re.MULTILINE)
    assert {"pulumi", "pulumi-policy"} <= {name for name, _ in pack_pins}
    for name, version in pack_pins:
        if name in pins:
            assert pins[name] == version, name


def test_pack_runs_python_in_its_own_virtualenv() -> None:
    runtime = yaml.safe_load((POLICY_DIR / "PulumiPolicy.yaml").read_text())["runtime"]
    assert runtime["name"] == "python"
    assert runtime["options"]["virtualenv"]


def test_readme_lists_every_policy_with_its_rule_and_enforcement() -> None:
    text = page("reviewing-changes.md")
    section = text[text.index("## Policies") :]
    rows = dict(re.findall(r"^\| `([a-z0-9-]+)` \|[^|]*\| (mandatory|advisory) \|", section, re.MULTILINE))
    assert rows == {info.name: info.enforcement for info in catalogue()}
    # The whole table, descriptions included, is the pack's own: `readme_table()` prints it.
    assert readme_table() in section


def test_production_comes_from_the_stack_config_unless_the_policy_config_says() -> None:
    try:
        pulumi.runtime.set_all_config({f"{p.PROJECT}:{p.PRODUCTION_KEY}": "true"})
        assert p.is_production({}) is True
        assert p.is_production({p.PRODUCTION_KEY: False}) is False
        pulumi.runtime.set_all_config({})
        assert p.is_production({}) is False
    finally:
        pulumi.runtime.set_all_config({})


def test_shipped_accepted_file_parses() -> None:
    assert isinstance(parse_accepted(yaml.safe_load((POLICY_DIR / "accepted.yaml").read_text()), NAMES), list)


def test_bad_accepted_entries_are_named() -> None:
    document = {"accepted": [{"policy": "no-such-rule", "urn": "arn:aws:s3:::bucket"}, "text"]}
    with pytest.raises(ValueError) as error:
        parse_accepted(document, NAMES)
    message = str(error.value)
    assert "accepted[0].policy: got 'no-such-rule'" in message
    assert "accepted[0].urn: got 'arn:aws:s3:::bucket'" in message
    assert "accepted[0].reason: missing" in message
    assert "accepted[1]: got 'text'" in message


def _single_az_rds() -> tuple[list[p.Policy], Acceptance]:
    run = eks()
    database = run.one(p.RDS_INSTANCE)
    # The engine's URN carries every parent type; the mock's only the direct parent: either must match.
    engine_urn = database.urn.replace(
        "::airflow-platform:aws:MetadataDb$", "::airflow-platform:aws:Platform$airflow-platform:aws:MetadataDb$"
    )
    policies = [policy for policy in p.POLICIES if policy.name == "database-high-availability"]
    return policies, Acceptance(policy="database-high-availability", urn=engine_urn, reason="single AZ until launch")


def test_accepted_violation_is_reported_as_accepted_offline() -> None:
    policies, acceptance = _single_az_rds()
    run = replaced(eks(), changed(eks().one(p.RDS_INSTANCE), {"multiAz": False}))

    found = evaluate(run, production=True, policies=policies, accepted=[acceptance])

    assert [(v.policy, v.accepted, v.blocking) for v in found] == [
        ("database-high-availability", "single AZ until launch", False)
    ]
    assert violations(run, "database-high-availability", production=True)[0].accepted == ""


def test_accepted_violation_is_silent_in_the_served_pack() -> None:
    policies, acceptance = _single_az_rds()
    run = replaced(eks(), changed(eks().one(p.RDS_INSTANCE), {"multiAz": False}))

    assert evaluate(run, production=True, policies=honouring(policies, [acceptance]), accepted=[]) == []
    assert evaluate(run, production=True, policies=honouring(policies, []), accepted=[]) != []
