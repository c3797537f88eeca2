#!/usr/bin/env bash
# SPDX-License-Identifier: BSD-2-Clause
# Modules and the command line arrive intact: names, sizes, page-aligned placement; the
# command line's options take effect (loglevel=debug shows debug lines); bad options are
# reported and skipped without stopping the boot.
. "$(dirname "$0")/../lib.sh"

tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
head -c 10000 /dev/urandom > "$tmp/guest.bin"
printf 'name = "demo"\n' > "$tmp/vms.cfg"

run_mhv modules --emu qemu --timeout 20 --cmdline 'loglevel=debug' \
  --module "$tmp/guest.bin" --module "$tmp/vms.cfg=config.cfg"
expect_rc 1
expect_line '^\[cpu0\] boot loader: "GRUB[^"]*", command line: "loglevel=debug"$'
expect_line "^\[cpu0\] module 0: 'guest\.bin' at \[0x[0-9a-f]*000, 0x[0-9a-f]+\), 10000 bytes$"
expect_line "^\[cpu0\] module 1: 'config\.cfg' at \[0x[0-9a-f]*000, 0x[0-9a-f]+\), 14 bytes$"
expect_no_line 'multiboot2: .*problem'

run_mhv badopts --emu qemu --timeout 20 --cmdline 'loglevel=loud turbo=1 serial=com7'
expect_rc 1
expect_line "^\[cpu0\] warning: cmdline: loglevel=loud: expected error, warn, info, debug or 0-3; ignored$"
expect_line "^\[cpu0\] warning: cmdline: unknown option 'turbo'; ignored$"
expect_line "^\[cpu0\] warning: cmdline: serial=com7: expected com1-com4"
expect_line '^mhv: fatal: VMX unavailable'

# loglevel=error hides info lines but never the status lines.
run_mhv quiet --emu qemu --timeout 20 --cmdline 'loglevel=error'
expect_rc 1
expect_no_line '^\[cpu0\] memory map'
expect_line '^mhv: memory: '
expect_line '^mhv: fatal: VMX unavailable'
finish
