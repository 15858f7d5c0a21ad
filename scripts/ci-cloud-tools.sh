#!/usr/bin/env bash
# The command-line tools a stack's Kubernetes provider execs for credentials
# (see components/gcp/kubeconfig.py and the EKS kubeconfig), checked on the runner.
#   scripts/ci-cloud-tools.sh gcp | aws
set -euo pipefail

case "${1:?usage: scripts/ci-cloud-tools.sh gcp | aws}" in
  gcp)
    command -v gcloud >/dev/null || { echo "error: gcloud is not on this runner" >&2; exit 1; }
    if ! command -v gke-gcloud-auth-plugin >/dev/null; then
      # GitHub's Ubuntu images install gcloud from Google's apt repository, which carries the plugin.
      sudo apt-get install --yes --no-install-recommends google-cloud-cli-gke-gcloud-auth-plugin
    fi
    ;;
  aws)
    command -v aws >/dev/null || { echo "error: the AWS CLI is not on this runner" >&2; exit 1; }
    ;;
  *) echo "usage: scripts/ci-cloud-tools.sh gcp | aws" >&2; exit 2 ;;
esac
