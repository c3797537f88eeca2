#!/usr/bin/env bash
# SPDX-License-Identifier: BSD-2-Clause
# A guest that misbehaves is stopped with a diagnostic while mhv and the other VMs go on:
# an access outside guest memory (with `unclaimed = stop`: by default unclaimed memory reads
# all-ones), a triple fault, a malformed guest header, and failed VM entries (self-tests that
# break the first VM's control fields or guest state).
. "$(dirname "$0")/../lib.sh"
G="$BUILD_DIR/guests"
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
cp "$G/hello64.bin" "$tmp/badheader.bin"
printf '\0\0\0\0' | dd of="$tmp/badheader.bin" bs=1 seek=36 conv=notrunc status=none  # vcpus = 0
cat > "$tmp/vms.cfg" <<'EOF'
[vm]
name = "outside"
kernel = "outside.bin"
unclaimed = stop
[vm]
name = "triple"
kernel = "triple.bin"
[vm]
name = "badheader"
kernel = "badheader.bin"
[vm]
name = "hello64"
kernel = "hello64.bin"
EOF

run_mhv crashes --emu bochs --smp 2 --cmdline 'vms_done=poweroff' --timeout 300 --module "$tmp/vms.cfg=vms.cfg" \
  --module "$G/outside.bin" --module "$G/triple.bin" --module "$tmp/badheader.bin" --module "$G/hello64.bin"
expect_rc 3
expect_line "^\[cpu[0-9]+\] error: vm outside: vCPU 0: read of guest-physical 0x40000000, outside the VM's 4096 KiB"
expect_line '^mhv: vm outside: stopped: access outside guest memory \(exit 48, EPT violation, at RIP 0x[0-9a-f]+\) \(status 254\)$'
expect_line '^mhv: vm triple: stopped: triple fault \(vCPU 0 at RIP 0x[0-9a-f]+\) \(status 255\)$'
expect_line "^\[cpu0\] error: module 'badheader.bin': guest header: vcpus must be 1..64"
expect_line '^\[hello64\] hello from a 64-bit guest$'
expect_line '^mhv: vm hello64: stopped: debug-exit port 0xf4 written with 0 by vCPU 0 \(status 0\)$'
expect_line '^mhv: all VMs stopped: 1 with status 0, 2 with another status$'
expect_line '^mhv: stop: status 3$'

run_mhv guest-state --emu bochs --cmdline 'vms_done=poweroff selftest=vmentry-guest-state' --timeout 200 \
  --module "$G/hello64.bin" --module "$G/cpuid.bin"
expect_rc 3
expect_line '^mhv: vm hello64: stopped: VM entry failed on vCPU 0: invalid guest state: guest RFLAGS: RFLAGS 0 has bit 1 clear; it must be 1 \(status 253\)$'
expect_line '^mhv: vm cpuid: stopped: debug-exit port 0xf4 written with 0'

run_mhv control --emu bochs --cmdline 'vms_done=poweroff selftest=vmentry-control' --timeout 200 \
  --module "$G/hello64.bin"
expect_rc 3
expect_line '^mhv: vm hello64: stopped: VM entry failed on vCPU 0: VM-instruction error 7: VM entry with invalid control field\(s\) \(status 253\)$'
finish
