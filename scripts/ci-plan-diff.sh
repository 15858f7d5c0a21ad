#!/usr/bin/env bash
# The pull request's offline review: `make plan-diff` against BASE for every
# stack file, combined into one Markdown document OUT that the workflow posts
# as the PR's single comment and writes to the job summary. No credentials.
#   scripts/ci-plan-diff.sh BASE OUT
# Exits non-zero if any stack's plan-diff failed (its section says why), after
# writing everything else, so the comment still shows the other stacks.
set -uo pipefail
cd "$(dirname "$0")/.."

base="${1:?usage: scripts/ci-plan-diff.sh BASE OUT}"
out="${2:?usage: scripts/ci-plan-diff.sh BASE OUT}"
# The hidden marker scripts/ci-pr-comment.sh finds the comment by.
marker="<!-- airflow-platform:offline-plan -->"
# GitHub rejects comments over 65,536 characters; keep room for the header.
comment_budget=60000
run_url="${GITHUB_SERVER_URL:-https://github.com}/${GITHUB_REPOSITORY:-}/actions/runs/${GITHUB_RUN_ID:-}"

work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
failed=0
stacks=$(scripts/ci-stacks.sh names) || exit 2
for stack in $stacks; do
  section="$work/$stack.md"
  if make --no-print-directory plan-diff STACK="$stack" BASE="$base" OUT="$work/$stack.diff.md" >"$work/$stack.log" 2>&1; then
    { echo "## Stack \`$stack\`"; echo; cat "$work/$stack.diff.md"; echo; } >"$section"
  else
    failed=1
    {
      echo "## Stack \`$stack\`: plan-diff failed"
      echo
      echo '```text'
      tail -n 40 "$work/$stack.log"
      echo '```'
      echo
    } >"$section"
  fi
done

header() {
  echo "$marker"
  echo "# Offline plan against \`$base\`"
  echo
  echo "What each stack's \`pulumi up\` would change, from \`make plan-diff\` (mocks, no cloud)."
  echo
}

# The job summary gets every section in full (its limit is 1 MiB per step).
full="$work/full.md"
{ header; for stack in $stacks; do cat "$work/$stack.md"; done; } >"$full"
if [ -n "${GITHUB_STEP_SUMMARY:-}" ]; then cat "$full" >>"$GITHUB_STEP_SUMMARY"; fi

# The comment keeps whole sections while they fit and names the others:
# a section is never cut in the middle of a table.
{
  header
  used=$(header | wc -c)
  for stack in $stacks; do
    size=$(wc -c <"$work/$stack.md")
    if [ $((used + size)) -le "$comment_budget" ]; then
      cat "$work/$stack.md"
      used=$((used + size))
    else
      echo "## Stack \`$stack\`"
      echo
      echo "Too long for one comment ($size characters): read it in the [job summary]($run_url)."
      echo
      used=$((used + 200))
    fi
  done
} >"$out"

if [ -n "${GITHUB_OUTPUT:-}" ]; then
  delimiter="plan-diff-$(od -An -N8 -tx1 /dev/urandom | tr -d ' \n')"
  { echo "comment<<$delimiter"; cat "$out"; echo "$delimiter"; } >>"$GITHUB_OUTPUT"
fi
exit "$failed"
