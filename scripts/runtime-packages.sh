#!/usr/bin/env bash
# The system packages `make test` runs besides the virtualenvs: for the runtime
# suite (tests/runtime) PostgreSQL's server binaries, Chromium and git; for the
# alert rules' tests (tests/monitoring) promtool, from the prometheus package.
# Installs those missing with apt-get (Debian/Ubuntu; as root, or through sudo),
# once. `.ci/run` and the pull-request workflow both run it before `make test`.
# Usage: scripts/runtime-packages.sh
set -euo pipefail

missing=()
compgen -G "/usr/lib/postgresql/*/bin/postgres" >/dev/null || command -v initdb >/dev/null || missing+=(postgresql)
[[ -x "${RUNTIME_CHROMIUM:-/usr/bin/chromium}" ]] || missing+=(chromium)
command -v git >/dev/null || missing+=(git)
command -v promtool >/dev/null || missing+=(prometheus)
[[ ${#missing[@]} -gt 0 ]] || exit 0

echo "setup: installing ${missing[*]} with apt-get (make test runs them)" >&2
sudo=()
[[ "$(id -u)" -eq 0 ]] || sudo=(sudo)
"${sudo[@]}" apt-get update -qq
DEBIAN_FRONTEND=noninteractive "${sudo[@]}" apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
