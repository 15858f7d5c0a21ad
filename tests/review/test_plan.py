"""`make plan` (`python -m review plan`): every shipped stack plans offline, config errors read cleanly,
no secret value reaches the JSON or the text."""

from __future__ import annotations

import contextlib
import datetime
import io
import json
from pathlib import Path
from typing import Any

import pytest
import yaml
from plan_repo import Repo
from stack_checks import MISSING_STACK

import review.plan
from policy.offline import Violation
from review import prices
from review.__main__ import main
from review.cost import estimate
from review.diff import diff_plans, flatten
from review.plan import PLACEHOLDER_NOTE, SECRET, invented_values, placeholder, read_stack, secret_strings
from review.render import UNVERIFIED_MARK, render_diff, render_plan
from review.runner import ROOT, Run, run_main, stack_file_config

SHIPPED = sorted(path.name.removeprefix("Pulumi.").removesuffix(".yaml") for path in ROOT.glob("Pulumi.*.yaml"))


@pytest.fixture(scope="module", params=SHIPPED)
def planned(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> tuple[str, int, dict[str, Any], str, Run]:
    """The module entry's exit status, JSON and text for a shipped stack, and the mock run of the same file."""
    stack = request.param
    out = tmp_path_factory.mktemp("plan") / "plan.json"
    text = io.StringIO()
    with contextlib.redirect_stdout(text):
        status = main(["plan", "--stack", stack, "--out", str(out)])
    run = run_main(stack_file_config(ROOT / f"Pulumi.{stack}.yaml"), stack)
    return stack, status, json.loads(out.read_text()), text.getvalue(), run


def test_a_shipped_stack_plans_every_resource_the_mock_run_registers(
    planned: tuple[str, int, dict[str, Any], str, Run],
) -> None:
    stack, status, plan, text, run = planned
    assert status == 0
    assert plan["stack"] == stack
    assert plan["resourceCount"] == len(plan["resources"]) == len(run.resources)
    assert sorted(r["urn"] for r in plan["resources"]) == sorted(r.urn for r in run.resources)
    assert sum(plan["counts"].values()) == len(run.resources)
    assert f"{len(run.resources)} resources" in text
    for resource in plan["resources"]:
        assert {"urn", "type", "name", "parent", "protect", "inputs"} <= resource.keys()
    for violation in plan["policy"]["violations"]:
        assert {"policy", "enforcement", "urn", "message"} <= violation.keys()
        assert not violation["blocking"]
    assert "## Policy" in text
    assert plan["cost"] == estimate(run, on=datetime.date.fromisoformat(plan["cost"]["priced_on"])).to_dict()
    assert "a month idle" in text


def test_the_cost_is_dated_by_the_price_table_and_marks_unverified_prices(
    planned: tuple[str, int, dict[str, Any], str, Run],
) -> None:
    _, _, plan, text, _ = planned
    cost = plan["cost"]
    assert cost["prices_as_of"] == prices.CHECKED_ON
    assert f"price table of {prices.CHECKED_ON})" in text
    unverified = [line for line in cost["lines"] if not line["verified"]]
    assert all(prices.UNVERIFIED in line["source"] for line in unverified)
    assert all(prices.UNVERIFIED not in line["source"] for line in cost["lines"] if line["verified"])
    # One mark per unverified row, and the note that says what the mark means.
    assert text.count(UNVERIFIED_MARK) == len(unverified) + (1 if unverified else 0)


def test_warnings_are_printed_whole(planned: tuple[str, int, dict[str, Any], str, Run]) -> None:
    _, _, plan, _, _ = planned
    warning = "A warning longer than any table cell. " * 10 + "What to do about it comes last."
    warned = {**plan, "warnings": [warning]}
    assert f"- {warning.strip()}" in render_plan(warned)
    assert f"- {warning.strip()}" in render_diff(diff_plans(plan, warned, ref="HEAD"))


def test_a_shipped_stack_plan_lists_what_is_protected_and_the_exports(
    planned: tuple[str, int, dict[str, Any], str, Run],
) -> None:
    _, _, plan, _, run = planned
    assert plan["protected"] == sorted(r.urn for r in run.resources if r.protect)
    assert plan["exports"].keys() == run.exports.keys()
    for name, exported in run.exports.items():
        if exported.secret:
            assert plan["exports"][name] == SECRET


def test_values_the_mocks_invented_are_labelled_placeholders_never_shown_as_real(
    planned: tuple[str, int, dict[str, Any], str, Run],
) -> None:
    _, _, plan, text, run = planned
    invented = invented_values(run)
    # Every stack has a generated deploy key or cloud-assigned names: the check is not vacuous.
    assert invented
    labelled = 0
    for name, exported in run.exports.items():
        shown = json.dumps(plan["exports"][name])
        if exported.secret:
            continue
        texts = [leaf for _, leaf in flatten(exported.value) if isinstance(leaf, str)]
        made_up = [value for value in invented if any(value in text for text in texts)]
        if made_up:
            labelled += 1
            assert "[placeholder: " in shown, name
            assert not [value for value in made_up if value in shown], name
        else:
            assert plan["exports"][name] == exported.value or isinstance(exported.value, (int, float)), name
    # A cloud stack exports a generated deploy key and cloud-assigned names; local exports neither.
    assert labelled or plan["cloud"] == "local"
    assert PLACEHOLDER_NOTE in plan["notes"]
    assert PLACEHOLDER_NOTE in text


def test_no_secret_value_reaches_the_plan_json_or_text(planned: tuple[str, int, dict[str, Any], str, Run]) -> None:
    _, _, plan, text, run = planned
    secrets = secret_strings(run)
    # The run holds generated secrets (passwords, keys): the check is not vacuous.
    assert secrets
    document = json.dumps(plan)
    leaked = [secret[:6] + "..." for secret in secrets if secret in document or secret in text]
    assert not leaked
    by_urn = {r["urn"]: r for r in plan["resources"]}
    for resource in run.resources:
        for path in resource.secret_inputs:
            value = by_urn[resource.urn]["inputs"]
            for part in path.split("."):
                value = value[part]
            assert value == SECRET, (resource.name, path)


def test_the_component_tree_nests_components_under_their_parents(
    planned: tuple[str, int, dict[str, Any], str, Run],
) -> None:
    _, _, plan, _, run = planned

    def walk(nodes: list[dict[str, Any]]) -> list[str]:
        return [name for node in nodes for name in [node["name"], *walk(node["children"])]]

    components = [r.name for r in run.resources if r.type.startswith("airflow-platform:")]
    assert sorted(walk(plan["tree"])) == sorted(components)


def test_a_mandatory_violation_exits_1_after_writing_the_plan(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    violation = Violation("database-backups", "mandatory", "urn:pulumi:local::p::t::db", "Turn automated backups on.")
    monkeypatch.setattr(review.plan, "evaluate", lambda run, production, accepted: [violation])
    out = tmp_path / "plan.json"
    assert main(["plan", "--stack", "local", "--out", str(out)]) == 1
    written = json.loads(out.read_text())["policy"]["violations"]
    assert written == [
        {
            "policy": "database-backups",
            "enforcement": "mandatory",
            "urn": violation.urn,
            "message": violation.message,
            "accepted": "",
            "blocking": True,
        }
    ]
    captured = capsys.readouterr()
    assert "FAIL: 1 mandatory violation(s)" in captured.out
    assert captured.err == "error: 1 mandatory policy violation(s), listed under Policy above\n"


def _broken(config: dict[str, Any]) -> None:
    config["airflow-platform:airflow"]["schedulerReplicas"] = 0
    config["airflow-platform:gcp"]["region"] = "mars"


def _command_line(capsys: pytest.CaptureFixture[str], root: Path, *argv: str) -> tuple[int, str, str]:
    """`python -m review ...` on the stack files of `root`: exit status, stdout, stderr."""
    status = main(list(argv), root=root)
    captured = capsys.readouterr()
    return status, captured.out, captured.err


def test_a_config_error_exits_1_with_the_clean_problem_list_only(
    repo: Repo, capsys: pytest.CaptureFixture[str]
) -> None:
    broken = repo.path / "Pulumi.broken.yaml"
    broken.write_text((repo.path / "Pulumi.dev.yaml").read_text())
    repo.edit_stack(broken.name, _broken)
    try:
        status, stdout, stderr = _command_line(capsys, repo.path, "plan", "--stack", "broken")
    finally:
        broken.unlink()
    assert status == 1
    assert stdout == ""
    lines = stderr.splitlines()
    assert lines[0] == "error: invalid stack configuration (3 problem(s)):"
    assert any("airflow-platform:airflow.schedulerReplicas: got 0" in line for line in lines)
    assert any("airflow-platform:gcp.region: got 'mars'" in line for line in lines)
    assert len(lines) == 4


def test_a_missing_stack_file_exits_1_naming_the_shipped_stacks(repo: Repo, capsys: pytest.CaptureFixture[str]) -> None:
    status, _, stderr = _command_line(capsys, repo.path, "plan", "--stack", MISSING_STACK)
    assert status == 1
    assert stderr.startswith(f"error: no Pulumi.{MISSING_STACK}.yaml")
    assert all(stack in stderr for stack in SHIPPED)


def test_an_encrypted_config_value_plans_with_a_placeholder_and_says_so(
    repo: Repo, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    secured = repo.path / "Pulumi.secured.yaml"
    document = yaml.safe_load((repo.path / "Pulumi.local.yaml").read_text())
    ciphertext = "v1:AAAABBBBCCCCDDDDeeeeffff:opaqueciphertextthatnobodycanread"
    document["config"]["airflow-platform:fernetPreviousKeys"] = {"secure": ciphertext}
    secured.write_text(yaml.safe_dump(document))
    out = tmp_path / "plan.json"
    try:
        status, stdout, stderr = _command_line(capsys, repo.path, "plan", "--stack", "secured", "--out", str(out))
        stack_input = read_stack("secured", repo.path)
    finally:
        secured.unlink()
    assert status == 0, stderr
    plan = json.loads(out.read_text())
    assert stack_input.secret_keys == ("fernetPreviousKeys",)
    assert any("fernetPreviousKeys" in note and "placeholder" in note for note in plan["notes"])
    assert "placeholder" in stdout
    for text in (out.read_text(), stdout):
        assert ciphertext not in text
        assert placeholder("fernetPreviousKeys") not in text


def test_a_kubernetes_version_near_the_end_of_support_is_flagged_in_the_plan(repo: Repo) -> None:
    """Extended support costs +$365/month per EKS cluster: the plan says so before anyone merges."""
    ending = repo.path / "Pulumi.ending.yaml"
    ending.write_text((repo.path / "Pulumi.prod.yaml").read_text())
    repo.edit_stack(ending.name, lambda config: config["airflow-platform:aws"].update(kubernetesVersion="1.33"))
    try:
        plan = review.plan.build_plan("ending", repo.path)
    finally:
        ending.unlink()
    [warning] = [text for text in plan["warnings"] if "kubernetesVersion" in text]
    assert "1.33" in warning and "extended support" in warning
    rendered = render_plan(plan)
    assert rendered.index("Warnings `pulumi preview` will print") < rendered.index("## Component tree")
    assert warning.split(":")[0] in rendered
