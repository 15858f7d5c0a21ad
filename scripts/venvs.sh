#!/usr/bin/env bash
# Build the two virtualenvs `make test` needs, each only when its pinned
# requirements changed since it was built:
#   .venv       the Pulumi program, lint and infrastructure tests (requirements-dev.txt)
#   .venv-dags  the DAG and runtime tests on the deployed Airflow (requirements-dags.txt)
#   .venv-airflow-previous  the previously deployed Airflow, for the runtime
#               suite's upgrade test (requirements-airflow-previous.txt)
# Both are installed with uv, in parallel: uv downloads in parallel and skips
# pip's byte-compilation of every module (the cloud SDKs hold tens of
# thousands), which is most of a cold pip install. uv itself is a pinned binary
# wheel that pip puts into .venv first. Usage: scripts/venvs.sh [all | main | dags | previous]
set -euo pipefail
cd "$(dirname "$0")/.."

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
declare -A requirements=(
  [.venv]=requirements-dev.txt [.venv-dags]=requirements-dags.txt
  [.venv-airflow-previous]=requirements-airflow-previous.txt
)
declare -A flags=([.venv]="" [.venv-dags]=--compile-bytecode [.venv-airflow-previous]=--compile-bytecode)
declare -A sources=(
  [.venv]="requirements-dev.txt requirements.txt bootstrap/requirements.txt"
  [.venv-dags]="requirements-dags.txt"
  [.venv-airflow-previous]="requirements-airflow-previous.txt"
)
case "$which" in
  all) wanted=(.venv .venv-dags .venv-airflow-previous) ;;
  main) wanted=(.venv) ;;
  dags) wanted=(.venv-dags) ;;
  previous) wanted=(.venv-airflow-previous) ;;
  *) echo "usage: scripts/venvs.sh [all | main | dags | previous]" >&2; exit 2 ;;
esac

stale=()
for venv in "${wanted[@]}"; do
  # shellcheck disable=SC2086 # the list of files is meant to split
  sum="$(checksum ${sources[$venv]})"
  if [[ ! -x "$venv/bin/python" || ! -f "$venv/.requirements.sha256" || "$(cat "$venv/.requirements.sha256")" != "$sum" ]]; then
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
  local venv="$1" start=$SECONDS
  say "installing ${requirements[$venv]} into $venv"
  if [[ "$venv" != ".venv" ]]; then
    rm -rf "$venv"
    "$uv" venv --quiet --python "$python" "$venv"
  fi
  # shellcheck disable=SC2086 # an empty flag must vanish
  "$uv" pip install --quiet --python "$venv/bin/python" ${flags[$venv]} -r "${requirements[$venv]}"
  # shellcheck disable=SC2086
  checksum ${sources[$venv]} >"$venv/.requirements.sha256"
  say "$venv ready in $((SECONDS - start)) s"
}

pids=()
for venv in "${stale[@]}"; do
  build "$venv" &
  pids+=("$!")
done
status=0
for pid in "${pids[@]}"; do wait "$pid" || status=1; done
exit "$status"
