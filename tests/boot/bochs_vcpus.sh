#!/usr/bin/env bash
# SPDX-License-Identifier: BSD-2-Clause
# vCPUs across physical CPUs, under load: a guest starts its second vCPU with INIT/SIPI, and a
# guest whose vCPU mhv moves between the two CPUs after every short slice (thousands of times,
# through vcpu_put, remote VMCLEAR and vcpu_load) finds its registers, SSE state and memory
# intact, while a CPU-bound VM competes for both CPUs. A fourth restarts its second vCPU with
# INIT and STARTUP sent back to back 300 times, while that vCPU runs, halts, or halts with
# interrupts off: it must come back every time.
. "$(dirname "$0")/../lib.sh"
G="$BUILD_DIR/guests"

tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
"$ROOT/tests/guests/mkvariant" "$tmp/load.bin" load 1 0 0 0 150  # CPU-bound load for part of the run
run_mhv vcpus --emu bochs --smp 2 --cmdline 'vms_done=poweroff' --timeout 400 \
  --module "$G/smp.bin" --module "$G/migrate.bin" --module "$tmp/load.bin" --module "$G/initsipi.bin"
expect_rc 0
expect_line '^\[smp\] smp: vCPU 1 started in real mode at 0x8000$'
expect_line '^\[smp\] ok - vCPU 1 ran its start-up code after INIT/SIPI$'
expect_line '^mhv: vm smp: stopped: debug-exit port 0xf4 written with 0 by vCPU 0 \(status 0\)$'
expect_line '^\[migrate\] ok - registers, SSE registers and memory intact after 1000000 iterations$'
expect_line '^mhv: vm migrate: stopped: debug-exit port 0xf4 written with 0 by vCPU 0 \(status 0\)$'
migrations=$(sed -n 's/^\[cpu0\] vm migrate: status 0, 1 vCPU, [0-9]* exits, [0-9]* slices, \([0-9]*\) migrations$/\1/p' "$LOG")
expect_line '^\[load\] work [0-9]+$'
expect_line '^\[initsipi\] vCPU 1 came back in 300 of 300 rounds$'
expect_line '^mhv: vm initsipi: stopped: debug-exit port 0xf4 written with 0 by vCPU 0 \(status 0\)$'
if [ "${migrations:-0}" -ge 2000 ]; then pass "vCPU of 'migrate' moved ${migrations} times"
else fail "vCPU of 'migrate' moved ${migrations:-0} times, expected at least 2000"; fi
finish
