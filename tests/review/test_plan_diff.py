"""`make plan-diff` between two commits of a throwaway repository (see conftest.py), the replacement
table against the pinned provider SDKs, and the size cap of the comment."""

from __future__ import annotations

import contextlib
import copy
import importlib
import inspect
import io
import json
import re
import sys
from dataclasses import dataclass
from typing import Any

import pytest
from plan_repo import PREDATES, Repo

from policy.policies import STATEFUL_TYPES
from review import replacements
from review.__main__ import main
from review.diff import diff_plans, plan_at
from review.plan import build_plan
from review.render import MAX_DIFF_CHARS, render_diff

DB_INSTANCE = "gcp:sql/databaseInstance:DatabaseInstance"


@pytest.fixture(scope="module")
def head(repo: Repo) -> dict[str, Any]:
    return build_plan("dev", repo.path)


@dataclass(frozen=True)
class CommandLine:
    status: int
    stdout: str
    markdown: str  # what --out wrote
    diff: dict[str, Any]  # what --json wrote


@pytest.fixture(scope="module")
def command_line(repo: Repo, tmp_path_factory: pytest.TempPathFactory) -> CommandLine:
    """`make plan-diff STACK=dev BASE=HEAD~1 OUT=... JSON=...` in the throwaway repository: BASE's plan is
    made by BASE's code in a worktree (a subprocess), the working tree's in this process. Made once: the
    tests below read its Markdown and its data."""
    out = tmp_path_factory.mktemp("plan-diff")
    markdown, data = out / "diff.md", out / "diff.json"
    argv = ["plan-diff", "--stack", "dev", "--base", "HEAD~1", "--out", str(markdown), "--json", str(data)]
    stdout = io.StringIO()
    with contextlib.redirect_stdout(stdout):
        status = main(argv, root=repo.path)
    return CommandLine(status, stdout.getvalue(), markdown.read_text(), json.loads(data.read_text()))


@pytest.fixture(scope="module")
def dev_diff(command_line: CommandLine) -> dict[str, Any]:
    assert command_line.status == 0
    return command_line.diff


@pytest.fixture(scope="module")
def prod_diff(repo: Repo, tmp_path_factory: pytest.TempPathFactory) -> CommandLine:
    """`make plan-diff STACK=prod BASE=HEAD~1` of the `aws.vpcCidr` change (plan_repo.prod_change)."""
    out = tmp_path_factory.mktemp("plan-diff-prod")
    markdown, data = out / "diff.md", out / "diff.json"
    argv = ["plan-diff", "--stack", "prod", "--base", "HEAD~1", "--out", str(markdown), "--json", str(data)]
    with contextlib.redirect_stdout(io.StringIO()):
        status = main(argv, root=repo.path)
    return CommandLine(status, "", markdown.read_text(), json.loads(data.read_text()))


def _replaced(diff: dict[str, Any]) -> dict[str, dict[str, Any]]:
    """By URN: a route table association shares its subnet's name."""
    return {item["urn"]: item for item in diff["changed"] if item["action"] == "replace"}


def _types(items: dict[str, dict[str, Any]], type_token: str) -> list[str]:
    return sorted(urn for urn, item in items.items() if item["type"] == type_token)


def _named(items: dict[str, dict[str, Any]], type_token: str, name: str) -> dict[str, Any]:
    return next(item for item in items.values() if item["type"] == type_token and item["name"] == name)


