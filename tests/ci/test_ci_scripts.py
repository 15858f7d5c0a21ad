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
