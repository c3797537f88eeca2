#!/usr/bin/env bash
# SPDX-License-Identifier: BSD-2-Clause
# The built-in demo adds a Linux VM when GRUB passes modules named vmlinuz and initrd. Here
# vmlinuz is not a bzImage: the demo says it tried, the Linux VM is refused with the loader's
# reason and the place in the built-in configuration, and the other five VMs run as usual.
# (Without modules the demo runs in bochs_vmx_report and bochs_smp.) Then the demo `make run`
# boots: with Debian's kernel and BusyBox, a shell the test types into.
. "$(dirname "$0")/../lib.sh"
G="$BUILD_DIR/guests"

run_mhv not-linux --emu bochs --smp 1 --cmdline 'vms_done=poweroff' --timeout 120 \
  --module "$G/mbkernel.bin=vmlinuz" --module "$ROOT/vm/demo.cfg=initrd"
expect_rc 0
expect_line '^mhv: no configuration and no guest images: booting the built-in demo with Linux \(modules vmlinuz, initrd\)$'
expect_line "^\[cpu0\] error: demo.cfg:[0-9]+: VM 'linux': Linux kernel 'vmlinuz': .*; VM not started$"
expect_line '^mhv: config demo.cfg: 6 VMs defined, 5 started, 1 not started \(see above\)$'
expect_line '^\[hello64\] hello from a 64-bit guest$'
expect_line '^mhv: all VMs stopped: 5 with status 0, 0 with another status$'

# What `make run` boots when tools/linux-images has the images: the demo with Linux, which
# gets the console focus and a shell; typed input reaches it, and `poweroff -f` ends it.
L="$ROOT/build/linux"
if "$ROOT/tools/linux-images" --quiet > "$LOG_DIR/$TEST_NAME.images.log" 2>&1; then
  run_mhv with-linux --emu bochs --smp 2 --mem 512 --cmdline 'vms_done=poweroff' --timeout 420 \
    --module "$L/vmlinuz=vmlinuz" --module "$L/initrd.img=initrd" \
    --input-after '^\[linux\] MHV-LINUX-SHELL: ready$' 'echo demo-$((20+3))\n' \
    --input-after '^\[linux\] demo-23$' 'poweroff -f\n'
  expect_rc 0
  expect_line '^mhv: no configuration and no guest images: booting the built-in demo with Linux \(modules vmlinuz, initrd\)$'
  expect_line '^mhv: console: input goes to vm linux '
  expect_line '^\[hello64\] hello from a 64-bit guest$'
  expect_line '^\[linux\] demo-23$'
  expect_line '^mhv: vm linux: stopped: ACPI S5 \(power off\) by vCPU 0 \(status 0\)$'
  expect_line '^mhv: all VMs stopped: 6 with status 0, 0 with another status$'
else
  echo "  (no Linux images: $(tail -n 1 "$LOG_DIR/$TEST_NAME.images.log"); the demo with Linux is not run)"
fi
finish
