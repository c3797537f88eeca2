#!/usr/bin/env bash
# SPDX-License-Identifier: BSD-2-Clause
# Eight test guests as eight VMs in one boot on 2 CPUs: every check each guest makes from the
# inside passes (CPUID, MSRs, control registers and XSETBV, hypercalls, MMIO, port I/O with
# string forms, real mode, interrupt and NMI injection), each VM stops with status 0, and mhv
# powers off with status 0; once with the CPU's APIC virtualisation, once fully emulated, where
# the C guest apic_edges (tests/cguests/apic_edges.c) joins them: the local APIC's timer, mode
# and disable edges on the emulated path (bochs_cguests runs it with the CPU's assists).
. "$(dirname "$0")/../lib.sh"

guests=(cpuid msr cr hypercall mmio io32 real16 irq)
modules=()
for g in "${guests[@]}"; do modules+=(--module "$BUILD_DIR/guests/$g.bin"); done
run_mhv all --emu bochs --smp 2 --cmdline 'vms_done=poweroff' --timeout 300 "${modules[@]}"
expect_rc 0
for g in "${guests[@]}"; do
  expect_line "^mhv: vm $g: stopped: debug-exit port 0xf4 written with 0 by vCPU 0 \(status 0\)$"
done
expect_no_line 'not ok'
expect_count 9 '^\[cpuid\] ok - '
expect_count 12 '^\[msr\] ok - '
expect_line '^\[cr\] ok - setting CR4.VMXE raises #GP$'
expect_line '^\[cr\] ok - XSETBV before CR4.OSXSAVE raises #UD$'
expect_line '^\[hypercall\] console line through a hypercall$'
expect_count 8 '^\[hypercall\] ok - '
expect_count 6 '^\[mmio\] ok - '
expect_line '^\[io32\] io32: all port I/O checks passed$'
expect_line '^\[real16\] real16: CPUID reports a hypervisor$'
expect_count 7 '^\[irq\] ok - '
expect_line '^mhv: all VMs stopped: 8 with status 0, 0 with another status$'
expect_line '^mhv: stop: status 0$'
expect_line '^\[cpu0\] vlapic: TPR shadow, APIC-register virtualisation, virtual-interrupt delivery'

# The same guests with the local APICs fully emulated (apicv=off): interrupts injected by mhv
# with interrupt windows, CR8 and every APIC access exiting.
run_mhv emulated --emu bochs --smp 2 --cmdline 'vms_done=poweroff apicv=off' --timeout 300 "${modules[@]}" \
  --module "$BUILD_DIR/cguests/apic_edges.bin"
expect_rc 0
expect_line '^\[cpu0\] vlapic: fully emulated \(apicv=off\)$'
expect_no_line 'not ok'
expect_count 7 '^\[irq\] ok - '
expect_guest_checks apic_edges
expect_line '^mhv: all VMs stopped: 9 with status 0, 0 with another status$'
finish
