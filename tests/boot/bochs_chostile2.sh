#!/usr/bin/env bash
# SPDX-License-Identifier: BSD-2-Clause
# More hostile C guests (tests/cguests/hostile_*.c) on 2 CPUs next to the canary, the corners
# bochs_chostile leaves out: RIP at the canonical edge, at 2^64 and (compatibility mode) at
# 4 GiB after instructions mhv performs, and running off the end of RAM (two variants that
# mhv stops, status 254); single steps, MOV SS shadows, data and I/O breakpoints and RF around
# those instructions; page tables rewritten under another vCPU's string I/O and MMIO; a CPUID
# sweep; an x2APIC MSR sweep; string I/O and MMIO with bad operands; hypercalls from 4 vCPUs
# at once (their console lines must come out whole); INIT in the middle of exits; ESR and the
# APIC timer's current count; a vCPU halted in its NMI handler with an NMI pending (it must
# stay halted: mhv's own accounting shows it). Each guest checks its own outcome.
. "$(dirname "$0")/../lib.sh"
G="$BUILD_DIR/cguests"
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

hostile=(hostile_rip hostile_debug hostile_paging hostile_cpuid hostile_x2apic hostile_string hostile_hcsmp
         hostile_init hostile_lapic hostile_nmihalt)
modules=(--module "$tmp/canary.bin")
"$ROOT/tests/cguests/mkvariant" "$G/canary.bin" "$tmp/canary.bin" arg1=4000
for g in "${hostile[@]}"; do modules+=(--module "$G/$g.bin"); done
for i in 1 2; do
  "$ROOT/tests/cguests/mkvariant" "$G/hostile_rip.bin" "$tmp/rip$i.bin" name=hostile_rip_ram$i arg0=$i
  modules+=(--module "$tmp/rip$i.bin")
done
run_mhv hostile2 --emu bochs --smp 2 --cmdline 'vms_done=poweroff' --timeout 900 "${modules[@]}"
expect_rc 3 # the hostile_rip_ram VMs stop with 254 on purpose

expect_line '^mhv: vm canary: stopped: debug-exit port 0xf4 written with 0 by vCPU 0 \(status 0\)$'
expect_line '^\[canary\] ok - the canary never waited 1000 ms or more for a CPU'
echo "  canary: $(grep -Eo 'longest [0-9]+ us' "$LOG" | head -1)"
expect_no_line '^mhv: panic'
for g in "${hostile[@]}"; do expect_guest_checks "$g"; done

# Running off the end of RAM: the fetch is outside the VM's memory.
for i in 1 2; do
  expect_line "^\[cpu[0-9]+\] error: vm hostile_rip_ram$i: vCPU 0: instruction fetch of guest-physical 0x800000, outside"
  expect_line "^mhv: vm hostile_rip_ram$i: stopped: access outside guest memory \(exit 48, EPT violation, at RIP 0x[0-9a-f]+\) \(status 254\)$"
done

# Concurrent CONSOLE_WRITEs: every line whole.
lines=$(grep -c '^\[hostile_hcsmp\] hc-line' "$LOG")
whole=$(grep -Ec '^\[hostile_hcsmp\] hc-line vcpu=[0-3] n=[0-9]+ end$' "$LOG")
if [ "$lines" = 240 ] && [ "$whole" = 240 ]; then
  pass "hostile_hcsmp: the 240 lines of 4 vCPUs writing at once came out whole"
else
  fail "hostile_hcsmp: $whole whole lines of 240 ($lines lines start as one), e.g. $(grep '^\[hostile_hcsmp\] ' "$LOG" | grep -Ev 'hc-line vcpu=[0-3] n=[0-9]+ end$|ok -|done:|#' | head -n 2 | tr '\n' '|')"
fi

# The vCPU halted in its NMI handler: no CPU time, no stream of exits.
nmihalt=$(grep -E '^\[cpu[0-9]+\] sched: vm hostile_nmihalt vcpu 1:' "$LOG")
exits=$(sed -n 's/.*, \([0-9]*\) exits,.*/\1/p' <<< "$nmihalt")
if [ -n "$exits" ] && [ "$exits" -lt 1000 ]; then
  pass "hostile_nmihalt: the vCPU halted with an NMI pending stayed halted ($exits exits)"
else
  fail "hostile_nmihalt: the vCPU halted with an NMI pending did not stay halted: ${nmihalt:-no accounting line}"
fi
finish
