#!/usr/bin/env bash
# SPDX-License-Identifier: BSD-2-Clause
# Emulated instructions that touch guest memory, in one boot on 2 CPUs: hardware task switches
# of a 32-bit guest (tests/guests/tasks.asm: CALL/JMP/IRET, task gates for INT n, exceptions,
# an external interrupt and NMIs, a #DF task surviving a stack overflow, 16-bit TSS, LDT, CR3,
# T flag, and the faults before and after the commit point) and kvm-unit-tests' taskswitch2
# when the prebuilt tests are there; and string I/O whose memory operand faults, from 32-bit
# paging (tests/guests/stringio.asm: #PF error codes and CR2, REP counts, WP, CPL 3, RSVD,
# SMAP, A/D flags, segment limits and types, address-size wrap) and 64-bit mode
# (tests/guests/stringio64.asm: canonical checks, FS base, 32-bit address size).
. "$(dirname "$0")/../lib.sh"
G="$BUILD_DIR/guests"
KUT=${KUT_DIR:-$ROOT/../shared/kvm-unit-tests}
ts2="$KUT/i386/taskswitch2.flat"

cfg="$LOG_DIR/$TEST_NAME.cfg"
modules=(--module "$cfg=vms.cfg")
for g in tasks stringio stringio64; do
  printf '[vm]\nname = "%s"\nkernel = "%s.bin"\n' "$g" "$g"
  modules+=(--module "$G/$g.bin")
done > "$cfg"
vms=3
if [ -f "$ts2" ]; then
  printf '[vm]\nname = "ts2"\ntype = multiboot\nkernel = "taskswitch2.flat"\ncmdline = "taskswitch2.flat"\nmemory = 64M\n' >> "$cfg"
  modules+=(--module "$ts2")
  vms=4
else
  echo "  note: no $ts2: taskswitch2 not run"
fi

run_mhv all --emu bochs --smp 2 --cmdline 'vms_done=poweroff' --timeout 400 "${modules[@]}"
expect_rc 0
expect_no_line 'not ok'
expect_count 91 '^\[tasks\] ok - '
expect_count 34 '^\[stringio\] ok - '
expect_count 7 '^\[stringio64\] ok - '
for g in tasks stringio stringio64; do
  expect_line "^mhv: vm $g: stopped: debug-exit port 0xf4 written with 0 by vCPU 0 \(status 0\)$"
done
if [ "$vms" = 4 ]; then
  expect_line '^\[ts2\] SUMMARY: 13 tests$'
  expect_no_line '^\[ts2\] FAIL'
  expect_line '^mhv: vm ts2: stopped: debug-exit port 0xf4 written with 0 by vCPU 0 \(status 0\)$'
fi
expect_line "^mhv: all VMs stopped: $vms with status 0, 0 with another status$"
finish
