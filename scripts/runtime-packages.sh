#!/usr/bin/env bash
# The system packages the runtime suite (tests/runtime) runs besides the
# virtualenvs: PostgreSQL's server binaries, Chromium and git. Installs those
# missing with apt-get (Debian/Ubuntu; as root, or through sudo), once.
# Usage: scripts/runtime-packages.sh
set -euo pipefail

missing=()
compgen -G "/usr/lib/postgresql/*/bin/postgres" >/dev/null || command -v initdb >/dev/null || missing+=(postgresql)
[[ -x "${RUNTIME_CHROMIUM:-/usr/bin/chromium}" ]] || missing+=(chromium)
command -v git >/dev/null || missing+=(git)
[[ ${#missing[@]} -gt 0 ]] || exit 0

echo "setup: installing ${missing[*]} with apt-get (the runtime suite runs them)" >&2
sudo=()
[[ "$(id -u)" -eq 0 ]] || sudo=(sudo)
"${sudo[@]}" apt-get update -qq
DEBIAN_FRONTEND=noninteractive "${sudo[@]}" apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
