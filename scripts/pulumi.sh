#!/usr/bin/env bash
# `make up` / `make preview` / `make destroy`: check prerequisites, pick a
# backend, select the stack, run Pulumi. Every missing prerequisite is named with how to get it.
set -euo pipefail
cd "$(dirname "$0")/.."

action="${1:?usage: scripts/pulumi.sh up|sleep|wake|preview|destroy STACK}"
stack="${2:-local}"
missing=0
need() { echo "missing: $1" >&2; echo "  -> $2" >&2; missing=1; }

case "$stack" in
  local|dev|prod) ;;
  *) [ -f "Pulumi.$stack.yaml" ] || { echo "error: no Pulumi.$stack.yaml; stacks here: local, dev, prod" >&2; exit 2; } ;;
esac

# The shipped placeholders (CHANGE-ME project id, documentation CIDRs, your-org
# repo) pass validation so `make test` runs every stack file as shipped;
# deploying them is refused here, each key named. Needs .venv (PyYAML).
if scripts/check-python.sh "${PYTHON:-python3}"; then
  [ -x .venv/bin/python ] || scripts/venvs.sh main
  .venv/bin/python -m components.placeholders "Pulumi.$stack.yaml" || missing=1
else
  missing=1
fi
command -v pulumi >/dev/null 2>&1 ||
  need "Pulumi CLI (pulumi)" "install it: https://www.pulumi.com/docs/iac/download-install/ (brew install pulumi, or curl -fsSL https://get.pulumi.com | sh)"

# One reading of the stack's cloud for make and CI; it exits 2 naming the file when the key is missing.
cloud=$(scripts/ci-stacks.sh cloud "$stack")
case "$cloud" in
  local)
    if ! command -v kubectl >/dev/null 2>&1; then
      need "kubectl" "install it: https://kubernetes.io/docs/tasks/tools/"
    elif ! kubectl config current-context >/dev/null 2>&1; then
      need "a Kubernetes context" "start a local cluster (kind create cluster, minikube start, or enable Kubernetes in Docker Desktop)"
    fi
    ;;
  gcp)
    command -v gcloud >/dev/null 2>&1 || need "gcloud CLI" "install it: https://cloud.google.com/sdk/docs/install"
    command -v gke-gcloud-auth-plugin >/dev/null 2>&1 ||
      need "gke-gcloud-auth-plugin" "gcloud components install gke-gcloud-auth-plugin"
    if command -v gcloud >/dev/null 2>&1 && ! gcloud auth application-default print-access-token >/dev/null 2>&1; then
      need "Google application-default credentials" "gcloud auth application-default login"
    fi
    ;;
  aws)
    if ! command -v aws >/dev/null 2>&1; then
      need "AWS CLI (aws)" "install it: https://docs.aws.amazon.com/cli/latest/userguide/getting-started-install.html"
    elif ! aws sts get-caller-identity >/dev/null 2>&1; then
      need "AWS credentials" "aws configure sso && aws sso login (or export AWS_PROFILE=...)"
    fi
    ;;
esac
if [ "$action" = destroy ] && ! command -v kubectl >/dev/null 2>&1; then
  need "kubectl" "install it: https://kubernetes.io/docs/tasks/tools/ (destroy waits for the load balancer to go)"
fi
# Refused before `pulumi up --config` would write a value the program refuses into the stack file.
if [ "$action" = sleep ] || [ "$action" = wake ]; then
  [ "$cloud" != local ] ||
    { echo "error: make $action: $stack is a local stack (cloud: local); stop or start the local cluster itself" >&2; exit 2; }
  [ "$(scripts/ci-stacks.sh production "$stack")" = false ] ||
    { echo "error: make $action: $stack is a production stack (production: true), which never sleeps" >&2; exit 2; }
fi
[ "$missing" -eq 0 ] || { echo "make $action STACK=$stack: fix what is listed above, then run it again." >&2; exit 1; }

# Use the backend the user is logged in to; otherwise keep state in the repo
# (ignored by git). A file backend encrypts secrets with a passphrase that must
# survive this shell: without it the stack's secrets cannot be decrypted.
if ! pulumi whoami >/dev/null 2>&1; then
  if [ -z "${PULUMI_CONFIG_PASSPHRASE:-}" ] && [ -z "${PULUMI_CONFIG_PASSPHRASE_FILE:-}" ]; then
    echo "Not logged in to a Pulumi backend; the local file backend needs a passphrase for secrets." >&2
    echo "  -> export PULUMI_CONFIG_PASSPHRASE=... (keep it in your password manager), or: pulumi login" >&2
    exit 1
  fi
  mkdir -p .pulumi-state
  pulumi login "file://$PWD/.pulumi-state"
fi

