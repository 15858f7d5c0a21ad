"""The GitHub workflows, checked offline: schema, zizmor, and the hardening rules read from the YAML.

The rules (README "CI/CD"): actions pinned by commit SHA with the version in a
comment, `permissions: {}` at the top and per job the least it needs, a
timeout on every job, no privileged triggers, no persisted checkout
credentials, caches keyed on the requirements files, no expression expanded
inside a shell script (template injection, printed secrets), write access and
cloud identities only where the trigger allows it.
"""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
import yaml

ROOT = Path(__file__).resolve().parents[2]
WORKFLOWS = ROOT / ".github" / "workflows"
SETUP_ACTION = ROOT / ".github" / "actions" / "setup" / "action.yml"
WORKFLOW_FILES = sorted(WORKFLOWS.glob("*.yml"))
ALL_FILES = [*WORKFLOW_FILES, SETUP_ACTION]
BIN = Path(sys.executable).parent

SAME_REPOSITORY = "github.event.pull_request.head.repo.full_name == github.repository"
# What a job checks out to run only reviewed code (the default is the PR's merge commit).
BASE_COMMIT = "${{ github.event.pull_request.base.sha }}"
PINNED_USES = re.compile(
    r"^(?P<action>[\w.-]+/[\w.-]+(/[\w./-]+)?)@(?P<sha>[0-9a-f]{40}) # (?P<version>v\d+\.\d+\.\d+)$"
)


def load(path: Path) -> dict[str, Any]:
    document = yaml.safe_load(path.read_text())
    assert isinstance(document, dict), f"{path.name}: not a YAML mapping"
    return document


def triggers(workflow: dict[str, Any]) -> dict[str, Any]:
    # PyYAML reads the bare key `on` as the boolean True (YAML 1.1).
    on = workflow.get("on", workflow.get(True))
    return on if isinstance(on, dict) else {name: None for name in ([on] if isinstance(on, str) else on)}


def jobs(path: Path) -> dict[str, dict[str, Any]]:
    return load(path)["jobs"]


def steps(path: Path) -> list[dict[str, Any]]:
    document = load(path)
    if "runs" in document:
        return list(document["runs"]["steps"])
    return [step for job in document["jobs"].values() for step in job.get("steps", [])]


def uses_lines(path: Path) -> list[str]:
    """Each `uses:` value as written, trailing comment included (YAML parsing drops comments)."""
    return [line.split("uses:", 1)[1].strip() for line in path.read_text().splitlines() if "uses:" in line]


def step_using(path: Path, action: str, job: str | None = None) -> list[dict[str, Any]]:
    source = jobs(path)[job]["steps"] if job else steps(path)
    return [step for step in source if str(step.get("uses", "")).split("@")[0] == action]


def test_workflows_exist() -> None:
    assert [path.name for path in WORKFLOW_FILES] == ["deploy.yml", "drift.yml", "pull-request.yml", "sleep.yml"]


@pytest.mark.parametrize(
    ("schema", "paths"), [("vendor.github-workflows", WORKFLOW_FILES), ("vendor.github-actions", [SETUP_ACTION])]
)
def test_files_match_github_schema(schema: str, paths: list[Path]) -> None:
    # The schemas ship inside check-jsonschema: no network.
    result = subprocess.run(
        [BIN / "check-jsonschema", "--builtin-schema", schema, *map(str, paths)],
        capture_output=True,
        text=True,
        check=False,
    )
    assert result.returncode == 0, result.stdout + result.stderr


def test_zizmor_finds_nothing() -> None:
    # .github/zizmor.yml disables one audit, with its reason written there.
    result = subprocess.run(
        [BIN / "zizmor", "--offline", "--format", "json", "."], cwd=ROOT, capture_output=True, text=True, check=False
    )
    assert result.stdout.strip() == "[]", result.stdout + result.stderr
    assert result.returncode == 0, result.stderr
    audited = set(re.findall(r"completed \./(\S+)", result.stderr))
    assert audited == {str(path.relative_to(ROOT)) for path in ALL_FILES}


@pytest.mark.parametrize("path", ALL_FILES, ids=lambda path: path.name)
def test_actions_pinned_by_commit_with_version_comment(path: Path) -> None:
    for value in uses_lines(path):
        if value.startswith("./"):
            continue
        assert PINNED_USES.match(value), f"{path.name}: `uses: {value}` is not <action>@<40-hex sha> # vX.Y.Z"


