#!/usr/bin/env bash
# Nightly drift check of one stack: `pulumi preview --refresh --expect-no-changes`.
# Drift opens an issue labelled drift:<stack> (or comments on the open one) with
# the preview's summary; a clean run closes it. Any other failure (credentials,
# a broken program) fails the job and touches no issue.
#   GH_TOKEN=... GITHUB_REPOSITORY=owner/repo PULUMI_BACKEND_URL=... scripts/ci-drift.sh STACK
set -uo pipefail
cd "$(dirname "$0")/.."

stack="${1:?usage: scripts/ci-drift.sh STACK}"
: "${GITHUB_REPOSITORY:?GITHUB_REPOSITORY is not set}"
label="drift:$stack"
run_url="${GITHUB_SERVER_URL:-https://github.com}/$GITHUB_REPOSITORY/actions/runs/${GITHUB_RUN_ID:-}"
# Room for the summary around the preview text; GitHub's limit is 65,536.
preview_budget=50000

output=$(mktemp)
body=$(mktemp)
trap 'rm -f "$output" "$body"' EXIT

# A stack the sleep schedule parked (.github/workflows/sleep.yml sets `sleep` on the runner
# only, the committed file stays awake) is compared as it was deployed: asleep.
sleeping=()
if [ "$(pulumi stack output asleep --stack "$stack" 2>/dev/null)" = true ]; then
  sleeping=(--config airflow-platform:sleep=true)
fi
pulumi preview --stack "$stack" --refresh --expect-no-changes --diff "${sleeping[@]}" \
  --non-interactive --color never --suppress-progress >"$output" 2>&1
status=$?
cat "$output"

open_issue=$(gh issue list --repo "$GITHUB_REPOSITORY" --label "$label" --state open \
  --json number --jq '.[0].number // empty')

if [ "$status" -eq 0 ]; then
  if [ -n "$open_issue" ]; then
    gh issue close "$open_issue" --repo "$GITHUB_REPOSITORY" \
      --comment "No drift on \`$stack\` any more ([run]($run_url))."
  fi
  echo "no drift on $stack"
  exit 0
fi

# Pulumi's wording has varied between releases ("were proposed" / "occurred").
if ! grep -Eq 'no changes were expected( for [a-z]+)? but changes (were proposed|occurred)' "$output"; then
  echo "error: the preview of $stack failed for another reason than drift (see above)" >&2
  exit "$status"
fi

{
  echo "\`pulumi preview --refresh\` of stack \`$stack\` found changes nobody merged ([run]($run_url))."
  echo "Either bring the code in line (a pull request) or run \`pulumi up\` to restore what the code says."
  echo
  echo '```text'
  # The counts Pulumi prints last, then the per-resource diff within the budget.
  sed -n '/^Resources:/,$p' "$output"
  echo '```'
  echo
  echo '<details><summary>Preview</summary>'
  echo
  echo '```diff'
  head -c "$preview_budget" "$output"
  [ "$(wc -c <"$output")" -le "$preview_budget" ] || printf '\n... cut at %s characters: the full text is in the run log.\n' "$preview_budget"
  echo '```'
  echo '</details>'
} >"$body"

if [ -n "$open_issue" ]; then
  # The body always says what drifts now; the issue keeps its number and discussion.
  gh issue edit "$open_issue" --repo "$GITHUB_REPOSITORY" --body-file "$body"
else
  # --force: create the label or leave it as it is, so the first drift needs no setup.
  gh label create "$label" --repo "$GITHUB_REPOSITORY" --force \
    --color D93F0B --description "Nightly drift check found changes on stack $stack" >/dev/null
  gh issue create --repo "$GITHUB_REPOSITORY" --label "$label" \
    --title "Drift on stack $stack" --body-file "$body"
fi
# The workflow run stays red while the stack drifts.
exit 1
