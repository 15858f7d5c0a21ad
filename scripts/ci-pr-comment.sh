#!/usr/bin/env bash
# Post each BODY_FILE as one comment of the pull request: the comment carrying the
# body's marker (its first line) is edited in place on every push, created the first time.
#   GH_TOKEN=... GITHUB_REPOSITORY=owner/repo scripts/ci-pr-comment.sh PR_NUMBER BODY_FILE...
# Needs `gh` and a token with pull-requests: write (a fork's token has none: the
# workflow only calls this for same-repository pull requests). The bodies of the
# previews come from the job that ran the PR's code, so they are data checked here:
# a known marker (one comment per stack, and the offline plan's), a size GitHub takes.
set -euo pipefail

usage="usage: scripts/ci-pr-comment.sh PR_NUMBER BODY_FILE..."
pr="${1:?$usage}"
shift
[ $# -gt 0 ] || { echo "$usage" >&2; exit 2; }
repo="${GITHUB_REPOSITORY:?GITHUB_REPOSITORY is not set}"
# Written by scripts/ci-plan-diff.sh and scripts/ci-preview.sh as the body's first line.
marker_pattern='^<!-- airflow-platform:(offline-plan|preview:[A-Za-z0-9_.-]+) -->$'
comment_limit=65536

for body in "$@"; do
  marker=$(head -n1 "$body")
  if ! [[ "$marker" =~ $marker_pattern ]]; then
    echo "error: $body does not start with an airflow-platform <!-- marker --> line" >&2
    exit 2
  fi
  if [ "$(wc -c <"$body")" -gt "$comment_limit" ]; then
    echo "error: $body is longer than GitHub's $comment_limit characters" >&2
    exit 2
  fi
  # Every page of comments (--paginate): a busy pull request has more than one.
  existing=$(gh api --paginate "repos/$repo/issues/$pr/comments" \
    --jq ".[] | select(.user.type == \"Bot\" and (.body | startswith(\"$marker\"))) | .id" | head -n1)
  if [ -n "$existing" ]; then
    gh api --method PATCH "repos/$repo/issues/comments/$existing" -F "body=@$body" --silent
    echo "updated comment $existing on #$pr ($marker)"
  else
    gh api --method POST "repos/$repo/issues/$pr/comments" -F "body=@$body" --silent
    echo "created a comment on #$pr ($marker)"
  fi
done
