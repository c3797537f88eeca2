#!/usr/bin/env bash
# SPDX-License-Identifier: BSD-2-Clause
# The multiboot test kernel (tests/guests/mbkernel.asm) is a real QEMU -kernel kernel: QEMU's
# own multiboot loader boots it and it reports success through isa-debug-exit. bochs_config
# then runs the same, unmodified file under mhv.
. "$(dirname "$0")/../lib.sh"
LOG="$LOG_DIR/$TEST_NAME.log"
timeout -s KILL 30 qemu-system-x86_64 -kernel "$BUILD_DIR/guests/mbkernel.bin" -append "test=1" -m 64 \
  -display none -monitor none -serial "file:$LOG" -no-reboot -device isa-debug-exit,iobase=0xf4,iosize=4 </dev/null
RC=$?
echo "  ran: qemu -kernel mbkernel.bin -> exit $RC"
expect_rc 1   # isa-debug-exit: (status 0 << 1) | 1
expect_line '^mbkernel: magic, memory sizes, command line and BSS are right$'
expect_line "^mbkernel: the BIOS's timer tick reaches real mode$"   # SeaBIOS's PIT, 8259s and IVT
finish
