#!/usr/bin/env bash
# Build the two virtualenvs `make test` needs, each only when its pinned
# requirements changed since it was built:
#   .venv       the Pulumi program, lint and infrastructure tests (requirements-dev.txt)
#   .venv-dags  the DAG tests on the deployed Airflow (requirements-dags.txt)
# Both are installed with uv, in parallel: uv downloads in parallel and skips
# pip's byte-compilation of every module (the cloud SDKs hold tens of
# thousands), which is most of a cold pip install. uv itself is a pinned binary
# wheel that pip puts into .venv first. Usage: scripts/venvs.sh [all | main | dags]
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

# `uv --version` prints "uv 0.13.9 (<platform>)".
if [[ ! -x "$uv" ]] || [[ "$("$uv" --version 2>/dev/null)" != "uv $UV_VERSION "* ]]; then
  say "installing uv $UV_VERSION into .venv with pip (one binary wheel)"
  [[ -x .venv/bin/python ]] || "$python" -m venv .venv
  .venv/bin/python -m pip install --quiet --disable-pip-version-check "uv==$UV_VERSION"
fi

# build VENV REQUIREMENTS COMPILE STAMP-SOURCE...: install unless the stamp matches.
build() {
  local venv="$1" requirements="$2" compile="$3"
  shift 3
  local stamp="$venv/.requirements.sha256" wanted
  wanted="$(checksum "$@")"
  if [[ -x "$venv/bin/python" && -f "$stamp" && "$(cat "$stamp")" == "$wanted" ]]; then
    return 0
  fi
  local start=$SECONDS
  say "installing $requirements into $venv"
  if [[ "$venv" != ".venv" ]]; then
    rm -rf "$venv"
    "$uv" venv --quiet --python "$python" "$venv"
  fi
  "$uv" pip install --quiet --python "$venv/bin/python" $compile -r "$requirements"
  echo "$wanted" >"$stamp"
  say "$venv ready in $((SECONDS - start)) s"
}

pids=()
if [[ "$which" != "dags" ]]; then
  # Not compiled: Python compiles what the tests import on first use; the
  # cloud SDKs' other modules are never imported.
  build .venv requirements-dev.txt "" requirements-dev.txt requirements.txt bootstrap/requirements.txt &
  pids+=("$!")
fi
if [[ "$which" != "main" ]]; then
  # Compiled: the DAG tests run with PYTHONDONTWRITEBYTECODE (nothing may land
  # in dags/), so Airflow would otherwise be recompiled from source every run.
  build .venv-dags requirements-dags.txt --compile-bytecode requirements-dags.txt &
  pids+=("$!")
fi
status=0
for pid in "${pids[@]}"; do wait "$pid" || status=1; done
exit "$status"
