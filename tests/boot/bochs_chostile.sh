#!/usr/bin/env bash
# SPDX-License-Identifier: BSD-2-Clause
# Hostile C guests (tests/cguests/hostile_*.c) as VMs on 2 CPUs next to a canary VM that keeps
# working and checks it never waited a second for a CPU: control, debug and extended control
# registers; MSR sweeps; a port sweep; hypercall argument abuse; runaway vCPUs (spinning and
# halting with interrupts off); IPI, NMI, INIT and STARTUP storms; and accesses outside RAM
# (read, write, execute, SSE, REP MOVS), which stop only the guilty VM: those VMs have
# `unclaimed = stop` in the configuration (by default such reads give all-ones and writes are
# dropped, see tests/cguests/unclaimed.c). Every hostile guest checks its own outcome; the test
# wants each to pass, the canary to finish, and mhv to stay up.
. "$(dirname "$0")/../lib.sh"
G="$BUILD_DIR/cguests"
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

hostile=(hostile_cr hostile_msr hostile_io hostile_hc hostile_runaway hostile_ipi)
accesses=("read" "write" "instruction fetch" "read" "read") # hostile_mem arg0 0-4, as mhv names them
modules=(--module "$tmp/vms.cfg=vms.cfg" --module "$tmp/canary.bin")
"$ROOT/tests/cguests/mkvariant" "$G/canary.bin" "$tmp/canary.bin" arg1=4000
printf '[vm]\nname = "canary"\nkernel = "canary.bin"\n' > "$tmp/vms.cfg"
for g in "${hostile[@]}"; do
  modules+=(--module "$G/$g.bin")
  printf '[vm]\nname = "%s"\nkernel = "%s.bin"\n' "$g" "$g" >> "$tmp/vms.cfg"
done
for i in 0 1 2 3 4 5; do
  "$ROOT/tests/cguests/mkvariant" "$G/hostile_mem.bin" "$tmp/mem$i.bin" name=hostile_mem$i arg0=$i
  modules+=(--module "$tmp/mem$i.bin")
  printf '[vm]\nname = "hostile_mem%s"\nkernel = "mem%s.bin"\nunclaimed = stop\n' $i $i >> "$tmp/vms.cfg"
done
run_mhv hostile --emu bochs --smp 2 --cmdline 'vms_done=poweroff' --timeout 600 "${modules[@]}"
expect_rc 3 # the hostile_mem VMs stop with 254 on purpose

expect_line '^mhv: vm canary: stopped: debug-exit port 0xf4 written with 0 by vCPU 0 \(status 0\)$'
expect_line '^\[canary\] ok - the canary never waited 1000 ms or more for a CPU'
echo "  canary: $(grep -Eo 'longest [0-9]+ us' "$LOG" | head -1)"
for g in "${hostile[@]}"; do expect_guest_checks "$g"; done
for i in 0 1 2 3 4; do
  expect_line "^\[cpu[0-9]+\] error: vm hostile_mem$i: vCPU 0: ${accesses[$i]} of guest-physical 0x10000000, outside the VM's 8192 KiB"
  expect_line "^mhv: vm hostile_mem$i: stopped: access outside guest memory \(exit 48, EPT violation, at RIP 0x[0-9a-f]+\) \(status 254\)$"
done
expect_line '^mhv: vm hostile_mem5: stopped: event delivery through device memory \(an IDT, GDT, TSS or stack in an MMIO range\) \(exit 48, EPT violation, at RIP 0x[0-9a-f]+\) \(status 254\)$'
expect_no_line '^\[hostile_mem[0-9]\] not ok'
expect_line '^mhv: stop: status 3$'
finish
