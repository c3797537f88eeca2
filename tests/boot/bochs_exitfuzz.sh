#!/usr/bin/env bash
# SPDX-License-Identifier: BSD-2-Clause
# The exit fuzzer (tests/cguests/exitfuzz.c): three fuzz VMs with 2, 3 and 4 vCPUs, each
# vCPU 0 moved to another CPU after every slice (header flag bit 0), issue MHV_FUZZ_OPS
# random exit-causing operations in all (default a million) on 2 CPUs, next to a destructive
# fuzz VM that resets itself now and then (on_reboot = "restart") and ends with a
# deliberate stop, and next to the canary (tests/cguests/canary.c). Checks: no panic, no
# vCPU without progress (each vCPU watches another), every fuzz VM ran all its operations
# and found mhv doing what the SDM says, the destructive VM stopped only as it announced,
# the canary finished undisturbed, mhv's final status.
#
# Seeds: one per run, printed, from MHV_FUZZ_SEED when given (each VM's is derived from it);
# the same seed gives every vCPU the same operations again. MHV_FUZZ_TRACE=N prints every
# operation from index N on (all vCPUs of every VM) to find the one that broke something.
# MHV_FUZZ_OPS sets the total (make fuzz-long runs this test in a loop). MHV_FUZZ_RESTARTS=0
# leaves out the INIT/STARTUP restarts of other vCPUs (on by default).
. "$(dirname "$0")/../lib.sh"
G="$BUILD_DIR/cguests"
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
mkvariant() { "$ROOT/tests/cguests/mkvariant" "$@"; }

total=${MHV_FUZZ_OPS:-1000000}
seed=${MHV_FUZZ_SEED:-$(printf '0x%04x%04x%04x%04x' $RANDOM $RANDOM $RANDOM $RANDOM)}
seed=$(printf '0x%x' $((seed)))
trace=${MHV_FUZZ_TRACE:+$((MHV_FUZZ_TRACE + 1))}
replay="MHV_FUZZ_SEED=$seed MHV_FUZZ_OPS=$total${MHV_FUZZ_RESTARTS:+ MHV_FUZZ_RESTARTS=$MHV_FUZZ_RESTARTS}${MHV_BUILD:+ MHV_BUILD=$MHV_BUILD} bash tests/boot/$TEST_NAME.sh"
echo "  seed $seed, $total operations (replay: $replay)"

# VM i's seed: a SplitMix64 step from the run's (never 0, which would mean "the TSC's").
vm_seed() { printf '0x%x' $(( (seed + ($1 + 1) * 0x9e3779b97f4a7c15) | 1 )); }

