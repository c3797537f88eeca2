#!/usr/bin/env bash
# SPDX-License-Identifier: BSD-2-Clause
# The legacy PC devices every VM gets, checked from inside a guest (tests/guests/legacy.asm):
# the 8259 PIC pair's initialisation and registers, the 8254 PIT's latched counts, read-back
# status and channel 2's OUT on port 0x61, and the CMOS clock's UIP, date, running seconds,
# register D, RAM, NMI mask bit and BIOS memory size.
. "$(dirname "$0")/../lib.sh"

build=$BUILD_DIR
run_mhv legacy --emu bochs --elf "$build/mhv.elf" --cmdline 'vms_done=poweroff' --timeout 300 \
  --module "$build/guests/legacy.bin"
expect_rc 0
expect_no_line 'not ok'
for check in \
  "PIC: the master's IMR reads back 0xfb" \
  "PIC: the slave's IMR reads back what was written" \
  "PIC: IRR reads 0 with nothing pending" \
  "PIC: ISR reads 0 on both chips with nothing in service" \
  "PIT: a latched count is within the programmed count" \
  "PIT: channel 0 counts down between two latches" \
  "PIT: the read-back status shows mode 2, LSB/MSB access, count loaded" \
  "PIT: OUT2 is low while channel 2 waits for its gate" \
  "PIT: OUT2 on port 0x61 rises once channel 2's count has elapsed" \
  "RTC: register A's UIP clears" \
  "RTC: register D reads VRT \(valid time and RAM\)" \
  "RTC: the year \(century and year registers\) is 2024 or later" \
  "RTC: the year is before 2200" \
  "RTC: the month is 1-12" \
  "RTC: the day is 1-31" \
  "RTC: the seconds advance by 1-2 after 1.2 s of TSC time" \
  "RTC: a CMOS RAM byte reads back what was written" \
  "RTC: the NMI mask bit of port 0x70 does not change the register selected" \
  "RTC: port 0x70 reads back the index and the NMI mask" \
  "RTC: the next RAM byte keeps its own value" \
  "RTC: CMOS 0x17/0x18 give the VM's extended memory \(3072 KiB\)"; do
  expect_line "^\[legacy\] ok - $check$"
done
expect_count 21 '^\[legacy\] ok - '
expect_line '^mhv: vm legacy: stopped: debug-exit port 0xf4 written with 0 by vCPU 0 \(status 0\)$'
expect_line '^mhv: stop: status 0$'
finish
