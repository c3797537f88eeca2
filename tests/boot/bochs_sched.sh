#!/usr/bin/env bash
# SPDX-License-Identifier: BSD-2-Clause
# The scheduler, measured by work done inside guests (tests/guests/sched.asm variants):
# fairness of four CPU-bound VMs on two CPUs, weights 2:1 on one CPU, a vCPU spinning with
# interrupts off not starving others, a halting VM costing almost nothing, affinity, and an
# idle CPU taking work from a busy one.
. "$(dirname "$0")/../lib.sh"
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
variant() { "$ROOT/tests/guests/mkvariant" "$tmp/$1.bin" "$@"; } # name weight slice affinity kind run_ms
work() { sed -n "s/^\[$1\] work \([0-9]*\)$/\1/p" "$LOG"; }
run_ms() { sed -n "s/^\[cpu0\] sched: vm $1 vcpu 0: weight [0-9]*, run \([0-9]*\) ms,.*/\1/p" "$LOG"; }
# within PCT: |a - b| * 100 <= PCT * b
within() { [ $(( ($1 > $2 ? $1 - $2 : $2 - $1) * 100 )) -le $(( $3 * $2 )) ]; }

for i in 1 2 3 4; do variant f$i 1 0 0 0 1000; done
run_mhv fairness --emu bochs --smp 2 --cmdline 'vms_done=poweroff' --timeout 300 \
  --module "$tmp/f1.bin" --module "$tmp/f2.bin" --module "$tmp/f3.bin" --module "$tmp/f4.bin"
expect_rc 0
total=0
for i in 1 2 3 4; do total=$(( total + $(work f$i || echo 0) )); done
mean=$(( total / 4 ))
for i in 1 2 3 4; do
  w=$(work f$i)
  [ -n "$w" ] && within "$w" "$mean" 10 || fail "f$i did ${w:-no} work, mean $mean: not within 10%"
done
echo "  fairness: mean work $mean"
expect_count 4 '^\[cpu0\] sched: vm f[1-4] vcpu 0: weight 1, run [0-9]+ ms, [0-9]+ slices \([0-9]+ forced'

variant heavy 2 0 0 0 600
variant light 1 0 0 0 600
run_mhv weights --emu bochs --smp 1 --cmdline 'vms_done=poweroff' --timeout 300 \
  --module "$tmp/heavy.bin" --module "$tmp/light.bin"
expect_rc 0
h=$(work heavy) l=$(work light)
if [ -n "$h" ] && [ -n "$l" ] && [ "$l" -gt 0 ]; then
  within "$h" $(( 2 * l )) 15 || fail "weight 2 did $h, weight 1 did $l: not 2:1 within 15%"
  echo "  weights: heavy $h, light $l"
else
  fail "no work reported"
fi

variant runaway 1 0 0 1 1500
variant worker 1 0 0 0 300
variant sleeper 1 0 0 2 500
run_mhv runaway --emu bochs --smp 1 --cmdline 'vms_done=poweroff' --timeout 300 \
  --module "$tmp/runaway.bin" --module "$tmp/worker.bin" --module "$tmp/sleeper.bin"
expect_rc 0
expect_order '^mhv: vm worker: stopped: debug-exit port 0xf4 written with 0' '^mhv: vm runaway: stopped'
expect_line '^\[sleeper\] wakeups (4[0-9]|5[0-9])$'
r=$(run_ms runaway) s=$(run_ms sleeper)
[ -n "$r" ] && [ -n "$s" ] && [ $(( s * 100 )) -lt $(( 5 * r )) ] \
  || fail "the halting VM ran ${s:-?} ms against ${r:-?} ms of the busy one: not under 5%"
echo "  blocking: sleeper ${s:-?} ms, runaway ${r:-?} ms"

variant pinned 1 0 2 0 400
variant a 1 0 0 0 400
variant b 1 0 0 0 200
run_mhv affinity --emu bochs --smp 2 --cmdline 'vms_done=poweroff' --timeout 300 \
  --module "$tmp/a.bin" --module "$tmp/pinned.bin" --module "$tmp/b.bin"
expect_rc 0
expect_line '^\[cpu0\] sched: vm pinned vcpu 0: .*, ran on cpus 1$'

variant x 1 0 0 0 400
variant y 1 0 0 0 100
variant z 1 0 0 0 400
run_mhv balance --emu bochs --smp 2 --cmdline 'vms_done=poweroff' --timeout 300 \
  --module "$tmp/x.bin" --module "$tmp/y.bin" --module "$tmp/z.bin"
expect_rc 0
expect_line '^\[cpu0\] sched: vm [xz] vcpu 0: .* [1-9][0-9]* migrations, .*, ran on cpus 0,1$'
finish
