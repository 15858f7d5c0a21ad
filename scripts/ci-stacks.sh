#!/usr/bin/env bash
# Which stacks CI works on, read from the stack files (Pulumi.<stack>.yaml) in
# the repository root, so a new stack file is previewed without a workflow edit.
#   scripts/ci-stacks.sh names            every stack, one per line (the offline plan-diff loops over these)
#   scripts/ci-stacks.sh cloud STACK      the stack's cloud: local | gcp | aws (also what `make up|preview|destroy` reads)
#   scripts/ci-stacks.sh production STACK true when the stack file sets production: true (never sleeps), else false
#   scripts/ci-stacks.sh github-output    for $GITHUB_OUTPUT: `matrix` = the cloud stacks as
#                                         [{"stack": .., "cloud": ..}], `clouds` = {"<stack>": "<cloud>"}
set -euo pipefail
cd "$(dirname "$0")/.."

names() {
  local file
  for file in Pulumi.*.yaml; do
    [ -e "$file" ] || continue
    file="${file#Pulumi.}"
    echo "${file%.yaml}"
  done
}

cloud_of() {
  local file="Pulumi.$1.yaml" cloud
  [ -f "$file" ] || { echo "error: no stack file $file" >&2; exit 2; }
  # The first airflow-platform:cloud line.
  cloud=$(sed -n 's/^ *airflow-platform:cloud: *\([a-z]*\).*/\1/p' "$file" | head -n1)
  case "$cloud" in
    local|gcp|aws) echo "$cloud" ;;
    *) echo "error: $file sets no airflow-platform:cloud (local | gcp | aws)" >&2; exit 2 ;;
  esac
}

production_of() {
  local file="Pulumi.$1.yaml"
  [ -f "$file" ] || { echo "error: no stack file $file" >&2; exit 2; }
  if grep -Eq '^ *airflow-platform:production: *true' "$file"; then echo true; else echo false; fi
}

github_output() {
  local stack cloud matrix="" clouds=""
  for stack in $(names); do
    cloud=$(cloud_of "$stack")
    clouds+="${clouds:+,}\"$stack\":\"$cloud\""
    # A local stack has no cloud to preview against: its offline plan is the review.
    [ "$cloud" = local ] || matrix+="${matrix:+,}{\"stack\":\"$stack\",\"cloud\":\"$cloud\"}"
  done
  echo "matrix=[$matrix]"
  echo "clouds={$clouds}"
}

case "${1:-}" in
  names) names ;;
  cloud) cloud_of "${2:?usage: scripts/ci-stacks.sh cloud STACK}" ;;
  production) production_of "${2:?usage: scripts/ci-stacks.sh production STACK}" ;;
  github-output) github_output ;;
  *) echo "usage: scripts/ci-stacks.sh names | cloud STACK | production STACK | github-output" >&2; exit 2 ;;
esac