def test_one_commit_per_action_across_files() -> None:
    pins: dict[str, set[str]] = {}
    for path in ALL_FILES:
        for value in uses_lines(path):
            if match := PINNED_USES.match(value):
                pins.setdefault(match["action"], set()).add(f"{match['sha']} {match['version']}")
    assert pins, "no pinned action found"
    assert {action: sorted(found) for action, found in pins.items() if len(found) > 1} == {}


@pytest.mark.parametrize("path", WORKFLOW_FILES, ids=lambda path: path.name)
def test_no_permission_by_default_and_explicit_least_per_job(path: Path) -> None:
    assert load(path)["permissions"] == {}, f"{path.name}: top-level permissions must be {{}}"
    for name, job in jobs(path).items():
        granted = job.get("permissions")
        assert isinstance(granted, dict), f"{path.name}:{name} declares no permissions of its own"
        assert granted.get("contents") == "read", f"{path.name}:{name}: contents must be read (checkout only)"
        assert set(granted) <= {"contents", "id-token", "pull-requests", "issues"}, f"{path.name}:{name}: {granted}"
        # An OIDC token is only worth having in a job that authenticates to a cloud.
        if granted.get("id-token") == "write":
            assert step_using(path, "./.github/actions/setup", name), f"{path.name}:{name}: id-token without cloud"


@pytest.mark.parametrize("path", WORKFLOW_FILES, ids=lambda path: path.name)
def test_every_job_has_a_timeout(path: Path) -> None:
    for name, job in jobs(path).items():
        assert isinstance(job.get("timeout-minutes"), int), f"{path.name}:{name} has no timeout-minutes"


@pytest.mark.parametrize("path", WORKFLOW_FILES, ids=lambda path: path.name)
def test_no_privileged_trigger(path: Path) -> None:
    # Both run with the base repository's token and secrets while able to reach fork code.
    assert not {"pull_request_target", "workflow_run"} & set(triggers(load(path)))


@pytest.mark.parametrize("path", WORKFLOW_FILES, ids=lambda path: path.name)
def test_checkout_never_persists_the_token(path: Path) -> None:
    checkouts = step_using(path, "actions/checkout")
    assert checkouts
    for step in checkouts:
        assert step.get("with", {}).get("persist-credentials") is False, f"{path.name}: {step}"


@pytest.mark.parametrize("path", ALL_FILES, ids=lambda path: path.name)
def test_no_expression_inside_shell_and_no_secret(path: Path) -> None:
    """Values reach scripts through `env:` only: nothing to inject, nothing echoed by a template."""
    for step in steps(path):
        assert "${{" not in step.get("run", ""), f"{path.name}: expression inside run: {step['run']!r}"
    assert "secrets." not in path.read_text(), f"{path.name}: CI uses OIDC and github.token, no stored secret"


def test_ci_scripts_never_trace_commands() -> None:
    # `set -x` would print tokens passed in the environment to the log.
    for script in sorted((ROOT / "scripts").glob("ci-*.sh")):
        assert not re.search(r"^\s*set -[a-z]*x", script.read_text(), re.MULTILINE), script.name


def test_caches_keyed_on_the_requirements_files() -> None:
    caches = {
        path: step["with"]["key"]
        for step in step_using(SETUP_ACTION, "actions/cache")
        for path in step["with"]["path"].split()
    }
    # pip installs uv; uv downloads everything else (scripts/venvs.sh).
    assert set(caches) == {"~/.cache/pip", "~/.cache/uv", "~/.pulumi/plugins"}
    for path, key in caches.items():
        assert "hashFiles(" in key and "'requirements.txt'" in key, f"{path}: key {key!r}"
    assert "'requirements-dev.txt'" in caches["~/.cache/uv"] and "'requirements-dags.txt'" in caches["~/.cache/uv"]


def test_pulumi_cli_is_the_sdk_release() -> None:
    pinned = re.search(r"^pulumi==(\S+)$", (ROOT / "requirements.txt").read_text(), re.MULTILINE)
    assert pinned
    (install,) = [step for step in step_using(SETUP_ACTION, "pulumi/actions") if "command" not in step["with"]]
    assert install["with"]["pulumi-version"] == pinned[1]


def test_pull_requests_cancel_stale_runs() -> None:
    concurrency = load(WORKFLOWS / "pull-request.yml")["concurrency"]
    assert "github.event.pull_request.number" in concurrency["group"]
    assert concurrency["cancel-in-progress"] is True


def test_offline_job_runs_make_test_then_plan_diff_for_every_pr() -> None:
    job = jobs(WORKFLOWS / "pull-request.yml")["offline-plan"]
    assert "if" not in job, "the offline job must run for forks too"
    assert set(job["permissions"]) == {"contents"}
    runs = [step["run"] for step in job["steps"] if "run" in step]
    assert runs == ["scripts/runtime-packages.sh", "make test", 'scripts/ci-plan-diff.sh "$BASE_SHA" plan-diff.md']


