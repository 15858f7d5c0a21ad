# shellcheck shell=bash
# Parallel jobs that report, sourced by scripts/venvs.sh and scripts/test.sh: while
# any job runs, a line at least every PROGRESS_SECONDS, so that a cold `make test`
# (virtualenvs, mypy's first run) never sits silent.
#   start_job NAME COMMAND...      run COMMAND in the background as NAME
#   wait_jobs LABEL ON_DONE        wait for every job; calls `ON_DONE NAME STATUS SECONDS` as each
#                                  ends and prints "LABEL: still running after N s: NAMES" meanwhile;
#                                  returns 1 if any job failed
# jobs_dir is a scratch folder for the caller too (logs), removed on exit.
PROGRESS_SECONDS="${PROGRESS_SECONDS:-10}"
jobs_dir=$(mktemp -d)
trap 'rm -rf "$jobs_dir"' EXIT
declare -a _job_names=()
_jobs_started=$SECONDS

# Where a job's status goes; a name may hold a slash (policy/venv).
_done_file() { echo "$jobs_dir/${1//\//_}.done"; }

start_job() {
  local name="$1"
  shift
  _job_names+=("$name")
  # The status file is how the loop below learns that a job ended, and how.
  ( start=$SECONDS; "$@"; echo "$? $((SECONDS - start))" >"$(_done_file "$name")" ) &
}

wait_jobs() {
  local label="$1" on_done="$2" name status seconds any_failed=0 last_line=$SECONDS
  local -a running=("${_job_names[@]}") still
  while ((${#running[@]})); do
    still=()
    for name in "${running[@]}"; do
      if [[ -f "$(_done_file "$name")" ]]; then
        read -r status seconds <"$(_done_file "$name")"
        "$on_done" "$name" "$status" "$seconds"
        ((status == 0)) || any_failed=1
        last_line=$SECONDS
      else
        still+=("$name")
      fi
    done
    running=("${still[@]+"${still[@]}"}")
    if ((${#running[@]} && SECONDS - last_line >= PROGRESS_SECONDS)); then
      echo "$label: still running after $((SECONDS - _jobs_started)) s: ${running[*]}" >&2
      last_line=$SECONDS
    fi
    ((${#running[@]} == 0)) || sleep 1
  done
  wait
  _job_names=()
  return "$any_failed"
}