# Destroy in two steps. Deleting a LoadBalancer Service makes the cloud
# controller running in the cluster delete the cloud load balancer (NLB /
# forwarding rule) behind it; the Service object stays listed until then (its
# service.kubernetes.io/load-balancer-cleanup finalizer). One plain `pulumi
# destroy` does not wait for that controller, so the cluster can go first and
# leave an orphaned, billed load balancer that also blocks deleting the
# subnets (AWS) or the static IP (GCP). So: step 1 deletes the Airflow release
# and every LoadBalancer Service the stack made itself, waits until no
# LoadBalancer Service is left in the namespace, then step 2 deletes the rest.
# Protected resources (production) are refused by pulumi destroy until
# released with `pulumi state unprotect` (docs/operations/destroy.md).
#
# Why step 1 also takes the stack's own LoadBalancer Services: on AWS with
# ui.domain the HTTPS Service (components/aws/https.py) is the platform's, not
# the chart's, so it is no dependent of the release and the wait would see it
# until its timeout. Waiting only for the chart's Services would not do: step
# 2 deletes that Service before the cluster, but without a DNS zone it carries
# pulumi.com/skipAwait, which skips waiting for the deletion too
# (pulumi/pulumi-kubernetes#3147), so the cluster could go before its NLB.
# scripts/destroy_state.py picks them from the state by type, not by name.
#
# GKE: step 1 also deletes the HTTPS Gateway (awaited: its finalizer holds it
# until the controller has deleted the load balancer). The NEG controller then
# deletes the network endpoint groups of the deleted Services, asynchronously;
# NEGs left behind when the cluster goes first block deleting the VPC, so the
# script waits until none is left in the stack's network.
#
# AWS: the repositories the ECR pull-through cache created on first pull
# (`docker-hub-<stack>/...`) were never Pulumi's; once the stack is gone they
# are deleted too (images in them are cached copies of Docker Hub's).
wait_until_gone() {  # what, command...: poll every 10 s for 15 min until the command prints nothing
  local what="$1" deadline=$((SECONDS + 900))
  shift
  # Captured, not piped into `grep -q`: grep would stop reading at the first line and,
  # under pipefail, the writer's SIGPIPE would end the wait early.
  while [ -n "$("$@")" ]; do
    [ "$SECONDS" -lt "$deadline" ] || { echo "destroy: $what still there after 15 min; run make destroy again once it is gone" >&2; exit 1; }
    sleep 10
  done
}

load_balancer_services() {
  kubectl get services -n "$1" -o jsonpath='{range .items[?(@.spec.type=="LoadBalancer")]}{.metadata.name}{"\n"}{end}'
}

destroy_stack() {
  local state targets namespace kubeconfig urn region prefix project network
  state=$(pulumi stack export --stack "$stack")
  read_state() { .venv/bin/python scripts/destroy_state.py "$1" <<<"$state"; }
  targets=$(read_state targets)
  if [ -n "$targets" ]; then
    local -a target_args=()
    while IFS= read -r urn; do target_args+=(--target "$urn"); done <<<"$targets"
    namespace=$(pulumi stack output namespace --stack "$stack")
    kubeconfig=$(mktemp)
    trap 'rm -f "$kubeconfig"' RETURN
    # Clouds export their kubeconfig; a local stack uses the current context.
    if pulumi stack output kubeconfig --show-secrets --stack "$stack" >"$kubeconfig" 2>/dev/null; then
      export KUBECONFIG="$kubeconfig"
    fi
    echo "destroy: 1/2 the Airflow release, the stack's LoadBalancer Services and Gateways" >&2
    pulumi destroy --stack "$stack" "${target_args[@]}" --target-dependents
    echo "destroy: waiting for the cloud load balancers of namespace $namespace to be deleted" >&2
    wait_until_gone "a LoadBalancer Service (kubectl -n $namespace describe services)" load_balancer_services "$namespace"
    while read -r project network; do
      [ -n "$network" ] || continue
      echo "destroy: waiting for GKE to delete the network endpoint groups in $network" >&2
      wait_until_gone "a network endpoint group in $network (gcloud compute network-endpoint-groups list)" \
        gcloud compute network-endpoint-groups list --project "$project" --filter="network~/$network\$" --format="value(name)"
    done <<<"$(read_state negs)"
  fi
  echo "destroy: 2/2 everything else" >&2
  pulumi destroy --stack "$stack"
  while read -r region prefix; do
    [ -n "$prefix" ] || continue
    echo "destroy: deleting the ECR repositories the pull-through cache created under $prefix/" >&2
    for repository in $(aws ecr describe-repositories --region "$region" --output text \
      --query "repositories[?starts_with(repositoryName, '$prefix/')].repositoryName"); do
      aws ecr delete-repository --region "$region" --repository-name "$repository" --force >/dev/null
    done
  done <<<"$(read_state ecr)"
}

# After `up` and `wake`, the same health check as `make status`: every Airflow component
# healthy within HEALTH_WAIT seconds (10 minutes), or a plain failure naming what is not.
# A sleeping stack (`sleep: true`) has no node to run Airflow on: nothing to wait for.
health_wait() {
  if [ "$(pulumi config get "$SLEEP_KEY" --stack "$stack" 2>/dev/null)" = true ]; then
    echo "up: $stack is asleep (sleep: true): no Airflow pod runs, health check skipped; make wake STACK=$stack wakes it" >&2
    return 0
  fi
  .venv/bin/python -m monitoring.status --stack "$stack" --health-only --wait "${HEALTH_WAIT:-600}"
}

# `make sleep` / `make wake`: `pulumi up` with the key set. `--config` also writes it into
# Pulumi.<stack>.yaml (the CLI saves what --config sets), so the working tree then says
# what the stack is; commit it, or the next deploy of the committed file applies that
# file's value again (docs/operations/sleep.md, "Sleep, wake and the deploy workflow").
SLEEP_KEY=airflow-platform:sleep

pulumi stack select --create "$stack"
case "$action" in
  up) pulumi up --stack "$stack" && health_wait ;;
  sleep) pulumi up --stack "$stack" --config "$SLEEP_KEY=true" && health_wait ;;
  wake) pulumi up --stack "$stack" --config "$SLEEP_KEY=false" && health_wait ;;
  preview) pulumi preview --diff --stack "$stack" ;;
  destroy) destroy_stack ;;
  *) echo "error: unknown action $action (up | sleep | wake | preview | destroy)" >&2; exit 2 ;;
esac
