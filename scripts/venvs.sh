#!/usr/bin/env bash
# Build the virtualenvs, each only when its pinned requirements changed since it
# was built, or when the Python it was made with is gone:
#   .venv         the Pulumi program, lint and infrastructure tests (requirements-dev.txt)
#   .venv-dags    the DAG and runtime tests on the deployed Airflow (requirements-dags.txt)
#   .venv-airflow-previous  the previously deployed Airflow, for the runtime suite's
#                 upgrade test (requirements-airflow-previous.txt)
#   .venv-docs    the documentation site's generator, mkdocs (requirements-docs.txt)
#   policy/venv   the policy pack's, which `pulumi preview|up --policy-pack policy` runs
#                 (policy/PulumiPolicy.yaml names it; the CLI does not build it, see below)
# All are installed with uv, in parallel: uv downloads in parallel and skips
# pip's byte-compilation of every module (the cloud SDKs hold tens of
# thousands), which is most of a cold pip install. uv itself is a pinned binary
# wheel that pip puts into .venv first. While an install runs, a line every 10 s
# says so (scripts/progress.sh). Usage: scripts/venvs.sh [all | main | dags | previous | policy | docs]
set -euo pipefail
cd "$(dirname "$0")/.."
# shellcheck source=scripts/progress.sh
source scripts/progress.sh

# Latest uv on PyPI when this was written; a binary wheel (no Rust toolchain).
UV_VERSION="0.13.9"
python="${PYTHON:-python3}"
which="${1:-all}"
uv=".venv/bin/uv"

scripts/check-python.sh "$python"

checksum() { "$python" -c 'import hashlib,sys; print(hashlib.sha256(b"".join(open(f,"rb").read() for f in sys.argv[1:])).hexdigest())' "$@"; }
say() { echo "setup: $*" >&2; }

# Each virtualenv: the requirements it installs, uv's extra flag, and the files
# its stamp covers (requirements-dev.txt includes the other two).
# .venv is not byte-compiled: Python compiles what the tests import on first
# use, and most of the cloud SDKs' modules are never imported.
# .venv-dags is: the DAG tests run with PYTHONDONTWRITEBYTECODE (nothing may
# land in dags/), so Airflow would otherwise be compiled again on every run.
# The policy pack's virtualenv: the Pulumi CLI's pip toolchain only checks that
# policy/venv/bin/python exists (pulumi sdk/python/toolchain/pip.go, ValidateVenv and
# IsVirtualEnv) and runs it; it installs nothing for a local pack (pkg/engine/update.go),
# so CI builds it here first (.github/actions/setup), from policy/requirements.txt.
declare -A requirements=(
  [.venv]=requirements-dev.txt [.venv-dags]=requirements-dags.txt
  [.venv-airflow-previous]=requirements-airflow-previous.txt [policy/venv]=policy/requirements.txt
  [.venv-docs]=requirements-docs.txt
)
declare -A flags=([.venv]="" [.venv-dags]=--compile-bytecode [.venv-airflow-previous]=--compile-bytecode [policy/venv]="" [.venv-docs]="")
declare -A sources=(
  [.venv]="requirements-dev.txt requirements.txt bootstrap/requirements.txt"
  [.venv-dags]="requirements-dags.txt"
  [.venv-airflow-previous]="requirements-airflow-previous.txt"
  [policy/venv]="policy/requirements.txt"
  [.venv-docs]="requirements-docs.txt"
)
case "$which" in
  all) wanted=(.venv .venv-dags .venv-airflow-previous .venv-docs) ;;
  docs) wanted=(.venv-docs) ;;
  main) wanted=(.venv) ;;
  dags) wanted=(.venv-dags) ;;
  previous) wanted=(.venv-airflow-previous) ;;
  policy) wanted=(policy/venv) ;;
  *) echo "usage: scripts/venvs.sh [all | main | dags | previous | policy | docs]" >&2; exit 2 ;;
esac

# A virtualenv's bin/python links to the interpreter it was made with; after a pyenv
# or Homebrew upgrade, or a deleted interpreter, it no longer runs and every tool in
# the venv fails with a cryptic "bad interpreter". Such a venv is rebuilt from scratch.
for venv in .venv "${wanted[@]}"; do
  if [[ -e "$venv/pyvenv.cfg" ]] && ! "$venv/bin/python" -c '' 2>/dev/null; then
    say "$venv was made with a Python that is gone ($(readlink "$venv/bin/python" || echo "$venv/bin/python")): rebuilding it"
    rm -rf "$venv"
  fi
done

stale=()
for venv in "${wanted[@]}"; do
  # shellcheck disable=SC2086 # the list of files is meant to split
  sum="$(checksum ${sources[$venv]})"
  if [[ ! -x "$venv/bin/python" || ! -f "$venv/.requirements.sha256" || "$(<"$venv/.requirements.sha256")" != "$sum" ]]; then
    stale+=("$venv")
  fi
done
[[ ${#stale[@]} -gt 0 ]] || exit 0

# `uv --version` prints "uv 0.13.9 (<platform>)".
if [[ ! -x "$uv" ]] || [[ "$("$uv" --version 2>/dev/null)" != "uv $UV_VERSION "* ]]; then
  say "installing uv $UV_VERSION into .venv with pip (one binary wheel)"
  [[ -x .venv/bin/python ]] || "$python" -m venv .venv
  .venv/bin/python -m pip install --quiet --disable-pip-version-check "uv==$UV_VERSION"
fi

build() {
  local venv="$1"
  if [[ "$venv" != ".venv" ]]; then
    rm -rf "$venv"
    "$uv" venv --quiet --python "$python" "$venv"
  fi
  # shellcheck disable=SC2086 # an empty flag must vanish
  "$uv" pip install --quiet --python "$venv/bin/python" ${flags[$venv]} -r "${requirements[$venv]}"
  # shellcheck disable=SC2086
  checksum ${sources[$venv]} >"$venv/.requirements.sha256"
}

built() {
  if (($2 == 0)); then say "$1 ready in $3 s"; else say "installing ${requirements[$1]} into $1 failed (above)"; fi
}

for venv in "${stale[@]}"; do
  say "installing ${requirements[$venv]} into $venv"
  start_job "$venv" build "$venv"
done
wait_jobs setup built
