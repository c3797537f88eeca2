#!/usr/bin/env bash
# SPDX-License-Identifier: BSD-2-Clause
# QEMU TCG has no VMX: mhv boots, reports the machine, then refuses with one fatal line and
# exit status 1, in well under 10 seconds.
. "$(dirname "$0")/../lib.sh"

start=$SECONDS
run_mhv boot --emu qemu --mem 256 --timeout 10
elapsed=$((SECONDS - start))
expect_rc 1
expect_line '^mhv: mhv [^ ]+, a microhypervisor for Intel VT-x$'
expect_line '^\[cpu0\] boot loader: "GRUB 2\.[0-9]+'
expect_line '^\[cpu0\] memory map \(multiboot2 memory map, [0-9]+ ranges\):$'
expect_line '^\[cpu0\]   \[0x0000000000100000-0x[0-9a-f]{16}\] usable +[0-9]+ KiB$'
expect_line '^mhv: memory: 25[0-9] MiB usable in [0-9]+ ranges$'
expect_line '^\[cpu0\] page allocator: [0-9]+ free pages'
expect_line '^\[cpu0\] paging: identity map of 4096 MiB, .* NX on; text RX, rodata R, data RW$'
expect_line '^\[cpu0\] ACPI: RSDP \(ACPI [12]\.0\+? tag\) copied at 0x'
expect_line '^mhv: cpu: [A-Za-z]+ family 0x[0-9a-f]+ model 0x[0-9a-f]+ stepping [0-9]+'
expect_count 1 '^mhv: fatal: '
expect_line '^mhv: fatal: VMX unavailable: CPUID\.1:ECX\.VMX\[bit 5\] is 0'
expect_line '^mhv: stop: status 1$'
expect_no_line 'warning|error'
[ $elapsed -lt 10 ] || fail "took ${elapsed}s, expected under 10"
finish
