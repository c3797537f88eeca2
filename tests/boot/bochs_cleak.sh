#!/usr/bin/env bash
# SPDX-License-Identifier: BSD-2-Clause
# Register state crossing VMs (tests/cguests/leak.c): a writer and a checker VM pinned to one
# physical CPU with the same 1 ms slice, alternating; each keeps its own pattern in every
# register the VMCS does not obviously switch and reports, register by register, whether it
# ever saw another value (the other VM's: a leak) or started with one. Once with both VMs on
# the only CPU (--smp 1), once pinned to CPU 1 of two. The checker must have run interleaved
# with the writer at least 30 times (switches seen as TSC jumps) for the run to mean anything.
# The first run gives the VMs different XCR0 values (a leaked XCR0 shows), the second the same
# (the checker then also watches the AVX-512 and PKRU state).
# Until mhv switches DR0-DR3 and DR6 on a change of vCPU these registers FAIL here.
. "$(dirname "$0")/../lib.sh"
G="$BUILD_DIR/cguests"
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

# Every guest can use these; each gets one verdict per run (both VMs, both checks).
always=(DR0 DR1 DR2 DR3 DR6 DR7 CR2 CR8 CR0.AM CR4.TSD/DE/PCE EFER.SCE/NXE PAT MTRR_DEF_TYPE TSC_ADJUST
        SYSENTER_CS SYSENTER_ESP SYSENTER_EIP STAR LSTAR CSTAR SFMASK KERNEL_GS_BASE FS_BASE GS_BASE MISC_ENABLE
        XCR0 'NMI blocking' 'x87 state' MXCSR XMM0-15)
# These only where the CPU (and mhv) offer them; a VM says '# <name>: not offered ...' otherwise.
optional=(TSC_AUX 'TSC_AUX by RDTSCP' 'TSC_AUX by RDPID' SPEC_CTRL DEBUGCTL 'YMM0-15 upper halves'
          'AVX-512 opmask k0-7' 'ZMM0-15 upper halves' ZMM16-31 PKRU)

quote() { printf '%s' "$1" | sed 's/[][\.*^$/+?(){}|]/\\&/g'; }

verdicts() {
  local reg q bad
  for reg in "${always[@]}" "${optional[@]}"; do
    q=$(quote "$reg")
    bad=$(grep -Em1 "^\[(checker|writer)\] not ok - $q (kept|started|is usable)" "$LOG")
    if [ -n "$bad" ]; then
      fail "$1: $reg: $bad"
    elif grep -Eq "^\[checker\] ok - $q kept the checker's value" "$LOG"; then
      pass "$1: $reg: neither VM saw another value"
    elif printf '%s\n' "${always[@]}" | grep -qxF -- "$reg"; then
      fail "$1: $reg: no result from the checker"
    else
      pass "$1: $(grep -Em1 "^\[checker\] # $q: " "$LOG" | sed 's/^\[checker\] # //')"
    fi
  done
  for g in checker writer; do
    expect_line "^\[$g\] done: [0-9]+ checks, [0-9]+ failed$"
    expect_no_line "^\[$g\] not ok - unexpected"
  done
  local switches
  switches=$(sed -n 's/^\[checker\] # checker: \([0-9]*\) passes over every register, \([0-9]*\) switches.*/\1 passes, \2 switches/p' "$LOG")
  echo "  $1: checker: ${switches:-no report}"
  expect_line '^\[checker\] ok - the checker ran interleaved with another vCPU: [0-9]+ switches'
  expect_line '^mhv: stop: status [03]$' # mhv itself stayed up, whatever the VMs found
}

variants() { # AFFINITY CHECKER_XCR0 (0: differs from the writer's, 1: the writer's, with AVX-512)
  "$ROOT/tests/cguests/mkvariant" "$G/leak.bin" "$tmp/checker.bin" name=checker affinity="$1" arg0=0 arg1=300 arg2="$2"
  "$ROOT/tests/cguests/mkvariant" "$G/leak.bin" "$tmp/writer.bin" name=writer affinity="$1" arg0=1 arg1=360
}

variants 1 0
run_mhv smp1 --emu bochs --smp 1 --cmdline 'vms_done=poweroff' --timeout 400 \
  --module "$tmp/checker.bin" --module "$tmp/writer.bin"
verdicts smp1

variants 2 1
run_mhv smp2 --emu bochs --smp 2 --cmdline 'vms_done=poweroff' --timeout 400 \
  --module "$tmp/checker.bin" --module "$tmp/writer.bin"
verdicts smp2
expect_line '^\[cpu0\] sched: vm checker vcpu 0: .*, ran on cpus 1$'
expect_line '^\[cpu0\] sched: vm writer vcpu 0: .*, ran on cpus 1$'
finish