def test_pull_requests_and_ci_install_the_system_packages_make_test_runs_the_same_way() -> None:
    """Without them the runtime suite has no PostgreSQL or Chromium and, with CI=true (GitHub sets
    it), the promtool tests fail: `.ci/run` and the PR job both run the one install script."""
    assert "scripts/runtime-packages.sh" in (ROOT / ".ci" / "run").read_text()
    job = jobs(WORKFLOWS / "pull-request.yml")["offline-plan"]
    # Ubuntu's chromium is a snap, not at /usr/bin/chromium; the runner image's Chrome is.
    assert job["env"]["RUNTIME_CHROMIUM"] == "/usr/bin/google-chrome"
    script = (ROOT / "scripts" / "runtime-packages.sh").read_text()
    assert "missing+=(prometheus)" in script and "missing+=(postgresql)" in script


def test_write_access_and_cloud_only_for_same_repository_pull_requests() -> None:
    for name, job in jobs(WORKFLOWS / "pull-request.yml").items():
        writes = [scope for scope, level in job["permissions"].items() if level == "write"]
        if writes:
            assert SAME_REPOSITORY in job.get("if", ""), f"pull-request.yml:{name} grants {writes} to forks"


def test_preview_runs_the_preview_script_and_hands_its_comment_on_whatever_happened() -> None:
    job = jobs(WORKFLOWS / "pull-request.yml")["preview"]
    runs = [step["run"] for step in job["steps"] if "run" in step]
    assert runs == [
        'scripts/ci-preview.sh "$STACK" "$RUNNER_TEMP/preview-$STACK.md"',
        'scripts/ci-preview.sh --not-run "$STACK" "$RUNNER_TEMP/preview-$STACK.md"',
    ]
    (upload,) = step_using(WORKFLOWS / "pull-request.yml", "actions/upload-artifact", "preview")
    assert upload["if"] == "${{ !cancelled() }}", "a failed preview's comment must still be handed on"
    assert upload["with"]["name"] == "preview-${{ matrix.stack }}"
    assert upload["with"]["path"] == "${{ runner.temp }}/preview-${{ matrix.stack }}.md"


def test_the_job_that_runs_the_prs_code_holds_no_write_token() -> None:
    """pull_request jobs that check out the PR's head (the default) or run its scripts may only read."""
    for name, job in jobs(WORKFLOWS / "pull-request.yml").items():
        checkouts = [step for step in job["steps"] if str(step.get("uses", "")).startswith("actions/checkout@")]
        runs_pr_code = any(
            step.get("with", {}).get("ref") != "${{ github.event.pull_request.base.sha }}" for step in checkouts
        )
        writes = [scope for scope, level in job["permissions"].items() if level == "write" and scope != "id-token"]
        assert not (runs_pr_code and writes), f"pull-request.yml:{name} runs the PR's code with {writes}"
        if writes:
            assert not step_using(WORKFLOWS / "pull-request.yml", "./.github/actions/setup", name), name


def test_preview_comments_are_posted_by_a_base_branch_job_also_after_a_failed_preview() -> None:
    job = jobs(WORKFLOWS / "pull-request.yml")["preview-comment"]
    assert job["needs"] == "preview"
    assert job["permissions"] == {"contents": "read", "pull-requests": "write"}
    assert "!cancelled()" in job["if"] and "needs.preview.result == 'failure'" in job["if"]
    assert SAME_REPOSITORY in job["if"]
    (download,) = step_using(WORKFLOWS / "pull-request.yml", "actions/download-artifact", "preview-comment")
    assert download["with"]["pattern"] == "preview-*"
    runs = [step["run"] for step in job["steps"] if "run" in step]
    assert runs == ['scripts/ci-pr-comment.sh "$PR_NUMBER" "$RUNNER_TEMP"/previews/preview-*.md']


def test_no_pulumi_actions_comment_on_pull_requests() -> None:
    """pulumi/actions v7.0.0 comments only after a successful command and reads one page of comments
    (src/main.ts, src/libs/pr.ts): scripts/ci-pr-comment.sh does it instead."""
    for path in WORKFLOW_FILES:
        for step in step_using(path, "pulumi/actions"):
            assert not {"comment-on-pr", "edit-pr-comment", "comment-on-pr-number"} & set(step.get("with", {})), path


def test_the_setup_action_passes_the_session_length_to_aws() -> None:
    (credentials,) = step_using(SETUP_ACTION, "aws-actions/configure-aws-credentials")
    assert credentials["with"]["role-duration-seconds"] == "${{ inputs.aws-role-duration-seconds }}"


