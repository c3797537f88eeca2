#!/usr/bin/env bash
# SPDX-License-Identifier: BSD-2-Clause
# SMP bring-up under QEMU TCG with 1, 2, 4 and 16 CPUs: every CPU comes up, says so itself
# (with its own [cpuN] prefix), answers a cross-CPU call, and all of that happens before the
# VMX fatal line, which still ends the run cleanly. maxcpus= limits the CPUs started.
. "$(dirname "$0")/../lib.sh"

for n in 1 2 4 16; do
  run_mhv smp$n --emu qemu --smp $n --timeout 30
  expect_rc 1
  expect_line "^mhv: cpus: $n of $n online \((xAPIC|x2APIC)\)$"
  expect_count $((n - 1)) '^\[cpu[0-9]+\] smp: online: APIC id [0-9]+, ACPI uid [0-9]+, x?APIC$'
  for ((k = 1; k < n; k++)); do
    expect_line "^\[cpu$k\] smp: online: APIC id $k,"
  done
  expect_line "^\[cpu0\] smp: cross-CPU calls answered by all $n CPUs$"
  expect_line '^\[cpu0\] lapic: timer \((TSC-deadline|one-shot count) mode\): a 1 ms one-shot fired after [0-9]+ us$'
  expect_line "^\[cpu0\] acpi: MADT: $n processors enabled"
  expect_order '^mhv: cpus: ' '^mhv: fatal: VMX unavailable'
  expect_line '^mhv: stop: status 1$'
  expect_no_line 'error:'
done

run_mhv maxcpus --emu qemu --smp 4 --cmdline 'maxcpus=2' --timeout 30
expect_rc 1
expect_line '^mhv: cpus: 2 of 2 online'
expect_line '^\[cpu1\] smp: online: '
expect_no_line '^\[cpu2\] '
expect_line '^\[cpu0\] smp: maxcpus=2: 2 more enabled CPUs not started$'
finish
