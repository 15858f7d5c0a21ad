#!/usr/bin/env bash
# Post BODY_FILE as the pull request's one offline-plan comment: the comment
# carrying the marker is edited in place on every push, created the first time.
#   GH_TOKEN=... GITHUB_REPOSITORY=owner/repo scripts/ci-pr-comment.sh PR_NUMBER BODY_FILE
# Needs `gh` and a token with pull-requests: write (a fork's token has none:
# the workflow only calls this for same-repository pull requests).
set -euo pipefail

pr="${1:?usage: scripts/ci-pr-comment.sh PR_NUMBER BODY_FILE}"
body="${2:?usage: scripts/ci-pr-comment.sh PR_NUMBER BODY_FILE}"
repo="${GITHUB_REPOSITORY:?GITHUB_REPOSITORY is not set}"
# Written by scripts/ci-plan-diff.sh as the body's first line.
marker=$(head -n1 "$body")
case "$marker" in
  "<!-- "*" -->") ;;
  *) echo "error: $body does not start with a <!-- marker --> line" >&2; exit 2 ;;
esac

existing=$(gh api --paginate "repos/$repo/issues/$pr/comments" \
  --jq ".[] | select(.user.type == \"Bot\" and (.body | startswith(\"$marker\"))) | .id" | head -n1)
if [ -n "$existing" ]; then
  gh api --method PATCH "repos/$repo/issues/comments/$existing" -F "body=@$body" --silent
  echo "updated comment $existing on #$pr"
else
  gh api --method POST "repos/$repo/issues/$pr/comments" -F "body=@$body" --silent
  echo "created the offline plan comment on #$pr"
fi
