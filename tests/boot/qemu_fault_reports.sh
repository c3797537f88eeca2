#!/usr/bin/env bash
# SPDX-License-Identifier: BSD-2-Clause
# A fault inside mhv prints the vector, error code, every register, CR0/2/3/4 and a
# symbolized stack trace, then stops with status 2. The faults also prove the memory
# protections: page 0 unmapped, data not executable, text not writable, a stack guard page.
. "$(dirname "$0")/../lib.sh"

check_dump() {
  expect_rc 2
  expect_line '^\[cpu0\] error: RIP=[0-9a-f]{16} CS=0008 RFLAGS=[0-9a-f]{16} RSP=[0-9a-f]{16} SS=0010$'
  expect_line '^\[cpu0\] error: RAX=[0-9a-f]{16} RBX=[0-9a-f]{16} RCX=[0-9a-f]{16} RDX=[0-9a-f]{16}$'
  expect_line '^\[cpu0\] error: R12=[0-9a-f]{16} R13=[0-9a-f]{16} R14=[0-9a-f]{16} R15=[0-9a-f]{16}$'
  expect_line '^\[cpu0\] error: CR0=[0-9a-f]{16} CR2=[0-9a-f]{16} CR3=[0-9a-f]{16} CR4=[0-9a-f]{16}$'
  expect_line '^\[cpu0\] error: stack trace:$'
  expect_line '^\[cpu0\] error:   #[0-9]+ 0x[0-9a-f]{16} kernel_main\+0x[0-9a-f]+$'
  expect_line '^mhv: stop: status 2$'
}

run_mhv ud --emu qemu --timeout 20 --cmdline 'selftest=fault-ud'
expect_line '^mhv: panic: exception 6 \(#UD invalid opcode\) at rip 0x[0-9a-f]{16}, error code 0x0$'
expect_line '^\[cpu0\] error:   #0 0x[0-9a-f]{16} selftest_run\+0x[0-9a-f]+$'
check_dump

run_mhv null --emu qemu --timeout 20 --cmdline 'selftest=fault-null'
expect_line '^mhv: panic: exception 14 \(#PF page fault\)'
expect_line 'page fault: page not present, read access, supervisor mode at CR2=0x0000000000000000$'
check_dump

run_mhv nx --emu qemu --timeout 20 --cmdline 'selftest=fault-nx'
expect_line 'page fault: protection violation, instruction fetch access, supervisor mode'
check_dump

run_mhv wp --emu qemu --timeout 20 --cmdline 'selftest=fault-wp'
expect_line 'page fault: protection violation, write access, supervisor mode'
check_dump

run_mhv stack --emu qemu --timeout 20 --cmdline 'selftest=stack-overflow'
expect_line '^mhv: panic: exception 8 \(#DF double fault\)'
expect_line "stack overflow: CR2=0x[0-9a-f]{16} is in the guard page below cpu0's stack$"
expect_line 'recurse'
expect_rc 2

run_mhv panic --emu qemu --timeout 20 --cmdline 'selftest=panic'
expect_line '^mhv: panic: selftest: deliberate panic$'
expect_line '^\[cpu0\] error:   #[0-9]+ 0x[0-9a-f]{16} selftest_run\+0x[0-9a-f]+$'
expect_line '^mhv: stop: status 2$'
expect_rc 2
finish