def test_a_vpc_range_change_replaces_what_takes_the_network_and_says_why(prod_diff: CommandLine) -> None:
    replaced = _replaced(prod_diff.diff)
    assert "cidrBlock" in _named(replaced, "aws:ec2/vpc:Vpc", "aws-network-vpc")["forcing"]
    # Each subnet, node group, mount target, the cluster and the database: knock-ons, each naming its cause.
    assert len(_types(replaced, "aws:ec2/subnet:Subnet")) == 6
    for type_token, count in (
        ("aws:eks/nodeGroup:NodeGroup", 2),
        ("aws:efs/mountTarget:MountTarget", 3),
        ("aws:eks/cluster:Cluster", 1),
        ("aws:rds/instance:Instance", 1),
        ("aws:rds/subnetGroup:SubnetGroup", 1),
    ):
        urns = _types(replaced, type_token)
        assert len(urns) == count, (type_token, urns)
        for urn in urns:
            knock_on = replaced[urn]["knockOn"]
            assert knock_on["causeUrn"] in replaced, urn
            assert knock_on["source"].startswith("https://"), urn
    assert _named(replaced, "aws:eks/cluster:Cluster", "aws-cluster-eks")["knockOn"]["input"] == "vpcConfig"
    database = _named(replaced, "aws:rds/instance:Instance", "aws-metadata-db-instance")
    assert database["knockOn"]["cause"] == "aws-metadata-db-subnets"
    # An add-on takes the cluster's name, which the new cluster keeps: not replaced by the plan.
    assert "aws-addons-coredns" not in {item["name"] for item in replaced.values()}
    assert prod_diff.diff["summary"]["knockOn"] == sum(1 for item in replaced.values() if item.get("knockOn"))


def test_protected_resources_a_change_would_replace_block_the_update_and_come_first(prod_diff: CommandLine) -> None:
    dangers = prod_diff.diff["dangers"]
    blocking = [item["name"] for item in dangers if item["blocksUpdate"]]
    assert {"aws-cluster-eks", "aws-metadata-db-instance"} <= set(blocking)
    order = [item["blocksUpdate"] for item in dangers]
    assert order == sorted(order, reverse=True)
    assert prod_diff.diff["summary"]["blocking"] == len(blocking)
    text = prod_diff.markdown
    assert f"{len(blocking)} protected resource(s) would be replaced or deleted: this update is blocked" in text
    # After the program's warnings, the first thing a reviewer reads.
    sections = [section for section in text.split("\n### ")[1:] if not section.startswith(":warning: Warnings")]
    assert sections[0].startswith(":warning: Replacements and deletions")
    rows = [line for line in sections[0].splitlines() if line.startswith("| **")]
    assert all(row.startswith("| **BLOCKS THIS UPDATE** |") for row in rows[: len(blocking)])
    # Why, whole: which replaced resource caused it, through which input, and that protect stops `pulumi up`.
    assert all("protected: `pulumi up` fails until it is unprotected" in row for row in rows[: len(blocking)])
    assert "knock-on of `aws-metadata-db-subnets`" in text


def _changed(diff: dict[str, Any], name: str) -> dict[str, Any]:
    return next(item for item in diff["changed"] if item["name"] == name)


def test_a_node_pool_size_change_is_an_update_with_before_and_after(dev_diff: dict[str, Any]) -> None:
    pool = _changed(dev_diff, "gcp-pools-workers")
    size = next(c for c in pool["changes"] if c["path"] == "autoscaling.totalMaxNodeCount")
    assert (size["before"], size["after"]) == (5, 8)


def test_a_replaced_database_is_flagged_first_and_loud(dev_diff: dict[str, Any]) -> None:
    database = next(item for item in dev_diff["dangers"] if item["type"] == DB_INSTANCE)
    assert database["action"] == "replace"
    assert "region" in database["forcing"]
    assert database["stateful"]
    assert database["source"]
    text = render_diff(dev_diff)
    sections = [line for line in text.splitlines() if line.startswith("### ")]
    assert "Replacements and deletions of stateful or protected resources" in sections[0]
    assert text.index("`gcp-metadata-db-instance`") < text.index("### Changed resources")
    assert "**REPLACE**" in text


def test_a_chart_value_change_is_listed_by_key_path(dev_diff: dict[str, Any]) -> None:
    replicas = next(v for v in dev_diff["helmValues"] if v["path"] == "apiServer.replicas")
    assert (replicas["before"], replicas["after"]) == (1, 2)
    release = _changed(dev_diff, "airflow-chart")
    assert not any(change["path"].startswith("values.") for change in release["changes"])
    assert "| `airflow-chart` | `apiServer.replicas` | `1` | `2` |" in render_diff(dev_diff)


