#!/usr/bin/env bash
# Fail early, and say so, when the Python interpreter is missing or too old.
set -euo pipefail
python="${1:-python3}"
if ! command -v "$python" >/dev/null 2>&1; then
  echo "error: $python not found. Install Python 3.11 or newer (https://www.python.org/downloads/)." >&2
  exit 1
fi
if ! "$python" -c 'import sys; sys.exit(sys.version_info < (3, 11))'; then
  echo "error: $("$python" --version 2>&1) is too old; airflow-platform needs Python 3.11 or newer." >&2
  echo "       Point make at another interpreter: make PYTHON=python3.12 ..." >&2
  exit 1
fi
