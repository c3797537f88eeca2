#!/usr/bin/env bash
# SPDX-License-Identifier: BSD-2-Clause
# C test guests (tests/cguests/, on the runtime in tests/cguests/rt/) as VMs on 2 CPUs:
# rtcheck proves the runtime (output, checks, expected faults, CPL 3, interrupts from
# hypercalls and the local APIC, SMP with 4 vCPUs) and exits 0; a variant shows the report of
# an unexpected exception on vCPU 1 (status 222, only that VM stops); another shows that a seed
# patched into the image reaches the guest. Two platform guests run beside them: pic_paths (the
# PIT's IRQ 0 through the 8259 along LINT0 ExtINT, I/O APIC pins 2 and 0 in ExtINT mode and the
# disabled local APIC, each waking a HLT with the 8259's vector, LINT0 as a level, the spurious
# IRQ 7, and the I/O APIC's fixed mode) and unclaimed (memory nobody claims reads all-ones, writes dropped,
# mhv logging the first eight pages once each). apic_edges checks the local APIC's architectural
# edges (timer mode switches and divide changes, disable and re-enable, the IA32_APIC_BASE
# transitions, x2APIC reserved bits) with the CPU's APIC virtualisation; bochs_guests runs it
# again with the APIC fully emulated.
. "$(dirname "$0")/../lib.sh"
G="$BUILD_DIR/cguests"
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
mkvariant() { "$ROOT/tests/cguests/mkvariant" "$@"; }

mkvariant "$G/rtcheck.bin" "$tmp/rtcrash.bin" name=rtcrash vcpus=2 arg0=1
mkvariant "$G/rtcheck.bin" "$tmp/rtseed.bin" name=rtseed seed=0x5eed00c0ffee
run_mhv runtime --emu bochs --smp 2 --cmdline 'vms_done=poweroff' --timeout 400 \
  --module "$G/rtcheck.bin" --module "$tmp/rtcrash.bin" --module "$tmp/rtseed.bin" \
  --module "$G/pic_paths.bin" --module "$G/unclaimed.bin" --module "$G/apic_edges.bin"
expect_rc 3 # rtcrash stops with 222 on purpose
expect_line '^mhv: vm rtcheck: stopped: debug-exit port 0xf4 written with 0 by vCPU 0 \(status 0\)$'
expect_no_line '^\[rtcheck\] not ok'
expect_line '^\[rtcheck\] done: [0-9]+ checks, 0 failed$'
expect_line '^\[rtcheck\] ok - try_user: a CPL 3 function returns$'
expect_line '^\[rtcheck\] ok - x2APIC one-shot timer fires$'
expect_line '^\[rtcheck\] ok - all 3 other vCPUs started by INIT/SIPI$'
expect_line '^\[rtcheck\] ok - 4 vCPUs met at [0-9]+ barriers and counted under a spinlock$'
for i in 1 2 3; do expect_line "^\[rtcheck\] # vCPU $i runs C code \(APIC ID $i\)$"; done
expect_line '^\[rtcrash\] not ok - unexpected exception #GP \(vector 13\) error 0x0 on vCPU 1 at rip 0x[0-9a-f]+, cr2 0x[0-9a-f]+$'
expect_line '^\[rtcrash\] #   rax [0-9a-f]{16} rbx'
expect_line '^mhv: vm rtcrash: stopped: debug-exit port 0xf4 written with 222 by vCPU 1 \(status 222\)$'
expect_line '^\[rtseed\] # seed 0x5eed00c0ffee \(image\)$'
expect_line '^\[rtseed\] ok - the PRNG replays from its seed 0x5eed00c0ffee \(image\) and stays in range$'
expect_line '^mhv: vm rtseed: stopped: debug-exit port 0xf4 written with 0 by vCPU 0 \(status 0\)$'

expect_guest_checks pic_paths
for path in 'LINT0 ExtINT' 'I/O APIC pin 2 ExtINT' 'I/O APIC pin 0 ExtINT' 'APIC disabled' 'I/O APIC fixed'; do
  expect_line "^\[pic_paths\] ok - $path: the PIT's IRQ 0 woke the halted vCPU after [0-9]+ us"
done
expect_line "^\[pic_paths\] ok - I/O APIC pin 2 ExtINT: IRQ 0 arrives with the 8259's vector 0x48, not the entry's 0x99$"
expect_line "^\[pic_paths\] ok - I/O APIC pin 0 ExtINT: IRQ 0 arrives with the 8259's vector 0x58, not the entry's 0x99$"
expect_line "^\[pic_paths\] ok - APIC disabled: IRQ 0 reaches INTR directly with the 8259's vector 0x50$"
expect_line '^\[pic_paths\] ok - spurious: the 8259 answers the acknowledge with IRQ 7 \(vector 0x77\)$'
expect_line '^\[pic_paths\] ok - LINT0 level: a request masked before the CPU took it is not taken$'

expect_guest_checks unclaimed
expect_line '^\[unclaimed\] ok - REP MOVSB of 32 bytes from above RAM copies all-ones$'
expect_line '^\[unclaimed\] ok - a byte load replaces only AL \(all-ones of the access.s size\)$'
# Logged once per page (0x10000000 is read and written many times), eight pages, then once more.
for gpa in 0x10000000 0xfed40000 0xfebf1040 0x20000000 0x20004000; do
  expect_count 1 "^\[cpu[0-9]+\] warning: vm unclaimed: vCPU 0: read of unclaimed guest-physical $gpa \(no RAM or device there\): reads all-ones, writes dropped; the page is not logged again$"
done
expect_count 8 '^\[cpu[0-9]+\] warning: vm unclaimed: vCPU 0: (read of|write to) unclaimed guest-physical'
expect_count 1 '^\[cpu[0-9]+\] warning: vm unclaimed: unclaimed accesses on more than 8 pages: no more are logged$'

expect_guest_checks apic_edges
finish