# departures VM: one verdict for the rules mhv broke in VM (each reported once by the guest,
# with the operation that showed it), the reports themselves below it.
departures() {
  local bad
  bad=$(awk -v vm="[$1]" 'index($0, vm " ") == 1 { rest = substr($0, length(vm) + 2)
         if (rest ~ /^not ok - / && rest !~ /^not ok - (exitfuzz|stall):/) { print; more = 1; next }
         if (more && rest ~ /^#   /) { print; next }
         more = 0 }' "$LOG")
  if [ -n "$bad" ]; then
    fail "$1: $(grep -Ec "^\[$1\] not ok - " <<< "$bad") rules of the SDM broken:"
    sed 's/^/      /' <<< "$bad"
  else
    pass "$1: every outcome as the SDM says ($(sed -n "s/^\[$1\] .*ok - exitfuzz: \([0-9]*\) outcomes.*/\1/p" "$LOG" | tail -n 1) compared)"
  fi
}

restarts_off=$([ "${MHV_FUZZ_RESTARTS:-1}" = 0 ] && echo 2 || echo 0) # guest arg1 bit 1
fuzz_vms=(fz2 fz3 fz4)
fuzz_vcpus=(2 3 4)
per_vcpu=$(( (total + 8) / 9 )) # the three VMs have 9 vCPUs
progress=$(( per_vcpu / 8 > 0 ? per_vcpu / 8 : 1 ))
destructive_ops=$(( total / 100 > 1000 ? total / 100 : 1000 )) # per vCPU of its 2
# The canary works for about as long as the fuzzers run (measured: about 30 ms of TSC time
# per 1000 operations), so it is there throughout.
canary_ms=$(( total / 1000 * 30 < 2000 ? 2000 : total / 1000 * 30 ))

cfg="$tmp/exitfuzz.cfg"
: > "$cfg"
modules=(--module "$cfg=exitfuzz.cfg")
for i in 0 1 2; do
  name=${fuzz_vms[$i]}
  mkvariant "$G/exitfuzz.bin" "$tmp/$name.bin" name="$name" vcpus="${fuzz_vcpus[$i]}" flags=1 \
    seed="$(vm_seed $i)" arg0="$per_vcpu" arg1=$restarts_off arg3="$progress" ${trace:+arg2=$trace}
  printf '[vm]\nname = "%s"\nkernel = "%s.bin"\n\n' "$name" "$name" >> "$cfg"
  modules+=(--module "$tmp/$name.bin")
done
mkvariant "$G/exitfuzz.bin" "$tmp/fzd.bin" name=fzd vcpus=2 flags=1 seed="$(vm_seed 3)" \
  arg0="$destructive_ops" arg1=$((1 | restarts_off)) arg3=$((destructive_ops / 4)) ${trace:+arg2=$trace}
printf '[vm]\nname = "fzd"\nkernel = "fzd.bin"\non_reboot = "restart"\non_crash = "stop"\non_poweroff = "stop"\n\n' >> "$cfg"
mkvariant "$G/canary.bin" "$tmp/canary.bin" arg1="$canary_ms"
printf '[vm]\nname = "canary"\nkernel = "canary.bin"\n' >> "$cfg"
modules+=(--module "$tmp/fzd.bin" --module "$tmp/canary.bin")

# run_watched NAME QUIET ARGS...: run_mhv (tests/lib.sh), but a run whose serial console stays
# silent for QUIET seconds is ended there (the fuzz VMs print progress every few seconds; a
# silent mhv is a stalled one, and waiting for the long timeout would only hide that).
run_watched() {
  local name=$1 quiet=$2 size=-1 silent=0 pid
  shift 2
  LOG="$LOG_DIR/$TEST_NAME.$name.log"
  rm -f "$LOG" "$LOG".*
  # Not --quiet: the runner streams the console to its output as it comes (the --log file is
  # written at the end), which is what the watch needs.
  "$ROOT/tools/mhv-run" --log "$LOG" --elf "$BUILD_DIR/mhv.elf" "$@" >"$LOG.stream" 2>"$LOG.runner" &
  pid=$!
  while kill -0 "$pid" 2>/dev/null; do
    sleep 5
    local now
    now=$(stat -c %s "$LOG.stream" 2>/dev/null || echo 0)
    if [ "$now" = "$size" ]; then silent=$((silent + 5)); else silent=0 size=$now; fi
    if [ "$silent" -ge "$quiet" ]; then
      echo "mhv-run: no serial output for ${quiet}s: stopped (a stall)" >> "$LOG.runner"
      kill -TERM "$pid" 2>/dev/null
      break
    fi
  done
  wait "$pid"
  RC=$?
  [ "$silent" -ge "$quiet" ] && RC=124
  [ -s "$LOG" ] || tr -d '\r' < "$LOG.stream" > "$LOG" # a run ended early leaves only the stream
  echo "  ran: mhv-run $* -> exit $RC"
}

start=$SECONDS
run_watched fuzz "${MHV_FUZZ_QUIET:-300}" --emu bochs --smp 2 --cmdline 'vms_done=poweroff' \
  --timeout $((600 + total / 1000 * 2)) "${modules[@]}"
echo "  took $((SECONDS - start)) s of wall time"
if [ "$RC" = 124 ]; then
  fail "mhv stalled or ran out of time: $(tail -n 1 "$LOG.runner")"
fi

expect_no_line '^mhv: panic|^mhv: stop: status 2$|not ok - unexpected exception|# unexpected |[1-9][0-9]* unexpected exceptions'
expect_no_line '^\[[a-z0-9]+\] not ok - stall'
for name in "${fuzz_vms[@]}"; do
  expect_line "^\[$name\] # exitfuzz: seed 0x[0-9a-f]+ \(image\)"
  expect_line "^\[$name\] ok - exitfuzz: every vCPU ran its $per_vcpu operations"
  departures "$name"
  expect_line "^mhv: vm $name: stopped: debug-exit port 0xf4 written with 0 by vCPU 0 \(status 0\)$"
done

# The destructive VM: each restart follows an announced reset, and its stop is the one it
# announced last (or its own exit with status 0).
resets=$(grep -c '^\[fzd\] # destructive: .*(vCPU' "$LOG")
restarts=$(grep -Ec '^mhv: vm fzd: restarting' "$LOG")
if [ "$restarts" -le "$resets" ]; then
  pass "fzd: $restarts restarts, $resets resets announced"
else
  fail "fzd: $restarts restarts but only $resets resets announced"
fi
grep -E '^\[fzd\] # destructive' "$LOG" | sed 's/^/    /' | head -n 20
departures fzd
ending=$(sed -n 's/^\[fzd\] # destructive: the VM ends with \(.*\) (seed.*/\1/p' "$LOG" | tail -n 1)
stop=$(grep -E '^mhv: vm fzd: stopped: ' "$LOG" | tail -n 1)
case $ending in
  "")                         want='debug-exit port 0xf4 written with 0 by vCPU 0 \(status 0\)' ;;
  "exit through the debug-exit port") want='debug-exit port 0xf[4-7] written with 0' ;;
  "the STOP hypercall")       want='hypercall stop from vCPU 0' ;;
  "ACPI S5 through PM1a_CNT") want='ACPI S5' ;;
  "halting every vCPU with interrupts off") want='halted with interrupts disabled' ;;
  "a triple fault")           want='triple fault' ;;
  *)                          want='MMIO access by an instruction mhv does not emulate' ;;
esac
if grep -Eq -- "$want" <<< "$stop"; then
  pass "fzd stopped as it announced (${ending:-its own exit}): ${stop#mhv: vm fzd: stopped: }"
else
  fail "fzd: announced ${ending:-its own exit}, but: ${stop:-no stop line}"
fi

expect_line '^mhv: vm canary: stopped: debug-exit port 0xf4 written with 0 by vCPU 0 \(status 0\)$'
expect_line '^\[canary\] ok - the canary never waited 1000 ms or more for a CPU'
expect_line '^mhv: stop: status [03]$'
if [ "$failures" -gt 0 ]; then
  echo "  seed $seed; replay: $replay"
  echo "  the last progress of each fuzz VM:"
  for name in "${fuzz_vms[@]}" fzd; do grep -E "^\[$name\] # progress" "$LOG" | tail -n 1 | sed 's/^/    /'; done
  echo "  an operation in detail: MHV_FUZZ_TRACE=<op> $replay"
fi
finish
