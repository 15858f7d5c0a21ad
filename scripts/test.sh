#!/usr/bin/env bash
# `make test`: the virtualenvs, then the steps it names (the Makefile's TEST_STEPS) in
# parallel. Each step's output is printed whole when the step ends (never interleaved),
# a line at least every 10 s says which steps still run, and the run ends with one line
# per reason tests were skipped, then the totals over every pytest summary any step printed:
#   N passed, N failed, N skipped
# (errors count as failed). Usage: scripts/test.sh STEP... ; exit 0 when every step passed.
set -uo pipefail
cd "$(dirname "$0")/.."
# shellcheck source=scripts/progress.sh
source scripts/progress.sh

# `pytest -q` ends with e.g. "812 passed, 23 skipped, 2 warnings in 20.51s", pytest without -q
# wraps the same in "=" signs. Every such line of every log is added up.
totals() {
  awk '
    { line = $0; gsub(/^=+ | =+$/, "", line) }
    line !~ /^[0-9]+ [a-z]+(, [0-9]+ [a-z]+)* in [0-9.]+s( \([0-9:]+\))?$/ { next }
    {
      sub(/ in [0-9.]+s.*$/, "", line)
      n = split(line, parts, ", ")
      for (i = 1; i <= n; i++) { split(parts[i], count, " "); total[count[2]] += count[1] }
    }
    END {
      printf "%d passed, %d failed, %d skipped\n", total["passed"], total["failed"] + total["error"] + total["errors"], total["skipped"]
    }
  ' "$@" /dev/null
}

# tests/conftest.py prints "skipped: N test(s): REASON"; the same reason from several steps is one line.
skip_reasons() {
  awk '
    /^skipped: [0-9]+ test\(s\): / {
      n = $2; reason = $0; sub(/^skipped: [0-9]+ test\(s\): /, "", reason)
      if (!(reason in count)) order[++reasons] = reason
      count[reason] += n
    }
    END { for (i = 1; i <= reasons; i++) printf "skipped: %d test(s): %s\n", count[order[i]], order[i] }
  ' "$@" /dev/null
}

[ $# -gt 0 ] || { echo "usage: scripts/test.sh STEP..." >&2; exit 2; }
echo "test: the virtualenvs (scripts/venvs.sh), then in parallel: $*; each step's output appears when it ends"
if ! scripts/venvs.sh all; then
  echo "test: the virtualenvs could not be built (above)"
  exit 1
fi

# TEST_PRIORITY_STEP (the Makefile's: the step that takes longest) runs at normal priority, the
# others at `nice -n 10`. The run lasts as long as that step, and on 2 cores the others would take
# the CPU from it; niced, they get what it leaves while it waits on its own processes. (Linux's
# autogroup shares the CPU between sessions first, so this ranks the steps' own processes only;
# the runtime suite's Airflow processes, each in a session of its own, get a session's share.)
run_step() {
  local niceness=10
  [[ "$1" == "${TEST_PRIORITY_STEP:-}" ]] && niceness=0
  nice -n "$niceness" make --no-print-directory "$1" >"$jobs_dir/$1.log" 2>&1
}
failed=()
step_ended() {
  cat "$jobs_dir/$1.log"
  if (($2 == 0)); then
    echo "test: $1 passed in $3 s"
  else
    echo "test: $1 FAILED (exit $2) after $3 s"
    failed+=("$1")
  fi
}
for step in "$@"; do
  start_job "$step" run_step "$step"
done
wait_jobs test step_ended
logs=()
for step in "$@"; do logs+=("$jobs_dir/$step.log"); done

echo
if ((${#failed[@]})); then
  echo "test: FAILED: ${failed[*]} ($((SECONDS)) s)"
else
  echo "test: every step passed ($((SECONDS)) s)"
fi
skip_reasons "${logs[@]}"
totals "${logs[@]}"
((${#failed[@]} == 0))
