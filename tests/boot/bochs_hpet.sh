#!/usr/bin/env bash
# SPDX-License-Identifier: BSD-2-Clause
# The HPET (devices/hpet.c) seen from a guest (tests/cguests/hpet.c): its ACPI table, the
# capabilities, the main counter against the PM timer and the TSC, one-shot, periodic and
# level interrupts through the I/O APIC, 32-bit mode across a wrap, and the legacy replacement
# route taking IRQ 0 and 8 from the PIT and the CMOS clock. A second VM with `hpet = false`
# finds no HPET table and nothing at 0xfed00000. One boot, one CPU.
. "$(dirname "$0")/../lib.sh"
G="$BUILD_DIR/cguests"
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

"$ROOT/tests/cguests/mkvariant" "$G/hpet.bin" "$tmp/nohpet.bin" name=nohpet arg0=1
cat > "$tmp/hpet.cfg" <<'EOF'
[vm]
name = "hpet"
kernel = "hpet.bin"

[vm]
name = "nohpet"
kernel = "nohpet.bin"
hpet = false
EOF

run_mhv all --emu bochs --smp 1 --cmdline 'vms_done=poweroff' --timeout 300 \
  --module "$tmp/hpet.cfg=vms.cfg" --module "$G/hpet.bin=hpet.bin" --module "$tmp/nohpet.bin=nohpet.bin"
expect_guest_checks hpet
for check in 'the XSDT and the RSDT list the same HPET table' 'HPET table base address' \
  'the main counter keeps time with the PM timer: [0-9]+ us against [0-9]+ us' \
  'one-shot: one edge interrupt on pin 20' 'periodic: 20 interrupts on pin 21' \
  'level: delivered again after an EOI with the status set, not after clearing it' \
  '32-bit mode: the comparator matches across the low half.s wrap' \
  'legacy route: the PIT.s and the CMOS clock.s interrupts are not delivered \(0, 0\)' \
  'legacy route: timer 0 interrupts on IRQ 0 \(I/O APIC pin 2\)' \
  'legacy route: timer 1 interrupts once on IRQ 8, which the CMOS clock held high' \
  'the route off: the PIT.s IRQ 0 and the CMOS clock.s IRQ 8 are back'; do
  expect_line "^\[hpet\] ok - $check$"
done
# Without an HPET: no table; 0xfed00000 is nobody's, so it reads all-ones, or, where mhv
# stops a VM for an unclaimed address, the VM stops there.
expect_line '^\[nohpet\] ok - no HPET table in the XSDT or the RSDT$'
expect_no_line '^\[nohpet\] not ok'
if grep -q '^\[nohpet\] ok - 0xfed00000 reads all-ones' "$LOG"; then
  expect_line '^mhv: vm nohpet: stopped: debug-exit port 0xf4 written with 0 by vCPU 0 \(status 0\)$'
  expect_rc 0
else
  expect_line '^\[cpu0\] error: vm nohpet: vCPU 0: read of guest-physical 0xfed00000, outside the VM.s'
  expect_line '^mhv: vm nohpet: stopped: access outside guest memory .*\(status 254\)$'
  expect_rc 3
fi
finish