def test_a_cost_change_shows_the_idle_month_before_and_after_and_the_resource(dev_diff: dict[str, Any]) -> None:
    cost = dev_diff["cost"]
    before, after = cost["monthlyIdleUsd"]
    assert after > before
    database = next(item for item in cost["resources"] if item["name"] == "gcp-metadata-db-instance")
    assert database["after"] > database["before"]
    text = render_diff(dev_diff)
    assert f"${before:,.2f} → ${after:,.2f} (+${after - before:,.2f})" in text


def _with_config(plan: dict[str, Any], **changes: Any) -> dict[str, Any]:
    changed = copy.deepcopy(plan)
    for key, value in changes.items():
        changed["config"][key] = value
    return changed


def test_production_on_a_stack_that_pins_what_it_would_change_is_flagged_as_overridden(head: dict[str, Any]) -> None:
    # The tests' dev shape pins gcp.locationType: zonal; production: true would default it to regional.
    assert head["config"]["gcp"]["locationType"] == "zonal"
    https = {"domain": "airflow.acme.com"}
    base = _with_config(head, production=False, ui=https)
    after = _with_config(head, production=True, ui=https)
    diff = diff_plans(base, after, ref="HEAD~1")
    (finding,) = [item for item in diff["ineffective"] if item["key"] == "production"]
    assert (finding["before"], finding["after"]) == (False, True)
    location = next(item for item in finding["overrides"] if item["key"] == "gcp.locationType")
    assert (location["set"], location["default"]) == ("zonal", "regional")
    text = render_diff(diff)
    assert "### :grey_question: Config changes without effect" in text
    assert "`gcp.locationType` stays `zonal` (set in the stack file; the new default is `regional`)" in text


def test_a_key_set_to_what_it_already_was_is_flagged_as_changing_nothing(head: dict[str, Any]) -> None:
    gcp = head["config"]["gcp"]
    assert "releaseChannel" not in gcp and head["config"].get("production") is not True
    after = _with_config(head, gcp={**gcp, "releaseChannel": "REGULAR"})
    (finding,) = diff_plans(head, after, ref="HEAD~1")["ineffective"]
    assert finding == {"key": "gcp.releaseChannel", "before": None, "after": "REGULAR", "overrides": []}
    assert "`gcp.releaseChannel`: (unset) → `REGULAR` changes nothing" in render_diff(diff_plans(head, after, ref="x"))
    # A change that does something is not flagged.
    bigger = _with_config(head, gcp={**gcp, "workerMaxNodes": 9})
    assert diff_plans(head, bigger, ref="HEAD~1")["ineffective"] == []


def _violation(policy: str, blocking: bool) -> dict[str, Any]:
    urn = "urn:pulumi:dev::airflow-platform::t::thing"
    enforcement = "mandatory" if blocking else "advisory"
    return {
        "policy": policy,
        "enforcement": enforcement,
        "urn": urn,
        "message": "Do X.",
        "accepted": "",
        "blocking": blocking,
    }


def test_the_policy_delta_lists_new_and_resolved_violations(head: dict[str, Any]) -> None:
    base, after = copy.deepcopy(head), copy.deepcopy(head)
    base["policy"] = {"violations": [_violation("bucket-tls-only", True), _violation("gke-release-channel", False)]}
    after["policy"] = {"violations": [_violation("gke-release-channel", False), _violation("efs-encryption", True)]}
    policy = diff_plans(base, after, ref="HEAD~1")["policy"]
    assert [v["policy"] for v in policy["new"]] == ["efs-encryption"]
    assert [v["policy"] for v in policy["resolved"]] == ["bucket-tls-only"]
    assert (policy["blocking"], policy["standing"]) == (1, 1)
    text = render_diff(diff_plans(base, after, ref="HEAD~1"))
    assert "1 mandatory policy violation(s)" in text
    assert "| `efs-encryption` | **mandatory** | `thing` | Do X. |  |" in text


def test_plan_diff_from_the_command_line_writes_the_markdown_and_its_data(command_line: CommandLine) -> None:
    assert command_line.status == 0
    assert command_line.markdown == command_line.stdout
    assert "**REPLACE**" in command_line.stdout
    assert "apiServer.replicas" in command_line.stdout
    # --json holds what the Markdown is rendered from.
    assert render_diff(command_line.diff) == command_line.markdown


