#!/usr/bin/env bash
# SPDX-License-Identifier: BSD-2-Clause
# serial= picks the console UART; when nothing answers there, mhv says so on COM1 instead of
# going silent.
. "$(dirname "$0")/../lib.sh"

run_mhv com2 --emu qemu --timeout 20 --cmdline 'serial=com2'
expect_rc 1
expect_line '^\[cpu0\] warning: console: no UART answers at port 0x2f8; using COM1 \(0x3f8\)$'
expect_line '^mhv: fatal: VMX unavailable'
finish
