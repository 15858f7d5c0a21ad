#!/usr/bin/env bash
# A pull request's real preview of one stack, as the read-only identity, and the
# Markdown of its comment: `pulumi preview --diff --refresh --policy-pack policy`.
#   PULUMI_BACKEND_URL=... scripts/ci-preview.sh STACK OUT
#   scripts/ci-preview.sh --not-run STACK OUT     the job failed before the preview (credentials, setup)
# OUT gets the comment whatever happened - changes, a policy violation, an error -
# starting with the marker scripts/ci-pr-comment.sh finds the stack's comment by;
# the script then exits with the preview's status, so the job stays red on a failure.
# This job holds no write token: a separate job posts OUT (.github/workflows/pull-request.yml).
set -uo pipefail
cd "$(dirname "$0")/.."

not_run=false
if [ "${1:-}" = --not-run ]; then
  not_run=true
  shift
fi
stack="${1:?usage: scripts/ci-preview.sh [--not-run] STACK OUT}"
out="${2:?usage: scripts/ci-preview.sh [--not-run] STACK OUT}"
run_url="${GITHUB_SERVER_URL:-https://github.com}/${GITHUB_REPOSITORY:-}/actions/runs/${GITHUB_RUN_ID:-}"
# GitHub refuses comments over 65,536 characters; the preview gets what the rest leaves.
preview_budget=50000

heading() { echo "<!-- airflow-platform:preview:$stack -->"; echo "### \`pulumi preview\` of stack \`$stack\`: $1"; echo; }

if $not_run; then
  {
    heading "did not run"
    echo "The job failed before the preview (credentials, tools): read the [run]($run_url)."
  } >"$out"
  exit 0
fi

output=$(mktemp)
trap 'rm -f "$output"' EXIT
pulumi preview --stack "$stack" --diff --refresh --policy-pack policy \
  --non-interactive --color never --suppress-progress >"$output" 2>&1
status=$?
cat "$output"

# Pulumi's text display: "Policy Violations:" (or "Policies:" in newer releases) and
# "Resources:", each followed by indented lines (pulumi pkg/backend/display).
section() { awk -v heading="$1" '$0 ~ "^" heading ":" { on = 1; print; next } on && /^[^ ]/ { on = 0 } on' "$output"; }

{
  if [ "$status" -eq 0 ]; then heading "ok"; else heading "failed (exit $status)"; fi
  echo "Commit \`${GITHUB_SHA:-unknown}\`, [run]($run_url). Mandatory policy violations fail the preview; advisory ones are listed."
  echo
  policies=$( { section "Policy Violations"; section "Policies"; } )
  if [ -n "$policies" ]; then
    echo '```text'
    echo "$policies"
    echo '```'
    echo
  fi
  if [ "$status" -ne 0 ]; then
    echo "The errors:"
    echo
    echo '```text'
    grep -E '^ *error: ' "$output" | head -n 40
    echo '```'
    echo
  fi
  resources=$(section "Resources")
  if [ -n "$resources" ]; then
    echo '```text'
    echo "$resources"
    echo '```'
    echo
  fi
  echo '<details><summary>Full preview</summary>'
  echo
  echo '```diff'
  # Over-long previews keep their end, where the summary and the errors are.
  if [ "$(wc -c <"$output")" -gt "$preview_budget" ]; then
    printf '... the first %s characters are in the run log\n' "$(($(wc -c <"$output") - preview_budget))"
  fi
  tail -c "$preview_budget" "$output"
  echo '```'
  echo '</details>'
} >"$out"
if [ -n "${GITHUB_STEP_SUMMARY:-}" ]; then cat "$out" >>"$GITHUB_STEP_SUMMARY"; fi
exit "$status"
