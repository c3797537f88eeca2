#!/usr/bin/env bash
# SPDX-License-Identifier: BSD-2-Clause
# Bochs emulates VMX: the capability report shows VMX with EPT, VPID, unrestricted guest and
# the preemption timer; without modules mhv runs its built-in demo and ends cleanly (status 0).
. "$(dirname "$0")/../lib.sh"

run_mhv boot --emu bochs --smp 1 --mem 256 --cmdline 'vms_done=poweroff' --timeout 120
expect_rc 0
expect_line '^mhv: cpu: GenuineIntel family 0x6 model 0x55 stepping 4 "Intel\(R\) Core\(TM\) i7-7800X'
expect_line '^\[cpu0\] vmx: IA32_FEATURE_CONTROL 0x5: locked, VMXON outside SMX enabled$'
expect_line '^\[cpu0\] vmx: IA32_VMX_BASIC 0x[0-9a-f]{16}: VMCS revision 0x2b, 4096 bytes, memory type 6, TRUE controls$'
expect_line '^\[cpu0\] vmx: features: ept ept-4-level ept-wb invept unrestricted-guest .*vpid invvpid preemption-timer'
expect_line '^\[cpu0\] vmx: preemption timer rate TSC/1, activity states: hlt shutdown wait-for-sipi'
expect_count 1 '^mhv: vmx: '
expect_line '^mhv: vmx: revision 0x2b, EPT yes, VPID yes, unrestricted guest yes, preemption timer yes$'
expect_line '^\[cpu0\] paging: identity map of 4096 MiB, 1 GiB pages, NX on'
expect_no_line '^mhv: fatal'
expect_line '^\[cpu0\] tsc: [0-9]+\.[0-9]{3} MHz \(PIT calibration; CPUID 0x16 disagrees\), invariant$'
expect_line '^\[cpu0\] lapic: timer \(TSC-deadline mode\): a 1 ms one-shot fired after [0-9]+ us$'
expect_line '^mhv: ready: 1 of 1 CPUs in VMX root operation$'
expect_line '^mhv: no configuration and no guest images: booting the built-in demo$'
expect_line '^mhv: all VMs stopped: 5 with status 0, 0 with another status$'
expect_line '^mhv: stop: status 0$'
finish
