#!/usr/bin/env bash
# SPDX-License-Identifier: BSD-2-Clause
# The README's first command in a copy of the tree that has never been built (no build/): one
# `make run`, with nothing typed, must build mhv, fetch the Linux images (saying which
# packages and how big), say that Bochs is starting and how long that takes, boot the built-in
# demo *with* Linux, keep the user's terminal uncleared, and end quietly on Ctrl-C (SIGINT to
# the whole process group, as a terminal sends it). Skipped when Debian's archive cannot be
# reached (the demo then runs without Linux, as make run says).
. "$(dirname "$0")/../lib.sh"

work=$(mktemp -d /tmp/mhv-first-run.XXXXXX)
pgid=""
cleanup() {
  [ -n "$pgid" ] && kill -KILL -- "-$pgid" 2>/dev/null
  rm -rf "$work"
}
trap cleanup EXIT

tree=$work/mhv
mkdir -p "$tree"
tar -C "$ROOT" --exclude=./build --exclude=./.git -cf - . | tar -C "$tree" -xf -
if [ -e "$tree/build" ]; then fail "the copy has a build/"; finish; fi

LOG=$work/make-run.out
start=$SECONDS
# With job control the run gets a process group of its own, as in a shell on a terminal, and
# does not ignore SIGINT (background jobs of a script without it do): the test can send SIGINT
# to make and everything it started at once, as Ctrl-C does.
set -m
make -C "$tree" --no-print-directory run < /dev/null > "$LOG" 2>&1 &
pid=$!
set +m
pgid=$pid
echo "  make run started in $tree"
booted=0
while kill -0 "$pid" 2>/dev/null && [ $((SECONDS - start)) -lt 420 ]; do
  if grep -q '^make run: no Linux images' "$LOG"; then
    sleep 1
    kill -INT -- "-$pgid" 2>/dev/null
    sleep 2
    skip "Debian's archive cannot be reached: $(grep -m1 '^linux-images: ' "$LOG")"
  fi
  if grep -q '^mhv: no configuration and no guest images: booting the built-in demo' "$LOG"; then
    booted=1
    break
  fi
  sleep 1
done
echo "  the demo's status line after $((SECONDS - start)) s"
# A moment of the demo running, then Ctrl-C.
[ $booted -eq 1 ] && sleep 5
kill -INT -- "-$pgid" 2>/dev/null
for _ in $(seq 30); do kill -0 "$pid" 2>/dev/null || break; sleep 0.5; done
if kill -0 "$pid" 2>/dev/null; then
  fail "make run did not end within 15 s of Ctrl-C"
else
  pass "make run ended on Ctrl-C"
  pgid=""
fi

expect_line '^  (CC|NASM|LD|ISO) '
expect_line "^linux-images: fetching linux-image-[^ ]+-cloud-amd64 [^ ]+ \([0-9.]+ MiB\) from Debian's archive"
expect_line "^linux-images: fetching busybox-static [^ ]+ \([0-9.]+ MiB\) from Debian's archive"
expect_order '^linux-images: built ' '^mhv-run: starting Bochs'
expect_line '^mhv-run: starting Bochs \(2 CPU\(s\), 512 MiB\): its BIOS and GRUB take about [0-9]+ s before mhv.s first line$'
expect_line '^mhv: no configuration and no guest images: booting the built-in demo with Linux \(modules vmlinuz, initrd\)'
expect_line '^mhv-run: stopped \(Ctrl-C\)$'
expect_no_line '^make(\[[0-9]+\])?: \*\*\*'
expect_no_line 'Error 130|Interrupt$'
# Screen-clearing or cursor-homing sequences (GRUB's, on a vt100 terminal) wipe what the
# user had on the terminal.
if grep -qaP '\e\[[0-9;]*[HJf]|\ec' "$LOG"; then
  fail "the output clears or homes the terminal: $(grep -naoP '\e\[[0-9;]*[HJf]|\ec' "$LOG" | head -n 3 | od -c | head -n 2)"
else
  pass "no screen-clearing sequences"
fi
finish
