"""The scripts the workflows call, run here with stand-ins for `make`, `pulumi` and `gh` on PATH."""

from __future__ import annotations

import json
import os
import subprocess
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
SCRIPTS = ROOT / "scripts"
STACK_FILES = sorted(ROOT.glob("Pulumi.*.yaml"))
COMMENT_LIMIT = 65_536


def stack_names() -> list[str]:
    return [path.name.removeprefix("Pulumi.").removesuffix(".yaml") for path in STACK_FILES]


def fake_command(bin_dir: Path, name: str, body: str) -> None:
    path = bin_dir / name
    path.write_text(f"#!/usr/bin/env bash\n{body}\n")
    path.chmod(0o755)


def run(script: str, *args: str, bin_dir: Path, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    environment = {**os.environ, "PATH": f"{bin_dir}:{os.environ['PATH']}", **(env or {})}
    for key in ("GITHUB_STEP_SUMMARY", "GITHUB_OUTPUT"):
        environment.setdefault(key, "")
    return subprocess.run(
        [SCRIPTS / script, *args], capture_output=True, text=True, env=environment, check=False, cwd=ROOT
    )


def test_stack_matrix_lists_every_cloud_stack_file(tmp_path: Path) -> None:
    result = run("ci-stacks.sh", "github-output", bin_dir=tmp_path)
    assert result.returncode == 0, result.stderr
    outputs = dict(line.split("=", 1) for line in result.stdout.splitlines())
    clouds = json.loads(outputs["clouds"])
    assert sorted(clouds) == stack_names()
    matrix = json.loads(outputs["matrix"])
    assert matrix == [{"stack": stack, "cloud": cloud} for stack, cloud in clouds.items() if cloud != "local"]
    for stack, cloud in clouds.items():
        assert f"airflow-platform:cloud: {cloud}" in (ROOT / f"Pulumi.{stack}.yaml").read_text()


# A stand-in `make plan-diff` writing SIZE characters of table rows, failing for FAIL_STACK.
FAKE_MAKE = """
for arg in "$@"; do case "$arg" in STACK=*) stack=${arg#STACK=};; OUT=*) out=${arg#OUT=};; esac; done
if [ "$stack" = "${FAIL_STACK:-}" ]; then echo "invalid stack configuration: $stack"; exit 1; fi
python3 -c "import sys; sys.stdout.write('| row | $stack |\\n' * ($SIZE // 16))" > "$out"
"""


def plan_diff(tmp_path: Path, size: int, fail_stack: str = "") -> tuple[subprocess.CompletedProcess[str], str, str]:
    fake_command(tmp_path, "make", FAKE_MAKE)
    summary = tmp_path / "summary.md"
    out = tmp_path / "comment.md"
    result = run(
        "ci-plan-diff.sh",
        "origin/main",
        str(out),
        bin_dir=tmp_path,
        env={"SIZE": str(size), "FAIL_STACK": fail_stack, "GITHUB_STEP_SUMMARY": str(summary)},
    )
    return result, out.read_text(), summary.read_text()


def test_plan_diff_combines_every_stack_into_one_marked_comment(tmp_path: Path) -> None:
    result, comment, summary = plan_diff(tmp_path, size=1_000)
    assert result.returncode == 0, result.stderr
    assert comment.startswith("<!-- airflow-platform:offline-plan -->\n")
    for stack in stack_names():
        assert f"## Stack `{stack}`" in comment and f"| row | {stack} |" in comment
    assert comment == summary


def test_plan_diff_comment_keeps_whole_sections_under_githubs_limit(tmp_path: Path) -> None:
    result, comment, summary = plan_diff(tmp_path, size=40_000)
    assert result.returncode == 0, result.stderr
    assert len(comment) < COMMENT_LIMIT
    first, *others = stack_names()
    assert comment.count(f"| row | {first} |") == summary.count(f"| row | {first} |"), "a section was cut"
    for stack in others:
        assert f"| row | {stack} |" not in comment
        assert f"## Stack `{stack}`\n\nToo long for one comment" in comment
    assert all(f"| row | {stack} |" in summary for stack in stack_names())


def test_plan_diff_failure_is_reported_and_fails_after_the_others(tmp_path: Path) -> None:
    failing = stack_names()[-1]
    result, comment, _ = plan_diff(tmp_path, size=1_000, fail_stack=failing)
    assert result.returncode == 1
    assert f"## Stack `{failing}`: plan-diff failed" in comment
    assert f"invalid stack configuration: {failing}" in comment
    assert all(f"| row | {stack} |" in comment for stack in stack_names() if stack != failing)


DRIFT_MESSAGE = "error: no changes were expected but changes were proposed"


def drift(tmp_path: Path, preview_exit: int, preview_text: str, open_issue: str) -> tuple[int, list[str]]:
    calls = tmp_path / "gh-calls"
    fake_command(tmp_path, "pulumi", f"printf '%s\\n' {preview_text!r}; exit {preview_exit}")
    fake_command(
        tmp_path,
        "gh",
        f'echo "$*" >> {calls}\nif [ "$1 $2" = "issue list" ]; then printf "%s" {open_issue!r}; fi',
    )
    result = run("ci-drift.sh", "dev", bin_dir=tmp_path, env={"GITHUB_REPOSITORY": "owner/repo"})
    return result.returncode, calls.read_text().splitlines() if calls.exists() else []


def test_drift_opens_a_labelled_issue(tmp_path: Path) -> None:
    status, calls = drift(tmp_path, 255, f"~ bucket update\nResources:\n    ~ 1 to update\n{DRIFT_MESSAGE}", "")
    assert status == 1, "the run stays red while the stack drifts"
    assert calls[0].startswith("issue list --repo owner/repo --label drift:dev --state open")
    assert any(call.startswith("label create drift:dev") for call in calls)
    assert any(
        call.startswith("issue create --repo owner/repo --label drift:dev --title Drift on stack dev") for call in calls
    )


def test_drift_updates_the_open_issue(tmp_path: Path) -> None:
    status, calls = drift(tmp_path, 255, DRIFT_MESSAGE, "42")
    assert status == 1
    assert next(call for call in calls if not call.startswith("issue list")).startswith("issue edit 42 ")
    assert not any(call.startswith("issue create") for call in calls)


def test_no_drift_closes_the_open_issue(tmp_path: Path) -> None:
    status, calls = drift(tmp_path, 0, "Resources:\n    12 unchanged", "42")
    assert status == 0
    assert any(call.startswith("issue close 42 ") for call in calls)


@pytest.mark.parametrize("open_issue", ["", "42"])
def test_a_failed_preview_is_not_drift(tmp_path: Path, open_issue: str) -> None:
    status, calls = drift(tmp_path, 255, "error: failed to decrypt: permission denied", open_issue)
    assert status == 255
    assert all(call.startswith("issue list") for call in calls), calls


# --- the real preview of a pull request and its comments ----------------------

POLICY_VIOLATION = """\
Previewing update (dev):
  ~ gcp:container/cluster:Cluster dev-cluster update
Policy Violations:
    [mandatory]  airflow-platform v0.0.1  gke-private-nodes (gcp:container/nodePool:NodePool: dev-workers)
    GKE nodes have no public IP. Set privateClusterConfig.enablePrivateNodes.
Resources:
    ~ 1 to update
    40 unchanged
error: preview failed
"""


def preview(tmp_path: Path, exit_code: int, text: str, *args: str) -> tuple[subprocess.CompletedProcess[str], str, str]:
    (tmp_path / "pulumi-output").write_text(text)
    fake_command(
        tmp_path,
        "pulumi",
        f'echo "$*" > {tmp_path / "pulumi-args"}\ncat {tmp_path / "pulumi-output"}\nexit {exit_code}',
    )
    out = tmp_path / "preview.md"
    result = run("ci-preview.sh", *args, "dev", str(out), bin_dir=tmp_path, env={"GITHUB_SHA": "abc123"})
    called = (tmp_path / "pulumi-args").read_text() if (tmp_path / "pulumi-args").exists() else ""
    return result, out.read_text(), called


def test_the_preview_is_refreshed_diffed_and_held_to_the_policy_pack(tmp_path: Path) -> None:
    result, comment, called = preview(tmp_path, 0, "Resources:\n    40 unchanged\n")
    assert result.returncode == 0, result.stderr
    assert called.split() == [
        "preview",
        "--stack",
        "dev",
        "--diff",
        "--refresh",
        "--policy-pack",
        "policy",
        "--non-interactive",
        "--color",
        "never",
        "--suppress-progress",
    ]
    assert comment.startswith("<!-- airflow-platform:preview:dev -->\n### `pulumi preview` of stack `dev`: ok\n")
    assert "40 unchanged" in comment


def test_a_failed_preview_still_writes_its_comment_with_the_violations_and_the_error(tmp_path: Path) -> None:
    result, comment, _ = preview(tmp_path, 255, POLICY_VIOLATION)
    assert result.returncode == 255, "the job stays red"
    assert comment.startswith("<!-- airflow-platform:preview:dev -->\n### `pulumi preview` of stack `dev`: failed")
    policies = comment.split("```text\n", 1)[1].split("```", 1)[0]
    assert policies.startswith("Policy Violations:\n    [mandatory]  airflow-platform v0.0.1  gke-private-nodes")
    assert "Set privateClusterConfig.enablePrivateNodes." in policies and "Resources:" not in policies
    assert "error: preview failed" in comment.split("The errors:", 1)[1]


def test_a_job_that_failed_before_the_preview_says_so_in_the_comment(tmp_path: Path) -> None:
    result, comment, called = preview(tmp_path, 0, "", "--not-run")
    assert result.returncode == 0 and called == ""
    assert comment.startswith("<!-- airflow-platform:preview:dev -->\n### `pulumi preview` of stack `dev`: did not run")


def test_an_over_long_preview_keeps_its_end_under_githubs_limit(tmp_path: Path) -> None:
    text = "  ~ resource changed\n" * 10_000 + "Resources:\n    ~ 10000 to update\n"
    _, comment, _ = preview(tmp_path, 0, text)
    assert len(comment) < COMMENT_LIMIT
    assert comment.rstrip().endswith("~ 10000 to update\n```\n</details>")


def comment(
    tmp_path: Path, body: str, existing_on_page_two: str = ""
) -> tuple[subprocess.CompletedProcess[str], list[str]]:
    """scripts/ci-pr-comment.sh against a fake `gh` whose marked comment, if any, is on a second page."""
    calls = tmp_path / "gh-calls"
    fake_command(
        tmp_path,
        "gh",
        f'echo "$*" >> {calls}\n'
        # Only a paginated lookup sees the second page.
        f'if [ "$2" = --paginate ]; then printf "%s" {existing_on_page_two!r}; fi',
    )
    body_file = tmp_path / "body.md"
    body_file.write_text(body)
    result = run("ci-pr-comment.sh", "7", str(body_file), bin_dir=tmp_path, env={"GITHUB_REPOSITORY": "owner/repo"})
    return result, calls.read_text().splitlines() if calls.exists() else []


def test_the_stacks_comment_is_found_on_any_page_and_edited_in_place(tmp_path: Path) -> None:
    result, calls = comment(tmp_path, "<!-- airflow-platform:preview:dev -->\nok\n", existing_on_page_two="901")
    assert result.returncode == 0, result.stderr
    assert calls[0].startswith("api --paginate repos/owner/repo/issues/7/comments --jq ")
    assert "<!-- airflow-platform:preview:dev -->" in calls[0], "looked up by the body's marker"
    assert calls[1].startswith("api --method PATCH repos/owner/repo/issues/comments/901 ")


def test_the_first_comment_of_a_stack_is_created(tmp_path: Path) -> None:
    result, calls = comment(tmp_path, "<!-- airflow-platform:preview:dev -->\nok\n")
    assert result.returncode == 0, result.stderr
    assert calls[1].startswith("api --method POST repos/owner/repo/issues/7/comments ")


@pytest.mark.parametrize(
    "body", ["no marker\n", "<!-- someone-else -->\n", "<!-- airflow-platform:preview:dev -->\n" + "x" * COMMENT_LIMIT]
)
def test_a_body_without_our_marker_or_too_long_is_refused(tmp_path: Path, body: str) -> None:
    result, calls = comment(tmp_path, body)
    assert result.returncode == 2
    assert calls == [], "nothing posted"
