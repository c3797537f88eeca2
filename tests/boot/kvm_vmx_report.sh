#!/usr/bin/env bash
# SPDX-License-Identifier: BSD-2-Clause
# Under QEMU/KVM with nested VMX (a developer's workstation, a CI host that offers it) mhv
# sees real VMX. Where the host has no nested VMX the runner says so and the test is skipped.
. "$(dirname "$0")/../lib.sh"

run_mhv boot --emu kvm --mem 256 --cmdline 'vms_done=poweroff' --timeout 60
skip_if_runner_skipped
expect_rc 0
expect_line '^mhv: vmx: revision 0x[0-9a-f]+, EPT yes, VPID (yes|no), unrestricted guest yes'
expect_line '^mhv: ready: 1 of 1 CPUs in VMX root operation$'
expect_line '^mhv: all VMs stopped: 5 with status 0, 0 with another status$'
expect_line '^mhv: stop: status 0$'
finish
