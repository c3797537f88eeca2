# Helpers for boot tests (tests/boot/*.sh). A boot test runs mhv once or more through
# tools/mhv-run and checks what a user would see: serial lines and the exit status.
# It exits 0 when every check held, 1 when one failed, 77 when it could not run here.
set -u
ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
TEST_NAME=$(basename "$0" .sh)
LOG_DIR=${MHV_TEST_LOGS:-$ROOT/build/test-logs}
mkdir -p "$LOG_DIR"
failures=0
LOG="" RC=""

# run_mhv NAME ARGS...: boots mhv with tools/mhv-run ARGS; sets LOG (the serial log) and RC.
run_mhv() {
  local name=$1
  shift
  LOG="$LOG_DIR/$TEST_NAME.$name.log"
  rm -f "$LOG" "$LOG".*
  "$ROOT/tools/mhv-run" --quiet --log "$LOG" "$@" 2>"$LOG.runner"
  RC=$?
  [ -f "$LOG" ] || : > "$LOG"
  echo "  ran: mhv-run $* -> exit $RC"
}

fail() {
  echo "  FAIL: $*"
  failures=$((failures + 1))
}

expect_rc() {
  [ "$RC" = "$1" ] || fail "exit status $RC, expected $1 ($(tail -n 2 "$LOG.runner" 2>/dev/null | tr '\n' ' '))"
}

# expect_line REGEX: some line of the log matches the extended regex.
expect_line() {
  grep -Eq -- "$1" "$LOG" || fail "no line matches /$1/"
}

expect_no_line() {
  grep -Eq -- "$1" "$LOG" && fail "unexpected line matches /$1/: $(grep -Em1 -- "$1" "$LOG")"
  return 0
}

# expect_count N REGEX: exactly N lines match.
expect_count() {
  local n
  n=$(grep -Ec -- "$2" "$LOG")
  [ "$n" = "$1" ] || fail "$n lines match /$2/, expected $1"
}

# expect_order REGEX1 REGEX2: the first line matching REGEX1 comes before the first matching REGEX2.
expect_order() {
  local a b
  a=$(grep -Enm1 -- "$1" "$LOG" | cut -d: -f1)
  b=$(grep -Enm1 -- "$2" "$LOG" | cut -d: -f1)
  [ -n "$a" ] && [ -n "$b" ] && [ "$a" -lt "$b" ] || fail "expected /$1/ (line ${a:-none}) before /$2/ (line ${b:-none})"
}

# skip_if_runner_skipped: a run that the runner skipped (no nested VMX) skips the test.
skip_if_runner_skipped() {
  if [ "$RC" = 77 ]; then
    echo "  SKIP: $(cat "$LOG.runner")"
    exit 77
  fi
}

finish() {
  if [ $failures -gt 0 ]; then
    echo "  serial log ($LOG), last lines:"
    tail -n 15 "$LOG" | sed 's/^/    | /'
    exit 1
  fi
  exit 0
}
