#!/usr/bin/env bash
# SPDX-License-Identifier: BSD-2-Clause
# VM lifecycle from the configuration: on_crash/on_poweroff = restart rebuild the VM from its
# image or kernel (a multiboot kernel too; a crash loop is given up after 3 restarts within
# 10 s) without disturbing other VMs;
# on_poweroff = poweroff takes the whole machine down when that VM powers off.
. "$(dirname "$0")/../lib.sh"
G="$BUILD_DIR/guests"

run_mhv restart --emu bochs --smp 2 --cmdline 'vms_done=poweroff' --timeout 300 \
  --module "$ROOT/tests/configs/lifecycle.cfg=vms.cfg" --module "$G/hello64.bin" --module "$G/triple.bin" \
  --module "$G/cpuid.bin" --module "$G/mbkernel.bin"
expect_rc 3
expect_count 4 '^mhv: vm crasher: stopped: triple fault'
expect_line '^mhv: vm crasher: restarting \(3 of at most 3 in a row\)$'
expect_line '^mhv: vm crasher: stopped 4 times within 10 s; not restarted again$'
expect_count 4 '^\[again\] hello from a 64-bit guest$'   # the image runs afresh each time
expect_line '^mhv: vm again: stopped 4 times within 10 s; not restarted again$'
expect_line '^mhv: vm steady: stopped: debug-exit port 0xf4 written with 0 by vCPU 0 \(status 0\)$'
expect_count 9 '^\[steady\] ok - '
expect_count 4 '^\[mbk\] mbkernel: magic, memory sizes, command line and BSS are right$'
expect_count 4 "^\\[mbk\\] mbkernel: the BIOS's timer tick reaches real mode$"   # the BIOS state at every restart
expect_line '^mhv: vm mbk: stopped 4 times within 10 s; not restarted again$'

tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
"$ROOT/tests/guests/mkvariant" "$tmp/long.bin" long 1 0 0 0 60000   # would run for a minute
printf '[vm]\nname = "quick"\nkernel = "hello64.bin"\non_poweroff = "poweroff"\n[vm]\nname = "long"\nkernel = "long.bin"\n' > "$tmp/off.cfg"
run_mhv poweroff --emu bochs --smp 2 --timeout 120 \
  --module "$tmp/off.cfg=vms.cfg" --module "$G/hello64.bin" --module "$tmp/long.bin"
expect_rc 0
expect_line '^mhv: vm quick: powering off the machine \(its configuration says so\)$'
expect_line '^mhv: vm long: stopped: the machine is powering off \(status 0\)$'
expect_no_line '^\[long\] work '
expect_line '^mhv: stop: status 0$'
finish
