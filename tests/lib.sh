# SPDX-License-Identifier: BSD-2-Clause
# Helpers for boot tests (tests/boot/*.sh). A boot test runs mhv once or more through
# tools/mhv-run and checks what a user would see: serial lines and the exit status.
# It exits 0 when every check held, 1 when one failed, 77 when it could not run here. Every
# check prints "  PASS: ..." or "  FAIL: ..."; the script ends with "PASS: <test>" or
# "FAIL: <test> (...)", so a script run on its own (bash tests/boot/bochs_smp.sh) says how it went.
set -u
ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
TEST_NAME=$(basename "$0" .sh)
# MHV_BUILD=dir: the mhv.elf and guests of another build folder (default build/; a relative
# path is taken from the top of the tree), e.g. MHV_BUILD=build/release.
BUILD_DIR=${MHV_BUILD:-$ROOT/build}
case $BUILD_DIR in /*) ;; *) BUILD_DIR=$ROOT/$BUILD_DIR ;; esac
LOG_DIR=${MHV_TEST_LOGS:-$ROOT/build/test-logs}
mkdir -p "$LOG_DIR"
failures=0 checks=0
LOG="" RC=""

# run_mhv NAME ARGS...: boots mhv ($BUILD_DIR/mhv.elf unless ARGS name another --elf) with
# tools/mhv-run ARGS; sets LOG (the serial log) and RC.
run_mhv() {
  local name=$1
  shift
  LOG="$LOG_DIR/$TEST_NAME.$name.log"
  rm -f "$LOG" "$LOG".*
  "$ROOT/tools/mhv-run" --quiet --log "$LOG" --elf "$BUILD_DIR/mhv.elf" "$@" 2>"$LOG.runner"
  RC=$?
  [ -f "$LOG" ] || : > "$LOG"
  echo "  ran: mhv-run $* -> exit $RC"
}

fail() {
  echo "  FAIL: $*"
  failures=$((failures + 1))
  checks=$((checks + 1))
}

pass() {
  echo "  PASS: $*"
  checks=$((checks + 1))
}

expect_rc() {
  if [ "$RC" = "$1" ]; then pass "exit status $1"
  else fail "exit status $RC, expected $1 ($(tail -n 2 "$LOG.runner" 2>/dev/null | tr '\n' ' '))"; fi
}

# expect_line REGEX: some line of the log matches the extended regex.
expect_line() {
  if grep -Eq -- "$1" "$LOG"; then pass "a line matches /$1/"; else fail "no line matches /$1/"; fi
}

expect_no_line() {
  if grep -Eq -- "$1" "$LOG"; then fail "unexpected line matches /$1/: $(grep -Em1 -- "$1" "$LOG")"
  else pass "no line matches /$1/"; fi
}

# expect_count N REGEX: exactly N lines match.
expect_count() {
  local n
  n=$(grep -Ec -- "$2" "$LOG")
  if [ "$n" = "$1" ]; then pass "$1 lines match /$2/"; else fail "$n lines match /$2/, expected $1"; fi
}

# expect_order REGEX1 REGEX2: the first line matching REGEX1 comes before the first matching REGEX2.
expect_order() {
  local a b
  a=$(grep -Enm1 -- "$1" "$LOG" | cut -d: -f1)
  b=$(grep -Enm1 -- "$2" "$LOG" | cut -d: -f1)
  if [ -n "$a" ] && [ -n "$b" ] && [ "$a" -lt "$b" ]; then pass "/$1/ before /$2/"
  else fail "expected /$1/ (line ${a:-none}) before /$2/ (line ${b:-none})"; fi
}

# skip_if_runner_skipped: a run that the runner skipped (no nested VMX) skips the test.
skip_if_runner_skipped() {
  if [ "$RC" = 77 ]; then
    skip "$(cat "$LOG.runner")"
  fi
}

# expect_guest_checks NAME: a C test guest (tests/cguests) that checks its own outcome passed
# every check and stopped with status 0; each failed check, with its "#" detail lines, fails.
expect_guest_checks() {
  local g=$1 bad
  bad=$(awk -v vm="[$g]" 'index($0, vm " ") == 1 { rest = substr($0, length(vm) + 2)
          if (rest ~ /^not ok/) { print; more = 1; next }
          if (more && rest ~ /^#   /) { print; next }
          more = 0 }' "$LOG")
  if [ -n "$bad" ]; then
    while IFS= read -r line; do fail "$line"; done <<< "$bad"
  elif grep -Eq "^\[$g\] done: [0-9]+ checks, 0 failed$" "$LOG"; then
    pass "$g: every check passed ($(grep -Eo "^\[$g\] done: [0-9]+ checks" "$LOG" | sed 's/.*done: //'))"
  else
    fail "$g: stopped before its 'done:' line: $(grep -E "^mhv: vm $g: stopped" "$LOG")"
  fi
  expect_line "^mhv: vm $g: stopped: debug-exit port 0xf4 written with 0 by vCPU 0 \(status 0\)$"
}

# skip WHY: the test cannot run here (no nested VMX, no images): exits 77.
skip() {
  echo "  SKIP: $*"
  echo "SKIP: $TEST_NAME"
  exit 77
}

finish() {
  if [ $failures -gt 0 ]; then
    if [ -n "$LOG" ]; then
      echo "  log ($LOG), last lines:"
      tail -n 15 "$LOG" | sed 's/^/    | /'
    fi
    echo "FAIL: $TEST_NAME ($failures of $checks checks failed)"
    exit 1
  fi
  echo "PASS: $TEST_NAME ($checks checks)"
  exit 0
}