def test_an_unknown_base_exits_1_with_a_clean_message(repo: Repo, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["plan-diff", "--stack", "dev", "--base", "no-such-ref"], root=repo.path) == 1
    captured = capsys.readouterr()
    assert (captured.out, captured.err) == ("", f"error: BASE='no-such-ref' is not a commit in {repo.path}\n")


def test_a_base_before_make_plan_has_no_plan_and_everything_is_added(repo: Repo, head: dict[str, Any]) -> None:
    base, note = plan_at(PREDATES, "dev", repo.path)
    assert base is None
    assert "predates" in note
    diff = diff_plans(base, head, ref=PREDATES, base_note=note)
    assert diff["summary"]["add"] == head["resourceCount"]
    assert "No plan at BASE" in render_diff(diff)
    # The temporary worktree is gone.
    assert repo.git("worktree", "list").count("\n") == 1


def _touch_everything(plan: dict[str, Any]) -> dict[str, Any]:
    """Every resource changed in 40 long inputs, every chart value too."""
    changed = copy.deepcopy(plan)
    for resource in changed["resources"]:
        resource["inputs"] = {f"setting{i}": "x" * 300 + str(i) for i in range(40)}
    return changed


def test_the_comment_stays_under_the_cap_whatever_changes(head: dict[str, Any]) -> None:
    base = _touch_everything(head)
    diff = diff_plans(base, head, ref="HEAD~1")
    text = render_diff(diff)
    assert len(text) <= MAX_DIFF_CHARS
    assert "... and " in text
    assert text.rstrip().endswith("is the authority._")
    _assert_whole_tables(text)


def _assert_whole_tables(text: str) -> None:
    """Every table row has its header's column count: no table was cut mid-row."""
    columns = None
    for line in text.splitlines():
        if not line.startswith("|"):
            columns = None
            continue
        cells = len(re.split(r"(?<!\\)\|", line)) - 2
        columns = columns or cells
        assert cells == columns, line


# --------------------------------------------------------------- replacement table

PACKAGES = {"gcp": "pulumi_gcp", "aws": "pulumi_aws", "kubernetes": "pulumi_kubernetes"}


def _sdk_class(type_token: str) -> Any:
    package, module, name = type_token.split(":")
    group, _, version = module.partition("/")
    path = f"{group.split('.')[0]}.{version}" if package == "kubernetes" else group
    return getattr(importlib.import_module(f"{PACKAGES[package]}.{path}"), name)


def _snake(camel: str) -> str:
    return re.sub(r"(?<=[a-z0-9])(?=[A-Z])", "_", camel).lower()


@pytest.mark.parametrize("type_token", sorted(replacements.RULES))
def test_each_replacement_rule_names_a_real_resource_and_its_inputs(type_token: str) -> None:
    cls = _sdk_class(type_token)
    assert f"'{type_token}'" in inspect.getsource(sys.modules[cls.__module__])
    inputs = inspect.signature(cls._internal_init).parameters
    for path in replacements.RULES[type_token].paths:
        assert _snake(path.split(".")[0]) in inputs, path


def test_the_review_flags_every_type_the_policy_protects_and_each_stateful_type_has_a_rule() -> None:
    assert set(STATEFUL_TYPES) <= replacements.STATEFUL <= set(replacements.RULES)
    assert replacements.is_stateful(replacements.K8S_NAMESPACE)
    assert not replacements.is_stateful("gcp:sql/user:User")


def test_forcing_paths_ignore_list_indexes_and_match_nested_and_whole_objects() -> None:
    pool = "gcp:container/nodePool:NodePool"
    assert replacements.forcing_paths(pool, ["nodeConfig.oauthScopes[0]", "autoscaling.totalMaxNodeCount"]) == [
        "nodeConfig.oauthScopes[0]"
    ]
    assert replacements.forcing_paths(DB_INSTANCE, ["settings", "settings.tier"]) == ["settings"]
    assert replacements.forcing_paths(DB_INSTANCE, ["settings.diskSize", "databaseVersion"]) == []
    assert replacements.forcing_paths("gcp:unknown/thing:Thing", ["name"]) == []