def identity_inputs(path: Path, job: str) -> tuple[str, str]:
    (setup,) = step_using(path, "./.github/actions/setup", job)
    return setup["with"]["gcp-service-account"], setup["with"]["aws-role-arn"]


@pytest.mark.parametrize(("path", "job"), [("pull-request.yml", "preview"), ("drift.yml", "drift")])
def test_previews_run_as_the_read_only_identity(path: str, job: str) -> None:
    assert identity_inputs(WORKFLOWS / path, job) == (
        "${{ vars.GCP_PREVIEW_SERVICE_ACCOUNT }}",
        "${{ vars.AWS_PREVIEW_ROLE_ARN }}",
    )


def test_deploy_runs_dev_then_prod_queued_in_their_environments() -> None:
    workflow = load(WORKFLOWS / "deploy.yml")
    assert set(triggers(workflow)) == {"push"}
    assert triggers(workflow)["push"]["branches"] == ["main"]
    deploy_jobs = jobs(WORKFLOWS / "deploy.yml")
    assert "dev" in deploy_jobs["prod"]["needs"], "prod must wait for dev"
    for stack in ("dev", "prod"):
        job = deploy_jobs[stack]
        assert job["environment"] == stack, "the deploy identity trusts only these environments' OIDC subjects"
        assert job["concurrency"] == {"group": f"pulumi-up-{stack}", "cancel-in-progress": False}
        assert identity_inputs(WORKFLOWS / "deploy.yml", stack) == (
            "${{ vars.GCP_DEPLOY_SERVICE_ACCOUNT }}",
            "${{ vars.AWS_DEPLOY_ROLE_ARN }}",
        )
        (up,) = step_using(WORKFLOWS / "deploy.yml", "pulumi/actions", stack)
        assert (up["with"]["command"], up["with"]["stack-name"]) == ("up", stack)


# Workflows that run `pulumi up`: the deploy, and the optional sleep schedule of dev.
DEPLOYING_WORKFLOWS = ("deploy.yml", "sleep.yml")


def test_only_deploy_jobs_name_the_deploy_identity() -> None:
    for path in WORKFLOW_FILES:
        text = path.read_text()
        if path.name not in DEPLOYING_WORKFLOWS:
            assert "DEPLOY" not in text, f"{path.name} refers to the deploy identity"


def test_sleep_schedule_is_off_unless_enabled_and_only_parks_dev_behind_its_deploys() -> None:
    workflow = load(WORKFLOWS / "sleep.yml")
    assert set(triggers(workflow)) == {"schedule", "workflow_dispatch"}
    sleep_jobs = jobs(WORKFLOWS / "sleep.yml")
    # Every job needs the first, which runs only with the repository variable set.
    assert sleep_jobs["stacks"]["if"] == "vars.SLEEP_SCHEDULE == 'true'"
    assert sleep_jobs["dev"]["needs"] == "stacks"
    assert {"run": 'test "$(scripts/ci-stacks.sh production dev)" = false'} in [
        {"run": step["run"]} for step in sleep_jobs["stacks"]["steps"] if "run" in step
    ]
    job = sleep_jobs["dev"]
    assert job["environment"] == "dev"
    assert job["concurrency"] == jobs(WORKFLOWS / "deploy.yml")["dev"]["concurrency"]
    (up,) = step_using(WORKFLOWS / "sleep.yml", "pulumi/actions", "dev")
    assert (up["with"]["command"], up["with"]["stack-name"]) == ("up", "dev")
    assert "airflow-platform:sleep" in up["with"]["config-map"]
    evening = triggers(workflow)["schedule"][0]["cron"]
    assert f"github.event.schedule == '{evening}'" in job["env"]["SLEEP"], "the first cron is the one that sleeps"


def test_drift_runs_nightly_and_reports_through_the_script() -> None:
    workflow = load(WORKFLOWS / "drift.yml")
    assert "schedule" in triggers(workflow)
    job = workflow["jobs"]["drift"]
    assert job["permissions"]["issues"] == "write"
    assert [step["run"] for step in job["steps"] if "run" in step] == ['scripts/ci-drift.sh "$STACK"']


def test_every_referenced_script_exists_and_is_executable() -> None:
    referenced = set()
    for path in ALL_FILES:
        referenced |= set(re.findall(r"scripts/[\w.-]+\.sh", path.read_text()))
    assert referenced
    for script in sorted(referenced):
        assert (ROOT / script).is_file() and (ROOT / script).stat().st_mode & 0o111, script
