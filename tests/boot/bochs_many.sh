#!/usr/bin/env bash
# SPDX-License-Identifier: BSD-2-Clause
# The scheduler's limits on a small machine: a VM of 32 vCPUs on 2 CPUs, whose 31 secondary
# vCPUs must all run to pass a barrier they wait at together, and 64 single-vCPU VMs from one
# configuration (the most a configuration defines: a 65th is reported and ignored), each of
# which must run to its end.
. "$(dirname "$0")/../lib.sh"
G="$BUILD_DIR/guests"

run_mhv many --emu bochs --smp 2 --cmdline 'vms_done=poweroff' --timeout 400 --module "$G/manyvcpus.bin"
expect_rc 0
expect_line '^\[many\] many: APs done: 31$'
expect_line '^\[many\] ok - all 31 APs passed the barrier$'
expect_line '^mhv: vm many: stopped: debug-exit port 0xf4 written with 0 by vCPU 0 \(status 0\)$'
expect_count 32 '^\[cpu0\] sched: vm many vcpu [0-9]+: weight 1, run [0-9]+ ms, [1-9][0-9]* slices'
expect_line '^\[cpu0\] sched: vm many vcpu 31: '
# Both CPUs took part (work stealing spreads the vCPUs started on one CPU).
expect_line '^\[cpu0\] sched: vm many vcpu [0-9]+: .*ran on cpus (0,)?1$'
expect_line '^\[cpu0\] sched: vm many vcpu [0-9]+: .*ran on cpus 0(,1)?$'

tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
for i in $(seq 1 65); do
  printf '[vm]\nname = "h%d"\nkernel = "hello64.bin"\n' "$i"
done > "$tmp/many.cfg"
run_mhv vms64 --emu bochs --smp 2 --mem 768 --cmdline 'vms_done=poweroff' --timeout 500 \
  --module "$tmp/many.cfg=vms.cfg" --module "$G/hello64.bin"
expect_rc 0
expect_line '^\[cpu0\] error: vms.cfg:193: more than 64 VMs; this one is ignored$'
expect_line '^mhv: config vms.cfg: 64 VMs defined, 64 started'
expect_count 64 '^\[h[0-9]+\] hello from a 64-bit guest$'
expect_line '^\[h64\] hello from a 64-bit guest$'
expect_line '^mhv: all VMs stopped: 64 with status 0, 0 with another status$'
finish
