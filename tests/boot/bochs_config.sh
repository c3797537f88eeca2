#!/usr/bin/env bash
# SPDX-License-Identifier: BSD-2-Clause
# VMs from one configuration file (tests/configs/mixed.cfg): guests of different types start
# together, among them an unmodified multiboot kernel written for QEMU's -kernel; the broken
# definitions are reported with file and line and do not stop the others.
. "$(dirname "$0")/../lib.sh"
G="$BUILD_DIR/guests"

run_mhv mixed --emu bochs --smp 2 --cmdline 'vms_done=poweroff' --timeout 300 \
  --module "$ROOT/tests/configs/mixed.cfg=vms.cfg" --module "$G/hello64.bin" --module "$G/real16.bin" \
  --module "$G/io32.bin" --module "$G/cpuid.bin" --module "$G/mbkernel.bin"
expect_rc 0
expect_line '^\[cpu0\] error: vms.cfg:47: memory = 12Q: unknown unit \(use K, M or G\)$'
expect_line "^\[cpu0\] error: vms.cfg:32: VM 'missing': kernel 'nosuch.bin' is not among the modules; VM not started$"
expect_line "^\[cpu0\] error: vms.cfg:36: VM 'huge': memory 4000 MiB is more than the [0-9]+ MiB mhv has free; VM not started$"
expect_line "^\[cpu0\] error: vms.cfg:49: VM 'later': Linux kernel 'hello64.bin': not a bzImage \(no boot sector signature or HdrS header\); VM not started$"
expect_line '^mhv: config vms.cfg: 9 VMs defined, 5 started, 4 not started \(see above\)$'
expect_line '^\[hello\] hello from a 64-bit guest$'
expect_line '^\[real\] real16: CPUID reports a hypervisor$'
expect_line '^\[io\] io32: all port I/O checks passed$'
expect_count 9 '^\[pinned\] ok - '
expect_line '^\[cpu0\] sched: vm pinned vcpu 0: weight 3, .*, ran on cpus 1$'
expect_line '^\[mbk\] mbkernel: magic, memory sizes, command line and BSS are right$'
expect_line "^\\[mbk\\] mbkernel: the BIOS's timer tick reaches real mode$"   # mhv's firmware as after a BIOS
expect_line '^mhv: vm mbk: stopped: debug-exit port 0xf4 written with 0 by vCPU 0 \(status 0\)$'
expect_line '^mhv: all VMs stopped: 5 with status 0, 0 with another status$'
finish
