#!/usr/bin/env bash
# SPDX-License-Identifier: BSD-2-Clause
# VMX root operation on every core, in Bochs with 2 and 4 CPUs: each CPU enters VMX root
# operation itself, the boot CPU prints exactly one ready line, the built-in demo's VMs all
# end well, and the shutdown path leaves VMX on every CPU before stopping with status 0.
# maxcpus= limits what is counted.
. "$(dirname "$0")/../lib.sh"

for n in 2 4; do
  run_mhv smp$n --emu bochs --smp $n --cmdline 'vms_done=poweroff' --timeout 180
  expect_rc 0
  expect_line "^mhv: cpus: $n of $n online \(x2APIC\)$"
  for ((k = 0; k < n; k++)); do
    expect_line "^\[cpu$k\] vmx: in VMX root operation \(VMXON region at 0x[0-9a-f]+\)$"
  done
  expect_count 1 '^mhv: ready: '
  expect_line "^mhv: ready: $n of $n CPUs in VMX root operation$"
  expect_order '^mhv: ready: ' '^\[cpu0\] vmx: VMX operation left on every CPU$'
  expect_line '^mhv: all VMs stopped: 5 with status 0, 0 with another status$'
  expect_line '^mhv: stop: status 0$'
  expect_no_line 'error:'
done

run_mhv maxcpus --emu bochs --smp 2 --cmdline 'maxcpus=1 vms_done=poweroff' --timeout 180
expect_rc 0
expect_line '^mhv: ready: 1 of 1 CPUs in VMX root operation$'
expect_no_line '^\[cpu1\] '
finish
