#!/usr/bin/env bash
# SPDX-License-Identifier: BSD-2-Clause
# The virtual platform seen from a guest (tests/guests/platform.asm): ACPI tables found by the
# BIOS-area scan with good checksums, the PM timer, PCI configuration space, fw_cfg; then the
# guest powers off through ACPI S5. Two patched copies leave through the resets instead: port
# 0xcf9 (0x02, 0x06) with on_reboot = "restart", so it comes back with its tables rebuilt until
# the restart limit, and the keyboard controller's 0xFE with on_reboot = "stop". One boot, one
# CPU, three VMs, to keep Bochs time small.
. "$(dirname "$0")/../lib.sh"
B=$BUILD_DIR
G="$B/guests"

tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
# The exit-mode dword at offset 64 of the image: 1 = port 0xcf9, 2 = keyboard controller.
cp "$G/platform.bin" "$tmp/reboot.bin"
printf '\001' | dd of="$tmp/reboot.bin" bs=1 seek=64 conv=notrunc status=none
cp "$G/platform.bin" "$tmp/kbc.bin"
printf '\002' | dd of="$tmp/kbc.bin" bs=1 seek=64 conv=notrunc status=none
cat > "$tmp/platform.cfg" <<'EOF'
[vm]
name = "platform"
kernel = "platform.bin"

[vm]
name = "reboot"
kernel = "reboot.bin"
on_reboot = "restart"

[vm]
name = "kbc"
kernel = "kbc.bin"
on_reboot = "stop"
EOF

run_mhv all --emu bochs --smp 1 --elf "$B/mhv.elf" --cmdline 'vms_done=poweroff' --timeout 300 \
  --module "$tmp/platform.cfg=vms.cfg" --module "$G/platform.bin=platform.bin" \
  --module "$tmp/reboot.bin=reboot.bin" --module "$tmp/kbc.bin=kbc.bin"
expect_rc 0
expect_no_line 'not ok'
for check in 'RSDP found in 0xE0000-0xFFFFF with a valid checksum' 'RSDP revision 2 \(ACPI 2.0\+\)' \
  'RSDP extended checksum' 'XSDT signature' 'XSDT checksum' 'XSDT lists a FACP \(FADT\) with a valid checksum' \
  'XSDT lists an APIC table \(MADT\) with a valid checksum' 'MADT has exactly one enabled processor' \
  'PM timer advances between two reads' 'PM timer is 24 bits wide' 'PM1a_CNT.SCI_EN reads 1 \(always in ACPI mode\)' \
  'PCI CONFIG_ADDRESS reads back' 'PCI 00:00.0 is the host bridge 8086:1237' \
  'PCI 00:00.0 class is host bridge \(06/00\)' 'PCI 00:01.0 reads all-ones \(no device\)' \
  'fw_cfg signature reads QEMU' 'fw_cfg NB_CPUS is 1' 'fw_cfg RAM_SIZE is 4 MiB' \
  'fw_cfg reads 0 past the end of an item' 'fw_cfg CMDLINE_SIZE is 1 \(an empty command line and its NUL\)'; do
  expect_line "^\[platform\] ok - $check$"
done
expect_count 20 '^\[platform\] ok - '
expect_line '^mhv: vm platform: stopped: ACPI S5 \(power off\) by vCPU 0 \(status 0\)$'

# Port 0xcf9: a reboot, so the VM restarts (its memory zeroed, the tables written again: every
# run finds them) until mhv gives up after the fourth stop within 10 s.
expect_count 80 '^\[reboot\] ok - '
expect_count 4 '^\[reboot\] platform: resetting through port 0xcf9$'
expect_count 4 '^mhv: vm reboot: stopped: reset through port 0xcf9 by vCPU 0 \(status 0\)$'
expect_line '^mhv: vm reboot: restarting \(3 of at most 3 in a row\)$'
expect_line '^mhv: vm reboot: stopped 4 times within 10 s; not restarted again$'

# The keyboard controller's reset line, with on_reboot = "stop": stopped once, not restarted.
expect_count 21 '^\[kbc\] ok - '
expect_line '^\[kbc\] ok - keyboard controller input buffer reads empty$'
expect_count 1 '^mhv: vm kbc: stopped: reset through the keyboard controller \(port 0x64 command 0xfe\) by vCPU 0 '\
'\(status 0\)$'
expect_no_line '^mhv: vm kbc: restarting'

expect_line '^mhv: all VMs stopped: 3 with status 0, 0 with another status$'
expect_line '^mhv: stop: status 0$'
finish
