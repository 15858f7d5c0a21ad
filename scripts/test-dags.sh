#!/usr/bin/env bash
# Run the DAG tests (tests/dags) in their own virtualenv, .venv-dags, on the
# Airflow version the stack deploys. Creates the venv from requirements-dags.txt
# when it is missing, and rebuilds it when that file changed since it was built.
# Extra arguments go to pytest (e.g. scripts/test-dags.sh -k branching -x).
# Exit code: pytest's.
set -euo pipefail

repo_root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$repo_root"

venv=".venv-dags"
requirements="requirements-dags.txt"
stamp="$venv/.requirements.sha256"
python="${PYTHON:-python3}"

checksum() { "$python" -c 'import hashlib,sys; print(hashlib.sha256(open(sys.argv[1],"rb").read()).hexdigest())' "$1"; }

"$python" -c 'import sys; sys.exit(sys.version_info < (3, 11))' || {
  echo "test-dags: $python is $("$python" --version 2>&1); Python 3.11+ is needed" >&2
  exit 2
}

wanted="$(checksum "$requirements")"
if [[ ! -x "$venv/bin/python" || ! -f "$stamp" || "$(cat "$stamp")" != "$wanted" ]]; then
  echo "test-dags: building $venv from $requirements (first time: about a minute)" >&2
  rm -rf "$venv"
  "$python" -m venv "$venv"
  "$venv/bin/python" -m pip install --quiet --disable-pip-version-check -r "$requirements"
  echo "$wanted" > "$stamp"
fi

# No __pycache__ inside dags/: the local stack packs that folder into a ConfigMap.
export PYTHONDONTWRITEBYTECODE=1
exec "$venv/bin/python" -m pytest tests/dags -p no:cacheprovider "$@"
