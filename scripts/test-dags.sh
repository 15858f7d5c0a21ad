#!/usr/bin/env bash
# Run the DAG tests (tests/dags) in their own virtualenv, .venv-dags, on the
# Airflow version the stack deploys (scripts/venvs.sh builds it).
# Extra arguments go to pytest (e.g. scripts/test-dags.sh -k branching -x).
# Exit code: pytest's, but 0 when it collects no test (scripts/pytest.sh).
set -euo pipefail

repo_root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$repo_root"

# Builds .venv-dags (with uv) when missing or when requirements-dags.txt changed.
scripts/venvs.sh dags

# No __pycache__ inside dags/: the local stack packs that folder into a ConfigMap.
export PYTHONDONTWRITEBYTECODE=1
exec scripts/pytest.sh .venv-dags tests/dags -p no:cacheprovider "$@"
